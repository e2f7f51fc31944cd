"""One engine, three front-ends: `assess()` as a plain function, the CLI and the pytest plugin give the same statuses,
whatever the worker count, with pytest-xdist too; and the engine path never imports pytest."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CANDIDATES = REPO / "fixtures" / "candidates"
TODAY = "2026-11-27"
NAMES = sorted(p.parent.name for p in CANDIDATES.glob("*/expected.json"))


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def run_pytest_frontend(candidate: Path, out: Path, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "pytest", str(REPO / "conformance" / "test_conformance.py"), "--candidate",
           str(candidate), "--out", str(out), "--today", TODAY, "-q", "-p", "no:cacheprovider", "-o", "addopts=",
           "--rootdir", str(REPO), *extra]
    subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600)
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def statuses(doc: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in doc["requirements"]}


def test_engine_path_does_not_import_pytest(tmp_path):
    code = ("import sys; from conformance.engine import assess; "
            f"d = assess({str(CANDIDATES / 'example')!r}, today={TODAY!r}, workers=2).to_dict(); "
            "print(d['verdict'], 'pytest' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                         timeout=600)
    assert out.stdout.split() == ["conformant", "False"], out.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_pytest_frontend_gives_the_expected_statuses(tmp_path, name):
    """The pytest front-end on every fixture candidate gives the statuses expected.json holds (the CLI is held to
    the same file by tests/test_fixture_candidates.py)."""
    exp = json.loads((CANDIDATES / name / "expected.json").read_text(encoding="utf-8"))
    doc = run_pytest_frontend(CANDIDATES / name, tmp_path / "out")
    assert doc["verdict"] == exp["verdict"]
    assert statuses(doc) == exp["statuses"]


@pytest.mark.slow
def test_pytest_frontend_with_xdist_equals_single_process(tmp_path):
    one = run_pytest_frontend(CANDIDATES / "symbol-003-ecc-low", tmp_path / "one")
    two = run_pytest_frontend(CANDIDATES / "symbol-003-ecc-low", tmp_path / "two", "-n", "2")
    assert statuses(one) == statuses(two) and one["verdict"] == two["verdict"] == "conformant"
    assert [e["status"] for e in one["evidence"]] == [e["status"] for e in two["evidence"]]


def test_pytest_selection_is_a_partial_run(tmp_path):
    doc = run_pytest_frontend(CANDIDATES / "example", tmp_path / "k", "-k", "PAYLOAD-003")
    st = statuses(doc)
    assert doc["verdict"] == "partial" and st["PAYLOAD-003"] == "pass"
    assert {s for r, s in st.items() if r != "PAYLOAD-003"} == {"not_run"}
    assert doc["summary"]["checks_selected"] == ["payload_name_format"]


def test_cli_partial_runs_and_bad_arguments(tmp_path):
    from conformance.cli import main

    ex = str(CANDIDATES / "example")
    assert main(["assess", ex, "--out", str(tmp_path / "a"), "--today", TODAY, "--check", "payload_name_format",
                 "--quiet"]) == 0
    doc = json.loads((tmp_path / "a" / "results.json").read_text(encoding="utf-8"))
    assert doc["verdict"] == "partial" and doc["summary"]["checks_selected"] == ["payload_name_format"]
    assert statuses(doc)["GEN-001"] == "not_run"
    bad = str(CANDIDATES / "payload-003-name-lowercase")
    assert main(["assess", bad, "--out", str(tmp_path / "b"), "--today", TODAY, "--check", "payload_name_format",
                 "--quiet"]) == 1
    assert main(["assess", ex, "--out", str(tmp_path / "c"), "--check", "no_such_check"]) == 2
    assert main(["assess", ex, "--out", str(tmp_path / "d"), "--today", "2026-02-30"]) == 2
    assert main(["assess", ex, "--out", str(tmp_path / "e"), "--item", "99"]) == 2
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists() and not (tmp_path / "e").exists()


def test_partial_runs_exit_like_a_verdict_on_what_ran(tmp_path):
    from conformance.cli import main

    # a MUST that could not be judged in a partial run is exit 3, as in a full one (the switch to full mode is not
    # evidenced: DISPLAY-003 skip)
    only_default = str(CANDIDATES / "display-003-default-mode-only")
    assert main(["assess", only_default, "--out", str(tmp_path / "a"), "--today", TODAY,
                 "--check", "display_both_modes_available", "--quiet"]) == 3
    doc = json.loads((tmp_path / "a" / "results.json").read_text(encoding="utf-8"))
    assert doc["verdict"] == "partial" and statuses(doc)["DISPLAY-003"] == "skip"
    # an item selection runs only the checks of single items: a person's or the package's checks would judge them
    # from some of their items
    ex = str(CANDIDATES / "example")
    assert main(["assess", ex, "--out", str(tmp_path / "b"), "--today", TODAY, "--item", "0-1", "--quiet"]) == 0
    st = statuses(json.loads((tmp_path / "b" / "results.json").read_text(encoding="utf-8")))
    assert st["GEN-001"] == st["DISPLAY-003"] == st["PRIV-001"] == "not_run"
    assert st["PAYLOAD-003"] == st["SYMBOL-001"] == "pass"


def test_junit_marks_warnings(tmp_path):
    from conformance.cli import main

    assert main(["assess", str(CANDIDATES / "symbol-003-ecc-low"), "--out", str(tmp_path / "o"), "--today", TODAY,
                 "--quiet"]) == 0
    import xml.etree.ElementTree as ET

    root = ET.parse(tmp_path / "o" / "junit.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name", "").startswith("SYMBOL-003"))
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["status"] == "warn" and "WARN" in (case.findtext("system-out") or "")
    assert case.find("failure") is None and case.find("skipped") is None


def test_console_script_version():
    out = subprocess.run([sys.executable, "-m", "conformance", "--version"], cwd=REPO, env=_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "vnqr-conformance" in out.stdout and "catalogue" in out.stdout and "1405" in out.stdout
