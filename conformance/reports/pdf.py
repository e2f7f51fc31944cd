"""report.pdf: the HTML report printed to A4 by headless Chromium (Debian's /usr/bin/chromium through Playwright).

The page is handed to the browser from memory (`page.set_content`): no file:// URL, no server, every network
request refused, JavaScript off (the report has no scripts). Each page has a header with the report number and a
footer "trang X / Y · page X of Y" (Chromium's own page counters).

The printing runs in a child process (`python -m conformance.reports.pdf`, HTML on stdin, PDF on stdout) in its own
process group, so a hung or crashed browser is killed whole at the deadline and never blocks the assessment.

    pdf_bytes = html_to_pdf(html, report_number="TT-2026-001", title="…")
"""
from __future__ import annotations

import html as _html
import json
import subprocess
import sys
from typing import Any

from conformance.subproc import kill_group

DEADLINE_S = 180.0  # the whole print job: browser start, layout, PDF
MAX_HTML_BYTES = 200_000_000
MAX_PDF_BYTES = 200_000_000
MARGIN = {"top": "17mm", "bottom": "15mm", "left": "12mm", "right": "12mm"}


class PdfError(RuntimeError):
    """The PDF could not be made (names the cause: no browser, timeout, browser crash)."""

    def __init__(self, message_en: str, message_vi: str):
        self.message_en, self.message_vi = message_en, message_vi
        super().__init__(message_en)


def pdf_title(results: dict[str, Any]) -> str:
    """The header's right-hand text: candidate name and version."""
    cand = results.get("candidate") or {}
    return f"{cand.get('name', '')} {cand.get('version', '')}".strip()


def header_template(report_number: str | None, title: str) -> str:
    num = _html.escape(report_number or "—")
    return ('<div style="width:100%;font:7.5pt \'DejaVu Sans\',sans-serif;color:#555;padding:0 12mm;'
            'display:flex;justify-content:space-between;">'
            f'<span>Số báo cáo / Report No. <b>{num}</b></span><span>{_html.escape(title)}</span></div>')


def footer_template() -> str:
    return ('<div style="width:100%;font:7.5pt \'DejaVu Sans\',sans-serif;color:#555;padding:0 12mm;'
            'text-align:right;">Trang <span class="pageNumber"></span> / <span class="totalPages"></span>'
            ' · page <span class="pageNumber"></span> of <span class="totalPages"></span></div>')


def _print(html: str, options: dict[str, Any]) -> bytes:
    """In the child process: start Chromium, load the page from memory, print it."""
    from playwright.sync_api import sync_playwright

    from conformance.capture.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=60_000)
        try:
            context = browser.new_context(java_script_enabled=False, offline=True)
            page = context.new_page()
            page.route("**/*", lambda route: route.abort())  # nothing leaves the page (data: URIs are not routed)
            page.set_content(html, wait_until="load", timeout=120_000)
            page.emulate_media(media="print")
            return page.pdf(format="A4", print_background=True, display_header_footer=True,
                            header_template=header_template(options.get("report_number"), options.get("title", "")),
                            footer_template=footer_template(), margin=MARGIN, prefer_css_page_size=False)
        finally:
            browser.close()


def html_to_pdf(html: str, *, report_number: str | None = None, title: str = "",
                deadline_s: float = DEADLINE_S) -> bytes:
    """The PDF of a report page. Raises PdfError (bilingual) when it cannot be made within the deadline."""
    data = html.encode("utf-8")
    if len(data) > MAX_HTML_BYTES:
        raise PdfError(f"the report page is too large to print ({len(data)} bytes)",
                       f"trang báo cáo quá lớn để in ({len(data)} byte)")
    opts = json.dumps({"report_number": report_number, "title": title})
    cmd = [sys.executable, "-m", "conformance.reports.pdf", opts]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(data, timeout=deadline_s)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise PdfError(f"printing the report to PDF took more than {deadline_s:.0f} s (Chromium stopped)",
                       f"in báo cáo ra PDF mất quá {deadline_s:.0f} giây (đã dừng Chromium)") from None
    finally:
        kill_group(proc)
    if proc.returncode != 0 or not out.startswith(b"%PDF-"):
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise PdfError(f"Chromium could not print the report to PDF: {tail[0][:300]}",
                       f"Chromium không in được báo cáo ra PDF: {tail[0][:300]}")
    if len(out) > MAX_PDF_BYTES:
        raise PdfError("the PDF is larger than 200 MB", "tệp PDF lớn hơn 200 MB")
    return out


def main(argv: list[str]) -> int:
    options = json.loads(argv[0]) if argv else {}
    html = sys.stdin.buffer.read(MAX_HTML_BYTES + 1).decode("utf-8")
    sys.stdout.buffer.write(_print(html, options))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
