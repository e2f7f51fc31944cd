"""A filtering HTTP proxy on 127.0.0.1 that the capture's Chromium must use for every connection.

Playwright's request routing does not see everything a page can make the browser do: the hops of an HTTP redirect,
WebSocket handshakes, preconnects and service-worker traffic bypass it. This proxy sits below all of that. Chromium
is launched with it as its only proxy (Playwright adds `<-loopback>` to the bypass list, so loopback candidates go
through it too) and every connection is checked against allowed_hosts (`host` = any port, `host:port` = that port)
before a byte reaches the upstream:

- `CONNECT host:port` (https, wss, ws through a proxy): allowed -> tunnel, else `403` and nothing is contacted;
- absolute-form requests (`GET http://host:port/path`): allowed -> forwarded in origin form with
  `Connection: close` both ways (one request per connection, so a reused connection can never carry a request for
  another host to this upstream), else `403`;
- anything else -> `400`.

Bounds (the candidate is the adversary): once the browser's request head has arrived, a plain request and its
whole response get `request_s` in total and at most `max_bytes` back (then both sides are closed: the browser
sees a failed request, the capture goes on); a tunnel lives at most `tunnel_s` and carries at most `max_bytes` from
the upstream; at most MAX_CONNECTIONS at a time. `stop()` closes every socket and joins every thread (bounded).

Every refused attempt is kept in `blocked` (method, target, why) for the capture log.
"""
from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from conformance.capture.bounded import resolve
from conformance.capture.netguard import hostport_allowed

MAX_CONNECTIONS = 64
MAX_EVENTS = 2000
MAX_HEAD = 65536
HOP_HEADERS = {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "te",
               "trailer", "upgrade"}


class GuardProxy:
    def __init__(self, allowed_hosts: list[str], *, request_s: float, max_bytes: int, tunnel_s: float | None = None,
                 on_block: Callable[[dict[str, Any]], None] | None = None):
        self.allowed = list(allowed_hosts)
        self.request_s = float(request_s)
        self.tunnel_s = float(tunnel_s if tunnel_s is not None else max(3 * self.request_s, 10.0))
        self.max_bytes = int(max_bytes)
        self.on_block = on_block
        self.blocked: list[dict[str, Any]] = []
        self.forwarded = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._socks: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(128)
        self.port = self._srv.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name="guardproxy-accept", daemon=True)

    @property
    def server(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GuardProxy:
        self._acceptor.start()
        return self

    def __enter__(self) -> GuardProxy:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self, join_s: float = 3.0) -> None:
        self._stop.set()
        try:
            self._srv.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._srv.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            _close(s)
        end = time.monotonic() + join_s
        if self._acceptor.is_alive():
            self._acceptor.join(max(0.0, end - time.monotonic()))
        for t in list(self._threads):
            t.join(max(0.0, end - time.monotonic()))

    # -- plumbing ---------------------------------------------------------------------------------------------------

    def _track(self, s: socket.socket) -> None:
        with self._lock:
            self._socks.add(s)

    def _untrack(self, s: socket.socket) -> None:
        with self._lock:
            self._socks.discard(s)
        _close(s)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _addr = self._srv.accept()
            except OSError:
                return
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()]
                busy = len(self._threads) >= MAX_CONNECTIONS
            if busy:
                _close(client)
                continue
            self._track(client)
            t = threading.Thread(target=self._serve, args=(client,), name="guardproxy-conn", daemon=True)
            with self._lock:
                self._threads.append(t)
            t.start()

    def _block(self, client: socket.socket, method: str, target: str, why: str, code: int = 403) -> None:
        event = {"method": method[:20], "target": target[:2000], "why": why, "t": time.time()}
        with self._lock:
            if len(self.blocked) < MAX_EVENTS:
                self.blocked.append(event)
            else:
                self.dropped += 1
        if self.on_block is not None:
            try:
                self.on_block(event)
            except Exception:  # noqa: BLE001 - logging must never break the proxy
                pass
        body = b"blocked by the conformance suite: host not in allowed_hosts\n"
        reason = {403: "Forbidden", 400: "Bad Request", 502: "Bad Gateway"}.get(code, "Error")
        try:
            client.settimeout(1.0)
            client.sendall(f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                           "Connection: close\r\n\r\n".encode() + body)
        except OSError:
            pass

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            # the browser may open a connection before it has a request for it: wait for the head up to tunnel_s,
            # then the request and its whole answer get request_s
            head, rest = _read_head(client, time.monotonic() + self.tunnel_s)
            if head is None:
                return
            deadline = time.monotonic() + self.request_s
            lines = head.split(b"\r\n")
            try:
                method, target, version = lines[0].decode("latin-1").split(" ", 2)
            except ValueError:
                self._block(client, "?", repr(lines[0][:100]), "malformed request line", 400)
                return
            if method.upper() == "CONNECT":
                host, port = _split_hostport(target)
                upstream = self._upstream(client, method, target, host, port, deadline)
                if upstream is None:
                    return
                client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                with self._lock:
                    self.forwarded += 1
                if rest:
                    upstream.sendall(rest)
                self._pipe(client, upstream, time.monotonic() + self.tunnel_s, rewrite_response=False)
                return
            try:
                parts = urlsplit(target)
                port = parts.port or 80
            except ValueError:
                self._block(client, method, target, "malformed target", 400)
                return
            host = parts.hostname or ""
            if parts.scheme != "http" or not host:
                self._block(client, method, target, "only absolute http:// targets are proxied", 400)
                return
            upstream = self._upstream(client, method, target, host, port, deadline)
            if upstream is None:
                return
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            out = [f"{method} {path} {version}".encode("latin-1")]
            for line in lines[1:]:
                name = line.split(b":", 1)[0].strip().lower().decode("latin-1", "replace")
                if line and name not in HOP_HEADERS:
                    out.append(line)
            out.append(b"Connection: close")
            upstream.sendall(b"\r\n".join(out) + b"\r\n\r\n" + rest)
            with self._lock:
                self.forwarded += 1
            self._pipe(client, upstream, deadline, rewrite_response=True)
        except OSError:
            pass
        finally:
            if upstream is not None:
                self._untrack(upstream)
            self._untrack(client)

    def _upstream(self, client: socket.socket, method: str, target: str, host: str | None, port: int,
                  deadline: float) -> socket.socket | None:
        """A connection to an allowed host:port, or None once the client has been answered why not."""
        if host is None or not hostport_allowed(host, port, self.allowed):
            self._block(client, method, target, "host:port not in allowed_hosts")
            return None
        upstream = self._open(host, port, deadline)
        if upstream is None:
            self._block(client, method, target, "upstream unreachable", 502)
        return upstream

    def _open(self, host: str, port: int, deadline: float) -> socket.socket | None:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            for family, type_, proto, _canon, addr in resolve(host, port, deadline):
                s = socket.socket(family, type_, proto)
                self._track(s)
                try:
                    s.settimeout(max(0.001, deadline - time.monotonic()))
                    s.connect(addr)
                    return s
                except OSError:
                    self._untrack(s)
        except (OSError, TimeoutError):
            pass
        return None

    def _pipe(self, client: socket.socket, upstream: socket.socket, deadline: float, *, rewrite_response: bool) -> None:
        """Copy both ways until either side closes, the deadline passes or the upstream sent max_bytes."""
        sel = selectors.DefaultSelector()
        client.setblocking(False)
        upstream.setblocking(False)
        sel.register(client, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, client)
        received = 0
        head_buf = b"" if rewrite_response else None
        try:
            while not self._stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                for key, _ev in sel.select(timeout=min(left, 0.5)):
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    dst: socket.socket = key.data
                    try:
                        data = src.recv(65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        return
                    if src is upstream:
                        received += len(data)
                        if received > self.max_bytes:
                            return
                        if head_buf is not None:
                            head_buf += data
                            end = head_buf.find(b"\r\n\r\n")
                            if end < 0:
                                if len(head_buf) > MAX_HEAD:
                                    return
                                continue
                            data = _close_header(head_buf[:end]) + head_buf[end:]
                            head_buf = None
                    _send_all(dst, data, deadline)
        except OSError:
            return
        finally:
            sel.close()


def _send_all(sock: socket.socket, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0:
            raise OSError("deadline")
        try:
            n = sock.send(view)
        except BlockingIOError:
            sel = selectors.DefaultSelector()
            sel.register(sock, selectors.EVENT_WRITE)
            sel.select(timeout=min(left, 0.5))
            sel.close()
            continue
        view = view[n:]


def _close_header(head: bytes) -> bytes:
    """A response head with `Connection: close` (the browser must not reuse the connection for another request)."""
    lines = head.split(b"\r\n")
    kept = [lines[0]] + [ln for ln in lines[1:]
                         if ln.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive",
                                                                          b"proxy-connection")]
    return b"\r\n".join(kept + [b"Connection: close"])


def _read_head(sock: socket.socket, deadline: float) -> tuple[bytes | None, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or len(buf) > MAX_HEAD:
            return None, b""
        sock.settimeout(left)
        try:
            data = sock.recv(8192)
        except OSError:
            return None, b""
        if not data:
            return None, b""
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def _split_hostport(target: str) -> tuple[str | None, int]:
    t = target.strip()
    if t.startswith("["):
        host, _, port = t[1:].partition("]:")
    else:
        host, _, port = t.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None, 0
    return host.lower(), int(port)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
