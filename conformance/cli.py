"""Command line: `vnqr-conformance` (same as `python -m conformance`).

    vnqr-conformance assess [PATH] --out DIR [--profile FILE] [--show-pii] [--today YYYY-MM-DD] [--check NAME]...
                            [--item N]... [--waivers FILE] [--workers N] [--quiet]
    vnqr-conformance checks | requirements | live | demo-live | --version

Exit codes (a contract for CI tooling): 0 conformant, 1 non-conformant, 3 incomplete, 2 the input cannot be used
(the message names the file and the problem; nothing is written). A partial run (--check / --item) exits 0 when the
selected checks hold, 1 when one fails, 3 when one could not judge (error). With --waivers: 0 when every open result
is waived, 4 when a waiver is stale (expired or no longer matching anything).
"""
from __future__ import annotations

import argparse
import shlex
import sys
import unicodedata
from pathlib import Path
from typing import Any, TextIO

EXIT = {"conformant": 0, "non-conformant": 1, "incomplete": 3}
EXIT_UNUSABLE = 2
REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CANDIDATE = REPO / "fixtures" / "candidates" / "example"

STATUS_MARK = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "not_applicable": "N/A", "skip": "SKIP",
               "review": "REVIEW", "error": "ERROR", "not_run": "NOT RUN"}


def printable(text: Any) -> str:
    """Text safe for a terminal: control and format characters (escape sequences, bidi overrides) shown as \\xNN."""
    out = []
    for ch in str(text):
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"):
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    return "".join(out)


def err(message_en: str, message_vi: str) -> None:
    print(printable(f"error: {message_en}\nlỗi: {message_vi}"), file=sys.stderr)


def exit_code_of(results: dict[str, Any]) -> int:
    """The exit code of a results document (verdict, partial runs and waivers)."""
    from conformance.waivers import exit_code

    verdict = results["verdict"]
    if verdict == "partial":
        statuses = {r["status"] for r in results["requirements"]}
        code = 1 if "fail" in statuses else 3 if "error" in statuses else 0
    else:
        code = EXIT[verdict]
    return exit_code(results, code)


class _Progress:
    """Items done / total with ETA: a tqdm bar on a terminal, one line per item otherwise (CI logs)."""

    def __init__(self, stream: TextIO = sys.stderr):
        self.stream, self.bar = stream, None
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, done: int, total: int, label: str) -> None:
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="item", file=self.stream, desc="assess", leave=False)
            self.bar.update(done - self.bar.n)
        else:
            print(f"[{done}/{total}] {printable(label)}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def load_inputs(ns: argparse.Namespace) -> tuple[Any, Any] | int:
    """Plan and waivers from the command line, or the exit code 2 after a clear message (nothing written)."""
    from conformance.capture.package import PackageError
    from conformance.engine import Plan, UsageError
    from conformance.outdir import OutputError, check_out
    from conformance.specs import SpecError
    from conformance.waivers import load_waivers

    package = Path(ns.path) if ns.path else EXAMPLE_CANDIDATE
    try:
        waivers = load_waivers(ns.waivers) if ns.waivers else None
        plan = Plan.make(package, profile=ns.profile, today=ns.today, checks=ns.check,
                         items=ns.item if ns.item else None)
        if ns.out:
            check_out(Path(ns.out), plan.package.root)
    except SpecError as exc:
        err(f"{exc.file}: {exc.json_path}: {exc.message}", f"{exc.file}: {exc.json_path}: {exc.message_vi}")
        return EXIT_UNUSABLE
    except PackageError as exc:
        err(f"{exc.file}: {exc.json_path}: {exc.message_en}", f"{exc.file}: {exc.json_path}: {exc.message_vi}")
        return EXIT_UNUSABLE
    except (UsageError, OutputError) as exc:
        err(exc.message_en, exc.message_vi)
        return EXIT_UNUSABLE
    return plan, waivers


def default_out(plan: Any) -> Path:
    from conformance.engine.run import default_out as _d

    return _d(plan.package.root, str(plan.package.candidate.get("name", "candidate")))


def run_assessment(package: Path | str | None, out: Path | str | None = None, profile: str | None = None,
                   show_pii: bool = False, today: str | None = None, checks: list[str] | None = None,
                   quiet: bool = False, waivers: str | None = None, items: list[int] | None = None,
                   workers: int | None = None) -> int:
    """Assess a package and write its reports into `out`; print a summary unless quiet; return the exit code."""
    argv = ["assess"] + ([str(package)] if package else []) + (["--out", str(out)] if out else [])
    argv += (["--profile", str(profile)] if profile else []) + (["--show-pii"] if show_pii else [])
    argv += (["--today", today] if today else []) + [a for c in checks or [] for a in ("--check", c)]
    argv += (["--quiet"] if quiet else []) + (["--waivers", str(waivers)] if waivers else [])
    argv += [a for i in items or [] for a in ("--item", str(i))]
    argv += ["--workers", str(workers)] if workers else []
    return main(argv)


def cmd_assess(ns: argparse.Namespace) -> int:
    from conformance.outdir import OutputError, staged_output
    from conformance.reports import ReportError

    loaded = load_inputs(ns)
    if isinstance(loaded, int):
        return loaded
    plan, waivers = loaded
    out = Path(ns.out) if ns.out else default_out(plan)
    try:
        with staged_output(out, plan.package.root) as folder:
            shown = assess_into(plan, folder, waivers=waivers, show_pii=ns.show_pii, workers=ns.workers,
                                quiet=ns.quiet, cache=False if ns.no_cache else None)
    except (OutputError, ReportError) as exc:
        err(getattr(exc, "message_en", str(exc)), getattr(exc, "message_vi", str(exc)))
        return EXIT_UNUSABLE
    if not ns.quiet:
        print_summary(shown, out, ns)
    return exit_code_of(shown)


def assess_into(plan: Any, folder: Path, *, waivers: Any = None, show_pii: bool = False, workers: int | None = None,
                quiet: bool = False, cache: Any = None) -> dict[str, Any]:
    """Run a plan and write every report format into `folder` (a fresh staging folder: see conformance/outdir.py).
    Returns the results document as written (masked unless show_pii). cache: the analysis cache (None: the
    default, False: none; conformance/engine/cache.py)."""
    from conformance.engine import run_plan

    progress = None if quiet else _Progress()
    try:
        assessment = run_plan(plan, workers=workers, progress=progress, cache=cache)
    finally:
        if progress is not None:
            progress.close()
    # the reports' modules (numpy, PIL, Jinja2) are imported only now: the parent stays small while workers run
    from conformance.reports import ALL_FORMATS, write_reports

    results = assessment.to_dict(linked=True)  # per-item detail stays on disk (Assessment.detail_of)
    if waivers is not None:
        from conformance.waivers import apply_waivers

        apply_waivers(results, waivers, plan.today)
    shown: dict[str, Any] = {}
    write_reports(results, folder, package_root=plan.package.root, show_pii=show_pii, formats=ALL_FORMATS,
                  details=assessment.detail_of, document=shown)
    return shown


def _reproducer(ns: argparse.Namespace, req: dict[str, Any]) -> str:
    checks = sorted({f["check"] for f in req["findings"] if f.get("check") and f.get("status") == req["status"]})
    items = sorted({f["item"] for f in req["findings"] if isinstance(f.get("item"), int)
                    and f.get("status") == req["status"]})
    args = [sys.executable, "-m", "conformance", "assess", ns.path or str(EXAMPLE_CANDIDATE), "--out",
            "reports/reproduce"]
    for c in checks:
        args += ["--check", c]
    for i in items[:5]:
        args += ["--item", str(i)]
    if ns.today:
        args += ["--today", ns.today]
    if ns.profile:
        args += ["--profile", ns.profile]
    return " ".join(shlex.quote(a) for a in args)


def print_summary(results: dict[str, Any], out: Path, ns: argparse.Namespace) -> None:
    from conformance.words import VERDICT_WORDS

    def say(text: str) -> None:
        print(printable(text))

    cand = results["candidate"]
    say(f"Candidate / Ứng dụng: {cand.get('name')} {cand.get('version', '')}".rstrip())
    say(f"{'ID':<12} {'LEVEL':<7} {'ORIGIN':<8} {'STATUS':<8} TITLE")
    for r in results["requirements"]:
        say(f"{r['id']:<12} {r['level']:<7} {r['origin']:<8} {STATUS_MARK[r['status']]:<8} {r['title_en']}")
    open_reqs = [r for r in results["requirements"] if r["status"] not in ("pass", "not_applicable", "not_run")]
    if open_reqs:
        say("")
        say("Not passed / Chưa đạt:")
    for r in open_reqs:
        say(f"- {r['id']} [{STATUS_MARK[r['status']]}] {r['title_en']} / {r['title_vi']}")
        for f in [f for f in r["findings"] if f.get("status") == r["status"]][:10]:
            where = f.get("evidence") or "package"
            if isinstance(f.get("item"), int):
                where = f"item {f['item']}: {where}"
            say(f"    {where}: {f.get('message_en', '')}")
            say(f"    {' ' * len(where)}  {f.get('message_vi', '')}")
        if r["status"] in ("fail", "warn", "review", "error"):
            say(f"    reproduce / tái hiện: {_reproducer(ns, r)}")
    for e in results["evidence"]:
        if e["status"] == "error":
            say(f"evidence error / lỗi bằng chứng: item {e['index']}: {e['file']}: {e.get('error')}")
    w = results.get("waivers")
    if w:
        say(f"waivers / miễn trừ: {len(w['applied'])} applied / đã áp dụng, {len(w['expired'])} expired / hết hạn, "
            f"{len(w['unused'])} unused / không dùng đến; not waived / chưa miễn trừ: {', '.join(w['unwaived']) or '-'}"
            f" -> CI {w['ci_outcome']}")
        for kind, vi in (("expired", "hết hạn"), ("unused", "không dùng đến")):
            for x in w[kind]:
                say(f"    {kind} / {vi}: {x.get('requirement')} ticket {x.get('ticket')} expires / hết hạn "
                    f"{x.get('expires')}")
    v = results["verdict"]
    say(f"VERDICT / KẾT LUẬN: {VERDICT_WORDS[v][1]} ({VERDICT_WORDS[v][0]})")
    say(f"reports / báo cáo: {out}/report.html, results.json, junit.xml, allure-results/")


def cmd_checks(ns: argparse.Namespace) -> int:
    from conformance.checks.registry import all_checks

    for spec in sorted(all_checks().values(), key=lambda s: (s.requirements, s.name)):
        path, line = spec.location
        try:
            loc = str(Path(path).relative_to(REPO))
        except ValueError:
            loc = path
        print(f"{'+'.join(spec.requirements):<22} {spec.scope:<8} {spec.name:<40} {loc}:{line}")
    return 0


def cmd_requirements(ns: argparse.Namespace) -> int:
    from conformance.specs import load_catalogue

    for r in load_catalogue().values():
        print(f"{r['id']:<12} {r['level']:<7} {r['origin']:<8} {r['grade']}  {r['title_en']} / {r['title_vi']}")
    return 0


def version_text() -> str:
    from conformance import SPEC_VERSION, __version__
    from conformance.specs import load_catalogue_document

    doc = load_catalogue_document()
    return (f"vnqr-conformance {__version__} (catalogue {doc['catalogue_version']}, "
            f"Decision 1405/QĐ-BTTTT v{SPEC_VERSION})")


def _item(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an evidence item index: {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"not an evidence item index: {value!r}")
    return n


def _workers(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of workers: {value!r}") from None
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError(f"workers must be 1..256, not {n}")
    return n


def add_assess_options(a: argparse.ArgumentParser) -> None:
    """The options of `assess`, shared by commands that assess (live, bundle, campaign)."""
    a.add_argument("--profile", help="assessment profile YAML/JSON (default: specs/profile.default.yaml)")
    a.add_argument("--show-pii", action="store_true", help="do not mask personal data in reports")
    a.add_argument("--today", help="validation date YYYY-MM-DD (default: today)")
    a.add_argument("--workers", type=_workers, help="processes for the evidence items (default: usable cores)")
    a.add_argument("--quiet", action="store_true", help="no progress display and no summary")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vnqr-conformance",
                                description="Conformance suite for the Vietnam personal QR code (1405/QĐ-BTTTT v1.1)")
    p.add_argument("--version", action="version", version=version_text())
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assess", help="assess an evidence package (default: the bundled example candidate)")
    a.add_argument("path", nargs="?", help="evidence package folder containing candidate.json")
    a.add_argument("--out", help="report folder (default: reports/<candidate>-<timestamp>/)")
    add_assess_options(a)
    a.add_argument("--check", action="append", help="run only this check (repeatable); see `checks`")
    a.add_argument("--item", action="append", type=_item, help="assess only this evidence item (index, repeatable)")
    a.add_argument("--waivers", help="known issues file (specs/waivers.schema.json); exit 0 if all non-pass results "
                                     "are waived, 4 if a waiver is expired or unused")
    a.add_argument("--no-cache", action="store_true",
                   help="analyse every file again, without the analysis cache (~/.cache/vnqr-conformance, or "
                        "$VNQR_CONFORMANCE_CACHE_DIR); the cache never changes a result")
    a.set_defaults(func=cmd_assess)
    c = sub.add_parser("checks", help="list every check with its requirement IDs and source location")
    c.set_defaults(func=cmd_checks)
    r = sub.add_parser("requirements", help="list the requirement catalogue")
    r.set_defaults(func=cmd_requirements)
    from conformance import live_cli

    live_cli.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2, --help/--version exit 0
        return int(exc.code or 0)
    try:
        return int(ns.func(ns))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
