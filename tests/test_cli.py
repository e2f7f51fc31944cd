"""The CLI as people and CI use it: exit codes, messages naming the file and the problem, no tracebacks."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "fixtures" / "candidates" / "example"


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(REPO)})


def package_with(tmp_path: Path, mutate) -> Path:
    d = tmp_path / "pkg"
    shutil.copytree(EXAMPLE, d, ignore=shutil.ignore_patterns("expected.json"))
    man = json.loads((d / "candidate.json").read_text(encoding="utf-8"))
    mutate(man, d)
    (d / "candidate.json").write_text(json.dumps(man, ensure_ascii=False), encoding="utf-8")
    return d


def assert_clean_error(p: subprocess.CompletedProcess, *needles: str) -> None:
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert "error:" in p.stderr and "lỗi:" in p.stderr
    for n in needles:
        assert n in p.stderr, (n, p.stderr)


def test_unknown_key_names_the_json_path(tmp_path):
    d = package_with(tmp_path, lambda m, d: m["evidence"][1].update({"colour": "blue"}))
    assert_clean_error(cli("assess", str(d), "--out", str(tmp_path / "o")), "candidate.json", "$.evidence[1]", "colour")


def test_wrong_type_names_the_json_path(tmp_path):
    d = package_with(tmp_path, lambda m, d: m["subjects"][0].update({"loai_dinh_danh": "zero"}))
    assert_clean_error(cli("assess", str(d), "--out", str(tmp_path / "o")), "$.subjects[0].loai_dinh_danh")


def test_not_json(tmp_path):
    d = package_with(tmp_path, lambda m, d: None)
    (d / "candidate.json").write_text("{ not json", encoding="utf-8")
    assert_clean_error(cli("assess", str(d), "--out", str(tmp_path / "o")), "candidate.json", "not valid JSON")


def test_missing_folder_and_missing_manifest(tmp_path):
    assert_clean_error(cli("assess", str(tmp_path / "nope")), "does not exist")
    (tmp_path / "empty").mkdir()
    assert_clean_error(cli("assess", str(tmp_path / "empty")), "candidate.json")


def test_broken_profile(tmp_path):
    prof = tmp_path / "p.yaml"
    prof.write_text("profile_version: '1'\nname: x\n", encoding="utf-8")
    assert_clean_error(cli("assess", str(EXAMPLE), "--profile", str(prof), "--out", str(tmp_path / "o")), "p.yaml")


def test_symlink_out_of_the_package_is_an_evidence_error(tmp_path):
    def mutate(m, d):
        os.symlink("/etc/hostname", d / "screens" / "link.png")
        m["evidence"].append({"file": "screens/link.png", "subject": "s1", "mode": "default", "kind": "screenshot"})

    d = package_with(tmp_path, mutate)
    out = tmp_path / "o"
    p = cli("assess", str(d), "--out", str(out), "--check", "symbol_single_and_decodes")
    assert p.returncode == 3, p.stdout + p.stderr  # SYMBOL-001 errors on one item: incomplete, not a crash
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    ev = {e["file"]: e for e in res["evidence"]}
    assert ev["screens/link.png"]["status"] == "error"
    assert "outside the package" in ev["screens/link.png"]["error"]
    assert ev["screens/s1-default.png"]["status"] == "pass"
    assert "Traceback" not in p.stdout + p.stderr


def test_non_conformant_run_prints_table_and_exit_1(tmp_path):
    out = tmp_path / "o"
    p = cli("assess", str(REPO / "fixtures" / "candidates" / "payload-005-type-2"), "--out", str(out))
    assert p.returncode == 1, p.stdout + p.stderr
    assert "PAYLOAD-005" in p.stdout and "FAIL" in p.stdout and "NON-CONFORMANT" in p.stdout
    for f in ("results.json", "report.html", "junit.xml"):
        assert (out / f).is_file(), f
    assert any((out / "allure-results").glob("*-result.json"))
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert "PAYLOAD-005" in junit and "failure" in junit
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rep = {r["id"]: r for r in res["requirements"]}["PAYLOAD-005"]["reproduce"]
    assert "-k PAYLOAD-005 --today " in rep["pytest"] and "--check payload_identification_type" in rep["cli"]
    argv = shlex.split(rep["cli"])
    assert argv[:2] == ["vnqr-conformance", "assess"] and "--item" in argv and "--today" in argv
    # the terminal prints it as this machine runs it (this interpreter, the package as given), naming the file
    line = next(ln for ln in p.stdout.splitlines() if "reproduce / tái hiện:" in ln)
    printed = shlex.split(line.split("reproduce / tái hiện:", 1)[1])
    assert printed[:4] == [sys.executable, "-m", "conformance", "assess"] and printed[5:] == argv[3:]
    assert "(payloads/" in p.stdout or "(screens/" in p.stdout
    # it runs as printed, from anywhere, and gives the same judgement, alone
    again = subprocess.run([*printed, "--out", str(tmp_path / "again"), "--quiet"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 1, again.stdout + again.stderr
    res2 = json.loads((tmp_path / "again" / "results.json").read_text(encoding="utf-8"))
    assert res2["verdict"] == "partial"
    assert {r["id"]: r["status"] for r in res2["requirements"]}["PAYLOAD-005"] == "fail"


def test_checks_listing_names_every_requirement():
    p = cli("checks")
    assert p.returncode == 0
    for rid in ("GEN-001", "PAYLOAD-012", "DISPLAY-003", "SYMBOL-008", "PRIV-001"):
        assert rid in p.stdout
    assert "conformance/checks/" in p.stdout


def test_pytest_entry_point_selects_by_requirement_id(tmp_path):
    """`pytest conformance --candidate PATH -k ID` runs just that requirement's tests, as pytest users expect."""
    out = tmp_path / "o"
    p = subprocess.run([sys.executable, "-m", "pytest", "conformance", "--candidate",
                        str(REPO / "fixtures" / "candidates" / "payload-005-type-2"), "--out", str(out),
                        "-k", "PAYLOAD-005", "-p", "no:cacheprovider", "-q"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert p.returncode == 1, p.stdout[-2000:]
    assert "2 failed" in p.stdout and "deselected" in p.stdout
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert {r["id"]: r["status"] for r in res["requirements"]}["PAYLOAD-005"] == "fail"
    # a -k selection is a partial run, labelled as one: other requirements are not_run, not "skip"
    assert res["verdict"] == "partial" and res["summary"]["checks_selected"] == ["payload_identification_type"]
    assert {r["status"] for r in res["requirements"] if r["id"] != "PAYLOAD-005"} == {"not_run"}


def test_demo_live_http_conformant_and_defect(tmp_path):
    """The bundled reference candidate, started on loopback and driven over its assessment interface."""
    p = cli("demo-live", "--adapter", "http", "--out", str(tmp_path / "ok"), "--report-number", "TT-2026-0042",
            "--workers", "1")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "CONFORMANT" in p.stdout
    ok = json.loads((tmp_path / "ok" / "results.json").read_text(encoding="utf-8"))
    assert ok["report"]["report_number"] == "TT-2026-0042"  # the filed report's options, as with assess
    p = cli("demo-live", "--adapter", "http", "--defect", "no-toggle", "--out", "bad", cwd=tmp_path)
    assert p.returncode == 1, p.stdout[-3000:]
    res = json.loads((tmp_path / "bad" / "results.json").read_text(encoding="utf-8"))
    assert {r["id"]: r["status"] for r in res["requirements"]}["DISPLAY-003"] == "fail"
    # the reports name the package where it is once the run is complete, not the staging folder it was read in
    assert res["package"]["path"] == "bad/package"
    repro = [r["reproduce"]["cli"] for r in res["requirements"] if r.get("reproduce")]
    assert repro and all("bad/package" in c for c in repro)
    assert ".tmp" not in p.stdout + json.dumps(res)
    html = (tmp_path / "bad" / "report.html").read_text(encoding="utf-8")
    assert ".tmp-" not in html
    log = json.loads((tmp_path / "bad" / "package" / "capture" / "log.json").read_text(encoding="utf-8"))
    assert log["exchanges"]


@pytest.mark.browser
def test_demo_live_browser_conformant(tmp_path):
    """Headless Chromium at a fractional device pixel ratio (2.625) against the conformant reference app."""
    p = cli("demo-live", "--out", str(tmp_path / "b"))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    res = json.loads((tmp_path / "b" / "results.json").read_text(encoding="utf-8"))
    assert res["device"].get("dpr") == 2.625 or res["device"].get("ppi") == 420
    assert all(e["status"] != "error" for e in res["evidence"])


def _secrets(manifest: dict) -> list[str]:
    from conformance.payload import ascii_name

    out = []
    for s in manifest["subjects"]:
        ext = s.get("ext") or {}
        out += [s.get("so_giay_to", ""), s["ngay_sinh"], ext.get("phone", ""), ext.get("bhyt", ""), s["ho_ten"],
                ascii_name(s["ho_ten"]), ascii_name(s["ho_ten"]).lower()]
        y, m, d = s["ngay_sinh"].split("-")
        out.append(f"{d}/{m}/{y}")
    return [x for x in out if x]


@pytest.mark.parametrize("name", ["payload-003-name-lowercase", "display-001-full-number-in-default-mode"])
def test_no_personal_data_in_any_output_file(name, tmp_path):
    """results.json, report.html, junit.xml, Allure results and the pytest log: all masked by default."""
    pkg = REPO / "fixtures" / "candidates" / name
    out = tmp_path / "o"
    p = cli("assess", str(pkg), "--out", str(out))
    assert p.returncode == 1
    secrets = _secrets(json.loads((pkg / "candidate.json").read_text(encoding="utf-8")))
    files = [f for f in out.rglob("*") if f.is_file() and f.suffix in (".json", ".html", ".xml", ".log", ".txt")]
    assert len(files) > 10
    leaks = {(f.name, s) for f in files for s in secrets if s in f.read_text(encoding="utf-8", errors="ignore")}
    assert not leaks
    assert not {s for s in secrets if s in p.stdout}


def test_a_suite_bug_is_exit_5_not_a_verdict(tmp_path, monkeypatch, capsys):
    # a fault injected into the report writer stands for any bug of the suite: the run must not end as a verdict on
    # the app (1 non-conformant) nor as unusable input (2), and the error's message (which may hold personal data)
    # must not be printed; the full traceback only on request
    from conformance import cli, exits, reports

    def broken(*_a, **_k):
        raise RuntimeError("boom 001093029317")

    monkeypatch.setattr(reports, "write_assessment", broken)
    args = ["assess", str(REPO / "fixtures" / "candidates" / "example"), "--out", str(tmp_path / "out"), "--quiet"]
    monkeypatch.delenv("VNQR_DEBUG", raising=False)
    assert cli.main(args) == exits.SUITE_ERROR == 5
    out = capsys.readouterr()
    assert "the suite itself failed (RuntimeError at cli.py:" in out.err  # the innermost frame of the suite
    assert "bộ kiểm thử gặp lỗi nội bộ" in out.err
    assert "001093029317" not in out.err + out.out and "Traceback" not in out.err
    monkeypatch.setenv("VNQR_DEBUG", "1")
    assert cli.main(args) == 5
    assert "Traceback" in capsys.readouterr().err


def test_a_reader_that_goes_away_is_not_a_suite_error():
    """`vnqr-conformance requirements | head -1`: the closed pipe ends the command quietly (141, as a shell tool
    killed by SIGPIPE), never as a crash of the suite (exit 5)."""
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "requirements"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # gone before the command writes its first line (it takes far longer to start)
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=60) == 141, err
    assert "suite itself failed" not in err and "Traceback" not in err


def test_the_terminal_reproducer_keeps_a_masked_package_name_masked():
    """The terminal runs the reproducer with this interpreter and the package path as given, unless the report masked
    the folder's name (it holds personal data): then the masked name stays."""
    from argparse import Namespace

    from conformance.cli import runnable

    doc_cmd = "vnqr-conformance assess nguyen-999999999512 --check symbol_size --today 2026-01-02"
    masked = runnable(doc_cmd, Namespace(path="/data/nguyen-079201004512", show_pii=False))
    assert "079201004512" not in masked and "nguyen-999999999512" in masked
    assert shlex.split(masked)[:3] == [sys.executable, "-m", "conformance"]
    plain = runnable("vnqr-conformance assess my-app --check symbol_size", Namespace(path="/data/my-app",
                                                                                     show_pii=False))
    assert shlex.split(plain)[4] == "/data/my-app"
    shown = runnable(doc_cmd, Namespace(path="/data/nguyen-079201004512", show_pii=True))
    assert shlex.split(shown)[4] == "/data/nguyen-079201004512"
