"""Reports layer: from a results document to files. Masks personal data unless asked for full values.

    write_reports(results, out_dir, package_root=..., show_pii=False, metadata={"report_number": ...},
                  formats=ALL_FORMATS + ("pdf",)) -> {"results", "html", "junit", "allure", "pdf"}
    redact_results(results) -> masked deep copy
    annotate_screenshot(image, symbols, *, redact, ocr_boxes=None) -> PIL.Image
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .annotate import annotate_screenshot
from .html import build_view, load_images, render_html
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


def prepare_results(results: dict[str, Any], *, show_pii: bool) -> dict[str, Any]:
    """The document as written: JSON types only, masked unless show_pii, validated against the schema (a failure
    is a suite bug: ResultsSchemaError)."""
    doc = to_jsonable(results)
    if not show_pii:
        doc = _masked(doc)
    doc["pii_masked"] = not show_pii
    validate_results(doc)
    return doc


def _masked(doc: dict[str, Any]) -> dict[str, Any]:
    """The masker's copy, with what is not a subject's personal data put back: the report block (report number,
    organisation, assessor, time of issue, scope) and the waiver fields of conformance.waivers.PROTECTED_KEYS
    (requirement, ticket, expiry date, approver)."""
    from conformance.waivers import restore_protected

    report = doc.get("report")
    masked = redact_results({k: v for k, v in doc.items() if k != "report"})
    if report is not None:
        masked["report"] = report
    restore_protected(masked, doc)
    return masked


def write_reports(results: dict[str, Any], out_dir: Path, package: Any = None, *,
                  images: dict[str, Any] | None = None, show_pii: bool = False, package_root: Path | None = None,
                  formats: tuple[str, ...] = ("results", "html"), metadata: dict[str, Any] | None = None,
                  ) -> dict[str, Path]:
    """Write the chosen formats into out_dir: results.json (validated against specs/results.schema.json),
    report.html, junit.xml, allure-results/, report.pdf ("pdf": the HTML printed by headless Chromium).
    Screenshots come from `images` (file -> image) or are read from the package folder (`package_root`, or
    `package.root`). Unless show_pii, personal data is masked in every file and the pictures' QR codes are made
    undecodable. `metadata` (report_number, organisation, assessor, reviewer: conformance/reports/filing.py) goes
    into results["report"] with the time of issue and the scope, and a loaded `package` adds its file manifest
    (conformance/reports/filing.py); the caller's `results` is not modified. Raises ResultsSchemaError when the
    document breaks the schema (a bug in the suite) and ReportError when a file cannot be written."""
    from .filing import add_report_block, complete_results

    out_dir = Path(out_dir)
    results = {**results, "package": dict(results.get("package") or {})}
    if package is not None and hasattr(package, "evidence") and "files" not in results["package"]:
        complete_results(results, package=package)
    add_report_block(results, metadata)
    raw = to_jsonable(results)
    root = package_root or (Path(package.root) if getattr(package, "root", None) is not None else None)
    if images is None and root is not None and ("html" in formats or "allure" in formats or "pdf" in formats):
        images = load_images(raw, root)  # read under the real file names, before masking
    images = dict(images or {})
    doc = prepare_results(results, show_pii=show_pii)
    if not show_pii:
        # the masked document names evidence by masked file names (the same redactor as prepare_results): the
        # pictures follow
        red = build_redactor({k: v for k, v in raw.items() if k != "report"})
        images = {(red.mask_filename(k) if isinstance(k, str) else k): v for k, v in images.items()}  # frames: by index
    paths: dict[str, Path] = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if "results" in formats:
            paths["results"] = write_results_json(doc, out_dir / "results.json")
        view = build_view(doc, images, redact=not show_pii) if "html" in formats or "pdf" in formats else None
        if "html" in formats:
            paths["html"] = out_dir / "report.html"
            paths["html"].write_text(render_html(doc, images, redact=not show_pii, view=view), encoding="utf-8")
        if "pdf" in formats:
            from .pdf import PdfError, html_to_pdf, pdf_title

            printed = render_html(doc, images, redact=not show_pii, for_print=True, view=view)
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
                                           lambda i: _annotated_png(doc, images, i, redact=not show_pii))
    except ReportError:
        raise
    except OSError as exc:
        raise ReportError(f"cannot write the report in {out_dir}: {exc.strerror or exc}",
                          f"không ghi được báo cáo vào {out_dir}: {exc.strerror or exc}") from exc
    return paths


def write_assessment(results: dict[str, Any], folder: Path, *, package: Any, profile: dict[str, Any],
                     today: Any = None, waivers: Any = None, show_pii: bool = False,
                     metadata: dict[str, Any] | None = None, formats: tuple[str, ...] | None = None) -> dict[str, Any]:
    """One assessment's report folder, the same from `assess`, `live` and every candidate of a campaign: the package
    file manifest and the profile's SHA-256 added, waivers applied, every format written into `folder`. Returns the
    results document as written (masked unless show_pii)."""
    from .filing import complete_results

    complete_results(results, package=package, profile=profile)
    if waivers is not None:
        from conformance.waivers import apply_waivers

        apply_waivers(results, waivers, today)
    write_reports(results, folder, package_root=package.root, show_pii=show_pii, formats=formats or ALL_FORMATS,
                  metadata=metadata)
    return prepare_results(results, show_pii=show_pii)


def _annotated_png(doc: dict[str, Any], images: dict[str, Any], index: int, *, redact: bool) -> bytes | None:
    from .html import ocr_boxes_of

    entry = next((e for e in doc.get("evidence") or [] if e.get("index") == index), None)
    if entry is None or images.get(entry.get("file")) is None:
        return None
    img = annotate_screenshot(images[entry["file"]], entry.get("symbols") or [], redact=redact,
                              ocr_boxes=ocr_boxes_of(entry.get("screen_text")))
    img.thumbnail((480, 1040))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
