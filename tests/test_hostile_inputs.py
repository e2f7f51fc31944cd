"""Hostile corpus, files and settings: unusable input is a clear error (exit 2) before anything is written, naming the
file and the problem; --out never touches what the suite did not write; output appears whole or not at all."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conformance.cli import main, printable

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "fixtures" / "candidates" / "example"
PROFILE = (REPO / "specs" / "profile.default.yaml").read_text(encoding="utf-8")
TODAY = "2026-11-27"


def small_package(root: Path) -> Path:
    """A copy of the example with only its two payload items (fast to assess)."""
    shutil.copytree(EXAMPLE, root)
    doc = json.loads((root / "candidate.json").read_text(encoding="utf-8"))
    doc["evidence"] = [e for e in doc["evidence"] if e["kind"] == "payload"]
    (root / "candidate.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return root


def run_cli(*args: str) -> tuple[int, str]:
    """The CLI in a subprocess (its stderr is what a user sees)."""
    p = subprocess.run([sys.executable, "-m", "conformance", *args], cwd=REPO, capture_output=True, text=True,
                       timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    return p.returncode, p.stdout + p.stderr


@pytest.mark.parametrize("name, text, expect", [
    ("alias-bomb.yaml", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n"
                        "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n", "aliases"),
    ("duplicate.yaml", PROFILE + "\nname: again\n", "given twice"),
    ("nan.yaml", PROFILE.replace("min_symbol_contrast: 0.40", "min_symbol_contrast: .nan"), "not a finite number"),
    ("inf.yaml", PROFILE.replace("toggle_max_seconds: 1.0", "toggle_max_seconds: .inf"), "not a finite number"),
    ("huge.yaml", PROFILE.replace("toggle_max_seconds: 1.0", "toggle_max_seconds: 1.0e+300"), "maximum"),
    ("deep.json", "[" * 50000 + "]" * 50000, "nested deeper"),
    ("nan.json", '{"name": NaN}', "not a number JSON allows"),
])
def test_unusable_profile_exits_2_before_writing(tmp_path, name, text, expect):
    prof = tmp_path / name
    prof.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    t0 = time.monotonic()
    rc, said = run_cli("assess", str(small_package(tmp_path / "pkg")), "--out", str(out), "--profile", str(prof))
    assert rc == 2 and expect in said and name in said, said[-1500:]
    assert "Traceback" not in said and "lỗi:" in said
    assert not out.exists()
    assert time.monotonic() - t0 < 60  # the alias bomb is refused, not expanded


def test_deeply_nested_candidate_json_is_a_package_error(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "candidate.json").write_text("[" * 100000 + "]" * 100000, encoding="utf-8")
    rc, said = run_cli("assess", str(pkg), "--out", str(tmp_path / "o"))
    assert rc == 2 and "candidate.json" in said and "nested deeper" in said and "Traceback" not in said


def test_duplicate_key_in_candidate_json(tmp_path):
    pkg = small_package(tmp_path / "pkg")
    text = (pkg / "candidate.json").read_text(encoding="utf-8")
    (pkg / "candidate.json").write_text(text.replace('"spec_version"', '"device": {}, "device"', 1), encoding="utf-8")
    rc, said = run_cli("assess", str(pkg), "--out", str(tmp_path / "o"))
    assert rc == 2 and "given twice" in said


@pytest.mark.parametrize("args, expect", [
    (["--today", "2026-13-40"], "--today"), (["--today", "yesterday"], "--today"),
    (["--check", "no_such_check"], "no_such_check"), (["--item", "7"], "--item 7"), (["--workers", "0"], "workers"),
])
def test_bad_arguments_exit_2(tmp_path, args, expect):
    out = tmp_path / "out"
    rc, said = run_cli("assess", str(small_package(tmp_path / "pkg")), "--out", str(out), *args)
    assert rc == 2 and expect in said and not out.exists()


def test_out_is_an_existing_file(tmp_path):
    f = tmp_path / "report.txt"
    f.write_text("mine")
    assert main(["assess", str(small_package(tmp_path / "pkg")), "--out", str(f), "--quiet"]) == 2
    assert f.read_text() == "mine"


def test_out_inside_or_around_the_package_is_refused(tmp_path):
    pkg = small_package(tmp_path / "pkg")
    before = sorted(p.name for p in pkg.rglob("*"))
    assert main(["assess", str(pkg), "--out", str(pkg), "--quiet"]) == 2
    assert main(["assess", str(pkg), "--out", str(pkg / "reports"), "--quiet"]) == 2
    assert main(["assess", str(pkg), "--out", str(tmp_path), "--quiet"]) == 2
    assert sorted(p.name for p in pkg.rglob("*")) == before


def test_out_holding_foreign_files_is_refused(tmp_path):
    out = tmp_path / "vendor-results"
    out.mkdir()
    (out / "results.json").write_text('{"vendor": "own file"}')
    assert main(["assess", str(small_package(tmp_path / "pkg")), "--out", str(out), "--quiet"]) == 2
    assert (out / "results.json").read_text() == '{"vendor": "own file"}'


def test_out_that_cannot_be_created(tmp_path):
    f = tmp_path / "a-file"
    f.write_text("x")
    rc, said = run_cli("assess", str(small_package(tmp_path / "pkg")), "--out", str(f / "sub" / "o"))
    assert rc == 2 and "cannot write" in said and f.read_text() == "x"


def test_rerun_replaces_own_output_whole(tmp_path):
    pkg = small_package(tmp_path / "pkg")
    out = tmp_path / "out"
    assert main(["assess", str(pkg), "--out", str(out), "--today", TODAY, "--quiet"]) == 3
    (out / "stale-extra.txt").write_text("left by hand")
    assert main(["assess", str(pkg), "--out", str(out), "--today", TODAY, "--quiet"]) == 3
    assert not (out / "stale-extra.txt").exists()  # the folder is replaced, never mixed
    assert {p.name for p in out.iterdir()} >= {"results.json", "report.html", "junit.xml", "allure-results"}


def test_crashed_run_leaves_previous_output(tmp_path, monkeypatch):
    pkg = small_package(tmp_path / "pkg")
    out = tmp_path / "out"
    assert main(["assess", str(pkg), "--out", str(out), "--today", TODAY, "--quiet"]) == 3
    before = (out / "results.json").read_bytes()
    import conformance.reports as reports

    def boom(*a, **k):
        raise RuntimeError("injected crash while writing")

    monkeypatch.setattr(reports, "write_reports", boom)
    # a suite bug: exit 5 (conformance/exits.py), and the previous report stays as it was
    assert main(["assess", str(pkg), "--out", str(out), "--today", TODAY, "--quiet"]) == 5
    assert (out / "results.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_two_runs_into_one_folder_do_not_mix(tmp_path):
    a, b = small_package(tmp_path / "a"), small_package(tmp_path / "b")
    doc = json.loads((b / "candidate.json").read_text(encoding="utf-8"))
    doc["candidate"]["name"] = "second app"
    (b / "candidate.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    rcs = []
    ts = [threading.Thread(target=lambda p=p: rcs.append(run_cli("assess", str(p), "--out", str(out), "--quiet")[0]))
          for p in (a, b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(300)
    assert sorted(rcs) == [3, 3]
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    allure = [json.loads(p.read_text(encoding="utf-8")) for p in (out / "allure-results").glob("*-result.json")]
    epics = {lab["value"] for r in allure for lab in r["labels"] if lab["name"] == "epic"}
    assert epics == {res["candidate"]["name"]}  # one run's files only


def test_terminal_escapes_in_manifest_strings_are_not_printed_raw(tmp_path):
    pkg = small_package(tmp_path / "pkg")
    doc = json.loads((pkg / "candidate.json").read_text(encoding="utf-8"))
    doc["candidate"]["name"] = "evil\x1b[2J\x1b]0;pwned\x07app\u202e"
    (pkg / "candidate.json").write_text(json.dumps(doc), encoding="utf-8")
    rc, said = run_cli("assess", str(pkg), "--out", str(tmp_path / "o"))
    assert rc == 3 and "\x1b" not in said and "\x07" not in said and "\u202e" not in said
    assert "evil\\x1b[2J" in said
    assert printable("a\x1bb\u200ec\nd") == "a\\x1bb\\u200ec\nd"


@pytest.mark.parametrize("log,expect", [
    ({"exchanges": [{"url": "http://127.0.0.1/x", "status": "200", "personal_data": ["so_giay_to"]}, 7, None],
      "probes": [{"kind": "malformed_id", "status": [500]}]}, None),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_a_hostile_capture_log_in_a_package_is_read_as_untrusted(tmp_path, log, expect):
    """A package's capture/log.json is the vendor's file: strange entries are dropped or read as no answer, a bomb is
    an unusable log (PRIV-001 error naming it), and the run never crashes."""
    from conformance.capture.live import load_capture_log
    from conformance.engine import assess

    pkg = tmp_path / "pkg"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "candidates" / "example", pkg)
    (pkg / "capture").mkdir()
    (pkg / "capture" / "log.json").write_text(log if isinstance(log, str) else json.dumps(log), encoding="utf-8")
    manifest = json.loads((pkg / "candidate.json").read_text(encoding="utf-8"))
    manifest["capture_log"] = "capture/log.json"
    (pkg / "candidate.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    doc, err = load_capture_log(pkg, manifest)
    if expect:
        assert doc is None and err is not None and expect in err[0]
    else:
        assert err is None and doc is not None
        assert [e["status"] for e in doc["exchanges"]] == [None] and doc["probes"][0]["status"] is None
    res = assess(pkg, today="2025-11-27", workers=1, cache=False, checks=["live_data_handling"]).to_dict()
    priv = next(r for r in res["requirements"] if r["id"] == "PRIV-001")
    assert priv["status"] == ("error" if expect else "skip"), priv
