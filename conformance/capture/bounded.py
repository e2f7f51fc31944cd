"""Bounded HTTP for live capture: one request = one total deadline and one byte limit, whatever the candidate does.

    budget = Budget(90)                          # the whole live run (profile live.max_run_seconds)
    resp = fetch("GET", url, headers, deadline=budget.clamp(10), max_bytes=20_000_000)

`fetch` speaks HTTP/1.1 through the standard library's http.client over a socket whose every receive is limited
to the time left before the deadline, so headers dribbled one byte a second, a body dribbled one byte a second and
an endless fast stream all end at the deadline (a plain read timeout would restart at every byte). A watchdog
timer shuts the socket down shortly after the deadline as a backstop for what runs inside C (the TLS handshake).
Every request is sent with `Connection: close` and `Accept-Encoding: identity`; a compressed body anyway is
inflated up to the same byte limit. Nothing here raises on a misbehaving server: the result carries `error`.

Lowest layer next to netguard: imports nothing from the rest of the suite.
"""
from __future__ import annotations

import http.client
import ipaddress
import math
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PHASE_EN = {"tls": "setting up TLS", "send": "sending the request", "receive": "receiving the response"}
PHASE_VI = {"tls": "thiết lập TLS", "send": "gửi yêu cầu", "receive": "nhận phản hồi"}


class DeadlineExceeded(TimeoutError):
    pass


class Budget:
    """Wall-clock budget of a whole live run (monotonic clock)."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.deadline = time.monotonic() + self.seconds
        self.exceeded = False

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def expired(self) -> bool:
        if time.monotonic() >= self.deadline:
            self.exceeded = True
        return self.exceeded

    def clamp(self, seconds: float) -> float:
        """An absolute deadline (monotonic) `seconds` from now, never later than the budget's end."""
        return min(time.monotonic() + float(seconds), self.deadline)


def budget_message(seconds: float) -> tuple[str, str]:
    """(English, Vietnamese) for what the run's time budget left uncaptured."""
    return (f"not captured: the live run's time budget of {seconds:g} s (profile live.max_run_seconds) is used up",
            f"không chụp: đã hết thời gian cho phép của lượt chụp {seconds:g} giây (live.max_run_seconds trong hồ sơ)")


class _DeadlineMixin:
    """Every receive/send waits at most until `_deadline` (absolute, time.monotonic())."""

    _deadline: float = math.inf

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("deadline reached")
        self.settimeout(left)  # type: ignore[attr-defined]

    def recv(self, *a, **kw):  # type: ignore[no-untyped-def]
        self._arm()
        return super().recv(*a, **kw)  # type: ignore[misc]

    def recv_into(self, *a, **kw):  # type: ignore[no-untyped-def]
        self._arm()
        return super().recv_into(*a, **kw)  # type: ignore[misc]

    def sendall(self, *a, **kw):  # type: ignore[no-untyped-def]
        self._arm()
        return super().sendall(*a, **kw)  # type: ignore[misc]

    def send(self, *a, **kw):  # type: ignore[no-untyped-def]
        self._arm()
        return super().send(*a, **kw)  # type: ignore[misc]


class DeadlineSocket(_DeadlineMixin, socket.socket):
    pass


class DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    pass


@dataclass
class Result:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    set_cookie: list[str] = field(default_factory=list)
    body: bytes = b""
    error: str | None = None  # kind: "deadline", "too_large", "connect", "tls", "protocol", "refused_url"
    error_en: str | None = None
    error_vi: str | None = None
    declared_length: int | None = None

    def fail(self, kind: str, en: str, vi: str) -> Result:
        self.error, self.error_en, self.error_vi = kind, en, vi
        return self


def resolve(host: str, port: int, deadline: float) -> list:
    """getaddrinfo within the deadline (it has no timeout of its own: a slow resolver must not stretch a request;
    the lookup thread is left to finish on its own)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)  # a literal: no lookup
    except ValueError:
        pass
    box: dict[str, object] = {}

    def lookup() -> None:
        try:
            box["addrs"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            box["error"] = exc

    t = threading.Thread(target=lookup, name="capture-resolve", daemon=True)
    t.start()
    t.join(max(0.0, deadline - time.monotonic()))
    if t.is_alive():
        raise DeadlineExceeded(f"name lookup of {host} not done by the deadline")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["addrs"]  # type: ignore[return-value]


def _connect(host: str, port: int, deadline: float) -> DeadlineSocket:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("deadline reached before connecting")
    last: BaseException | None = None
    for family, type_, proto, _canon, addr in resolve(host, port, deadline):
        sock = DeadlineSocket(family, type_, proto)
        try:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            sock.connect(addr)
            sock._deadline = deadline
            return sock
        except OSError as exc:
            last = exc
            sock.close()
            if time.monotonic() >= deadline:
                raise DeadlineExceeded("deadline reached while connecting") from None
    raise last or OSError(f"no address for {host}")


def _kill(sock: socket.socket) -> None:
    """Wake a thread blocked on sock (backstop at the deadline); never raises."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def _inflate(body: bytes, encoding: str, max_bytes: int) -> tuple[bytes, bool]:
    """(inflated body, over_limit) for gzip/deflate; other codings are returned as they are."""
    enc = encoding.strip().lower()
    if enc not in ("gzip", "x-gzip", "deflate"):
        return body, False
    d = zlib.decompressobj(zlib.MAX_WBITS | 32 if enc != "deflate" else zlib.MAX_WBITS)
    try:
        out = d.decompress(body, max_bytes + 1)
    except zlib.error:
        if enc == "deflate":  # raw deflate without zlib header, as some servers send
            d = zlib.decompressobj(-zlib.MAX_WBITS)
            out = d.decompress(body, max_bytes + 1)
        else:
            raise
    return out[:max_bytes], len(out) > max_bytes


def fetch(method: str, url: str, headers: dict[str, str], *, deadline: float, max_bytes: int,
          body: bytes | None = None, context: ssl.SSLContext | None = None, deadline_s: float | None = None) -> Result:
    """One HTTP exchange, ending by `deadline` (absolute, time.monotonic()) with at most `max_bytes` of body.
    `deadline_s` is the request's configured deadline, for messages (default: the time left at the start).

    Redirects are not followed (the caller decides). Never raises."""
    res = Result()
    limit_s = deadline_s if deadline_s is not None else round(max(0.0, deadline - time.monotonic()), 2)
    try:
        parts = urlsplit(url)
        host, scheme = parts.hostname or "", parts.scheme
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        return res.fail("refused_url", f"{method} {url}: invalid URL: {exc}",
                        f"{method} {url}: URL không hợp lệ: {exc}")
    if scheme not in ("http", "https") or not host:
        return res.fail("refused_url", f"{method} {url}: only http(s) URLs are requested",
                        f"{method} {url}: chỉ yêu cầu URL http(s)")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    raw: socket.socket | None = None
    timer: threading.Timer | None = None
    conn: http.client.HTTPConnection | None = None
    phase = "connect"
    try:
        raw = _connect(host, port, deadline)
        phase = "tls" if scheme == "https" else "send"
        sock: socket.socket = raw
        timer = threading.Timer(max(0.0, deadline - time.monotonic()) + 0.25, _kill, args=(raw,))
        timer.daemon = True
        timer.start()
        if scheme == "https":
            ctx = context or ssl.create_default_context()
            ctx.sslsocket_class = DeadlineSSLSocket
            sock = ctx.wrap_socket(raw, server_hostname=host, do_handshake_on_connect=False)
            timer.cancel()  # the raw socket object was detached into the TLS one: watch that instead
            timer = threading.Timer(max(0.0, deadline - time.monotonic()) + 0.25, _kill, args=(sock,))
            timer.daemon = True
            timer.start()
            sock._deadline = deadline  # type: ignore[attr-defined]
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            sock.do_handshake()
            phase = "send"
        conn = (http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection)(host, port)
        conn.sock = sock
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Accept-Encoding", "identity")
        conn.putheader("Connection", "close")
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        phase = "receive"
        resp = conn.getresponse()
        res.status = resp.status
        for k, v in resp.getheaders():
            k = k.lower()
            if k == "set-cookie":
                res.set_cookie.append(v)
            res.headers[k] = f"{res.headers[k]}, {v}" if k in res.headers else v
        declared = res.headers.get("content-length", "").strip()
        if declared.isdigit():
            res.declared_length = int(declared)
            if res.declared_length > max_bytes:
                return res.fail("too_large",
                                f"{method} {url}: response declares {res.declared_length} bytes, more than the limit "
                                f"of {max_bytes}; not downloaded",
                                f"{method} {url}: phản hồi khai báo {res.declared_length} byte, vượt giới hạn "
                                f"{max_bytes}; không tải về")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                res.body = b"".join(chunks)
                return res.fail("too_large",
                                f"{method} {url}: response body exceeds the limit of {max_bytes} bytes; download "
                                "stopped",
                                f"{method} {url}: nội dung phản hồi vượt giới hạn {max_bytes} byte; đã dừng tải")
            chunks.append(chunk)
        res.body = b"".join(chunks)
        enc = res.headers.get("content-encoding", "")
        if enc and res.body:
            try:
                res.body, over = _inflate(res.body, enc, max_bytes)
            except zlib.error as exc:
                return res.fail("protocol", f"{method} {url}: body declared as {enc} does not inflate: {exc}",
                                f"{method} {url}: nội dung khai báo nén {enc} nhưng không giải nén được: {exc}")
            if over:
                return res.fail("too_large",
                                f"{method} {url}: {enc} body inflates beyond the limit of {max_bytes} bytes",
                                f"{method} {url}: nội dung nén {enc} giải nén vượt giới hạn {max_bytes} byte")
    except (DeadlineExceeded, TimeoutError):
        res.fail("deadline",
                 f"{method} {url}: no complete response within {limit_s:g} s (deadline for the whole request: "
                 "connection, headers and body)",
                 f"{method} {url}: không có phản hồi đầy đủ sau {limit_s:g} giây (hạn cho toàn bộ yêu cầu: kết nối, "
                 "tiêu đề và nội dung)")
    except ssl.SSLError as exc:
        res.fail("tls", f"{method} {url}: TLS error: {_short(exc)}", f"{method} {url}: lỗi TLS: {_short(exc)}")
    except (http.client.HTTPException, ValueError) as exc:
        if time.monotonic() >= deadline:
            res.fail("deadline",
                     f"{method} {url}: no complete response within {limit_s:g} s (deadline for the whole request)",
                     f"{method} {url}: không có phản hồi đầy đủ sau {limit_s:g} giây (hạn cho toàn bộ yêu cầu)")
        else:
            res.fail("protocol", f"{method} {url}: not a valid HTTP response: {type(exc).__name__}: {_short(exc)}",
                     f"{method} {url}: phản hồi không phải HTTP hợp lệ: {type(exc).__name__}: {_short(exc)}")
    except OSError as exc:
        if time.monotonic() >= deadline:
            res.fail("deadline",
                     f"{method} {url}: no complete response within {limit_s:g} s (deadline for the whole request)",
                     f"{method} {url}: không có phản hồi đầy đủ sau {limit_s:g} giây (hạn cho toàn bộ yêu cầu)")
        elif phase == "connect":
            res.fail("connect", f"{method} {url}: cannot connect: {_short(exc)}",
                     f"{method} {url}: không kết nối được: {_short(exc)}")
        else:
            res.fail("protocol", f"{method} {url}: connection failed while {PHASE_EN[phase]}: {_short(exc)}",
                     f"{method} {url}: kết nối hỏng khi {PHASE_VI[phase]}: {_short(exc)}")
    except Exception as exc:  # noqa: BLE001 - a candidate must never crash the capturer
        res.fail("protocol", f"{method} {url}: unexpected error: {type(exc).__name__}: {_short(exc)}",
                 f"{method} {url}: lỗi không lường trước: {type(exc).__name__}: {_short(exc)}")
    finally:
        if timer is not None:
            timer.cancel()
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass
        if raw is not None:
            try:
                raw.close()
            except OSError:
                pass
    return res


def _short(exc: BaseException) -> str:
    s = str(exc) or type(exc).__name__
    return s if len(s) <= 300 else s[:300] + "…"
