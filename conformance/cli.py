"""Command line: `python -m conformance assess [PATH] --out DIR [--profile FILE] [--show-pii]`.

Exit codes (a contract for CI tooling): 0 conformant, 1 non-conformant, 3 incomplete, 2 the package or profile
cannot be used (the message names the file and the problem). With --waivers: 0 when every open result is waived,
4 when a waiver is stale (expired or no longer matching anything).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import sys
from pathlib import Path

EXIT = {"conformant": 0, "non-conformant": 1, "incomplete": 3}
EXIT_UNUSABLE = 2
TEST_MODULE = Path(__file__).resolve().parent / "test_conformance.py"
REPO = Path(__file__).resolve().parent.parent

VERDICT_VI = {"conformant": "phù hợp", "non-conformant": "không phù hợp", "incomplete": "chưa đủ bằng chứng"}
STATUS_MARK = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "not_applicable": "N/A", "skip": "SKIP",
               "review": "REVIEW", "error": "ERROR"}


def _err(msg_en: str, msg_vi: str) -> None:
    print(f"error: {msg_en}\nlỗi: {msg_vi}", file=sys.stderr)


def preflight(package: Path, profile: str | None, waivers: str | None = None):
    """Load profile, waivers and package once before running; returns an exit code on failure, else None."""
    from conformance.capture.package import PackageError, load_package
    from conformance.specs import SpecError, load_profile
    from conformance.waivers import load_waivers

    try:
        load_profile(profile)
        if waivers:
            load_waivers(waivers)
    except SpecError as exc:
        _err(f"{exc.file}: {exc.json_path}: {exc.message}", f"{exc.file}: {exc.json_path}: {exc.message}")
        return EXIT_UNUSABLE
    try:
        load_package(package)
    except PackageError as exc:
        _err(f"{exc.file}: {exc.json_path}: {exc.message_en}", f"{exc.file}: {exc.json_path}: {exc.message_vi}")
        return EXIT_UNUSABLE
    return None


def default_out(package: Path) -> Path:
    name = package.name
    try:
        name = json.loads((package / "candidate.json").read_text(encoding="utf-8"))["candidate"]["name"]
    except Exception:
        pass
    from conformance.plugin import _slug

    return REPO / "reports" / f"{_slug(name)}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run_assessment(package: Path, out: Path | None = None, profile: str | None = None, show_pii: bool = False,
                   today: str | None = None, checks: list[str] | None = None, quiet: bool = False,
                   waivers: str | None = None) -> int:
    """Assess an evidence package through the pytest plugin; print a summary; return the exit code."""
    import pytest

    package = Path(package)
    rc = preflight(package, profile, waivers)
    if rc is not None:
        return rc
    out = Path(out) if out else default_out(package)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    if results_path.exists():
        results_path.unlink()
    args = [str(TEST_MODULE), "--candidate", str(package), "--out", str(out),
            "--junitxml", str(out / "junit.xml"), "--alluredir", str(out / "allure-results"), "--clean-alluredir",
            "-p", "conformance.plugin", "-p", "no:cacheprovider", "-o", "addopts=", "-o", "junit_family=xunit2",
            "-o", "junit_suite_name=vn-personal-qr-1405", "--rootdir", str(REPO), "-q", "--tb=no", "-W",
            "ignore::conformance.plugin.ConformanceWarning"]
    if profile:
        args += ["--profile", str(profile)]
    if show_pii:
        args.append("--show-pii")
    if today:
        args += ["--today", today]
    for c in checks or []:
        args += ["--check", c]
    if waivers:
        args += ["--waivers", str(waivers)]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        pytest_rc = pytest.main(args)
    (out / "pytest.log").write_text(buf.getvalue(), encoding="utf-8")
    if not results_path.exists():
        _err(f"the assessment did not finish (pytest exit {int(pytest_rc)}); see {out / 'pytest.log'}",
             f"quá trình đánh giá không hoàn tất (pytest thoát với mã {int(pytest_rc)}); xem {out / 'pytest.log'}")
        return EXIT["incomplete"]
    results = json.loads(results_path.read_text(encoding="utf-8"))
    if not quiet:
        print_summary(results, out)
    from conformance.waivers import exit_code

    return exit_code(results, EXIT[results["verdict"]])


def print_summary(results: dict, out: Path) -> None:
    cand = results["candidate"]
    print(f"Candidate / Ứng dụng: {cand.get('name')} {cand.get('version', '')}".rstrip())
    print(f"{'ID':<12} {'LEVEL':<7} {'ORIGIN':<8} {'STATUS':<7} REASON")
    for r in results["requirements"]:
        reason = ""
        if r["status"] != "pass":
            reason = next((f["message_en"] for f in r["findings"] if f["status"] == r["status"]), "")
        if len(reason) > 70:
            reason = reason[:67] + "..."
        print(f"{r['id']:<12} {r['level']:<7} {r['origin']:<8} {STATUS_MARK[r['status']]:<7} {reason}")
    errs = [e for e in results["evidence"] if e["status"] == "error"]
    for e in errs:
        print(f"evidence error / lỗi bằng chứng: {e['file']}: {e.get('error')}")
    first = next((r for r in results["requirements"] if r.get("reproduce") and r["status"] in ("fail", "error")), None)
    if first:
        print(f"reproduce / tái hiện {first['id']}: {first['reproduce']['pytest']}")
    v = results["verdict"]
    print(f"VERDICT / KẾT LUẬN: {v.upper()} ({VERDICT_VI[v]})")
    w = results.get("waivers")
    if w:
        print(f"waivers / miễn trừ: {len(w['applied'])} applied, {len(w['expired'])} expired, {len(w['unused'])} unused; "
              f"not waived: {', '.join(w['unwaived']) or 'none'} -> CI {w['ci_outcome']}")
    print(f"reports / báo cáo: {out}/report.html, results.json, junit.xml, allure-results/")


def cmd_assess(ns) -> int:
    from conformance.plugin import EXAMPLE_CANDIDATE

    package = Path(ns.path) if ns.path else EXAMPLE_CANDIDATE
    return run_assessment(package, ns.out, ns.profile, ns.show_pii, ns.today, ns.check, waivers=ns.waivers)


def cmd_checks(ns) -> int:
    from conformance.checks.registry import all_checks

    for spec in sorted(all_checks().values(), key=lambda s: (s.requirements, s.name)):
        loc = Path(spec.location.rsplit(":", 1)[0]).relative_to(REPO)
        line = spec.location.rsplit(":", 1)[1]
        print(f"{'+'.join(spec.requirements):<22} {spec.scope:<8} {spec.name:<40} {loc}:{line}")
    return 0


def cmd_requirements(ns) -> int:
    from conformance.specs import load_catalogue

    for r in load_catalogue().values():
        print(f"{r['id']:<12} {r['level']:<7} {r['origin']:<8} {r['grade']}  {r['title_en']} / {r['title_vi']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m conformance",
                                description="Conformance suite for the Vietnam personal QR code (1405/QĐ-BTTTT v1.1)")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assess", help="assess an evidence package (default: the bundled example candidate)")
    a.add_argument("path", nargs="?", help="evidence package folder containing candidate.json")
    a.add_argument("--out", help="report folder (default: reports/<candidate>-<timestamp>/)")
    a.add_argument("--profile", help="assessment profile YAML/JSON (default: specs/profile.default.yaml)")
    a.add_argument("--show-pii", action="store_true", help="do not mask personal data in reports")
    a.add_argument("--today", help="validation date YYYY-MM-DD (default: today)")
    a.add_argument("--check", action="append", help="run only this check (repeatable); see `checks`")
    a.add_argument("--waivers", help="known issues file (specs/waivers.schema.json); exit 0 if all non-pass results "
                                     "are waived, 4 if a waiver is expired or unused")
    a.set_defaults(func=cmd_assess)
    c = sub.add_parser("checks", help="list every check with its requirement IDs and source location")
    c.set_defaults(func=cmd_checks)
    r = sub.add_parser("requirements", help="list the requirement catalogue")
    r.set_defaults(func=cmd_requirements)
    try:
        from conformance import live_cli
    except ImportError:
        live_cli = None
    if live_cli is not None:
        live_cli.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    try:
        return ns.func(ns)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
