"""HTTP adapter for live candidates: drives the assessment interface (specs/live.md, /assessment/v1).

`HttpClient` wraps `requests` with the guard rails a capturer needs against an untrusted candidate:
bearer token, per-request timeout, a maximum response size (streamed, stops at the limit), content-type checks,
redirects followed by hand and only to allowed hosts, TLS/connection errors caught. Every exchange is appended
to the capture log (method, masked URL, status, response headers, masked body excerpt, timing, error).
Nothing here raises on a misbehaving candidate: a failed exchange is an `Exchange` with `error` set.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

import requests

from conformance.capture.netguard import find_pii, has_traceback, host_allowed, mask_pii

API = "/assessment/v1"
MAX_REDIRECTS = 5
EXCERPT_CHARS = 600
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

    def __init__(self, adapter: str, base_url: str, pii: list[tuple[str, str]]):
        self.pii = pii
        self.doc: dict[str, Any] = {
            "format_version": "1.0", "adapter": adapter, "base_url": base_url,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "exchanges": [], "network": [], "toggles": [],
            "probes": [], "errors": [], "captures": [],
        }

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
        entry = {"step": step, "subject": subject, "message_en": self.mask(en), "message_vi": self.mask(vi), **kw}
        self.doc["errors"].append(entry)
        return entry

    def add(self, section: str, entry: dict[str, Any]) -> int:
        self.doc[section].append(entry)
        return len(self.doc[section]) - 1

    def exchange_entry(self, ex: Exchange, purpose: str, subject: str | None, redirects: list[dict]) -> int:
        ctype = ex.headers.get("content-type", "")
        is_text = bool(ex.body) and not ex.body.startswith(PNG_MAGIC) and (
            "json" in ctype or "text" in ctype or "html" in ctype or "xml" in ctype or not ctype)
        text = ex.text() if is_text else None
        entry: dict[str, Any] = {
            "purpose": purpose, "subject": subject, "method": ex.method, "url": self.mask(ex.url),
            "pii_in_url": find_pii(ex.url, self.pii),
            "status": ex.status,
            "headers": {k: ("[redacted]" if k in SECRET_HEADERS else (self.mask(v) or ""))
                        for k, v in ex.headers.items()},
            "bytes": len(ex.body), "elapsed_ms": ex.elapsed_ms,
            "content_type": ctype or None,
            "body_excerpt": self.mask(text[:EXCERPT_CHARS]) if text is not None else None,
            "personal_data": (find_pii(text, self.pii) if text is not None
                              else ["screen_image"] if purpose == "screen" and ex.body.startswith(PNG_MAGIC) else []),
            "traceback": has_traceback(text),
            "redirects": redirects,
        }
        if ex.error_en:
            entry["error_en"], entry["error_vi"] = self.mask(ex.error_en), self.mask(ex.error_vi)
        return self.add("exchanges", entry)


class HttpClient:
    def __init__(self, base_url: str, token: str | None, allowed_hosts: list[str], log: CaptureLog,
                 timeout_s: float = 10.0, max_bytes: int = 20_000_000):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.allowed_hosts = allowed_hosts
        self.log = log
        self.timeout_s = float(timeout_s)
        self.max_bytes = int(max_bytes)
        self.session = requests.Session()
        self.session.trust_env = False  # never go through a proxy from the environment

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def request(self, method: str, path: str, *, purpose: str, subject: str | None = None, auth: bool = True,
                expect: str | None = None, token: str | None = None) -> Exchange:
        """One exchange; expect = "json" | "png" | None (content-type check). Never raises."""
        url = self.url(path)
        headers = {"Accept": {"json": "application/json", "png": "image/png"}.get(expect or "", "*/*")}
        tok = token if token is not None else (self.token if auth else None)
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        redirects: list[dict[str, Any]] = []
        t0 = time.perf_counter()
        ex = Exchange(method, url)
        for _hop in range(MAX_REDIRECTS + 1):
            ex = self._one(method, url, headers)
            if ex.error_en or ex.status not in (301, 302, 303, 307, 308):
                break
            loc = ex.headers.get("location")
            if not loc:
                break
            target = urljoin(url, loc)
            redirects.append({"status": ex.status, "from": self.log.mask(url), "to": self.log.mask(target)})
            if not host_allowed(target, self.allowed_hosts):
                ex.error_en = (f"{method} {url} redirected ({ex.status}) to {target}, a host not in allowed_hosts; "
                               "not followed")
                ex.error_vi = (f"{method} {url} chuyển hướng ({ex.status}) tới {target}, máy chủ không nằm trong "
                               "allowed_hosts; không đi theo")
                break
            url = target
            if ex.status == 303:
                method = "GET"
        else:
            ex.error_en = f"more than {MAX_REDIRECTS} redirects from {self.url(path)}"
            ex.error_vi = f"quá {MAX_REDIRECTS} lần chuyển hướng từ {self.url(path)}"
        ex.elapsed_ms = round((time.perf_counter() - t0) * 1000, 1)
        if not ex.error_en and expect and ex.status is not None and 200 <= ex.status < 300:
            self._check_type(ex, expect)
        ex.log_index = self.log.exchange_entry(ex, purpose, subject, redirects)
        return ex

    def _one(self, method: str, url: str, headers: dict[str, str]) -> Exchange:
        ex = Exchange(method, url)
        if not host_allowed(url, self.allowed_hosts):
            ex.error_en = f"{url}: host is not in allowed_hosts {self.allowed_hosts}; not contacted"
            ex.error_vi = f"{url}: máy chủ không nằm trong allowed_hosts {self.allowed_hosts}; không kết nối"
            return ex
        deadline = time.monotonic() + self.timeout_s
        try:
            with self.session.request(method, url, headers=headers, timeout=(self.timeout_s, self.timeout_s),
                                      allow_redirects=False, stream=True) as r:
                ex.status = r.status_code
                ex.headers = {k.lower(): v for k, v in r.headers.items()}
                declared = r.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    ex.error_en = (f"{method} {url}: response declares {int(declared)} bytes, more than the "
                                   f"limit of {self.max_bytes}; not downloaded")
                    ex.error_vi = (f"{method} {url}: phản hồi khai báo {int(declared)} byte, vượt giới hạn "
                                   f"{self.max_bytes}; không tải về")
                    return ex
                chunks, size = [], 0
                for chunk in r.iter_content(65536):
                    size += len(chunk)
                    if size > self.max_bytes:
                        ex.body = b"".join(chunks)
                        ex.error_en = (f"{method} {url}: response body exceeds the limit of {self.max_bytes} bytes; "
                                       "download stopped")
                        ex.error_vi = (f"{method} {url}: nội dung phản hồi vượt giới hạn {self.max_bytes} byte; "
                                       "đã dừng tải")
                        return ex
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        ex.body = b"".join(chunks)
                        ex.error_en = f"{method} {url}: response not complete within {self.timeout_s:g} s"
                        ex.error_vi = f"{method} {url}: phản hồi chưa xong sau {self.timeout_s:g} giây"
                        return ex
                ex.body = b"".join(chunks)
        except requests.exceptions.SSLError as exc:
            ex.error_en = f"{method} {url}: TLS error: {_short(exc)}"
            ex.error_vi = f"{method} {url}: lỗi TLS: {_short(exc)}"
        except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout):
            ex.error_en = f"{method} {url}: no response within {self.timeout_s:g} s (timeout)"
            ex.error_vi = f"{method} {url}: không có phản hồi sau {self.timeout_s:g} giây (hết thời gian chờ)"
        except requests.exceptions.ConnectionError as exc:
            ex.error_en = f"{method} {url}: cannot connect: {_short(exc)}"
            ex.error_vi = f"{method} {url}: không kết nối được: {_short(exc)}"
        except requests.exceptions.RequestException as exc:
            ex.error_en = f"{method} {url}: request failed: {_short(exc)}"
            ex.error_vi = f"{method} {url}: yêu cầu thất bại: {_short(exc)}"
        except Exception as exc:  # noqa: BLE001 - a candidate must never crash the capturer
            ex.error_en = f"{method} {url}: unexpected error: {type(exc).__name__}: {_short(exc)}"
            ex.error_vi = f"{method} {url}: lỗi không lường trước: {type(exc).__name__}: {_short(exc)}"
        return ex

    @staticmethod
    def _check_type(ex: Exchange, expect: str) -> None:
        ctype = ex.headers.get("content-type", "").lower()
        if expect == "png":
            if not ex.body.startswith(PNG_MAGIC):
                what = "HTML" if b"<html" in ex.body[:2048].lower() or "html" in ctype else f"{ctype or 'unknown'} data"
                ex.error_en = f"{ex.method} {ex.url}: expected a PNG image, got {what} ({len(ex.body)} bytes)"
                ex.error_vi = f"{ex.method} {ex.url}: cần ảnh PNG, nhận được {what} ({len(ex.body)} byte)"
        elif expect == "json":
            if ex.json() is None:
                ex.error_en = (f"{ex.method} {ex.url}: expected JSON, got {ctype or 'no content type'} that does not "
                               "parse as JSON")
                ex.error_vi = (f"{ex.method} {ex.url}: cần JSON, nhận được {ctype or 'không rõ kiểu'} không đọc được "
                               "như JSON")

    def close(self) -> None:
        self.session.close()


def _short(exc: BaseException) -> str:
    s = str(exc)
    return s if len(s) <= 300 else s[:300] + "…"


# -- the assessment interface ---------------------------------------------------------------------------------------

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
    """PRIV-001 probes on the interface: no token, wrong token, malformed subject ids. Results go to the log."""
    log = client.log
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
        body = ex.text()
        log.add("probes", {"kind": "malformed_id", "id": bad, "exchange": ex.log_index, "status": ex.status,
                           "json": ex.json() is not None, "traceback": has_traceback(body),
                           "personal_data": find_pii(body, log.pii), "error_en": ex.error_en})


def run_http(client: HttpClient, rec: Any, subject_ids: list[str]) -> None:
    """Per subject: reset session, capture initial display + screen, toggle once (timed), capture again.

    `rec` is the live Recorder (conformance.capture.live): save_payload / save_screenshot / missing / toggle.
    """
    log = client.log
    for sid in subject_ids:
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
                         "displayed_after": log.mask_obj(body.get("displayed") if body else None)}
                entry["changed"] = bool(body) and (
                    (before is not None and body.get("mode") != before)
                    or (body.get("displayed") or None) != (rec.displayed_of(sid, "initial") or None))
                entry["ok"] = tx.ok and body is not None
                if not tx.ok or problem:
                    en = tx.error_en or (f"toggle returned HTTP {tx.status}" if not tx.ok else f"toggle body: {problem}")
                    vi = tx.error_vi or (f"chuyển chế độ trả về HTTP {tx.status}" if not tx.ok
                                         else f"nội dung chuyển chế độ: {problem}")
                    entry["error_en"], entry["error_vi"] = log.mask(en), log.mask(vi)
                    log.error("toggle", en, vi, sid, exchange=tx.log_index)
                rec.toggle(sid, entry)
            dx = client.request("GET", subject_path(sid, "display"), purpose="display", subject=sid, expect="json")
            body, problem = display_of(dx.json()) if dx.ok else (None, None)
            if body is not None:
                mode = body["mode"]
            else:
                en = dx.error_en or (f"GET display returned HTTP {dx.status}" if not dx.ok else f"display body: {problem}")
                vi = dx.error_vi or (f"GET display trả về HTTP {dx.status}" if not dx.ok else f"nội dung display: {problem}")
                log.error(step, en, vi, sid, exchange=dx.log_index)
                mode = rec.guess_mode(sid, step)
            modes[step] = body["mode"] if body else None
            displayed = body.get("displayed") if body else None
            if body is not None:
                rec.save_payload(sid, step, mode, body["payload"], displayed=displayed, source="http")
            else:
                rec.missing(sid, step, mode, "payload", "http", en, vi)
            sx = client.request("GET", subject_path(sid, "screen.png"), purpose="screen", subject=sid, expect="png")
            if sx.ok:
                rec.save_screenshot(sid, step, mode, sx.body, displayed=displayed, source="http")
            else:
                en = sx.error_en or f"GET screen.png returned HTTP {sx.status}"
                vi = sx.error_vi or f"GET screen.png trả về HTTP {sx.status}"
                log.error(step, en, vi, sid, exchange=sx.log_index)
                rec.missing(sid, step, mode, "screenshot", "http", en, vi)
