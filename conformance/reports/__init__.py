"""Reports layer: from a results document to files. Masks personal data unless asked for full values.

    write_reports(results, out_dir, package_root=..., show_pii=False, metadata={"report_number": ...},
                  formats=ALL_FORMATS + ("pdf",)) -> {"results", "items", "html", "junit", "allure", "pdf"}
    write_assessment(results, folder, package=..., profile=..., waivers=..., details=...) -> the document written
    redact_results(results) -> masked deep copy
    annotate_screenshot(image, symbols, *, redact, ocr_boxes=None) -> PIL.Image
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .annotate import annotate_screenshot
from .html import build_view, render_html
from .jsonreport import ResultsSchemaError, schema_errors, to_jsonable, validate_results, write_results_json
from .redact import build_redactor, redact_results

__all__ = ["write_reports", "redact_results", "annotate_screenshot", "render_html", "validate_results",
           "schema_errors", "ResultsSchemaError", "ReportError", "prepare_results", "write_assessment"]

ALL_FORMATS = ("results", "html", "junit", "allure")  # what `assess` writes by default; "pdf" with --pdf


class ReportError(OSError):
    """The report files could not be written (names the file and the problem)."""

    def __init__(self, message_en: str, message_vi: str | None = None):
        super().__init__(message_en)
        self.message_en, self.message_vi = message_en, message_vi or message_en


def prepare_results(results: dict[str, Any], *, show_pii: bool, details: Any = None) -> dict[str, Any]:
    """The document as written: JSON types only, masked unless show_pii, validated against the schema (a failure
    is a suite bug: ResultsSchemaError). Evidence entries are linked to their per-item files (results.json keeps
    a summary); `details`: whole entries by index (Assessment.detail_of) when `results` is already linked."""
    return _prepared(results, show_pii=show_pii, details=details)[0]


def _prepared(results: dict[str, Any], *, show_pii: bool, details: Any = None) -> tuple[dict[str, Any], Any, Any]:
    """(masked linked document, the masking function for detail parts, (the ItemSource, the redactor or None)).

    What is not a subject's personal data is kept as written: the report block (report number, organisation,
    assessor, time of issue, scope) and the waiver fields of conformance.waivers.PROTECTED_KEYS (requirement,
    ticket, expiry date, approver)."""
    from conformance.waivers import restore_protected

    from .items import ItemSource, slim_document

    raw = to_jsonable(results)
    source = ItemSource(raw, details)
    slim = slim_document(raw)
    red: Any = None
    if show_pii:
        doc, mask = slim, (lambda x: x)
    else:
        body = {k: v for k, v in slim.items() if k != "report"}
        red = build_redactor(body, also=source.details())
        doc = red.walk(body)
        if "report" in slim:
            doc["report"] = slim["report"]
        restore_protected(doc, slim)
        mask = red.walk
    doc["pii_masked"] = not show_pii
    validate_results(doc)
    return doc, mask, (source, red)


def write_reports(results: dict[str, Any], out_dir: Path, package: Any = None, *,
                  images: dict[Any, Any] | None = None, show_pii: bool = False, package_root: Path | None = None,
                  formats: tuple[str, ...] = ("results", "html"), metadata: dict[str, Any] | None = None,
                  details: Any = None, document: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write the chosen formats into out_dir: results.json (validated against specs/results.schema.json) with the
    per-item files items/<index>.json it links, report.html, junit.xml, allure-results/, report.pdf ("pdf": the
    HTML printed by headless Chromium). Screenshots come from `images` (file -> image; a recording's frames by
    (item index, frame index)) or are read from the package folder when a report needs them (`package_root`, or
    `package.root`). Unless show_pii, personal data is masked in every file and the pictures' QR codes are made
    undecodable. `metadata` (report_number, organisation, assessor, reviewer: conformance/reports/filing.py) goes
    into results["report"] with the time of issue and the scope, and a loaded `package` adds its file manifest;
    the caller's `results` is not modified. `details`: whole evidence entries by item index (Assessment.detail_of)
    when `results` is linked (Assessment.to_dict(linked=True)); whole entries in `results` are split here.
    `document`: a dict filled with the results document as written. Raises ResultsSchemaError when the document
    breaks the schema (a bug in the suite) and ReportError when a file cannot be written."""
    from .filing import add_report_block, complete_results
    from .items import LazyImages, recording_frames_of, with_details, write_item_files

    out_dir = Path(out_dir)
    results = {**results, "package": dict(results.get("package") or {})}
    if package is not None and hasattr(package, "evidence") and "files" not in results["package"]:
        complete_results(results, package=package)
    add_report_block(results, metadata)
    doc, mask, (source, red) = _prepared(results, show_pii=show_pii, details=details)
    if document is not None:
        document.clear()
        document.update(doc)
    root = package_root or (Path(package.root) if getattr(package, "root", None) is not None else None)
    needs_pictures = "html" in formats or "allure" in formats or "pdf" in formats

    def shown_name(k: Any) -> Any:  # the masked document names evidence by masked file names: the pictures follow
        return red.mask_filename(k) if red is not None and isinstance(k, str) else k

    shown: Any
    if images is not None:
        shown = {shown_name(k): v for k, v in images.items()}
    elif root is not None and needs_pictures:
        # read under the real file names when a report needs the picture; a recording's frames decoded now
        shown = LazyImages(root, {shown_name(f): f for f in source.screenshot_files},
                           extra=recording_frames_of(source, root))
    else:
        shown = {}
    paths: dict[str, Path] = {}
    pictures: dict[int, bytes] = {}  # item pictures the HTML drew, by item index: Allure attaches the same ones
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if "results" in formats:
            paths["results"] = write_results_json(doc, out_dir / "results.json", validated=True)
            paths["items"] = write_item_files(source, out_dir, mask)
        if "html" in formats or "pdf" in formats:
            full = with_details(doc, source, mask)
            view = build_view(full, shown, redact=not show_pii, pictures=pictures)
            if "html" in formats:
                paths["html"] = out_dir / "report.html"
                paths["html"].write_text(render_html(full, shown, redact=not show_pii, view=view), encoding="utf-8")
            if "pdf" in formats:
                from .pdf import PdfError, html_to_pdf, pdf_title

                printed = render_html(full, shown, redact=not show_pii, for_print=True, view=view)
                try:
                    pdf = html_to_pdf(printed, report_number=(doc.get("report") or {}).get("report_number"),
                                      title=pdf_title(doc))
                except PdfError as exc:
                    raise ReportError(f"report.pdf: {exc.message_en}", exc.message_vi) from exc
                paths["pdf"] = out_dir / "report.pdf"
                paths["pdf"].write_bytes(pdf)
        if "junit" in formats:
            from .junit import write_junit

            paths["junit"] = write_junit(doc, out_dir / "junit.xml")
        if "allure" in formats:
            from .allure import write_allure

            paths["allure"] = write_allure(doc, out_dir / "allure-results",
                                           lambda i: pictures.get(i) or _allure_picture(
                                               doc, shown, i, redact=not show_pii,
                                               whole=lambda e: _whole_entry(e, source, mask)))
    except ReportError:
        raise
    except OSError as exc:
        raise ReportError(f"cannot write the report in {out_dir}: {exc.strerror or exc}",
                          f"không ghi được báo cáo vào {out_dir}: {exc.strerror or exc}") from exc
    return paths


def write_assessment(results: dict[str, Any], folder: Path, *, package: Any, profile: dict[str, Any],
                     today: Any = None, waivers: Any = None, show_pii: bool = False,
                     metadata: dict[str, Any] | None = None, formats: tuple[str, ...] | None = None,
                     details: Any = None) -> dict[str, Any]:
    """One assessment's report folder, the same from `assess`, `live` and every candidate of a campaign: the package
    file manifest and the profile's SHA-256 added, waivers applied, every format written into `folder`. Returns the
    results document as written (masked unless show_pii). `details`: as for write_reports."""
    from .filing import complete_results

    complete_results(results, package=package, profile=profile)
    if waivers is not None:
        from conformance.waivers import apply_waivers

        apply_waivers(results, waivers, today)
    shown: dict[str, Any] = {}
    write_reports(results, folder, package_root=package.root, show_pii=show_pii, formats=formats or ALL_FORMATS,
                  metadata=metadata, details=details, document=shown)
    return shown


def _whole_entry(entry: dict[str, Any], source: Any, mask: Any) -> dict[str, Any]:
    from .items import _whole

    return _whole(entry, source, mask) if "detail" in entry else entry


def _allure_picture(doc: dict[str, Any], images: Any, index: int, *, redact: bool, whole: Any) -> bytes | None:
    """An item picture the HTML did not draw: a broken one is just not attached (the report goes on)."""
    try:
        return annotated_picture(doc, images, index, redact=redact, whole=whole)
    except Exception:  # noqa: BLE001 - like a broken picture in report.html, which says so on its card
        return None


def annotated_picture(doc: dict[str, Any], images: Any, index: int, *, redact: bool,
                      whole: Any = None) -> bytes | None:
    """The item's picture as the HTML report draws it (html.picture_jpeg: JPEG), for Allure; None without one."""
    from .html import ocr_boxes_of, picture_jpeg

    entry = next((e for e in doc.get("evidence") or [] if e.get("index") == index), None)
    if entry is None or images.get(entry.get("file")) is None:
        return None
    if whole is not None:
        entry = whole(entry)
    return picture_jpeg(images[entry["file"]], entry.get("symbols") or [], redact,
                        ocr_boxes_of(entry.get("screen_text")))
