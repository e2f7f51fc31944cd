"""The fixture campaign (fixtures/campaigns/three-apps: three apps rendered by segno screens, python-qrcode JPEG
screens and the reference app captured in headless Chromium) through every front-end: the CLI on a local process
pool, the pytest front-end with pytest-xdist, and a real Dask LocalCluster on loopback. The GEN-003 findings and
every candidate's results must be the expected ones, and identical whatever ran them."""
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

from conformance.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "fixtures" / "campaigns" / "three-apps"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
TODAY = "2026-11-27"
RUN_FIELDS = ("generated_at", "duration_s")  # differ between two runs of the same evidence

pytestmark = pytest.mark.slow


def load(out: Path) -> tuple[dict, dict[str, dict]]:
    doc = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
    cands = {c["slug"]: json.loads((out / c["slug"] / "results.json").read_text(encoding="utf-8"))
             for c in doc["candidates"]}
    return doc, cands


def comparable(doc: dict) -> dict:
    d = copy.deepcopy(doc)
    for k in RUN_FIELDS + ("environment",):
        d.pop(k, None)
    if isinstance(d.get("report"), dict):
        d["report"].pop("issued_at", None)  # the time of issue is the run's
    return d


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("campaign") / "out"
    rc = main(["campaign", str(FIXTURE / "campaign.yaml"), "--out", str(out), "--today", TODAY, "--workers", "2",
               "--quiet"])
    return rc, out


def test_fixture_campaign_gives_the_expected_findings(local_run):
    rc, out = local_run
    exp = EXPECTED["campaigns"]["campaign.yaml"]
    doc, cands = load(out)
    assert rc == exp["exit_code"] and doc["verdict"] == exp["verdict"]
    assert {r["id"]: r["status"] for r in doc["requirements"]} == exp["requirements"]
    assert {p["id"]: p["status"] for p in doc["people"]} == exp["people"]
    assert {p["id"]: {c["candidate"]: c["status"] for c in p["cells"]} for p in doc["people"]} == exp["cells"]
    fails = [{"subject": f["subject"], "field": f["field"], "candidates": f["candidates"]}
             for r in doc["requirements"] for f in r["findings"] if f["status"] == "fail"]
    assert fails and all(f in exp["failures"] for f in fails)
    assert {(f["subject"], f["field"]) for f in fails} == {(f["subject"], f["field"]) for f in exp["failures"]}
    by_name = {c["name"]: c for c in doc["candidates"]}
    for name, want in exp["candidates"].items():
        if "verdict" in want:
            assert by_name[name]["verdict"] == want["verdict"], name
        for rid, status in want["statuses"].items():
            assert by_name[name]["statuses"][rid] == status, (name, rid)
    # every file of the campaign folder, masked
    for f in ("dashboard.html", "junit.xml", ".vnqr-conformance-output"):
        assert (out / f).is_file()
    subjects = yaml_subjects()
    text = (out / "dashboard.html").read_text(encoding="utf-8") + (out / "campaign.json").read_text(encoding="utf-8")
    assert not [s["so_giay_to"] for s in subjects if s["so_giay_to"] in text]
    assert not [s["ho_ten"] for s in subjects if s["ho_ten"] in text]


def yaml_subjects() -> list[dict]:
    import yaml

    return yaml.safe_load((FIXTURE / "campaign.yaml").read_text(encoding="utf-8"))["subjects"]


def test_the_renderings_differ_and_one_candidate_was_captured_in_chromium():
    """The fixture is what it claims: two generators, two themes, PNG and JPEG, a browser capture."""
    from PIL import Image

    from conformance.capture.package import load_package

    a, b, c = (load_package(FIXTURE / "apps" / n) for n in ("app-a", "app-b", "web-c"))
    assert {Path(e.file).suffix for e in a.evidence if e.kind == "screenshot"} == {".png"}
    assert {Path(e.file).suffix for e in b.evidence} == {".jpg"}
    assert c.manifest["live"]["adapter"] == "browser" and all(e.extra.get("source") == "browser" for e in c.evidence)
    sizes = {Image.open(x.evidence[0].path).size for x in (a, b, c)}
    assert len(sizes) == 3


def test_app_b_alone_is_conformant(tmp_path):
    """Alone, app B matches its own declared records; only the campaign shows its QID is not QRQG's."""
    want = EXPECTED["alone"]["apps/app-b"]
    out = tmp_path / "b"
    rc = main(["assess", str(FIXTURE / "apps" / "app-b"), "--out", str(out), "--today", TODAY, "--quiet",
               "--workers", "2"])
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["verdict"] == want["verdict"] and rc == 0
    st = {r["id"]: r["status"] for r in res["requirements"]}
    assert {k: st[k] for k in want["statuses"]} == want["statuses"]


def test_agreeing_campaign_passes(tmp_path):
    exp = EXPECTED["campaigns"]["agreeing.json"]
    out = tmp_path / "agree"
    rc = main(["campaign", str(FIXTURE / "agreeing.json"), "--out", str(out), "--today", TODAY, "--workers", "2",
               "--quiet"])
    doc, _ = load(out)
    assert rc == exp["exit_code"] and doc["verdict"] == exp["verdict"]
    assert {r["id"]: r["status"] for r in doc["requirements"]} == exp["requirements"]
    assert {p["id"]: p["status"] for p in doc["people"]} == exp["people"]


def test_pytest_frontend_with_xdist_gives_the_same_campaign(local_run, tmp_path):
    _, out = local_run
    pt = tmp_path / "pytest"
    cmd = [sys.executable, "-m", "pytest", str(REPO / "conformance" / "test_conformance.py"), "--campaign",
           str(FIXTURE / "campaign.yaml"), "--out", str(pt), "--today", TODAY, "-q", "-p", "no:cacheprovider",
           "-o", "addopts=", "-rf", "--rootdir", str(REPO), "-n", "2"]
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                          timeout=1500)
    failed = sorted(line.split("[", 1)[1].split("]", 1)[0] for line in proc.stdout.splitlines()
                    if line.startswith("FAILED "))
    assert failed == ["GEN-003-same_code_in_every_app-campaign-s1", "ung-dung-b-GEN-002-payload_matches_record-item0-"
                      "s1-default", "ung-dung-b-GEN-002-payload_matches_record-item1-s1-full"], proc.stdout[-3000:]
    assert "campaign verdict: non-conformant" in proc.stdout
    want, want_c = load(out)
    got, got_c = load(pt)
    assert comparable(got) == comparable(want)
    for slug in want_c:
        w, g = want_c[slug], got_c[slug]
        assert {r["id"]: r["status"] for r in g["requirements"]} == {r["id"]: r["status"] for r in w["requirements"]}
        assert [e["status"] for e in g["evidence"]] == [e["status"] for e in w["evidence"]]


def test_dask_local_cluster_gives_identical_results(local_run, tmp_path):
    from distributed import LocalCluster

    _, out = local_run
    dk = tmp_path / "dask"
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", memory_limit="2GiB", silence_logs=logging.ERROR) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        done: dict[str, int] = {}
        t = threading.Thread(target=lambda: done.setdefault("rc", main(
            ["campaign", str(FIXTURE / "campaign.yaml"), "--out", str(dk), "--today", TODAY, "--quiet",
             "--scheduler", cluster.scheduler_address])), daemon=True)
        t.start()
        t.join(1200)  # the bound of the whole run
        assert not t.is_alive(), "the Dask run did not end within 20 minutes"
    assert done["rc"] == local_run[0]
    want, want_c = load(out)
    got, got_c = load(dk)
    assert comparable(got) == comparable(want)
    assert {s: comparable(d) for s, d in got_c.items()} == {s: comparable(d) for s, d in want_c.items()}
