"""Live capture against misbehaving local servers (127.0.0.1 only): every fault ends as a logged error and an
assessable package, never an exception out of capture(). Plus the pure judges behind DISPLAY-00x / PRIV-001."""
from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from pathlib import Path

import pytest
from flask import Flask, Response, jsonify, redirect
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.serving import make_server

from conformance.capture.live import capture, load_capture_log
from conformance.capture.netguard import find_pii, host_allowed, mask_pii, pii_values
from conformance.capture.package import load_package
from conformance.checks import display_live, privacy
from conformance.engine import assess
from conformance.engine.judge import status_of
from tests.support.fakeapi import display, guard, qr_png

TOKEN = "fault-token-123"
SUBJECT = {"id": "s1", "so_giay_to": "079201004512", "ho_ten": "Trần Thị Bích Ngọc", "ngay_sinh": "1992-07-25",
           "loai_dinh_danh": 0, "qid": "163000111222333444", "ext": {"gender": 2, "phone": "0912345678"}}
API = "/assessment/v1"

LIVE_CHECKS = ["live_display_document_number", "live_display_date_of_birth", "live_toggle_quick",
               "live_masked_mode_first", "live_data_handling"]


PNG = qr_png()


def fault_app(fault: str) -> Flask:
    """A minimal assessment interface; `fault` breaks one part of it."""
    app = Flask(__name__)
    state = {"mode": "default"}

    def view():
        return display("s1", state["mode"])

    guard(app, TOKEN, lambda path: path.startswith("/elsewhere"))

    @app.post(API + "/session")
    def session():
        state["mode"] = "default"
        return jsonify({"session": "x"})

    @app.get(API + "/subjects/<path:sid>/display")
    def display_route(sid):
        if sid != "s1":
            return jsonify({"error": "bad id"}), 400
        if fault == "slow":
            time.sleep(2.5)
        if fault == "garbage":
            return Response(b"\x00\xff{{not json", mimetype="application/json")
        return jsonify(view())

    @app.post(API + "/subjects/<sid>/toggle")
    def toggle(sid):
        state["mode"] = "full" if state["mode"] == "default" else "default"
        return jsonify(view())

    @app.get(API + "/subjects/<sid>/screen.png")
    def screen(sid):
        if fault == "html_png":
            return Response("<html><body>Login required</body></html>", mimetype="image/png")
        if fault == "huge":
            def gen():
                yield PNG
                block = b"\0" * (1 << 20)
                for _ in range(50):
                    yield block
            return Response(gen(), mimetype="image/png")
        if fault == "redirect_out":
            return redirect("http://evil.example.invalid/steal.png", code=302)
        if fault == "redirect_in":
            return redirect("/elsewhere/screen.png", code=302)
        return Response(PNG, mimetype="image/png")

    @app.get("/elsewhere/screen.png")
    def elsewhere():
        return Response(PNG, mimetype="image/png")

    return app


@pytest.fixture()
def serve():
    servers = []

    def start(fault: str) -> str:
        srv = make_server("127.0.0.1", 0, fault_app(fault), threaded=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_port}"

    yield start
    for s in servers:
        s.shutdown()


def config(base_url: str, **live) -> dict:
    return {"spec_version": "1.1", "candidate": {"name": "fault app", "platform": "web"}, "subjects": [SUBJECT],
            "evidence": [], "live": {"adapter": "http", "base_url": base_url, "token": TOKEN,
                                     "allowed_hosts": ["127.0.0.1"], "timeouts": {"request_s": 1.0}, **live}}


def assess_live(pkg_dir: Path) -> dict[str, list]:
    """Run this module's live checks (package scope) on a package written by capture()."""
    out: dict[str, list] = {}
    for f in assess(pkg_dir, checks=LIVE_CHECKS, workers=1).findings:
        out.setdefault(f.requirement, []).append(f)
    return out


def statuses(findings) -> set[str]:
    return {f.status for f in findings}


def run(cfg: dict, tmp_path: Path) -> tuple[dict, dict, object]:
    out = capture(cfg, tmp_path / "pkg")
    log = json.loads((out / "capture" / "log.json").read_text(encoding="utf-8"))
    manifest = json.loads((out / "candidate.json").read_text(encoding="utf-8"))
    assert "token" not in manifest["live"], "the token must never be written into the package"
    assert TOKEN not in (out / "capture" / "log.json").read_text(encoding="utf-8")
    pkg = load_package(out)  # schema-valid, assessable
    return log, manifest, pkg


# -- happy path on the tiny app -----------------------------------------------------------------------------------

def test_http_capture_conformant_tiny_app(serve, tmp_path):
    log, manifest, pkg = run(config(serve("none")), tmp_path)
    assert log["errors"] == []
    steps = {(e["kind"], e["step"], e["mode"]) for e in manifest["evidence"]}
    assert steps == {("payload", "initial", "default"), ("screenshot", "initial", "default"),
                     ("payload", "after_toggle", "full"), ("screenshot", "after_toggle", "full")}
    assert all(it.error_en is None for it in pkg.evidence)
    assert (tmp_path / "pkg" / "screens" / "s1-initial.png").read_bytes() == PNG
    assert manifest["capture_log"] == "capture/log.json"
    # personal data is masked in the log, the payload evidence keeps the exact text
    text = (tmp_path / "pkg" / "capture" / "log.json").read_text(encoding="utf-8")
    assert "079201004512" not in text and "TRAN THI BICH NGOC" not in text
    assert (tmp_path / "pkg" / "payloads" / "s1-after_toggle.txt").read_text(encoding="utf-8").startswith("079201004512|")
    res = assess_live(tmp_path / "pkg")
    for req in ("DISPLAY-001", "DISPLAY-002", "DISPLAY-003", "DISPLAY-004"):
        assert statuses(res[req]) == {"pass"}, (req, [f.message_en for f in res[req]])
    priv = {f.measured["check"]: f.status for f in res["PRIV-001"]}
    # everything ran on loopback: the transport part is not judged (no network), the others pass
    assert priv == {"transport": "not_applicable", "no-store": "pass", "url": "pass", "auth": "pass", "errors": "pass"}


# -- faults ---------------------------------------------------------------------------------------------------------

def _missing(pkg, kind):
    return [it for it in pkg.evidence if it.kind == kind and it.error_en]


def test_slow_display_times_out(serve, tmp_path):
    log, manifest, pkg = run(config(serve("slow")), tmp_path)
    msgs = " ".join(e["message_en"] for e in log["errors"])
    assert "no complete response within 1 s" in msgs
    assert len(_missing(pkg, "payload")) == 2  # both steps: display timed out
    assert not _missing(pkg, "screenshot")  # the rest of the run went on


def test_garbage_json_body(serve, tmp_path):
    log, manifest, pkg = run(config(serve("garbage")), tmp_path)
    assert any("expected JSON" in e["message_en"] for e in log["errors"])
    assert all(it.error_en for it in pkg.evidence if it.kind == "payload")
    assert all("capture failed" in it.extra.get("note", "") for it in pkg.evidence if it.kind == "payload")


def test_html_instead_of_png(serve, tmp_path):
    log, manifest, pkg = run(config(serve("html_png")), tmp_path)
    assert any("expected a PNG image, got HTML" in e["message_en"] for e in log["errors"])
    assert len(_missing(pkg, "screenshot")) == 2
    assert not (tmp_path / "pkg" / "screens" / "s1-initial.png").exists()


def test_50mb_image_stops_at_limit(serve, tmp_path):
    cfg = config(serve("huge"))
    cfg["live"]["timeouts"] = {"request_s": 10}
    log, manifest, pkg = run(cfg, tmp_path)
    screens = [e for e in log["exchanges"] if e["purpose"] == "screen"]
    assert screens and all("exceeds the limit" in e["error_en"] for e in screens)
    assert all(e["bytes"] <= 20_000_000 for e in screens)
    assert len(_missing(pkg, "screenshot")) == 2


def test_redirect_to_foreign_host_not_followed(serve, tmp_path):
    log, manifest, pkg = run(config(serve("redirect_out")), tmp_path)
    screens = [e for e in log["exchanges"] if e["purpose"] == "screen"]
    assert all("not in allowed_hosts" in e["error_en"] for e in screens)
    assert screens[0]["redirects"][0]["to"] == "http://evil.example.invalid/steal.png"
    assert len(_missing(pkg, "screenshot")) == 2


def test_redirect_to_allowed_host_followed(serve, tmp_path):
    log, manifest, pkg = run(config(serve("redirect_in")), tmp_path)
    assert log["errors"] == []
    assert not _missing(pkg, "screenshot")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused(tmp_path):
    log, manifest, pkg = run(config(f"http://127.0.0.1:{_closed_port()}"), tmp_path)
    assert log["errors"] and all("cannot connect" in e["message_en"] for e in log["errors"]
                                 if e["step"] in ("initial", "after_toggle"))
    assert all(it.error_en for it in pkg.evidence)
    assert log["usable_responses"] == 0 and all(t["answered"] is False for t in log["toggles"])
    res = assess_live(tmp_path / "pkg")
    assert "pass" not in statuses(res["DISPLAY-003"])  # a toggle never seen is never a pass


def test_tls_error(serve, tmp_path):
    base = serve("none").replace("http://", "https://")  # a plain-HTTP server spoken to with TLS
    log, manifest, pkg = run(config(base), tmp_path)
    assert any("TLS error" in e["message_en"] for e in log["errors"])


def test_host_not_allowed_never_contacted(serve, tmp_path):
    base = serve("none")
    log, manifest, pkg = run(config(base, allowed_hosts=["10.0.0.1"]), tmp_path)
    assert log["exchanges"] and all("not in allowed_hosts" in e["error_en"] for e in log["exchanges"])
    assert all(e["status"] is None for e in log["exchanges"])


def test_no_live_section_and_android_without_adb(tmp_path, monkeypatch):
    cfg = config("http://127.0.0.1:9")
    del cfg["live"]
    out = capture(cfg, tmp_path / "a")
    assert "no 'live' section" in json.loads((out / "capture/log.json").read_text())["errors"][0]["message_en"]
    monkeypatch.setenv("PATH", str(tmp_path))  # no adb anywhere
    cfg = config("http://127.0.0.1:9", adapter="android")
    log, manifest, pkg = run(cfg, tmp_path)
    assert any("adb not found" in e["message_en"] for e in log["errors"])
    assert len(_missing(pkg, "screenshot")) == 2


# -- network guard / PII helpers ------------------------------------------------------------------------------------

def test_host_allowed():
    assert host_allowed("http://127.0.0.1:8000/x", ["127.0.0.1"])
    assert host_allowed("http://127.0.0.1:8000/x", ["127.0.0.1:8000"])
    assert not host_allowed("http://127.0.0.1:8001/x", ["127.0.0.1:8000"])
    assert not host_allowed("http://127.0.0.1.evil.example/x", ["127.0.0.1"])
    assert not host_allowed("http://evil.example/?h=127.0.0.1", ["127.0.0.1"])
    assert not host_allowed("file:///etc/passwd", ["127.0.0.1"])
    assert host_allowed("data:image/png;base64,AAAA", [])


def test_find_and_mask_pii_in_urls():
    vals = pii_values([SUBJECT])
    for url in ("http://h/api?doc=079201004512", "http://h/api?dob=25%2F07%2F1992", "http://h/api?d=1992-07-25",
                "http://h/p/25.07.1992", "http://h/api?phone=%2B84912345678"):
        assert find_pii(url, vals, ("so_giay_to", "ngay_sinh", "phone")), url
    assert not find_pii("http://h/app/api/s1/qr.png?v=3", vals)
    assert not find_pii("http://h/x?qid=163000111222333444", vals)  # a QID is not a phone/date
    masked = mask_pii("GET /api?doc=079201004512&dob=25%2F07%2F1992 name TRẦN THỊ BÍCH NGỌC", vals)
    assert "079201004512" not in masked and "25/07/1992" not in masked and "NGỌC" not in masked


# -- DISPLAY judges --------------------------------------------------------------------------------------------------
SEEN = {"pass": "met", "fail": "not_met"}  # what the judges report; DISPLAY-001/002 are MUST: not met = fail

@pytest.mark.parametrize("text,mode,status", [
    ("******004512", "default", "pass"), ("Số CCCD: ******004512", "default", "pass"),
    ("079201004512", "full", "pass"), ("079201004512", "default", "fail"), ("*****1004512", "default", "fail"),
    ("******004512", "full", "fail"), ("0792 0100 4512", "full", "pass")])
def test_judge_document_number(text, mode, status):
    assert display_live.judge_document_number(text, "079201004512", mode)["seen"] == SEEN[status]


@pytest.mark.parametrize("text,mode,status", [
    ("**/**/1992", "default", "pass"), ("1992-**-**", "default", "pass"), ("**.**.1992", "default", "pass"),
    ("Ngày sinh: **/**/1992", "default", "pass"), ("25/07/1992", "default", "fail"), ("*/*/1992", "default", "fail"),
    ("**/07/1992", "default", "fail"), ("**/**/****", "default", "fail"),
    ("25/07/1992", "full", "pass"), ("1992-07-25", "full", "pass"), ("25/7/1992", "full", "pass"),
    ("07/25/1992", "full", "fail"), ("**/**/1992", "full", "fail"), ("26/07/1992", "full", "fail")])
def test_judge_date_of_birth(text, mode, status):
    assert display_live.judge_date_of_birth(text, "1992-07-25", mode)["seen"] == SEEN[status]


@settings(max_examples=60, deadline=None)
@given(st.dates(), st.sampled_from(["{d}/{m}/{y}", "{y}-{m}-{d}", "{d}.{m}.{y}", "{d}-{m}-{y}"]))
def test_judge_date_any_layout(date, layout):
    iso = date.isoformat()
    if date.year < 1000:
        return
    y, m, d = iso.split("-")
    assert display_live.judge_date_of_birth(layout.format(y=y, m=m, d=d), iso, "full")["seen"] == "met"
    assert display_live.judge_date_of_birth(layout.format(y=y, m="**", d="**"), iso, "default")["seen"] == "met"
    assert display_live.judge_date_of_birth(layout.format(y=y, m=m, d=d), iso, "default")["seen"] == "not_met"


# -- PRIV judges on recorded logs (no network) ---------------------------------------------------------------------

def _log(**kw):
    base = {"exchanges": [], "network": [], "toggles": [], "probes": [], "errors": [], "captures": []}
    base.update(kw)
    return base


def test_priv_transport_plain_http_off_loopback_warns():
    e = {"method": "GET", "url": "http://app.example.vn/api/s1", "status": 200, "personal_data": ["so_giay_to"],
         "headers": {"cache-control": "no-store"}}
    assert status_of(privacy.judge_transport(_log(exchanges=[e]))) == "warn"
    assert status_of(privacy.judge_transport(_log(exchanges=[{**e, "url": "https://app.example.vn/api/s1"}]))) == "pass"
    assert status_of(privacy.judge_transport(_log(exchanges=[{**e, "url": "http://127.0.0.1:5/api/s1"}]))) == \
        "not_applicable"  # loopback: nothing travelled over a network
    f = privacy.judge_no_store(_log(network=[{**e, "headers": {"cache-control": "private, max-age=600"}}]))
    assert status_of(f) == "warn" and f.measured["exchanges"][0]["header"] == "Cache-Control: private, max-age=600"


def test_priv_malformed_and_auth_judges():
    ex = [{"method": "GET", "url": "u", "status": 500}]
    bad = _log(exchanges=ex, probes=[{"kind": "malformed_id", "id": "s1'--", "exchange": 0, "status": 500,
                                      "traceback": ["Traceback (most recent call last)"], "personal_data": []}])
    assert status_of(privacy.judge_malformed(bad)) == "warn"
    assert status_of(privacy.judge_malformed(_log())) == "skip"
    ok = _log(probes=[{"kind": "no_token", "status": 403, "refused": True}])
    assert status_of(privacy.judge_auth(ok)) == "pass"
    assert status_of(privacy.judge_auth(_log(exchanges=ex, probes=[{"kind": "no_token", "status": 200, "refused": False,
                                                          "exchange": 0}]))) == "warn"


def test_checks_without_live_capture(tmp_path):
    pkg = tmp_path / "p"
    (pkg / "payloads").mkdir(parents=True)
    (pkg / "payloads" / "a.txt").write_text("x", encoding="utf-8")
    (pkg / "candidate.json").write_text(json.dumps({
        "spec_version": "1.1", "candidate": {"name": "n"}, "subjects": [SUBJECT],
        "evidence": [{"file": "payloads/a.txt", "subject": "s1", "mode": "default", "kind": "payload"}]}))
    res = assess_live(pkg)
    # only live capture can show DISPLAY-004 and PRIV-001: without it their evidence is missing (skip); the other
    # DISPLAY requirements are judged from the submitted evidence instead (not_applicable here)
    got = {f.requirement: f.status for fs in res.values() for f in fs}
    assert got == {"DISPLAY-001": "not_applicable", "DISPLAY-002": "not_applicable", "DISPLAY-003": "not_applicable",
                   "DISPLAY-004": "skip", "PRIV-001": "skip"}
    assert load_capture_log(pkg, {"capture_log": "../x.json"})[1] is not None


def test_cli_register_parses():
    from conformance import live_cli

    parser = argparse.ArgumentParser()
    live_cli.register(parser.add_subparsers(dest="cmd"))
    ns = parser.parse_args(["live", "cfg.json", "--out", "o", "--show-pii"])
    assert ns.func is live_cli.cmd_live and ns.config == "cfg.json" and ns.show_pii


def test_cli_rejects_config_without_live(tmp_path, capsys):
    from conformance import live_cli

    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"subjects": []}))
    ns = argparse.Namespace(config=str(cfg), out=str(tmp_path / "o"), profile=None, show_pii=False)
    assert live_cli.cmd_live(ns) == 2
    assert "no 'live' section" in capsys.readouterr().err
