"""Hostile corpus for live capture (issue 9, "Live capture: the candidate is the adversary").

Every case runs against real servers on 127.0.0.1 started and stopped by the test (raw sockets where HTTP itself is
the weapon, Flask where it is not), and real headless Chromium for the browser adapter (marked `browser`). Each case
ends in its documented outcome: exit 3 (incomplete, no verdict) when the candidate answered nothing usable, exit 2
naming the JSON path for a value that would become a path or a program, a bounded end for everything that could hang.
Time assertions here are only the bounds that stop a hang (deadline + a fixed slack); speed figures live in
scripts/bench_live.py.
"""
from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from flask import Flask, Response, jsonify
from werkzeug.serving import make_server

from conformance.capture.http_api import CaptureLog, HttpClient
from conformance.capture.live import LiveConfigError, Recorder, capture
from conformance.capture.netguard import pii_values
from conformance.capture.package import PackageError, load_package
from tests.support.fakeapi import display, guard, qr_png

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "hostile-token-0123456789"
API = "/assessment/v1"
SLACK_S = 1.5  # scheduling slack on a loaded 2-core machine, added to every deadline bound below
SUBJECT = {"id": "s1", "so_giay_to": "079201004512", "ho_ten": "Trần Thị Bích Ngọc", "ngay_sinh": "1992-07-25",
           "loai_dinh_danh": 0, "qid": "163000111222333444", "ext": {"gender": 2, "phone": "0912345678"}}


# -- hostile servers ----------------------------------------------------------------------------------------------

class RawServer:
    """A TCP server on 127.0.0.1 (port 0): `handler(server, conn)` per connection, one thread each; counts
    connections and request lines. stop() closes everything and joins the threads."""

    def __init__(self, handler: Callable[[RawServer, socket.socket], None] | None = None):
        self.handler = handler
        self.stopped = threading.Event()
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests: list[str] = []
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            t = threading.Thread(target=self._run, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _run(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            if self.handler is not None:
                self.handler(self, conn)
            else:
                self.read_request(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def read_request(self, conn: socket.socket) -> str:
        buf = b""
        while b"\r\n\r\n" not in buf and len(buf) < 65536:
            data = conn.recv(4096)
            if not data:
                break
            buf += data
        line = buf.split(b"\r\n", 1)[0].decode("latin-1")
        self.requests.append(line)
        return line

    def stop(self) -> None:
        self.stopped.set()
        try:
            self.srv.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self.srv.close()
        for c in self._conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            t.join(5)


def _path(line: str) -> str:
    parts = line.split(" ")
    return parts[1] if len(parts) > 1 else "/"


def h_silent(s: RawServer, c: socket.socket) -> None:
    s.read_request(c)
    s.stopped.wait(60)


def h_garbage(s: RawServer, c: socket.socket) -> None:  # not HTTP at all
    s.read_request(c)
    c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\x00\xff\xfe garbage \x89PNG" * 40)


def h_http_junk(s: RawServer, c: socket.socket) -> None:  # HTTP 200, junk body whatever was asked
    s.read_request(c)
    body = b"\x00\xff{{not json, not png"
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def h_error_500(s: RawServer, c: socket.socket) -> None:
    s.read_request(c)
    body = b'{"error": "internal"}'
    c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)


def h_huge_length(s: RawServer, c: socket.socket) -> None:  # declares 2 GB, then starts sending it
    s.read_request(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n")
    block = b"\0" * 65536
    while not s.stopped.is_set():
        c.sendall(block)


def h_redirect_loop(s: RawServer, c: socket.socket) -> None:
    path = _path(s.read_request(c))
    c.sendall(f"HTTP/1.1 302 Found\r\nLocation: {path}\r\nContent-Length: 0\r\n\r\n".encode())


def h_redirect_metadata(s: RawServer, c: socket.socket) -> None:
    s.read_request(c)
    c.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/iam/\r\n"
              b"Content-Length: 0\r\n\r\n")


def h_head_dribble(s: RawServer, c: socket.socket) -> None:  # headers, one byte a second
    s.read_request(c)
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}":
        c.sendall(bytes([byte]))
        if s.stopped.wait(1.0):
            return


def h_body_dribble(s: RawServer, c: socket.socket) -> None:  # complete headers, then the body one byte a second
    s.read_request(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
    while not s.stopped.wait(1.0):
        c.sendall(b" ")


def h_endless_paced(s: RawServer, c: socket.socket) -> None:  # never ends, ~6 MB/s (fast, yet no memory blow-up)
    s.read_request(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n")
    block = b"\x89PNG" + b"\0" * 65532
    while not s.stopped.wait(0.01):
        c.sendall(block)


def h_endless_fast(s: RawServer, c: socket.socket) -> None:  # never ends, as fast as loopback goes
    s.read_request(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"\0" * 0x10000 + b"\r\n"
    while not s.stopped.is_set():
        c.sendall(chunk)


@pytest.fixture()
def servers():
    started: list = []

    def start(handler=None) -> RawServer:
        srv = RawServer(handler)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture()
def flask_serve():
    started = []

    def start(app: Flask) -> str:
        srv = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return f"http://127.0.0.1:{srv.server_port}"

    yield start
    for srv in started:
        srv.shutdown()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- configs and the CLI --------------------------------------------------------------------------------------------

def config(base_url: str, adapter: str = "http", subjects=(SUBJECT,), **live) -> dict:
    cfg = {"spec_version": "1.1", "candidate": {"name": "hostile candidate", "platform": "web"},
           "subjects": [dict(s) for s in subjects], "evidence": [],
           "live": {"adapter": adapter, "base_url": base_url, "token": TOKEN,
                    "allowed_hosts": [base_url.split("//", 1)[1].split("/", 1)[0]], "timeouts": {"request_s": 0.5}}}
    if adapter == "browser":
        cfg["live"].update(page="/app/{subject}", toggle={"selector": "#toggle"},
                           fields={"so_giay_to": "#doc", "ngay_sinh": "#dob", "ho_ten": "#name"})
        cfg["live"].pop("token")
    cfg["live"].update(live)
    return cfg


def profile_file(tmp_path: Path, **live) -> Path:
    doc = yaml.safe_load((ROOT / "specs" / "profile.default.yaml").read_text(encoding="utf-8"))
    doc["live"].update(live)
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def profile_dict(**live) -> dict:
    doc = yaml.safe_load((ROOT / "specs" / "profile.default.yaml").read_text(encoding="utf-8"))
    doc["live"].update(live)
    return doc


def run_cli(cfg: dict | str, tmp_path: Path, capsys, *extra: str) -> tuple[int, str, str, float]:
    """`python -m conformance live CONFIG --out OUT` in this process; (exit code, stdout, stderr, seconds)."""
    from conformance.cli import main

    path = tmp_path / "config.json"
    path.write_text(cfg if isinstance(cfg, str) else json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    t0 = time.monotonic()
    rc = main(["live", str(path), "--out", str(tmp_path / "out"), *extra])
    took = time.monotonic() - t0
    cap = capsys.readouterr()
    return rc, cap.out, cap.err, took


def read_log(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / "package" / "capture" / "log.json").read_text(encoding="utf-8"))


# -- 1. every request has a TOTAL deadline --------------------------------------------------------------------------

@pytest.mark.parametrize("handler", [h_silent, h_head_dribble, h_body_dribble, h_endless_paced],
                         ids=["silent", "headers-1-byte-per-s", "body-1-byte-per-s", "endless-stream"])
def test_each_request_ends_within_its_total_deadline(servers, handler):
    srv = servers(handler)
    log = CaptureLog("http", srv.url, [])
    deadline_s = 1.5
    client = HttpClient(srv.url, TOKEN, ["127.0.0.1"], log, timeout_s=deadline_s, max_bytes=1_000_000_000)
    t0 = time.monotonic()
    ex = client.request("GET", f"{API}/subjects/s1/display", purpose="display", subject="s1", expect="json")
    took = time.monotonic() - t0
    assert took < deadline_s + SLACK_S, f"{handler.__name__} took {took:.2f} s for a {deadline_s} s deadline"
    assert ex.error_kind == "deadline" and "within 1.5 s" in ex.error_en
    assert log.doc["exchanges"][0]["error_kind"] == "deadline" and log.doc["usable_responses"] == 0
    assert srv.connections == 1


def test_endless_fast_stream_stops_at_the_byte_limit(servers):
    srv = servers(h_endless_fast)
    log = CaptureLog("http", srv.url, [])
    client = HttpClient(srv.url, TOKEN, ["127.0.0.1"], log, timeout_s=5, max_bytes=2_000_000)
    ex = client.request("GET", f"{API}/subjects/s1/screen.png", purpose="screen", subject="s1", expect="png")
    assert ex.error_kind == "too_large" and len(ex.body) <= 2_000_000


def test_2gb_content_length_is_not_downloaded(servers):
    srv = servers(h_huge_length)
    log = CaptureLog("http", srv.url, [])
    client = HttpClient(srv.url, TOKEN, ["127.0.0.1"], log, timeout_s=5, max_bytes=20_000_000)
    t0 = time.monotonic()
    ex = client.request("GET", f"{API}/subjects/s1/display", purpose="display", subject="s1", expect="json")
    assert time.monotonic() - t0 < 5  # refused on the header, not after reading up to the deadline
    assert ex.error_kind == "too_large" and "2147483648" in ex.error_en and ex.body == b""
    assert log.doc["exchanges"][0]["declared_bytes"] == 2147483648


def test_gzip_bomb_is_inflated_only_up_to_the_limit(servers):
    import gzip

    bomb = gzip.compress(b"\0" * 50_000_000)

    def h(s, c):
        s.read_request(c)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(bomb) + bomb)

    srv = servers(h)
    client = HttpClient(srv.url, TOKEN, ["127.0.0.1"], CaptureLog("http", srv.url, []), timeout_s=5,
                        max_bytes=1_000_000)
    ex = client.request("GET", f"{API}/subjects/s1/display", purpose="display", subject="s1", expect="json")
    assert ex.error_kind == "too_large" and len(ex.body) <= 1_000_000


# -- 2. a candidate that answers nothing usable: exit 3, no verdict -------------------------------------------------

HOSTILE = {"silent": h_silent, "not-http": h_garbage, "http-junk": h_http_junk, "http-500": h_error_500,
           "content-length-2GB": h_huge_length, "redirect-loop": h_redirect_loop,
           "redirect-169.254.169.254": h_redirect_metadata, "headers-dribble": h_head_dribble,
           "body-dribble": h_body_dribble, "endless-stream": h_endless_fast}


@pytest.mark.parametrize("case", ["refused", "unresolvable", *HOSTILE, "redirect-other-host"])
def test_live_cli_exits_3_when_nothing_usable_was_answered(servers, tmp_path, capsys, case):
    other = servers()  # a host:port outside allowed_hosts; it must never see a connection
    if case == "refused":
        base = f"http://127.0.0.1:{closed_port()}"
    elif case == "unresolvable":
        base = "http://no-such-host.invalid:8080"
    elif case == "redirect-other-host":
        def h(s, c):
            s.read_request(c)
            c.sendall(f"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{other.port}/steal\r\n"
                      "Content-Length: 0\r\n\r\n".encode())
        base = servers(h).url
    else:
        base = servers(HOSTILE[case]).url
    cfg = config(base)
    cfg["live"]["allowed_hosts"] = [base.split("//")[1]]  # host:port: that port only
    budget = 20
    prof = profile_file(tmp_path, max_run_seconds=budget)
    rc, out, err, took = run_cli(cfg, tmp_path, capsys, "--profile", str(prof))
    assert rc == 3, (case, out, err)
    assert "INCOMPLETE" in err and "CHƯA ĐỦ" in err
    assert took < budget + SLACK_S
    assert not (tmp_path / "out" / "results.json").exists()  # no verdict, no report
    log = read_log(tmp_path)
    assert log["usable_responses"] == 0 and log["errors"]
    # an HTTP error status is an answer (the toggle refused), everything else gave no usable answer to the toggle
    assert log["toggles"] and all(t["answered"] is (case == "http-500") for t in log["toggles"])
    assert other.connections == 0
    kinds = {e.get("error_kind") for e in log["exchanges"]}
    expected = {"refused": "connect", "unresolvable": "connect", "silent": "deadline", "not-http": "protocol",
                "http-junk": "garbage",
                "content-length-2GB": "too_large", "redirect-loop": "redirect_loop",
                "redirect-169.254.169.254": "redirect_blocked", "headers-dribble": "deadline",
                "body-dribble": "deadline", "endless-stream": "too_large", "redirect-other-host": "redirect_blocked"}
    if case in expected:
        assert expected[case] in kinds, kinds
    if case == "redirect-169.254.169.254":
        assert any(r["to"].startswith("http://169.254.169.254/") for e in log["exchanges"] for r in e["redirects"])
    if case == "http-500":
        assert {e["status"] for e in log["exchanges"]} == {500}


def test_request_deadline_falls_back_to_the_profile(servers, tmp_path):
    srv = servers(h_silent)
    cfg = config(srv.url)
    del cfg["live"]["timeouts"]
    t0 = time.monotonic()
    out = capture(cfg, tmp_path / "pkg", profile=profile_dict(request_timeout_seconds=0.4, max_run_seconds=20))
    log = json.loads((out / "capture" / "log.json").read_text(encoding="utf-8"))
    assert log["settings"]["request_s"] == 0.4
    assert log["exchanges"] and all("within 0.4 s" in e["error_en"] for e in log["exchanges"])
    assert time.monotonic() - t0 < 6 * 0.4 + SLACK_S  # six capture requests, probes skipped on nothing usable


def test_live_command_as_a_process_exits_3_for_a_stopped_candidate(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config(f"http://127.0.0.1:{closed_port()}")), encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "conformance", "live", str(cfg), "--out", str(tmp_path / "out")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 3, p.stderr
    assert "INCOMPLETE" in p.stderr and "CHƯA ĐỦ" in p.stderr and "cannot connect" in p.stderr
    assert not (tmp_path / "out" / "results.json").exists()


# -- 3. the run's budget: stop, keep what was captured, go on to the assessment -------------------------------------

def slow_app(delay_s: float, screen_ok: bool = True) -> Flask:
    """A working assessment interface whose display answers after delay_s, for any subject sN."""
    app = Flask(__name__)
    mode: dict[str, str] = {}
    png = qr_png()

    def view(sid):
        return display(sid, mode.get(sid, "default"))

    guard(app, TOKEN)

    @app.post(API + "/session")
    def session():
        mode.clear()
        return jsonify({"session": "x"})

    @app.get(API + "/subjects/<sid>/display")
    def display_route(sid):
        time.sleep(delay_s)
        return jsonify(view(sid))

    @app.post(API + "/subjects/<sid>/toggle")
    def toggle(sid):
        mode[sid] = "full" if mode.get(sid) != "full" else "default"
        return jsonify(view(sid))

    @app.get(API + "/subjects/<sid>/screen.png")
    def screen(sid):
        return Response(png if screen_ok else b"<html>no</html>", mimetype="image/png")

    return app


def subjects(n: int) -> list[dict]:
    return [{**SUBJECT, "id": f"s{i}"} for i in range(1, n + 1)]


def test_run_budget_stops_the_capture_and_keeps_what_it_captured(flask_serve, tmp_path):
    base = flask_serve(slow_app(0.5))
    cfg = config(base, subjects=subjects(6), timeouts={"request_s": 2})
    budget = 2.5
    t0 = time.monotonic()
    out = capture(cfg, tmp_path / "pkg", profile=profile_dict(max_run_seconds=budget))
    took = time.monotonic() - t0
    assert took < budget + SLACK_S  # a request in flight is cut at the budget's end, not at its own deadline
    log = json.loads((out / "capture" / "log.json").read_text(encoding="utf-8"))
    assert log["budget_exceeded"] is True and log["usable_responses"] > 0
    assert log["settings"]["max_run_seconds"] == budget
    assert any(e["step"] == "budget" for e in log["errors"])
    by_sid = {t["subject"]: t for t in log["toggles"]}
    assert set(by_sid) == {f"s{i}" for i in range(1, 7)}  # every subject accounted for
    assert by_sid["s1"]["answered"] is True and by_sid["s1"]["changed"] is True
    assert by_sid["s6"]["answered"] is False and "max_run_seconds" in by_sid["s6"]["error_en"]
    assert (out / "payloads" / "s1-initial.txt").is_file()  # kept
    pkg = load_package(out)
    assert {it.subject for it in pkg.evidence if it.error_en is None} >= {"s1"}
    assert all(it.error_en for it in pkg.evidence if it.subject == "s6")


def test_a_run_that_captured_something_goes_on_to_the_assessment(flask_serve, tmp_path, capsys):
    base = flask_serve(slow_app(0.0, screen_ok=False))  # payloads answer, screenshots are junk
    rc, out, err, _ = run_cli(config(base, timeouts={"request_s": 5}), tmp_path, capsys)
    assert "INCOMPLETE: the candidate gave no usable answer" not in err
    assert (tmp_path / "out" / "results.json").exists(), err  # assessed: a report with a verdict
    log = read_log(tmp_path)
    assert log["usable_responses"] > 0 and not log["budget_exceeded"]


# -- 4. values never become paths -----------------------------------------------------------------------------------

BAD_IDS = ["../escape", "..", "a/b", "a\\b", "/etc/passwd", "s1\x00", "", "x" * 65, "%2e%2e", "s 1", "ş1"]


@pytest.mark.parametrize("bad", BAD_IDS, ids=[repr(b)[:20] for b in BAD_IDS])
def test_subject_id_that_would_become_a_path_exits_2_before_writing(tmp_path, capsys, bad):
    cfg = config(f"http://127.0.0.1:{closed_port()}", subjects=[{**SUBJECT, "id": bad}])
    rc, out, err, _ = run_cli(cfg, tmp_path, capsys)
    assert rc == 2
    assert "$.subjects[0].id" in err and "error:" in err and "lỗi:" in err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_live_subjects_entry_and_records_are_checked_too(tmp_path, capsys):
    cfg = config(f"http://127.0.0.1:{closed_port()}")
    cfg["live"]["subjects"] = ["s1", "../../tmp/x"]
    rc, _, err, _ = run_cli(cfg, tmp_path, capsys)
    assert rc == 2 and "$.live.subjects[1]" in err and not (tmp_path / "out").exists()
    with pytest.raises(LiveConfigError) as exc:
        capture(config("http://127.0.0.1:9"), tmp_path / "pkg", records={"../evil": dict(SUBJECT)})
    assert exc.value.problems[0][0] == "records['../evil']" and not (tmp_path / "pkg").exists()
    with pytest.raises(LiveConfigError):
        capture(config("http://127.0.0.1:9", subjects=[{**SUBJECT, "id": "../x"}]), tmp_path / "pkg")
    assert not (tmp_path / "pkg").exists()


def test_recorder_never_builds_a_path_from_an_unchecked_name(tmp_path):
    rec = Recorder(tmp_path / "pkg", CaptureLog("http", "", []))
    for sid, step in (("../x", "initial"), ("s1", "../initial"), ("s1/..", "initial")):
        with pytest.raises(LiveConfigError):
            rec.save_payload(sid, step, "default", "x", displayed=None, source="http")
    assert not (tmp_path / "pkg").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("page,where", [("file:///etc/hostname", "$.live.page"), ("data:text/html,<h1>x</h1>",
                                                                                  "$.live.page"),
                                        ("javascript:alert(1)", "$.live.page")])
def test_a_page_template_outside_http_exits_2(tmp_path, capsys, page, where):
    cfg = config(f"http://127.0.0.1:{closed_port()}", adapter="browser", page=page)
    rc, _, err, _ = run_cli(cfg, tmp_path, capsys)
    assert rc == 2 and where in err and not (tmp_path / "out").exists()


def test_allowed_hosts_entries_must_be_host_or_host_port(tmp_path, capsys):
    cfg = config(f"http://127.0.0.1:{closed_port()}", allowed_hosts=["127.0.0.1", "http://evil.example/"])
    rc, _, err, _ = run_cli(cfg, tmp_path, capsys)
    assert rc == 2 and "$.live.allowed_hosts[1]" in err


def test_deeply_nested_config_exits_2(tmp_path, capsys):
    rc, _, err, _ = run_cli('{"live": ' * 100_000 + "1" + "}" * 100_000, tmp_path, capsys)
    assert rc == 2 and "config.json" in err and "Traceback" not in err


# -- 5. a package never names a program; adb arguments are strict ---------------------------------------------------

def fake_adb(folder: Path, name: str) -> tuple[Path, Path]:
    """A stand-in adb program that records how it was called and says there is no device (no phone here)."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"{name}.calls"
    prog = folder / name
    prog.write_text(f"#!/bin/sh\necho \"$@\" >> '{marker}'\necho 'error: no devices/emulators found' >&2\nexit 1\n",
                    encoding="utf-8")
    prog.chmod(prog.stat().st_mode | stat.S_IXUSR)
    return prog, marker


def android_config(**android) -> dict:
    cfg = config("http://127.0.0.1:9", adapter="http")
    cfg["live"]["adapter"] = "android"
    cfg["live"]["android"] = android
    return cfg


def test_android_adb_key_in_a_package_is_refused_and_never_run(tmp_path, capsys):
    prog, marker = fake_adb(tmp_path / "bin", "evil-adb")
    rc, _, err, _ = run_cli(android_config(adb=str(prog), serial="emulator-5554"), tmp_path, capsys)
    assert rc == 2 and "$.live.android.adb" in err and "VNQR_ADB" in err
    assert not marker.exists() and not (tmp_path / "out").exists()
    # the same key in a submitted package is refused by the schema (exit 2 of `assess`)
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "candidate.json").write_text(json.dumps(android_config(adb="/usr/bin/perl")), encoding="utf-8")
    with pytest.raises(PackageError) as exc:
        load_package(pkg)
    assert exc.value.json_path == "$.live.android" and "adb" in exc.value.message_en


@pytest.mark.parametrize("android,path", [
    ({"serial": "emulator-5554; reboot"}, "$.live.android.serial"),
    ({"serial": "$(id)"}, "$.live.android.serial"),
    ({"serial": "-s"}, "$.live.android.serial"),
    ({"package": "vn.example.app;reboot"}, "$.live.android.package"),
    ({"package": "vn example"}, "$.live.android.package"),
    ({"package": "vn.example", "activity": "../../x"}, "$.live.android.activity"),
    ({"subject_screens": {"s1": [["tap", "1;reboot", 2]]}}, "$.live.android.subject_screens.s1[0]"),
    ({"subject_screens": {"s1": [["tap", -1, 2]]}}, "$.live.android.subject_screens.s1[0]"),
    ({"subject_screens": {"s1": [["tap", 1, 10 ** 9]]}}, "$.live.android.subject_screens.s1[0]"),
    ({"subject_screens": {"s1": [["shell", "rm", "-rf"]]}}, "$.live.android.subject_screens.s1[0]"),
    ({"toggle": {"tap": [1]}}, "$.live.android.toggle.tap"),
    ({"toggle": {"resource_id": "x; reboot"}}, "$.live.android.toggle.resource_id"),
    ({"shell": "reboot"}, "$.live.android.shell"),
])
def test_adb_arguments_are_validated(tmp_path, capsys, android, path):
    prog, marker = fake_adb(tmp_path / "bin", "adb")
    rc, _, err, _ = run_cli(android_config(**android), tmp_path, capsys, "--adb", str(prog))
    assert rc == 2 and path in err
    assert not marker.exists()


def test_adb_comes_from_the_assessor_only(tmp_path, capsys, monkeypatch):
    from conformance.capture.android import Adb, AdbError, resolve_adb

    opt, opt_calls = fake_adb(tmp_path / "opt", "adb-option")
    env, env_calls = fake_adb(tmp_path / "env", "adb-env")
    onpath, path_calls = fake_adb(tmp_path / "path", "adb")
    monkeypatch.setenv("PATH", str(tmp_path / "path") + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.delenv("VNQR_ADB", raising=False)
    assert resolve_adb(None) == str(onpath)
    monkeypatch.setenv("VNQR_ADB", str(env))
    assert resolve_adb(None) == str(env)
    assert resolve_adb(str(opt)) == str(opt)
    with pytest.raises(AdbError):
        resolve_adb(str(tmp_path / "no-such-adb"))
    # through the live command: --adb wins, the validated serial is passed as its own argument
    rc, out, err, _ = run_cli(android_config(serial="emulator-5554", toggle={"tap": [540, 1900]}), tmp_path, capsys,
                              "--adb", str(opt))
    assert rc == 3  # the stand-in finds no device: nothing usable, no verdict
    calls = opt_calls.read_text().splitlines()
    assert calls and all(c.startswith("-s emulator-5554 ") for c in calls)
    assert not env_calls.exists() and not path_calls.exists()
    log = read_log(tmp_path)
    assert log["toggles"] and all(t["answered"] is False for t in log["toggles"])
    other = tmp_path / "again"
    other.mkdir()
    rc, _, err, _ = run_cli(android_config(), other, capsys, "--adb", str(tmp_path / "missing"))
    assert rc == 2 and "--adb" in err and not (other / "out").exists()
    # Adb itself refuses anything with shell syntax, whatever the caller
    adb = Adb(str(opt))
    with pytest.raises(AdbError):
        adb.run("shell", "input", "tap", "1;reboot", "2")
    with pytest.raises(AdbError):
        adb.tap(-1, 5)
    with pytest.raises(AdbError):
        Adb(str(opt), serial="x y")


# -- 6. the personal-data scan is capped and linear ----------------------------------------------------------------

def test_pii_scan_reads_at_most_max_scan_bytes_per_body(servers):
    body = ("079201004512 " + "lorem ipsum dolor sit amet " * 800_000)[:19_000_000] + " TRẦN THỊ BÍCH NGỌC"

    def h(s, c):
        s.read_request(c)
        data = body.encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(data) + data)

    srv = servers(h)
    log = CaptureLog("http", srv.url, pii_values([SUBJECT]), scan_bytes=1_000_000)
    client = HttpClient(srv.url, TOKEN, ["127.0.0.1"], log, timeout_s=20, max_bytes=20_000_000)
    ex = client.request("GET", "/big", purpose="display", subject="s1")
    assert ex.error_en is None and len(ex.body) > 19_000_000
    entry = log.doc["exchanges"][0]
    assert entry["scanned_bytes"] == 1_000_000 and entry["scan_truncated"] is True
    assert entry["personal_data"] == ["so_giay_to"]  # the name after the cap is not scanned (the log says so)
    assert "079201004512" not in entry["body_excerpt"]


# -- 7. the browser never reaches a host:port outside allowed_hosts -------------------------------------------------

GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def page_html(extra: str = "", onclick: str | None = None) -> bytes:
    onclick = onclick or ("document.getElementById('doc').textContent='079201004512';"
                          "document.getElementById('dob').textContent='25/07/1992'")
    return (f"<html><head><meta charset=utf-8></head><body><img src='{GIF}'>"
            "<p id=doc>******004512</p><p id=dob>**/**/1992</p><p id=name>TRẦN THỊ BÍCH NGỌC</p>"
            f"<button id=toggle onclick=\"{onclick}\">Hiện đầy đủ thông tin</button>{extra}</body></html>").encode()


def send_html(c: socket.socket, body: bytes) -> None:
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
              b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


@pytest.mark.browser
@pytest.mark.parametrize("target", ["other-port", "other-host-name", "file", "data"])
def test_browser_page_redirected_away_is_never_followed(servers, tmp_path, capsys, target):
    foreign = servers()
    app_port: list[int] = []

    def h(s, c):
        s.read_request(c)
        loc = {"other-port": f"http://127.0.0.1:{foreign.port}/",
               "other-host-name": f"http://localhost:{app_port[0]}/elsewhere",
               "file": "file:///etc/hostname", "data": "data:text/html,<h1>fake QR</h1>"}[target]
        c.sendall(f"HTTP/1.1 302 Found\r\nLocation: {loc}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())

    app = servers(h)
    app_port.append(app.port)
    cfg = config(app.url, adapter="browser", allowed_hosts=[f"127.0.0.1:{app.port}"], timeouts={"request_s": 3})
    rc, out, err, took = run_cli(cfg, tmp_path, capsys, "--profile", str(profile_file(tmp_path, max_run_seconds=30)))
    assert rc == 3, (out, err)
    assert foreign.connections == 0
    assert app.requests == ["GET /app/s1 HTTP/1.1"]  # never `GET /elsewhere` through the name localhost
    log = read_log(tmp_path)
    assert log["usable_responses"] == 0 and all(t["answered"] is False for t in log["toggles"])
    assert not list((tmp_path / "out" / "package").glob("screens/*.png"))


@pytest.mark.browser
@pytest.mark.parametrize("case", ["refused", "silent", "not-http", "http-500", "junk-page"])
def test_browser_candidate_that_answers_nothing_usable_exits_3(servers, tmp_path, capsys, case):
    """A page that never comes, or comes as an error or junk (no QR image, no filled fields) is no answer."""
    if case == "refused":
        base = f"http://127.0.0.1:{closed_port()}"
    else:
        base = servers({"silent": h_silent, "not-http": h_garbage, "http-500": h_error_500,
                        "junk-page": h_http_junk}[case]).url
    cfg = config(base, adapter="browser", timeouts={"request_s": 2})
    budget = 30
    prof = profile_file(tmp_path, max_run_seconds=budget)
    rc, out, err, took = run_cli(cfg, tmp_path, capsys, "--profile", str(prof))
    assert rc == 3, (out, err)
    assert "INCOMPLETE" in err and "CHƯA ĐỦ" in err and took < budget
    log = read_log(tmp_path)
    assert log["usable_responses"] == 0 and all(t["answered"] is False for t in log["toggles"])
    assert not (tmp_path / "out" / "results.json").exists()


@pytest.mark.browser
def test_browser_side_channels_are_closed(servers, tmp_path):
    """One page tries every way out at once: prefetch, preconnect, a cross-port image and iframe, a WebSocket,
    WebRTC (STUN to a UDP socket), a service worker, a fetch that never ends, a dribbling fetch and top-level
    navigations to data: and file:. Nothing reaches the foreign port, no UDP leaves, the capture ends in bounds."""
    foreign = servers()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.2)
    datagrams: list[int] = []
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            try:
                datagrams.append(len(udp.recvfrom(4096)[0]))
            except TimeoutError:
                continue
            except OSError:
                return

    threading.Thread(target=listen, daemon=True).start()
    fp, up = foreign.port, udp.getsockname()[1]
    extra = f"""
<link rel=prefetch href="http://127.0.0.1:{fp}/prefetch"><link rel=preconnect href="http://127.0.0.1:{fp}">
<img src="http://127.0.0.1:{fp}/pixel.png"><iframe src="http://127.0.0.1:{fp}/frame"></iframe>
<script>
try {{ new WebSocket('ws://127.0.0.1:{fp}/ws'); }} catch (e) {{}}
try {{ const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:127.0.0.1:{up}'}}]}});
      pc.createDataChannel('x'); pc.createOffer().then(o => pc.setLocalDescription(o)); }} catch (e) {{}}
try {{ navigator.serviceWorker.register('/sw.js').catch(() => {{}}); }} catch (e) {{}}
fetch('/endless').catch(() => {{}}); fetch('/dribble').catch(() => {{}});
setTimeout(() => {{ try {{ location.href = 'data:text/html,<h1>fake</h1>'; }} catch (e) {{}} }}, 100);
setTimeout(() => {{ try {{ location.href = 'file:///etc/hostname'; }} catch (e) {{}} }}, 200);
</script>"""

    def h(s, c):
        path = _path(s.read_request(c))
        if path.startswith("/app/"):
            send_html(c, page_html(extra))
        elif path == "/endless":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            while not s.stopped.wait(0.005):
                c.sendall(b"1000\r\n" + b"x" * 0x1000 + b"\r\n")
        elif path == "/dribble":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n")
            while not s.stopped.wait(1.0):
                c.sendall(b"x")
        else:
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    app = servers(h)
    cfg = config(app.url, adapter="browser", allowed_hosts=[f"127.0.0.1:{app.port}"],
                 timeouts={"request_s": 3, "toggle_s": 2})
    t0 = time.monotonic()
    try:
        out = capture(cfg, tmp_path / "pkg", profile=profile_dict(max_run_seconds=40))
        took = time.monotonic() - t0
        time.sleep(0.5)  # a late datagram would still arrive
    finally:
        stop.set()
        udp.close()
    log = json.loads((out / "capture" / "log.json").read_text(encoding="utf-8"))
    assert foreign.connections == 0, foreign.requests
    assert datagrams == []
    assert not any("/sw.js" in r for r in app.requests)
    assert took < 40
    ws = [n for n in log["network"] if n.get("resource_type") == "websocket"]
    assert ws and all(n["blocked"] for n in ws)
    assert any(n.get("blocked") and "/prefetch" in n["url"] for n in log["network"])
    t = log["toggles"][0]
    assert t["answered"] is True and t["changed"] is True  # the candidate's own page still worked
    assert log["usable_responses"] >= 2
    assert len(list((out / "screens").glob("s1-*.png"))) == 2


@pytest.mark.browser
def test_webrtc_udp_leaks_without_the_guard_and_not_with_either_layer(tmp_path):
    """Control first: unguarded Chromium sends STUN to the UDP socket (so the test can fail); then the launch flags
    alone and the init script alone each keep UDP in."""
    from playwright.sync_api import sync_playwright

    from conformance.capture.browser import CHROMIUM, CHROMIUM_ARGS, GUARD_ARGS, NO_WEBRTC_JS

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.2)
    js = f"""() => new Promise(res => {{ try {{
      const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:127.0.0.1:{udp.getsockname()[1]}'}}]}});
      pc.createDataChannel('x'); pc.onicecandidate = e => {{ if (!e.candidate) res('gathered'); }};
      pc.createOffer().then(o => pc.setLocalDescription(o)); setTimeout(() => res('waited'), 3000);
    }} catch (e) {{ res('no WebRTC'); }} }})"""

    def trial(args: list[str], init: bool) -> int:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
            try:
                ctx = browser.new_context()
                if init:
                    ctx.add_init_script(script=NO_WEBRTC_JS)
                page = ctx.new_page()
                page.set_content("<p>x</p>")
                page.evaluate(js)
                got, end = 0, time.monotonic() + 1.0
                while time.monotonic() < end:
                    try:
                        udp.recvfrom(4096)
                        got += 1
                    except TimeoutError:
                        pass
                return got
            finally:
                browser.close()

    try:
        assert trial(CHROMIUM_ARGS, init=False) > 0  # control: the leak is real and observable
        assert trial(CHROMIUM_ARGS + GUARD_ARGS, init=False) == 0
        assert trial(CHROMIUM_ARGS, init=True) == 0
    finally:
        udp.close()


@pytest.mark.browser
@pytest.mark.parametrize("when", ["on-toggle", "after-load"])
def test_a_page_that_hangs_does_not_hang_the_capture(servers, tmp_path, when):
    hang = "<script>setTimeout(() => { while (true) {} }, 300);</script>" if when == "after-load" else ""

    def h(s, c):
        s.read_request(c)
        send_html(c, page_html(hang, onclick="while (true) {}" if when == "on-toggle" else None))

    app = servers(h)
    cfg = config(app.url, adapter="browser", timeouts={"request_s": 2, "toggle_s": 1})
    budget = 30
    t0 = time.monotonic()
    out = capture(cfg, tmp_path / "pkg", profile=profile_dict(max_run_seconds=budget))
    assert time.monotonic() - t0 < budget + 10  # the watchdog's grace after the budget, at most
    log = json.loads((out / "capture" / "log.json").read_text(encoding="utf-8"))
    assert log["toggles"] and log["toggles"][0]["answered"] is False
    assert any("respond" in e["message_en"] for e in log["errors"])


@pytest.mark.browser
def test_watchdog_ends_a_call_that_has_no_timeout(tmp_path):
    """The backstop: page.evaluate has no timeout; a busy loop would hold it forever. The armed watchdog kills this
    process's Chromium renderer at the deadline and the call fails instead."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from conformance.capture.browser import CHROMIUM, CHROMIUM_ARGS, Watchdog

    dog = Watchdog()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page()
                page.set_content("<p>x</p>")
                dog.arm(time.monotonic() + 1.0)
                t0 = time.monotonic()
                with pytest.raises(PlaywrightError):  # the renderer was killed under the call
                    page.evaluate("() => { while (true) {} }")
                assert time.monotonic() - t0 < 1.0 + Watchdog.GRACE_S + SLACK_S
                assert dog.fired and dog.fired[0].startswith("renderer")
            finally:
                dog.disarm()
                browser.close()
    finally:
        dog.stop()


def test_the_kept_capture_of_an_unreachable_candidate_passes_nothing(tmp_path, capsys):
    """The capture of a candidate that answered nothing is kept (exit 3, no verdict); assessed afterwards, it passes no
    requirement: items the capture could not fill show no mode (DISPLAY-004) and refused requests show none of the
    app's URLs (PRIV-001)."""
    from conformance.engine import assess

    base = f"http://127.0.0.1:{closed_port()}"
    cfg = config(base)
    cfg["live"]["allowed_hosts"] = [base.split("//")[1]]
    rc, out, err, _ = run_cli(cfg, tmp_path, capsys, "--profile", str(profile_file(tmp_path, max_run_seconds=20)))
    assert rc == 3, (out, err)
    doc = assess(tmp_path / "out" / "package", workers=1, cache=False).to_dict()
    statuses = {r["id"]: r["status"] for r in doc["requirements"]}
    assert "pass" not in statuses.values(), statuses
    assert statuses["DISPLAY-004"] != "pass" and statuses["PRIV-001"] != "pass"
