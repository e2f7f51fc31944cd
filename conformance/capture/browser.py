"""Real-browser adapter: headless Debian Chromium through Playwright (sync API), phone emulation.

Per subject, a fresh browser context (no cookies) opens live.page ("/app/{subject}"), waits for the QR image and
the configured fields, screenshots, reads the field texts, clicks the toggle once and waits (bounded, live.timeouts
.toggle_s) for the field texts to change. The toggle time is measured inside the page: a capture-phase click
listener stamps performance.now() at the click, a MutationObserver stamps the first mutation after which the
field texts differ; toggle_ms = change - click. Then a second screenshot.

Network: every request goes through a route handler; hosts outside allowed_hosts are ABORTED (never contacted).
The log keeps url (masked), method, status, response headers, resource type, personal fields found in the URL and
in text bodies (bodies read after the page settles, size-limited), and blocked requests.

Mode of an evidence item: the browser has no interface that states the mode, so it is inferred from the displayed
text (any '*' in the document number or date -> default; the subject's whole values -> full); when it cannot be
told, the initial screen is recorded as "default" and the one after the toggle as the other mode (DISPLAY-004
judges the initial screen from its displayed text, not from this label).
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import urljoin

from conformance.capture.netguard import find_pii, has_traceback, host_allowed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DEFAULT_VIEWPORT = {"width": 412, "height": 915, "device_scale_factor": 2.625}
TEXT_TYPES = ("document", "fetch", "xhr", "script", "other")
EXCERPT_CHARS = 600

_INSTALL_JS = """(sel) => {
  const read = () => { const o = {}; for (const [k, s] of Object.entries(sel)) {
      const el = s ? document.querySelector(s) : null; o[k] = el ? el.textContent.trim() : null; }
      if (Object.keys(o).length === 0) o.__body = document.body ? document.body.innerText : ''; return o; };
  const before = JSON.stringify(read());
  const st = { click: null, change: null, before: before };
  window.__cqToggle = st;
  document.addEventListener('click', () => { if (st.click === null) st.click = performance.now(); }, true);
  const check = () => { if (st.click !== null && st.change === null && JSON.stringify(read()) !== before)
      st.change = performance.now(); };
  new MutationObserver(check).observe(document.documentElement,
      { subtree: true, childList: true, characterData: true, attributes: true });
  st.poll = setInterval(check, 10);
  return before;
}"""

_READY_JS = """(sel) => {
  const imgs = Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0);
  const other = document.querySelector('canvas, svg');
  if (imgs.length === 0 && !other) return false;
  for (const s of Object.values(sel)) { const el = s ? document.querySelector(s) : null;
      if (el && el.textContent.trim() === '') return false; }
  return true;
}"""


def infer_mode(displayed: dict[str, Any] | None, record: dict[str, Any] | None) -> str | None:
    """'default' when the document number or date shows '*', 'full' when they show the whole values, else None."""
    if not displayed:
        return None
    doc, dob = displayed.get("so_giay_to") or "", displayed.get("ngay_sinh") or ""
    if "*" in doc or "*" in dob:
        return "default"
    if record:
        full_doc = str(record.get("so_giay_to") or "")
        if full_doc and full_doc in doc.replace(" ", ""):
            return "full"
        y, m, d = (str(record.get("ngay_sinh") or "") + "--").split("-")[:3]
        if y and y in dob and any(ch.isdigit() for ch in dob.replace(y, "")):
            return "full"
    return None


def _read_fields(page: Any, fields: dict[str, str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, sel in fields.items():
        try:
            loc = page.locator(sel)
            out[key] = loc.first.text_content(timeout=1000).strip() if loc.count() else None
        except Exception:  # noqa: BLE001
            out[key] = None
    return out


def run_browser(live: dict[str, Any], rec: Any, log: Any, sids: list[str], allowed: list[str], *,
                request_s: float, toggle_s: float, max_bytes: int, token: str | None) -> dict[str, Any]:
    """Drive the page for each subject; returns device facts for candidate.json (dpr, ppi, width_px, height_px)."""
    try:
        from playwright.sync_api import Error as PwError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        log.error("browser", f"playwright is not installed: {exc}", f"chưa cài playwright: {exc}")
        return {}
    vp = {**DEFAULT_VIEWPORT, **(live.get("viewport") or {})}
    device: dict[str, Any] = {"model": f"headless Chromium {vp['width']}x{vp['height']} CSS px",
                              "dpr": float(vp["device_scale_factor"])}
    if vp.get("ppi"):
        device["ppi"] = float(vp["ppi"])
    fields = {k: v for k, v in (live.get("fields") or {}).items() if v}
    page_tpl = str(live.get("page") or "/app/{subject}")
    base = str(live["base_url"]).rstrip("/") + "/"
    timeout_ms = int(request_s * 1000)
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except PwError as exc:
            log.error("browser", f"cannot start Chromium ({CHROMIUM}): {str(exc)[:300]}",
                      f"không khởi động được Chromium ({CHROMIUM}): {str(exc)[:300]}")
            return device
        try:
            for sid in sids:
                _one_subject(browser, live, rec, log, sid, vp, fields, urljoin(base, page_tpl.replace(
                    "{subject}", sid).lstrip("/")), allowed, timeout_ms, toggle_s, max_bytes, device)
        finally:
            browser.close()
    if token:
        # the assessment interface (if the candidate has one) is probed for PRIV-001 over plain HTTP
        from conformance.capture.http_api import HttpClient, probe_privacy

        client = HttpClient(str(live["base_url"]), token, allowed, log, timeout_s=request_s, max_bytes=max_bytes)
        try:
            probe_privacy(client, sids[0] if sids else None)
        finally:
            client.close()
    return device


def _one_subject(browser: Any, live: dict[str, Any], rec: Any, log: Any, sid: str, vp: dict[str, Any],
                 fields: dict[str, str], url: str, allowed: list[str], timeout_ms: int, toggle_s: float,
                 max_bytes: int, device: dict[str, Any]) -> None:
    record = None
    subjects = getattr(rec, "subjects", None)
    if isinstance(subjects, dict):
        record = subjects.get(sid)
    responses: list[tuple[int, Any]] = []
    t_start = time.perf_counter()

    def on_route(route: Any, request: Any) -> None:
        if host_allowed(request.url, allowed):
            route.continue_()
            return
        log.add("network", {"subject": sid, "method": request.method, "url": log.mask(request.url),
                            "pii_in_url": find_pii(request.url, log.pii), "resource_type": request.resource_type,
                            "blocked": True, "status": None, "headers": {}, "personal_data": [],
                            "note": "host not in allowed_hosts: request aborted"})
        log.error("network", f"page requested {request.url} (host not in allowed_hosts); aborted",
                  f"trang yêu cầu {request.url} (máy chủ không nằm trong allowed_hosts); đã chặn", sid)
        route.abort("blockedbyclient")

    def on_response(resp: Any) -> None:
        req = resp.request
        idx = log.add("network", {"subject": sid, "method": req.method, "url": log.mask(resp.url),
                                  "pii_in_url": find_pii(resp.url, log.pii), "resource_type": req.resource_type,
                                  "blocked": False, "status": resp.status, "headers": dict(resp.headers),
                                  "t_ms": round((time.perf_counter() - t_start) * 1000, 1)})
        responses.append((idx, resp))

    def on_failed(req: Any) -> None:
        if host_allowed(req.url, allowed):
            log.add("network", {"subject": sid, "method": req.method, "url": log.mask(req.url),
                                "pii_in_url": find_pii(req.url, log.pii), "resource_type": req.resource_type,
                                "blocked": False, "status": None, "headers": {}, "personal_data": [],
                                "failure": str(req.failure)[:200]})

    ctx = browser.new_context(viewport={"width": int(vp["width"]), "height": int(vp["height"])},
                              device_scale_factor=float(vp["device_scale_factor"]), is_mobile=True, has_touch=True,
                              locale="vi-VN", service_workers="block")
    try:
        ctx.set_default_timeout(timeout_ms)
        ctx.route("**/*", on_route)
        page = ctx.new_page()
        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        try:
            resp = page.goto(url, wait_until="load", timeout=timeout_ms)
        except Exception as exc:  # noqa: BLE001
            en, vi = f"cannot open {url}: {str(exc).splitlines()[0][:300]}", f"không mở được {url}: {str(exc).splitlines()[0][:300]}"
            log.error("initial", en, vi, sid)
            for step in ("initial", "after_toggle"):
                rec.missing(sid, step, rec.guess_mode(sid, step), "screenshot", "browser", en, vi)
            return
        if resp is not None and resp.status >= 400:
            log.error("initial", f"{url} answered HTTP {resp.status}", f"{url} trả về HTTP {resp.status}", sid)
        try:
            page.wait_for_function(_READY_JS, arg=fields, timeout=timeout_ms, polling=50)
        except Exception:  # noqa: BLE001
            log.error("initial", f"no loaded QR image (img/canvas/svg) and filled fields within {timeout_ms} ms",
                      f"không thấy ảnh QR đã tải (img/canvas/svg) và các trường có nội dung sau {timeout_ms} ms", sid)
        page.wait_for_timeout(100)  # let fonts/layout settle before the screenshot
        shown = _read_fields(page, fields) if fields else None
        mode0 = infer_mode(shown, record) or "default"
        _shot(page, rec, log, sid, "initial", mode0, shown, device)

        # ---- toggle, timed inside the page ----
        entry: dict[str, Any] = {"subject": sid, "source": "browser", "action": None, "ms": None, "changed": False,
                                 "ok": False, "mode_before": mode0, "mode_after": None,
                                 "displayed_before": log.mask_obj(shown)}
        tog = live.get("toggle") or {}
        try:
            if tog.get("selector"):
                loc = page.locator(tog["selector"])
                entry["action"] = f"click {tog['selector']}"
            elif tog.get("name"):
                loc = page.get_by_role(tog.get("role") or "button", name=tog["name"])
                entry["action"] = f"click role={tog.get('role') or 'button'} name={tog['name']!r}"
            else:
                loc = None
                entry["action"] = "none configured"
            if loc is None or loc.count() == 0:
                en = f"toggle control not found ({entry['action']})"
                vi = f"không tìm thấy nút chuyển chế độ ({entry['action']})"
                entry["error_en"], entry["error_vi"] = en, vi
                log.error("toggle", en, vi, sid)
            else:
                page.evaluate(_INSTALL_JS, fields)
                t_click = time.perf_counter()
                loc.first.click(timeout=min(timeout_ms, 5000))
                entry["ok"] = True
                try:
                    page.wait_for_function("() => window.__cqToggle.change !== null", timeout=int(toggle_s * 1000),
                                           polling=10)
                    st = page.evaluate("() => { clearInterval(window.__cqToggle.poll); return window.__cqToggle; }")
                    entry["changed"] = True
                    entry["ms"] = round(float(st["change"]) - float(st["click"]), 1)
                    entry["wall_ms"] = round((time.perf_counter() - t_click) * 1000, 1)
                except Exception:  # noqa: BLE001
                    entry["ms"] = None
                    entry["waited_ms"] = round((time.perf_counter() - t_click) * 1000, 1)
                    en = f"display did not change within {toggle_s:g} s after the toggle"
                    vi = f"màn hình không thay đổi trong {toggle_s:g} giây sau khi bấm chuyển chế độ"
                    entry["error_en"], entry["error_vi"] = en, vi
                    log.error("toggle", en, vi, sid)
        except Exception as exc:  # noqa: BLE001
            en = f"toggle failed: {str(exc).splitlines()[0][:300]}"
            vi = f"chuyển chế độ thất bại: {str(exc).splitlines()[0][:300]}"
            entry["error_en"], entry["error_vi"] = en, vi
            log.error("toggle", en, vi, sid)
        if entry["changed"]:
            try:
                page.wait_for_function(_READY_JS, arg=fields, timeout=timeout_ms, polling=50)
            except Exception:  # noqa: BLE001
                pass
            page.wait_for_timeout(100)
        shown2 = _read_fields(page, fields) if fields else None
        entry["displayed_after"] = log.mask_obj(shown2)
        mode1 = infer_mode(shown2, record)
        if mode1 is None or (entry["changed"] and mode1 == mode0 and infer_mode(shown, record) is None):
            mode1 = ("full" if mode0 == "default" else "default") if entry["changed"] else mode0
        entry["mode_after"] = mode1
        rec.toggle(sid, entry)
        _shot(page, rec, log, sid, "after_toggle", mode1, shown2, device)
        _read_bodies(responses, log, max_bytes)
    except Exception as exc:  # noqa: BLE001
        log.error("browser", f"browser capture failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
                  f"chụp bằng trình duyệt thất bại: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}", sid)
    finally:
        try:
            ctx.close()
        except Exception:  # noqa: BLE001
            pass


def _shot(page: Any, rec: Any, log: Any, sid: str, step: str, mode: str, shown: dict | None,
          device: dict[str, Any]) -> None:
    try:
        png = page.screenshot(type="png", full_page=False, animations="disabled")
    except Exception as exc:  # noqa: BLE001
        en, vi = f"screenshot failed: {str(exc)[:300]}", f"chụp màn hình thất bại: {str(exc)[:300]}"
        log.error(step, en, vi, sid)
        rec.missing(sid, step, mode, "screenshot", "browser", en, vi)
        return
    if len(png) > 24 and png[:8] == b"\x89PNG\r\n\x1a\n":
        device["width_px"] = int.from_bytes(png[16:20], "big")
        device["height_px"] = int.from_bytes(png[20:24], "big")
    rec.save_screenshot(sid, step, mode, png, displayed=shown, source="browser")


def _read_bodies(responses: list[tuple[int, Any]], log: Any, max_bytes: int) -> None:
    """Personal data and stack traces in text responses (read after the page settled; size-limited)."""
    for idx, resp in responses:
        entry = log.doc["network"][idx]
        entry.setdefault("personal_data", [])
        if resp.request.resource_type not in TEXT_TYPES:
            continue
        ctype = (resp.headers.get("content-type") or "").lower()
        if ctype and not any(t in ctype for t in ("json", "text", "html", "javascript", "xml")):
            continue
        try:
            length = int(resp.headers.get("content-length") or 0)
        except ValueError:
            length = 0
        if length > max_bytes or resp.status in (301, 302, 303, 307, 308):
            continue
        try:
            body = resp.body()[:max_bytes].decode("utf-8", errors="replace")
        except Exception:  # noqa: BLE001 - body gone (navigation) or not available
            continue
        entry["personal_data"] = find_pii(body, log.pii)
        entry["traceback"] = has_traceback(body)
        entry["body_excerpt"] = log.mask(body[:EXCERPT_CHARS])
