"""A `live:` candidate in a campaign: the reference app (conformance/refapp) serving the campaign's test accounts on
loopback is captured first (HTTP adapter), then assessed like a package and compared with a submitted package,
by the CLI and by the pytest front-end with pytest-xdist (the controller captures once, the workers get the package)."""
from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from conformance.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "fixtures" / "campaigns" / "three-apps"
TODAY = "2026-11-27"

pytestmark = pytest.mark.slow


@pytest.fixture()
def refapp_campaign(tmp_path):
    from werkzeug.serving import make_server

    from conformance.refapp.app import RefAppConfig, create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    doc = yaml.safe_load((FIXTURE / "campaign.yaml").read_text(encoding="utf-8"))
    records = [copy.deepcopy(s) for s in doc["subjects"] if s["id"] in ("s1", "s2", "s3")]
    token = "live-campaign-" + os.urandom(4).hex()
    srv = make_server("127.0.0.1", 0, create_app(RefAppConfig(token=token, records=copy.deepcopy(records))),
                      threaded=True)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    config = {"spec_version": "1.1", "candidate": {"name": "Ứng dụng trực tiếp", "version": "2", "platform": "web"},
              "subjects": records, "evidence": [],
              "live": {"adapter": "http", "base_url": f"http://127.0.0.1:{srv.server_port}", "token": token,
                       "subjects": ["s1", "s2", "s3"], "allowed_hosts": ["127.0.0.1"],
                       "timeouts": {"request_s": 10}}}
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "live.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    campaign = {**doc, "candidates": [{"package": str(FIXTURE / "apps" / "app-a")}, {"live": "web/live.json"}]}
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(campaign, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        yield path
    finally:
        srv.shutdown()
        th.join(10)
        srv.server_close()


def test_live_candidate_is_captured_then_compared(refapp_campaign, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    rc = main(["campaign", str(refapp_campaign), "--out", "out", "--today", TODAY, "--workers", "2", "--quiet"])
    doc = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
    assert [(c["name"], c["kind"]) for c in doc["candidates"]] == [("Ứng dụng A", "package"),
                                                                   ("Ứng dụng trực tiếp", "live")]
    live = doc["candidates"][1]
    pkg = out / live["slug"] / "package"
    assert (pkg / "candidate.json").is_file() and (pkg / "capture" / "log.json").is_file()
    assert (out / live["slug"] / "report.html").is_file()
    # its report names the package where it is once the campaign is complete, not the staging folder
    res = json.loads((out / live["slug"] / "results.json").read_text(encoding="utf-8"))
    assert res["package"]["path"] == f"out/{live['slug']}/package"
    assert {p["id"]: p["status"] for p in doc["people"]} == {"s1": "pass", "s2": "pass", "s3": "pass", "s4": "skip"}
    assert doc["requirements"][0]["status"] == "pass"
    assert rc == {"conformant": 0, "non-conformant": 1, "incomplete": 3}[doc["verdict"]]

    # the pytest front-end, with xdist: the controller captures once, the workers assess the captured package
    pt = tmp_path / "pytest"
    cmd = [sys.executable, "-m", "pytest", str(REPO / "conformance" / "test_conformance.py"), "--campaign",
           str(refapp_campaign), "--out", str(pt), "--today", TODAY, "-q", "-p", "no:cacheprovider", "-o",
           "addopts=", "--rootdir", str(REPO), "-n", "2"]
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                          timeout=1500)
    assert "campaign verdict:" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]
    got = json.loads((pt / "campaign.json").read_text(encoding="utf-8"))
    assert {p["id"]: p["status"] for p in got["people"]} == {p["id"]: p["status"] for p in doc["people"]}
    assert [c["statuses"] for c in got["candidates"]] == [c["statuses"] for c in doc["candidates"]]
    assert (pt / live["slug"] / "package" / "candidate.json").is_file()
    leftovers = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("vnqr-campaign-capture-*")
                 if p.stat().st_mtime >= (out / "campaign.json").stat().st_mtime]
    assert not leftovers  # the controller's capture folder is removed at the end
