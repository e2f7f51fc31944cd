"""HTTP adapter for live candidates: drives the assessment interface (specs/assessment-api.openapi.yaml,
/assessment/v1).

`HttpClient` gives every request the guard rails a capturer needs against an untrusted candidate
(conformance/capture/bounded.py): bearer token, a TOTAL deadline per request (connection, headers, body and redirect
hops, never past the run's budget), a maximum response size (stops at the limit), content-type checks, redirects
followed by hand and only to allowed hosts (loops stopped), TLS/connection/protocol errors caught.
Every exchange is appended to the capture log (method, masked URL, status, response headers, masked body excerpt,
timing, error); text bodies are scanned for personal data up to `scan_bytes` (profile live.max_scan_bytes).
Nothing here raises on a misbehaving candidate: a failed exchange is an `Exchange` with `error` set.
"""
from __future__ import annotations

import email.message
import http.cookiejar
import json
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from conformance.capture.bounded import Budget, budget_message, fetch
from conformance.capture.netguard import clip, find_pii, has_traceback, host_allowed, mask_pii

API = "/assessment/v1"
MAX_REDIRECTS = 5
EXCERPT_CHARS = 600
MAX_ENTRIES = 5000  # per log section
SCAN_BYTES = 1_000_000  # default of profile live.max_scan_bytes: bytes of each text body scanned for personal data
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SECRET_HEADERS = ("set-cookie", "authorization", "proxy-authorization")


@dataclass
class Exchange:
    method: str
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed_ms: float | None = None
    error_en: str | None = None
    error_vi: str | None = None
    error_kind: str | None = None  # deadline, too_large, connect, tls, protocol, garbage, redirect_*, budget
    declared_length: int | None = None
    log_index: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_en is None and self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class CaptureLog:
    """In-memory capture/log.json: exchanges, browser network entries, toggles, probes, errors."""

    def __init__(self, adapter: str, base_url: str, pii: list[tuple[str, str]], scan_bytes: int = SCAN_BYTES):
        self.pii = pii
        self.scan_bytes = int(scan_bytes)
        self.doc: dict[str, Any] = {
            "format_version": "1.0", "adapter": adapter, "base_url": base_url,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "exchanges": [], "network": [], "toggles": [],
            "probes": [], "errors": [], "captures": [], "usable_responses": 0, "budget_exceeded": False,
        }

    def usable(self) -> None:
        """Count one exchange / page load that returned something usable (the live CLI exits 3 on zero)."""
        self.doc["usable_responses"] += 1

    def scan(self, body: bytes) -> tuple[str, dict[str, Any]]:
        """The part of a text body the personal-data scan reads (first `scan_bytes`), and what was scanned."""
        cut = body[:self.scan_bytes]
        return cut.decode("utf-8", errors="replace"), {"scanned_bytes": len(cut),
                                                       "scan_truncated": len(body) > len(cut)}

    def mask(self, text: str | None) -> str | None:
        return mask_pii(text, self.pii)

    def mask_obj(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.mask(obj)
        if isinstance(obj, dict):
            return {k: self.mask_obj(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.mask_obj(v) for v in obj]
        return obj

    def error(self, step: str, en: str, vi: str, subject: str | None = None, **kw: Any) -> dict[str, Any]:
        entry = {"step": step, "subject": subject, "message_en": self.mask(clip(en)),
                 "message_vi": self.mask(clip(vi)), **kw}
        self.add("errors", entry)
        return entry

    def add(self, section: str, entry: dict[str, Any]) -> int | None:
        """Append an entry; None (and a count in `dropped`) once a section holds MAX_ENTRIES: a page that floods
        requests cannot grow the log without bound."""
        if len(self.doc[section]) >= MAX_ENTRIES:
            dropped = self.doc.setdefault("dropped", {})
            dropped[section] = dropped.get(section, 0) + 1
            return None
        self.doc[section].append(entry)
        return len(self.doc[section]) - 1

    def exchange_entry(self, ex: Exchange, purpose: str, subject: str | None, redirects: list[dict]) -> int:
        ctype = ex.headers.get("content-type", "")
        is_text = bool(ex.body) and not ex.body.startswith(PNG_MAGIC) and (
            "json" in ctype or "text" in ctype or "html" in ctype or "xml" in ctype or not ctype)
        text, scanned = self.scan(ex.body) if is_text else (None, {})
        entry: dict[str, Any] = {
            "purpose": purpose, "subject": subject, "method": ex.method, "url": self.mask(clip(ex.url)),
            "pii_in_url": find_pii(ex.url, self.pii),
            "status": ex.status,
            "headers": {k[:200]: ("[redacted]" if k in SECRET_HEADERS else (self.mask(clip(v)) or ""))
                        for k, v in ex.headers.items()},
            "bytes": len(ex.body), "elapsed_ms": ex.elapsed_ms,
            "content_type": ctype or None,
            "body_excerpt": self.mask(text[:EXCERPT_CHARS]) if text is not None else None,
            "personal_data": (find_pii(text, self.pii) if text is not None
                              else ["screen_image"] if purpose == "screen" and ex.body.startswith(PNG_MAGIC) else []),
            "traceback": has_traceback(text),
            "redirects": redirects,
            **scanned,
        }
        if ex.declared_length is not None:
            entry["declared_bytes"] = ex.declared_length
        if ex.error_en:
            entry["error_en"], entry["error_vi"] = self.mask(ex.error_en), self.mask(ex.error_vi)
            entry["error_kind"] = ex.error_kind
        return self.add("exchanges", entry)


class HttpClient:
    """The assessment interface's client: bearer token, cookies, total deadline per request (redirect hops
    included; never past the run's budget), byte limit, redirects followed by hand and only to allowed hosts."""

    def __init__(self, base_url: str, token: str | None, allowed_hosts: list[str], log: CaptureLog,
                 timeout_s: float = 10.0, max_bytes: int = 20_000_000, budget: Budget | None = None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.allowed_hosts = allowed_hosts
        self.log = log
        self.timeout_s = float(timeout_s)
        self.max_bytes = int(max_bytes)
        self.budget = budget
        self.cookies = http.cookiejar.CookieJar()

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def request(self, method: str, path: str, *, purpose: str, subject: str | None = None, auth: bool = True,
                expect: str | None = None, token: str | None = None) -> Exchange:
        """One exchange; expect = "json" | "png" | None (content-type check). Never raises."""
        url = self.url(path)
        headers = {"Accept": {"json": "application/json", "png": "image/png"}.get(expect or "", "*/*"),
                   "User-Agent": "vn-qr-conformance-live/1"}
        tok = token if token is not None else (self.token if auth else None)
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        redirects: list[dict[str, Any]] = []
        t0 = time.perf_counter()
        ex = Exchange(method, url)
        if self.budget is not None and self.budget.expired():
            ex.error_en = (f"{method} {url}: not sent, the live run's time budget of {self.budget.seconds:g} s "
                           "(profile live.max_run_seconds) is used up")
            ex.error_vi = (f"{method} {url}: không gửi, đã hết thời gian cho phép của lượt chụp "
                           f"{self.budget.seconds:g} giây (live.max_run_seconds trong hồ sơ)")
            ex.error_kind = "budget"
            ex.log_index = self.log.exchange_entry(ex, purpose, subject, redirects)
            return ex
        deadline = self.budget.clamp(self.timeout_s) if self.budget else time.monotonic() + self.timeout_s
        seen = {url}
        for _hop in range(MAX_REDIRECTS + 1):
            ex = self._one(method, url, headers, deadline)
            if ex.error_en or ex.status not in (301, 302, 303, 307, 308):
                break
            loc = ex.headers.get("location")
            if not loc:
                break
            target = urljoin(url, loc.strip())
            redirects.append({"status": ex.status, "from": self.log.mask(clip(url)), "to": self.log.mask(clip(target))})
            if not host_allowed(target, self.allowed_hosts) or urlsplit(target).scheme not in ("http", "https"):
                ex.error_en = (f"{method} {url} redirected ({ex.status}) to {target}, a host not in allowed_hosts; "
                               "not followed")
                ex.error_vi = (f"{method} {url} chuyển hướng ({ex.status}) tới {target}, máy chủ không nằm trong "
                               "allowed_hosts; không đi theo")
                ex.error_kind = "redirect_blocked"
                break
            if target in seen:
                ex.error_en = f"{method} {self.url(path)}: redirect loop (back to {target}); not followed"
                ex.error_vi = f"{method} {self.url(path)}: chuyển hướng vòng lặp (quay lại {target}); không đi theo"
                ex.error_kind = "redirect_loop"
                break
            seen.add(target)
            url = target
            if ex.status == 303 or (ex.status in (301, 302) and method == "POST"):
                method = "GET"
        else:
            ex.error_en = f"more than {MAX_REDIRECTS} redirects from {self.url(path)}"
            ex.error_vi = f"quá {MAX_REDIRECTS} lần chuyển hướng từ {self.url(path)}"
            ex.error_kind = "redirect_loop"
        if ex.error_kind == "deadline" and self.budget is not None and self.budget.expired():
            ex.error_kind = "budget"
            ex.error_en = (ex.error_en or "") + (f"; the live run's time budget of {self.budget.seconds:g} s "
                                                 "(profile live.max_run_seconds) is used up")
            ex.error_vi = (ex.error_vi or "") + (f"; đã hết thời gian cho phép của lượt chụp {self.budget.seconds:g} "
                                                 "giây (live.max_run_seconds trong hồ sơ)")
        ex.elapsed_ms = round((time.perf_counter() - t0) * 1000, 1)
        if not ex.error_en and expect and ex.status is not None and 200 <= ex.status < 300:
            self._check_type(ex, expect)
        ex.log_index = self.log.exchange_entry(ex, purpose, subject, redirects)
        return ex

    def _one(self, method: str, url: str, headers: dict[str, str], deadline: float) -> Exchange:
        ex = Exchange(method, url)
        if not host_allowed(url, self.allowed_hosts):
            ex.error_en = f"{url}: host is not in allowed_hosts {self.allowed_hosts}; not contacted"
            ex.error_vi = f"{url}: máy chủ không nằm trong allowed_hosts {self.allowed_hosts}; không kết nối"
            ex.error_kind = "host_blocked"
            return ex
        req = urllib.request.Request(url, method=method)
        self.cookies.add_cookie_header(req)
        hdrs = dict(headers)
        if req.has_header("Cookie"):
            hdrs["Cookie"] = req.get_header("Cookie")
        res = fetch(method, url, hdrs, deadline=deadline, max_bytes=self.max_bytes,
                    body=b"" if method in ("POST", "PUT", "PATCH") else None, deadline_s=self.timeout_s)
        ex.status, ex.headers, ex.body = res.status, res.headers, res.body
        ex.declared_length = res.declared_length
        if res.error:
            ex.error_en, ex.error_vi, ex.error_kind = res.error_en, res.error_vi, res.error
        if res.set_cookie:
            try:
                self.cookies.extract_cookies(_CookieResponse(res.set_cookie), req)
            except Exception:  # noqa: BLE001 - a malformed cookie is the candidate's problem, not the capture's
                pass
        return ex

    @staticmethod
    def _check_type(ex: Exchange, expect: str) -> None:
        ctype = ex.headers.get("content-type", "").lower()
        if expect == "png":
            if not ex.body.startswith(PNG_MAGIC):
                what = "HTML" if b"<html" in ex.body[:2048].lower() or "html" in ctype else f"{ctype or 'unknown'} data"
                ex.error_en = f"{ex.method} {ex.url}: expected a PNG image, got {what} ({len(ex.body)} bytes)"
                ex.error_vi = f"{ex.method} {ex.url}: cần ảnh PNG, nhận được {what} ({len(ex.body)} byte)"
                ex.error_kind = "garbage"
        elif expect == "json":
            if ex.json() is None:
                ex.error_en = (f"{ex.method} {ex.url}: expected JSON, got {ctype or 'no content type'} that does not "
                               "parse as JSON")
                ex.error_vi = (f"{ex.method} {ex.url}: cần JSON, nhận được {ctype or 'không rõ kiểu'} không đọc được "
                               "như JSON")
                ex.error_kind = "garbage"

    def close(self) -> None:
        self.cookies.clear()


class _CookieResponse:
    """What http.cookiejar needs from a response: info().get_all('Set-Cookie')."""

    def __init__(self, set_cookie: list[str]):
        self._msg = email.message.Message()
        for v in set_cookie:
            self._msg["Set-Cookie"] = v

    def info(self) -> email.message.Message:
        return self._msg


# -- the assessment interface ---------------------------------------------------------------------------------------

DISPLAYED_KEYS = ("so_giay_to", "ngay_sinh", "ho_ten")
MAX_DISPLAYED_CHARS = 500


def clean_displayed(disp: Any) -> dict[str, str | None] | None:
    """The displayed texts a candidate reports, reduced to the three known fields, as strings of bounded length."""
    if not isinstance(disp, dict):
        return None
    return {k: (None if disp[k] is None else str(disp[k])[:MAX_DISPLAYED_CHARS]) for k in DISPLAYED_KEYS if k in disp}


def display_of(body: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Validate a /display or /toggle body; returns (body, problem)."""
    if not isinstance(body, dict):
        return None, "body is not a JSON object"
    if body.get("mode") not in ("default", "full"):
        return None, f"'mode' is {body.get('mode')!r}, not 'default' or 'full'"
    if not isinstance(body.get("payload"), str):
        return None, "'payload' is missing or not a string"
    disp = body.get("displayed")
    if disp is not None and not isinstance(disp, dict):
        return None, "'displayed' is not an object"
    return body, None


def subject_path(sid: str, leaf: str) -> str:
    return f"{API}/subjects/{quote(sid, safe='')}/{leaf}"


MALFORMED_IDS = ("../../etc", "s1'--")


def probe_privacy(client: HttpClient, subject_id: str | None) -> None:
    """PRIV-001 probes on the interface: no token, wrong token, malformed subject ids. Results go to the log.

    Not run when the candidate answered nothing usable (the probes would only add time and judge nothing)."""
    log = client.log
    if not log.doc.get("usable_responses"):
        log.error("probes", "privacy probes not run: the candidate gave no usable answer to the capture",
                  "không chạy phép thử quyền riêng tư: ứng dụng không trả lời được gì dùng được khi chụp")
        return
    targets = [(f"{API}/subjects", None)]
    if subject_id:
        targets.append((subject_path(subject_id, "display"), subject_id))
    for path, sid in targets:
        for kind, kw in (("no_token", {"auth": False}), ("wrong_token", {"token": "wrong-" + "x" * 16})):
            ex = client.request("GET", path, purpose=f"probe-{kind}", subject=sid, **kw)
            log.add("probes", {"kind": kind, "exchange": ex.log_index, "status": ex.status,
                               "refused": ex.status in (401, 403), "error_en": ex.error_en})
    for bad in MALFORMED_IDS:
        ex = client.request("GET", subject_path(bad, "display"), purpose="probe-malformed-id", subject=None)
        body, _scanned = log.scan(ex.body)
        log.add("probes", {"kind": "malformed_id", "id": bad, "exchange": ex.log_index, "status": ex.status,
                           "json": ex.json() is not None, "traceback": has_traceback(body),
                           "personal_data": find_pii(body, log.pii), "error_en": ex.error_en})


def run_http(client: HttpClient, rec: Any, subject_ids: list[str]) -> None:
    """Per subject: reset session, capture initial display + screen, toggle once (timed), capture again.

    `rec` is the live Recorder (conformance.capture.live): save_payload / save_screenshot / missing / toggle.
    Every display, toggle or screen answer that passes its checks counts as a usable response.
    """
    log = client.log
    budget = client.budget
    for sid in subject_ids:
        if budget is not None and budget.expired():
            log.doc["budget_exceeded"] = True
            rec.not_captured(sid, "http", *budget_message(budget.seconds))
            continue
        ex = client.request("POST", f"{API}/session", purpose="session", subject=sid, expect="json")
        if not ex.ok:
            log.error("session", ex.error_en or f"POST {API}/session returned HTTP {ex.status}",
                      ex.error_vi or f"POST {API}/session trả về HTTP {ex.status}", sid, exchange=ex.log_index)
        modes: dict[str, str | None] = {}
        for step in ("initial", "after_toggle"):
            if step == "after_toggle":
                before = modes.get("initial")
                tx = client.request("POST", subject_path(sid, "toggle"), purpose="toggle", subject=sid, expect="json")
                body, problem = display_of(tx.json()) if tx.ok else (None, None)
                entry = {"subject": sid, "source": "http", "action": f"POST {subject_path(sid, 'toggle')}",
                         "exchange": tx.log_index, "status": tx.status, "ms": tx.elapsed_ms,
                         "mode_before": before, "mode_after": body.get("mode") if body else None,
                         "displayed_before": log.mask_obj(rec.displayed_of(sid, "initial")),
                         "displayed_after": log.mask_obj(clean_displayed(body.get("displayed")) if body else None)}
                entry["changed"] = bool(body) and (
                    (before is not None and body.get("mode") != before)
                    or (clean_displayed(body.get("displayed")) or None) != (rec.displayed_of(sid, "initial") or None))
                entry["ok"] = tx.ok and body is not None
                # answered: the candidate gave a usable answer to the toggle action (a 2xx display body); an HTTP
                # error status is an answer too (the toggle is refused), a transport fault or garbage is not
                entry["answered"] = body is not None or (tx.error_en is None and tx.status is not None
                                                         and tx.status not in (301, 302, 303, 307, 308)
                                                         and not 200 <= tx.status < 300)
                if body is not None:
                    log.usable()
                if not tx.ok or problem:
                    en = tx.error_en or (f"toggle returned HTTP {tx.status}" if not tx.ok
                                         else f"toggle body: {problem}")
                    vi = tx.error_vi or (f"chuyển chế độ trả về HTTP {tx.status}" if not tx.ok
                                         else f"nội dung chuyển chế độ: {problem}")
                    entry["error_en"], entry["error_vi"] = log.mask(en), log.mask(vi)
                    log.error("toggle", en, vi, sid, exchange=tx.log_index)
                rec.toggle(sid, entry)
            dx = client.request("GET", subject_path(sid, "display"), purpose="display", subject=sid, expect="json")
            body, problem = display_of(dx.json()) if dx.ok else (None, None)
            if body is not None:
                mode = body["mode"]
                log.usable()
            else:
                en = dx.error_en or (f"GET display returned HTTP {dx.status}" if not dx.ok else f"display body: {problem}")
                vi = dx.error_vi or (f"GET display trả về HTTP {dx.status}" if not dx.ok else f"nội dung display: {problem}")
                log.error(step, en, vi, sid, exchange=dx.log_index)
                mode = rec.guess_mode(sid, step)
            modes[step] = body["mode"] if body else None
            displayed = clean_displayed(body.get("displayed")) if body else None
            if body is not None:
                rec.save_payload(sid, step, mode, body["payload"], displayed=displayed, source="http")
            else:
                rec.missing(sid, step, mode, "payload", "http", en, vi)
            sx = client.request("GET", subject_path(sid, "screen.png"), purpose="screen", subject=sid, expect="png")
            if sx.ok:
                log.usable()
                rec.save_screenshot(sid, step, mode, sx.body, displayed=displayed, source="http")
            else:
                en = sx.error_en or f"GET screen.png returned HTTP {sx.status}"
                vi = sx.error_vi or f"GET screen.png trả về HTTP {sx.status}"
                log.error(step, en, vi, sid, exchange=sx.log_index)
                rec.missing(sid, step, mode, "screenshot", "http", en, vi)
