"""Reports layer: results.json (schema-validated) and a self-contained bilingual report.html.

    write_reports(results, out_dir, *, images, show_pii=False) -> {"results": path, "html": path}
    redact_results(results) -> masked deep copy
    annotate_screenshot(image, symbols, *, redact, ocr_boxes=None) -> PIL.Image
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .annotate import annotate_screenshot
from .html import load_images, render_html
from .jsonreport import ResultsSchemaError, schema_errors, to_jsonable, validate_results, write_results_json
from .redact import build_redactor, redact_results

__all__ = ["write_reports", "redact_results", "annotate_screenshot", "render_html", "validate_results",
           "schema_errors", "ResultsSchemaError", "ReportError"]


class ReportError(OSError):
    """The report files could not be written (names the file and the problem)."""


def write_reports(results: dict, out_dir: Path, package: Any = None, analyses: Any = None, *,
                  images: dict[str, Any] | None = None, show_pii: bool = False) -> dict[str, Path]:
    """Write out_dir/results.json (validated against specs/results.schema.json) and out_dir/report.html.

    images: evidence file -> loaded screenshot (greyscale ndarray or PIL image). When None and a `package`
    (with `.root`) is given, the screenshots are read from the package folder. `analyses` is accepted for the
    plugin's call signature and not used. Unless show_pii, personal data is masked in both files and the
    pictures' QR codes are made undecodable. Raises ResultsSchemaError when the document breaks the schema (a
    bug in the suite) and ReportError when a file cannot be written.
    """
    out_dir = Path(out_dir)
    raw = to_jsonable(results)
    if images is None and package is not None and getattr(package, "root", None) is not None:
        images = load_images(raw, Path(package.root))  # read under the real file names, before masking
    images = dict(images or {})
    if show_pii:
        doc = raw
    else:
        red = build_redactor(raw)
        doc = red.walk(raw)
        # the masked document names evidence by masked file names: the pictures follow
        images = {red.mask_filename(k): v for k, v in images.items()}
    doc["pii_masked"] = not show_pii
    validate_results(doc)
    html = render_html(doc, images, redact=not show_pii)
    paths = {"results": out_dir / "results.json", "html": out_dir / "report.html"}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_results_json(doc, paths["results"])
        paths["html"].write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write the report in {out_dir}: {exc.strerror or exc}") from exc
    return paths
