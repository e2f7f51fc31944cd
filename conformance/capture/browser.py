"""Real-browser adapter: headless Debian Chromium through Playwright (sync API), phone emulation.

Per subject, a fresh browser context (no cookies) opens live.page ("/app/{subject}"), waits for the QR image and
the configured fields, screenshots, reads the field texts, clicks the toggle once and waits (bounded, live.timeouts
.toggle_s) for the field texts to change. The toggle time is measured inside the page: a capture-phase click
listener stamps performance.now() at the click, a MutationObserver stamps the first mutation after which the
field texts differ; toggle_ms = change - click. Then a second screenshot.

Network, two layers, both keyed on allowed_hosts (`host` = any port, `host:port` = that port only):
- Chromium's only way out is a filtering proxy on loopback (conformance/capture/guardproxy.py; Playwright's
  `<-loopback>` bypass rule sends loopback through it too). It refuses any other host:port before a byte leaves,
  whatever asked for it: redirect hops of the page itself, WebSockets, prefetch/preconnect, service workers. It also
  bounds every proxied request to request_s and max_bytes, so a fetch that never ends cannot hang the capture.
- A route handler aborts requests to other hosts earlier and logs them; WebSockets are logged too.
WebRTC cannot leak UDP: Chromium runs with the `disable_non_proxied_udp` IP-handling policy and QUIC off, and an
init script removes RTCPeerConnection before any page script. Service workers are blocked, downloads refused.
The page itself must stay an http(s) page on an allowed host: a live.page outside them is never opened, and a page
that ends anywhere else (data:, file:, an error page for a refused redirect) is not screenshotted as evidence.
The log keeps url (masked), method, status, response headers, resource type, personal fields found in the URL and
in text bodies (bodies of finished responses only, read after the page settles, scanned up to live.max_scan_bytes),
and blocked requests (from the route handler and from the proxy).

Every wait is bounded by request_s / toggle_s and by the run's budget (profile live.max_run_seconds); page script
is only run through bounded waits (`wait_for_function`), never through an unbounded `evaluate`.

Mode of an evidence item: the browser has no interface that states the mode, so it is inferred from the displayed
text (any '*' in the document number or date -> default; the subject's whole values -> full); when it cannot be
told, the initial screen is recorded as "default" and the one after the toggle as the other mode (DISPLAY-004
judges the initial screen from its displayed text, not from this label).
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any
from urllib.parse import urljoin

from conformance.capture.bounded import Budget, budget_message
from conformance.capture.guardproxy import GuardProxy
from conformance.capture.netguard import clip, find_pii, has_traceback, host_allowed, navigation_allowed
from conformance.rules.masking import displayed_mode

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# no UDP leaves the browser: WebRTC only through the (TCP) proxy, which refuses it; no QUIC; no DNS prefetching
GUARD_ARGS = ["--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
              "--webrtc-ip-handling-policy=disable_non_proxied_udp", "--enforce-webrtc-ip-permission-check",
              "--disable-quic", "--dns-prefetch-disable", "--no-pings", "--disable-domain-reliability"]
NO_WEBRTC_JS = """(() => {
  for (const k of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCDataChannel', 'RTCIceTransport',
                   'RTCRtpSender', 'RTCRtpReceiver', 'RTCSctpTransport', 'RTCDtlsTransport']) {
    try { delete window[k]; } catch (e) {}
    try { Object.defineProperty(window, k, { value: undefined, writable: false, configurable: false }); } catch (e) {}
  }
  try { Object.defineProperty(navigator, 'mediaDevices', { value: undefined }); } catch (e) {}
})();"""
_EVAL_ATTR = "data-conformance-eval"
SCAN_URL = 100_000  # characters of a URL scanned for personal data
# the watchdog acts on a subject after 8 request deadlines + toggle_s + 20 s (more than the sum of the bounded waits
# of one subject, so it only ends what no timeout could end)
SUBJECT_LIMIT_REQUESTS = 8
SUBJECT_LIMIT_EXTRA_S = 20.0
SECRET_HEADERS = ("set-cookie", "authorization", "proxy-authorization")
BROWSER_SERVICE_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com", "gvt2.com",
                         "googleusercontent.com", "google-analytics.com")
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
    """The mode a page shows, from its displayed texts (one rule: conformance.rules.masking.displayed_mode)."""
    if not displayed:
        return None
    return displayed_mode(displayed.get("so_giay_to"), displayed.get("ngay_sinh"), record)


def _toggle_unanswered(rec: Any, log: Any, responses: Any, sid: str, entry: dict[str, Any], mode0: str, en: str,
                       vi: str) -> None:
    """The page stopped answering around the toggle: the toggle is logged unanswered, the after-toggle screen missing."""
    log.error("toggle", en, vi, sid)
    rec.toggle(sid, entry)
    rec.missing(sid, "after_toggle", "full" if mode0 == "default" else "default", "screenshot", "browser", en, vi)
    _unread_bodies(responses, log)


def _read_fields(page: Any, fields: dict[str, str], timeout_ms: int = 1000) -> dict[str, str | None]:
    """The configured fields' texts; every read is bounded (a hung page gives None, never a hang)."""
    out: dict[str, str | None] = {}
    for key, sel in fields.items():
        try:
            text = page.locator(sel).first.text_content(timeout=timeout_ms)
            out[key] = text.strip() if text is not None else None
        except Exception:  # noqa: BLE001 - absent element, hung page, closed page
            out[key] = None
    return out


class Watchdog:
    """Last line of defence against a page that hangs the browser (a busy loop makes calls without a timeout, such as
    Response.body(), wait forever). Armed per subject with an absolute deadline; when it passes, the renderer
    processes of the Chromium this capture launched (descendants of this process, found by PID) are killed, which
    makes the pending Playwright call fail; if nothing returns within GRACE_S more, the browser process itself is
    killed. Never touches a process that is not a descendant of this one."""

    GRACE_S = 3.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._stage = 0
        self.fired: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="capture-watchdog", daemon=True)
        self._thread.start()

    def arm(self, deadline: float) -> None:
        with self._lock:
            self._deadline, self._stage = deadline, 0
            self.fired = []

    def disarm(self) -> None:
        with self._lock:
            self._deadline = None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)

    def _loop(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                due = self._deadline is not None and time.monotonic() >= self._deadline
                stage = self._stage
                if due:
                    self._stage += 1
                    self._deadline = time.monotonic() + self.GRACE_S
            if not due:
                continue
            kinds = ("renderer",) if stage == 0 else ("renderer", "browser")
            killed = _kill_chromium(kinds)
            with self._lock:
                self.fired.append(f"{'+'.join(kinds)}: {len(killed)} process(es)")
                if stage >= 1:
                    self._deadline = None


def _descendants(root: int) -> list[int]:
    parent: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parent.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for kid in parent.get(todo.pop(), []):
            out.append(kid)
            todo.append(kid)
    return out


def _kill_chromium(kinds: tuple[str, ...]) -> list[int]:
    """SIGKILL this process's Chromium descendants of the given kinds ("renderer", "browser" = no --type)."""
    killed = []
    for pid in _descendants(os.getpid()):
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ")
        except OSError:
            continue
        if not exe.startswith(("chromium", "chrome")):
            continue
        kind = "renderer" if b"--type=renderer" in cmd else ("browser" if b"--type=" not in cmd else "other")
        if kind in kinds:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except OSError:
                pass
    return killed


def run_browser(live: dict[str, Any], rec: Any, log: Any, sids: list[str], allowed: list[str], *,
                request_s: float, toggle_s: float, max_bytes: int, token: str | None,
                budget: Budget | None = None) -> dict[str, Any]:
    """Drive the page for each subject; returns device facts for candidate.json (dpr, ppi, width_px, height_px)."""
    budget = budget or Budget(3600)
    try:
        from playwright.sync_api import Error as PwError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        log.error("browser", f"playwright is not installed: {exc}", f"chưa cài playwright: {exc}")
        for sid in sids:
            rec.not_captured(sid, "browser", f"playwright is not installed: {exc}", f"chưa cài playwright: {exc}")
        return {}
    vp = {**DEFAULT_VIEWPORT, **(live.get("viewport") or {})}
    device: dict[str, Any] = {"model": f"headless Chromium {vp['width']}x{vp['height']} CSS px",
                              "dpr": float(vp["device_scale_factor"])}
    if vp.get("ppi"):
        device["ppi"] = float(vp["ppi"])
    fields = {k: v for k, v in (live.get("fields") or {}).items() if v}
    page_tpl = str(live.get("page") or "/app/{subject}")
    base = str(live["base_url"]).rstrip("/") + "/"
    proxy = GuardProxy(allowed, request_s=request_s, max_bytes=max_bytes).start()
    watchdog = Watchdog()
    subject_limit = SUBJECT_LIMIT_REQUESTS * request_s + toggle_s + SUBJECT_LIMIT_EXTRA_S
    browser = None
    try:
        with sync_playwright() as pw:
            def launch() -> Any:
                try:
                    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + GUARD_ARGS,
                                              headless=True, proxy={"server": proxy.server, "bypass": "<-loopback>"},
                                              timeout=max(1000, min(30_000, int(budget.remaining() * 1000))))
                except PwError as exc:
                    en = f"cannot start Chromium ({CHROMIUM}): {str(exc)[:300]}"
                    vi = f"không khởi động được Chromium ({CHROMIUM}): {str(exc)[:300]}"
                    log.error("browser", en, vi)
                    return None

            try:
                for sid in sids:
                    if budget.expired():
                        log.doc["budget_exceeded"] = True
                        rec.not_captured(sid, "browser", *budget_message(budget.seconds))
                        continue
                    if browser is None or not browser.is_connected():
                        browser = launch()
                    if browser is None:
                        rec.not_captured(sid, "browser", f"Chromium ({CHROMIUM}) did not start",
                                         f"Chromium ({CHROMIUM}) không khởi động được")
                        continue
                    seen = len(proxy.blocked)
                    url = urljoin(base, page_tpl.replace("{subject}", sid).lstrip("/"))
                    watchdog.arm(min(budget.deadline, time.monotonic() + subject_limit))
                    try:
                        _one_subject(browser, live, rec, log, sid, vp, fields, url, allowed, request_s, toggle_s,
                                     max_bytes, device, budget)
                    finally:
                        watchdog.disarm()
                        _proxy_blocks(proxy, seen, log, sid)
                    if watchdog.fired:
                        log.error("browser", f"the page stopped responding; the capture stopped its browser processes "
                                  f"({'; '.join(watchdog.fired)}) at the subject's time limit "
                                  f"({min(subject_limit, budget.seconds):g} s or the run's budget)",
                                  "trang không còn phản hồi; quá trình chụp đã dừng các tiến trình trình duyệt khi hết "
                                  "thời gian dành cho người dùng này (hoặc hết thời gian của lượt chụp)", sid)
            finally:
                if browser is not None:
                    try:
                        browser.close()
                    except Exception:  # noqa: BLE001
                        pass
    finally:
        watchdog.stop()
        proxy.stop()
    if token and not budget.expired():
        # the assessment interface (if the candidate has one) is probed for PRIV-001 over plain HTTP
        from conformance.capture.http_api import HttpClient, probe_privacy

        client = HttpClient(str(live["base_url"]), token, allowed, log, timeout_s=request_s, max_bytes=max_bytes,
                            budget=budget)
        try:
            probe_privacy(client, sids[0] if sids else None)
        finally:
            client.close()
    return device


def _browser_service(target: str) -> bool:
    """A target of Chromium's own background services (Debian's build ships Google API keys), not of the page."""
    host = target.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]").lower()
    return any(host == h or host.endswith("." + h) for h in BROWSER_SERVICE_HOSTS)


def _proxy_blocks(proxy: GuardProxy, since: int, log: Any, sid: str) -> None:
    """What the proxy refused while this subject's page was open: into the network log and the errors, except the
    browser's own background services (kept apart in `browser_blocked`: refused too, but not the candidate's)."""
    for ev in list(proxy.blocked)[since:]:
        target = ev["target"]
        if _browser_service(target):
            log.doc.setdefault("browser_blocked", []).append({"subject": sid, "method": ev["method"],
                                                              "target": log.mask(target)[:200], "why": ev["why"]})
            continue
        _net(log, sid, ev["method"], target, "proxy", blocked=True,
             note=f"refused by the capture proxy: {ev['why']}")
        shown = clip(target, 300)
        log.error("network", f"the browser tried to reach {shown} ({ev['method']}): {ev['why']}; refused by the "
                  "capture proxy",
                  f"trình duyệt định kết nối tới {shown} ({ev['method']}): máy chủ/cổng không nằm trong "
                  "allowed_hosts; bộ chuyển tiếp của quá trình chụp đã chặn", sid)


def _net(log: Any, sid: str, method: str, url: str, resource_type: str, *, blocked: bool = False,
         status: int | None = None, headers: dict | None = None, **extra: Any) -> int | None:
    """One network-log entry (URL clipped and masked, personal data in the URL listed); its index or None."""
    entry = {"subject": sid, "method": str(method)[:20], "url": log.mask(clip(url)),
             "pii_in_url": find_pii(clip(url, SCAN_URL), log.pii), "resource_type": resource_type,
             "blocked": blocked, "status": status, "headers": headers or {}}
    if blocked:
        entry["personal_data"] = []
    entry.update(extra)
    return log.add("network", entry)


def _present(loc: Any, timeout_ms: int) -> bool:
    """Whether a locator matches an element (bounded; Locator.count() has no timeout)."""
    try:
        loc.first.wait_for(state="attached", timeout=timeout_ms)
        return True
    except Exception:  # noqa: BLE001
        return False


def _responsive(page: Any, timeout_ms: int) -> bool:
    """Whether page script is idle enough to answer (Response.body() waits forever on a busy page)."""
    try:
        page.wait_for_function("() => true", timeout=timeout_ms, polling=50)
        return True
    except Exception:  # noqa: BLE001
        return False


def _ms(seconds: float, budget: Budget) -> int:
    """A Playwright timeout (ms): `seconds`, never past the run's budget, at least 1 ms."""
    return max(1, int(min(seconds, budget.remaining()) * 1000))


def _eval(page: Any, js: str, arg: Any, timeout_ms: int) -> Any:
    """Run `js(arg)` in the page with a bound. page.evaluate (and JSHandle.json_value) wait forever when page script
    hangs; wait_for_function and get_attribute honour their timeouts, so the result travels as JSON in an attribute
    of <html>."""
    page.wait_for_function(
        f"(a) => {{ const v = ({js})(a); document.documentElement.setAttribute('{_EVAL_ATTR}', "
        f"JSON.stringify(v === undefined ? null : v)); return true; }}", arg=arg, timeout=timeout_ms, polling=50)
    raw = page.locator("html").get_attribute(_EVAL_ATTR, timeout=timeout_ms)
    return json.loads(raw) if raw else None


def _one_subject(browser: Any, live: dict[str, Any], rec: Any, log: Any, sid: str, vp: dict[str, Any],
                 fields: dict[str, str], url: str, allowed: list[str], request_s: float, toggle_s: float,
                 max_bytes: int, device: dict[str, Any], budget: Budget) -> None:
    record = None
    subjects = getattr(rec, "subjects", None)
    if isinstance(subjects, dict):
        record = subjects.get(sid)
    if not navigation_allowed(url, allowed):
        en = f"the page {url} is not an http(s) URL on a host in allowed_hosts {allowed}; not opened"
        vi = f"trang {url} không phải URL http(s) trên máy chủ thuộc allowed_hosts {allowed}; không mở"
        rec.not_captured(sid, "browser", en, vi)
        return
    responses: list[tuple[int, Any]] = []
    finished: set[int] = set()
    strayed: list[str] = []
    crashed: list[bool] = []
    t_start = time.perf_counter()

    def on_route(route: Any, request: Any) -> None:
        if host_allowed(request.url, allowed) and not (request.is_navigation_request()
                                                       and not navigation_allowed(request.url, allowed)):
            route.continue_()
            return
        _net(log, sid, request.method, request.url, request.resource_type, blocked=True,
             note="host not in allowed_hosts: request aborted")
        log.error("network", f"page requested {clip(request.url, 300)} (host not in allowed_hosts); aborted",
                  f"trang yêu cầu {clip(request.url, 300)} (máy chủ không nằm trong allowed_hosts); đã chặn", sid)
        route.abort("blockedbyclient")

    def headers_of(resp: Any) -> dict[str, str]:
        return {clip(k, 200): ("[redacted]" if k.lower() in SECRET_HEADERS else (log.mask(clip(v)) or ""))
                for k, v in dict(resp.headers).items()}

    def on_response(resp: Any) -> None:
        req = resp.request
        if not host_allowed(resp.url, allowed):  # the capture proxy's refusal (a redirect hop it did not forward)
            _net(log, sid, req.method, resp.url, req.resource_type, blocked=True,
                 note="host not in allowed_hosts: refused by the capture proxy, never contacted")
            return
        idx = _net(log, sid, req.method, resp.url, req.resource_type, status=resp.status, headers=headers_of(resp),
                   t_ms=round((time.perf_counter() - t_start) * 1000, 1))
        if idx is not None:
            responses.append((idx, resp))

    def on_finished(req: Any) -> None:
        finished.add(id(req))

    def on_failed(req: Any) -> None:
        if host_allowed(req.url, allowed):
            _net(log, sid, req.method, req.url, req.resource_type, personal_data=[], failure=str(req.failure)[:200])

    def on_websocket(ws: Any) -> None:
        ok = host_allowed(ws.url, allowed)
        _net(log, sid, "GET", ws.url, "websocket", blocked=not ok, personal_data=[],
             **({} if ok else {"note": "host not in allowed_hosts: refused by the capture proxy"}))

    def on_navigated(frame: Any) -> None:
        if frame.parent_frame is None and not navigation_allowed(frame.url, allowed):
            strayed.append(frame.url)

    ctx = browser.new_context(viewport={"width": int(vp["width"]), "height": int(vp["height"])},
                              device_scale_factor=float(vp["device_scale_factor"]), is_mobile=True, has_touch=True,
                              locale="vi-VN", service_workers="block", accept_downloads=False)
    try:
        ctx.set_default_timeout(_ms(request_s, budget))
        ctx.set_default_navigation_timeout(_ms(request_s, budget))
        ctx.add_init_script(script=NO_WEBRTC_JS)
        ctx.route("**/*", on_route)
        page = ctx.new_page()
        page.on("response", on_response)
        page.on("requestfinished", on_finished)
        page.on("requestfailed", on_failed)
        page.on("websocket", on_websocket)
        page.on("framenavigated", on_navigated)
        page.on("crash", lambda _p: crashed.append(True))
        try:
            resp = page.goto(url, wait_until="domcontentloaded", timeout=_ms(request_s, budget))
        except Exception as exc:  # noqa: BLE001
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
            en, vi = f"cannot open {url}: {first}", f"không mở được {url}: {first}"
            rec.not_captured(sid, "browser", en, vi)
            return
        final = page.url
        if strayed or not navigation_allowed(final, allowed):
            where = (strayed or [final])[0]
            en = (f"{url} ended at {where}, which is not an http(s) page on an allowed host (refused redirect or "
                  "navigation); nothing captured from it")
            vi = (f"{url} dẫn tới {where}, không phải trang http(s) trên máy chủ được phép (chuyển hướng hoặc điều "
                  "hướng bị chặn); không chụp gì từ đó")
            rec.not_captured(sid, "browser", en, vi)
            return
        if resp is not None and resp.status >= 400:
            en, vi = f"{url} answered HTTP {resp.status}", f"{url} trả về HTTP {resp.status}"
            rec.not_captured(sid, "browser", en, vi)
            return
        try:
            page.wait_for_load_state("load", timeout=_ms(request_s, budget))
        except Exception:  # noqa: BLE001 - a sub-resource that never ends; the proxy cuts it, the capture goes on
            log.error("initial", f"the page did not finish loading within {request_s:g} s; captured as it was",
                      f"trang chưa tải xong sau {request_s:g} giây; chụp ở trạng thái lúc đó", sid)
        ready = True
        try:
            page.wait_for_function(_READY_JS, arg=fields, timeout=_ms(request_s, budget), polling=50)
        except Exception:  # noqa: BLE001
            ready = False
            log.error("initial", f"no loaded QR image (img/canvas/svg) and filled fields within {request_s:g} s",
                      f"không thấy ảnh QR đã tải (img/canvas/svg) và các trường có nội dung sau {request_s:g} giây",
                      sid)
            if not _responsive(page, _ms(min(request_s, 1.0), budget)):
                _unread_bodies(responses, log)
                rec.not_captured(sid, "browser", "the page does not respond (busy page script); nothing captured",
                                 "trang không phản hồi (mã kịch bản của trang chạy mãi); không chụp được gì")
                return
        page.wait_for_timeout(100)  # let fonts/layout settle before the screenshot
        shown = _read_fields(page, fields, _ms(1.0, budget)) if fields else None
        mode0 = infer_mode(shown, record) or "default"
        _shot(page, rec, log, sid, "initial", mode0, shown, device, allowed, strayed, usable=ready)

        # ---- toggle, timed inside the page ----
        entry: dict[str, Any] = {"subject": sid, "source": "browser", "action": None, "ms": None, "changed": False,
                                 "ok": False, "answered": True, "mode_before": mode0, "mode_after": None,
                                 "displayed_before": log.mask_obj(shown)}
        tog = live.get("toggle") or {}
        if not _responsive(page, _ms(min(request_s, 1.0), budget)):
            en = "the page stopped responding (busy page script) before the toggle; nothing more captured"
            vi = "trang không còn phản hồi (mã kịch bản của trang chạy mãi) trước khi chuyển chế độ; không chụp thêm"
            entry.update(answered=False, error_en=en, error_vi=vi)
            _toggle_unanswered(rec, log, responses, sid, entry, mode0, en, vi)
            return
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
            if loc is None or not _present(loc, min(_ms(request_s, budget), 2000)):
                en = f"toggle control not found ({entry['action']})"
                vi = f"không tìm thấy nút chuyển chế độ ({entry['action']})"
                entry["error_en"], entry["error_vi"] = en, vi
                log.error("toggle", en, vi, sid)
            else:
                _eval(page, _INSTALL_JS, fields, _ms(request_s, budget))
                t_click = time.perf_counter()
                loc.first.click(timeout=_ms(min(request_s, 5.0), budget))
                entry["ok"] = True
                try:
                    page.wait_for_function("() => window.__cqToggle.change !== null",
                                           timeout=_ms(toggle_s, budget), polling=10)
                    st = _eval(page, "() => { clearInterval(window.__cqToggle.poll); return window.__cqToggle; }",
                               None, _ms(request_s, budget))
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
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
            en = f"toggle failed: {first}"
            vi = f"chuyển chế độ thất bại: {first}"
            entry["error_en"], entry["error_vi"] = en, vi
            log.error("toggle", en, vi, sid)
            if crashed or page.is_closed() or budget.expired():
                entry["answered"] = False
        if strayed or not navigation_allowed(page.url, allowed):
            entry["answered"] = False
            where = clip((strayed or [page.url])[0], 300)
            entry.setdefault("error_en", f"the page left the allowed hosts after the toggle ({where})")
            entry.setdefault("error_vi", "trang đã rời khỏi các máy chủ được phép sau khi chuyển chế độ")
        elif crashed or not _responsive(page, _ms(min(request_s, 1.0), budget)):
            en = "the page stopped responding (busy page script or crash) after the toggle; the display cannot be read"
            vi = ("trang không còn phản hồi (mã kịch bản chạy mãi hoặc bị sập) sau khi chuyển chế độ; không đọc được "
                  "màn hình")
            entry.update(answered=False, changed=False, ms=None, error_en=en, error_vi=vi)
            _toggle_unanswered(rec, log, responses, sid, entry, mode0, en, vi)
            return
        if not ready and not entry["changed"]:
            # the page never showed a QR image and filled fields, and nothing changed: no answer to compare
            entry["answered"] = False
        ready_after = ready
        if entry["changed"]:
            try:
                page.wait_for_function(_READY_JS, arg=fields, timeout=_ms(request_s, budget), polling=50)
                ready_after = True
            except Exception:  # noqa: BLE001
                ready_after = False
            page.wait_for_timeout(100)
        shown2 = _read_fields(page, fields, _ms(1.0, budget)) if fields else None
        entry["displayed_after"] = log.mask_obj(shown2)
        mode1 = infer_mode(shown2, record)
        if mode1 is None or (entry["changed"] and mode1 == mode0 and infer_mode(shown, record) is None):
            mode1 = ("full" if mode0 == "default" else "default") if entry["changed"] else mode0
        entry["mode_after"] = mode1
        rec.toggle(sid, entry)
        _shot(page, rec, log, sid, "after_toggle", mode1, shown2, device, allowed, strayed, usable=ready_after)
        if _responsive(page, _ms(min(request_s, 1.0), budget)):
            _read_bodies(responses, finished, log, max_bytes)
        else:
            _unread_bodies(responses, log)
            log.error("browser", "the page does not respond (busy page script); response bodies were not read",
                      "trang không phản hồi (mã kịch bản của trang chạy mãi); không đọc nội dung các phản hồi", sid)
    except Exception as exc:  # noqa: BLE001
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        log.error("browser", f"browser capture failed: {type(exc).__name__}: {first}",
                  f"chụp bằng trình duyệt thất bại: {type(exc).__name__}: {first}", sid)
    finally:
        try:
            ctx.close()
        except Exception:  # noqa: BLE001
            pass


def _shot(page: Any, rec: Any, log: Any, sid: str, step: str, mode: str, shown: dict | None,
          device: dict[str, Any], allowed: list[str], strayed: list[str], *, usable: bool) -> None:
    """Screenshot of the candidate's page as evidence. It counts as a usable response only when the page showed a
    loaded QR image (img/canvas/svg) and filled fields: a blank or garbage page is captured but is no answer."""
    if strayed or not navigation_allowed(page.url, allowed):
        where = (strayed or [page.url])[0]
        en = f"the page is no longer the candidate's ({where}: not an http(s) page on an allowed host); not captured"
        vi = f"trang không còn là của ứng dụng ({where}: không phải trang http(s) trên máy chủ được phép); không chụp"
        log.error(step, en, vi, sid)
        rec.missing(sid, step, mode, "screenshot", "browser", en, vi)
        return
    try:
        png = page.screenshot(type="png", full_page=False, animations="disabled")
    except Exception as exc:  # noqa: BLE001
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        en, vi = f"screenshot failed: {first}", f"chụp màn hình thất bại: {first}"
        log.error(step, en, vi, sid)
        rec.missing(sid, step, mode, "screenshot", "browser", en, vi)
        return
    if len(png) > 24 and png[:8] == b"\x89PNG\r\n\x1a\n":
        device["width_px"] = int.from_bytes(png[16:20], "big")
        device["height_px"] = int.from_bytes(png[20:24], "big")
    if usable:
        log.usable()
    rec.save_screenshot(sid, step, mode, png, displayed=shown, source="browser")


def _unread_bodies(responses: list[tuple[int, Any]], log: Any) -> None:
    for idx, _resp in responses:
        log.doc["network"][idx].setdefault("personal_data", [])
        log.doc["network"][idx]["body_note"] = "page not responding: response body not read"


def _read_bodies(responses: list[tuple[int, Any]], finished: set[int], log: Any, max_bytes: int) -> None:
    """Personal data and stack traces in text responses (read after the page settled). Only responses whose request
    FINISHED are read (a body that never ends is never waited for); larger than max_bytes are skipped; the scan reads
    the first live.max_scan_bytes of each."""
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
        if id(resp.request) not in finished:
            entry["body_note"] = "response body not complete (never finished or cut by the capture's bounds); not read"
            continue
        try:
            raw = resp.body()
        except Exception:  # noqa: BLE001 - body gone (navigation) or not available
            continue
        if len(raw) > max_bytes:
            continue
        body, scanned = log.scan(raw)
        entry.update(scanned)
        entry["personal_data"] = find_pii(body, log.pii)
        entry["traceback"] = has_traceback(body)
        entry["body_excerpt"] = log.mask(body[:EXCERPT_CHARS])
