"""Reports layer: from a results document to files. Masks personal data unless asked for full values.

    write_reports(results, out_dir, package_root=..., show_pii=False) -> {"results", "html", "junit", "allure"}
    redact_results(results) -> masked deep copy
    annotate_screenshot(image, symbols, *, redact, ocr_boxes=None) -> PIL.Image
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .annotate import annotate_screenshot
from .html import render_html
from .jsonreport import ResultsSchemaError, schema_errors, to_jsonable, validate_results, write_results_json
from .redact import build_redactor, redact_results

__all__ = ["write_reports", "redact_results", "annotate_screenshot", "render_html", "validate_results",
           "schema_errors", "ResultsSchemaError", "ReportError", "prepare_results"]

ALL_FORMATS = ("results", "html", "junit", "allure")


class ReportError(OSError):
    """The report files could not be written (names the file and the problem)."""


def prepare_results(results: dict[str, Any], *, show_pii: bool, details: Any = None) -> dict[str, Any]:
    """The document as written: JSON types only, masked unless show_pii, validated against the schema (a failure
    is a suite bug: ResultsSchemaError). Evidence entries are linked to their per-item files (results.json keeps
    a summary); `details`: whole entries by index (Assessment.detail_of) when `results` is already linked."""
    return _prepared(results, show_pii=show_pii, details=details)[0]


def _prepared(results: dict[str, Any], *, show_pii: bool, details: Any = None) -> tuple[dict[str, Any], Any, Any]:
    """(masked linked document, the masking function for detail parts, the ItemSource)."""
    from .items import ItemSource, slim_document

    raw = to_jsonable(results)
    source = ItemSource(raw, details)
    slim = slim_document(raw)
    if show_pii:
        doc, mask, red = slim, (lambda x: x), None
    else:
        red = build_redactor(slim, also=source.details())
        doc = red.walk(slim)
        mask = red.walk
    doc["pii_masked"] = not show_pii
    validate_results(doc)
    return doc, mask, (source, red)


def write_reports(results: dict[str, Any], out_dir: Path, package: Any = None, analyses: Any = None, *,
                  images: dict[str, Any] | None = None, show_pii: bool = False, package_root: Path | None = None,
                  formats: tuple[str, ...] = ("results", "html"), details: Any = None,
                  document: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write the chosen formats into out_dir: results.json (validated against specs/results.schema.json) with the
    per-item files items/<index>.json it links, report.html, junit.xml, allure-results/. Screenshots come from
    `images` (file -> image) or are read from the package folder when needed (`package_root`, or
    `package.root`). Unless show_pii, personal data is masked in every file and the pictures' QR codes are made
    undecodable. `details`: whole evidence entries by item index (Assessment.detail_of) when `results` is linked
    (Assessment.to_dict(linked=True)); whole entries in `results` are split here. `analyses` is ignored (kept for
    older callers). `document`: a dict filled with the results document as written (what prepare_results gives,
    without masking twice). Raises ResultsSchemaError when the document breaks the schema (a bug in the suite) and
    ReportError when a file cannot be written."""
    from .items import LazyImages, with_details, write_item_files

    out_dir = Path(out_dir)
    doc, mask, (source, red) = _prepared(results, show_pii=show_pii, details=details)
    if document is not None:
        document.clear()
        document.update(doc)
    root = package_root or (Path(package.root) if getattr(package, "root", None) is not None else None)
    shown: Any
    if images is not None:
        shown = dict(images) if red is None else {red.mask_filename(k): v for k, v in images.items()}
    elif root is not None and ("html" in formats or "allure" in formats):
        # read under the real file names, when a report needs the picture
        lazy = LazyImages(root, {f: f for f in source.screenshot_files})
        shown = lazy if red is None else lazy.renamed(red.mask_filename)
    else:
        shown = {}
    paths: dict[str, Path] = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if "results" in formats:
            paths["results"] = write_results_json(doc, out_dir / "results.json", validated=True)
            paths["items"] = write_item_files(source, out_dir, mask)
        if "html" in formats:
            paths["html"] = out_dir / "report.html"
            paths["html"].write_text(render_html(with_details(doc, source, mask), shown, redact=not show_pii),
                                     encoding="utf-8")
        if "junit" in formats:
            from .junit import write_junit

            paths["junit"] = write_junit(doc, out_dir / "junit.xml")
        if "allure" in formats:
            from .allure import write_allure

            paths["allure"] = write_allure(doc, out_dir / "allure-results",
                                           lambda i: _annotated_png(doc, shown, i, redact=not show_pii,
                                                                    whole=lambda e: _whole_entry(e, source, mask)))
    except OSError as exc:
        raise ReportError(f"cannot write the report in {out_dir}: {exc.strerror or exc}") from exc
    return paths


def _whole_entry(entry: dict[str, Any], source: Any, mask: Any) -> dict[str, Any]:
    from .items import _whole

    return _whole(entry, source, mask) if "detail" in entry else entry


def _annotated_png(doc: dict[str, Any], images: Any, index: int, *, redact: bool,
                   whole: Any = None) -> bytes | None:
    from .html import ocr_boxes_of

    entry = next((e for e in doc.get("evidence") or [] if e.get("index") == index), None)
    if entry is None or images.get(entry.get("file")) is None:
        return None
    if whole is not None:
        entry = whole(entry)
    img = annotate_screenshot(images[entry["file"]], entry.get("symbols") or [], redact=redact,
                              ocr_boxes=ocr_boxes_of(entry.get("screen_text")))
    img.thumbnail((480, 1040))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
