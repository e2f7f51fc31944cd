"""Command line: `vnqr-conformance` (same as `python -m conformance`).

    vnqr-conformance assess [PATH] --out DIR [--profile FILE] [--show-pii] [--today YYYY-MM-DD] [--check NAME]...
                            [--item N]... [--waivers FILE] [--workers N] [--quiet] [--pdf] [--allure-html]
                            [--report-number N] [--assessor NAME] [--organisation NAME] [--reviewer NAME]
    vnqr-conformance bundle PKG --out FILE.zip [assess options] [--sign-key KEY.pem]
    vnqr-conformance verify FILE.zip [--pubkey KEY.pub.pem]
    vnqr-conformance campaign CAMPAIGN --out DIR [--workers N] [--scheduler ADDRESS]   (conformance/campaign/)
    vnqr-conformance checks | requirements | live | demo-live | --version

Exit codes (a contract for CI tooling): 0 conformant, 1 non-conformant, 3 incomplete, 2 the input cannot be used
(the message names the file and the problem; nothing is written). A partial run (--check / --item) exits 0 when the
selected checks hold, 1 when one fails, 3 when one could not judge (error). With --waivers: 0 when every open result
is waived, 4 when a waiver is stale (expired or no longer matching anything).
"""
from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path
from typing import Any, NoReturn, TextIO

from conformance import exits

EXIT = exits.OF_VERDICT
EXIT_UNUSABLE = exits.UNUSABLE
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


def unusable_errors() -> tuple[type[Exception], ...]:
    """Every error that means the input cannot be used (exit 2, nothing written)."""
    from conformance.capture.package import PackageError
    from conformance.engine import UsageError
    from conformance.outdir import OutputError
    from conformance.reports import ReportError
    from conformance.specs import SpecError

    return (SpecError, PackageError, UsageError, OutputError, ReportError)


def report_unusable(exc: Exception) -> int:
    """Say, in both languages, which input cannot be used and why (the file and JSON path when there is one);
    the exit code 2. Works for every error of unusable_errors() and any error with file / json_path /
    message_en / message_vi attributes (a campaign file's)."""
    en = getattr(exc, "message_en", None) or getattr(exc, "message", None) or str(exc)
    vi = getattr(exc, "message_vi", None) or en
    where = [str(getattr(exc, k)) for k in ("file", "json_path") if getattr(exc, k, None)]
    prefix = (": ".join(where) + ": ") if where else ""
    err(prefix + en, prefix + vi)
    return EXIT_UNUSABLE


def exit_code_of(results: dict[str, Any]) -> int:
    """The exit code of a results document (verdict, partial runs and waivers)."""
    from conformance.waivers import exit_code

    verdict = results["verdict"]
    if verdict == "partial":  # judged like a verdict, on the requirements that ran
        ran = [r for r in results["requirements"] if r["status"] != "not_run"]
        must = {r["status"] for r in ran if r.get("level") == "MUST"}
        code = (exits.NON_CONFORMANT if "fail" in must else
                exits.INCOMPLETE if must & {"skip", "review", "error"} or any(r["status"] == "error" for r in ran)
                else exits.CONFORMANT)
    else:
        code = EXIT[verdict]
    return exit_code(results, code)


class _Progress:
    """Items done / total with ETA: a tqdm bar on a terminal, one line per item otherwise (CI logs)."""

    def __init__(self, stream: TextIO | None = None):
        # sys.stderr as it is now (a default argument would keep the stream of the moment this module was imported)
        self.stream, self.bar = (stream or sys.stderr), None
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
    from conformance.engine import Plan
    from conformance.outdir import check_out
    from conformance.waivers import load_waivers

    package = Path(ns.path) if ns.path else EXAMPLE_CANDIDATE
    try:
        waivers = load_waivers(ns.waivers) if ns.waivers else None
        plan = Plan.make(package, profile=ns.profile, today=ns.today, checks=ns.check,
                         items=ns.item if ns.item else None)
        if ns.out:
            check_out(Path(ns.out), plan.package.root)
    except unusable_errors() as exc:
        return report_unusable(exc)
    return plan, waivers


def default_out(plan: Any) -> Path:
    from conformance.outdir import default_out as _d

    return _d(str(plan.package.candidate.get("name", "candidate")))


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
    from conformance.outdir import staged_output

    loaded = load_inputs(ns)
    if isinstance(loaded, int):
        return loaded
    plan, waivers = loaded
    out = Path(ns.out) if ns.out else default_out(plan)
    try:
        with staged_output(out, plan.package.root) as folder:
            shown = assess_into(plan, folder, waivers=waivers, show_pii=ns.show_pii, workers=ns.workers,
                                quiet=ns.quiet, metadata=report_metadata(ns), formats=report_formats(ns),
                                cache=False if getattr(ns, "no_cache", False) else None)
            if getattr(ns, "allure_html", False):
                build_allure_html(folder)
    except unusable_errors() as exc:
        return report_unusable(exc)
    if not ns.quiet:
        print_summary(shown, out, ns)
    return exit_code_of(shown)


def assess_into(plan: Any, folder: Path, *, waivers: Any = None, show_pii: bool = False, workers: int | None = None,
                quiet: bool = False, metadata: dict[str, Any] | None = None,
                formats: tuple[str, ...] | None = None, cache: Any = None) -> dict[str, Any]:
    """Run a plan and write every report format into `folder` (a fresh staging folder: see conformance/outdir.py).
    `metadata`: report number, organisation, assessor, reviewer (conformance/reports/filing.py); `formats`: default
    ALL_FORMATS (add "pdf" for report.pdf); `cache`: the analysis cache (None: the default, False: none;
    conformance/engine/cache.py). Returns the results document as written (masked unless show_pii)."""
    from conformance.engine import run_plan

    progress = None if quiet else _Progress()
    try:
        assessment = run_plan(plan, workers=workers, progress=progress, cache=cache)
    finally:
        if progress is not None:
            progress.close()
    # the reports' modules (numpy, PIL, Jinja2) are imported only now: the parent stays small while workers run
    from conformance.reports import write_assessment

    # per-item detail stays on disk (Assessment.detail_of) until the reports write it
    return write_assessment(assessment.to_dict(linked=True), folder, package=plan.package, profile=plan.profile,
                            today=plan.today, waivers=waivers, show_pii=show_pii, metadata=metadata, formats=formats,
                            details=assessment.detail_of)


MAX_TERMINAL_FINDINGS = 10  # findings printed per requirement (every one is in results.json and report.html)


def runnable(command: str, ns: argparse.Namespace) -> str:
    """The results document's reproducer (`vnqr-conformance assess PKG ...`, with the package as reports name it) as
    this terminal runs it: this interpreter, the package and profile as the user gave them."""
    import shlex

    argv = shlex.split(command)
    if argv[:2] != ["vnqr-conformance", "assess"] or len(argv) < 3:
        return command
    real = str(ns.path or EXAMPLE_CANDIDATE)
    # the report masks a folder name that holds personal data: the terminal then keeps the masked name too
    pkg = real if getattr(ns, "show_pii", False) or Path(real).name == Path(argv[2]).name else argv[2]
    argv = [sys.executable, "-m", "conformance", "assess", pkg, *argv[3:]]
    if "--profile" in argv and getattr(ns, "profile", None):
        argv[argv.index("--profile") + 1] = str(ns.profile)
    return shlex.join(argv)


def print_summary(results: dict[str, Any], out: Path, ns: argparse.Namespace) -> None:
    from conformance.words import CI_OUTCOME_VI, VERDICT_WORDS

    def say(text: str) -> None:
        print(printable(text))

    cand = results["candidate"]
    say(f"Candidate / Ứng dụng: {cand.get('name')} {cand.get('version', '')}".rstrip())
    say(f"{'ID':<12} {'LEVEL':<7} {'ORIGIN':<8} {'STATUS':<8} TITLE / TÊN YÊU CẦU")
    for r in results["requirements"]:
        say(f"{r['id']:<12} {r['level']:<7} {r['origin']:<8} {STATUS_MARK[r['status']]:<8} {r['title_en']} / "
            f"{r['title_vi']}")
    broken = {e["index"] for e in results["evidence"] if e.get("error")}  # said once, below, not per requirement
    open_reqs = [r for r in results["requirements"] if r["status"] not in ("pass", "not_applicable", "not_run")]
    if open_reqs:
        say("")
        say("Not passed / Chưa đạt:")
    for r in open_reqs:
        say(f"- {r['id']} [{STATUS_MARK[r['status']]}] {r['title_en']} / {r['title_vi']}")
        shown = [f for f in r["findings"] if f.get("status") == r["status"]]
        unusable = [f for f in shown if f.get("item") in broken]
        usable = [f for f in shown if f.get("item") not in broken]
        for f in usable[:MAX_TERMINAL_FINDINGS]:
            where = (f"item {f['item']} ({f.get('evidence')})" if isinstance(f.get("item"), int)
                     else (f.get("evidence") or "package"))
            say(f"    {where}: {f.get('message_en', '')}")
            say(f"    {' ' * len(where)}  {f.get('message_vi', '')}")
        more = len(usable) - MAX_TERMINAL_FINDINGS + int((r.get("findings_omitted") or {}).get(r["status"], 0))
        if more > 0:
            say(f"    ... {more} more in results.json and report.html / ... còn {more} mục nữa trong results.json "
                "và report.html")
        if unusable:
            items = sorted({f["item"] for f in unusable})
            say(f"    items {', '.join(map(str, items))}: unusable evidence (see below) / mục "
                f"{', '.join(map(str, items))}: bằng chứng không dùng được (xem bên dưới)")
        if r.get("reproduce"):
            say(f"    reproduce / tái hiện: {runnable(r['reproduce']['cli'], ns)}")
    errors = [e for e in results["evidence"] if e.get("error")]
    if errors:
        say("")
        say("Evidence that cannot be used / Bằng chứng không dùng được:")
    for e in errors:
        say(f"    item {e['index']}: {e.get('error')}")
        say(f"    mục {e['index']}: {e.get('error_vi') or e.get('error')}")
    w = results.get("waivers")
    if w:
        say(f"waivers / miễn trừ: {len(w['applied'])} applied / đã áp dụng, {len(w['expired'])} expired / hết hạn, "
            f"{len(w['unused'])} unused / không dùng đến; not waived / chưa miễn trừ: {', '.join(w['unwaived']) or '-'}"
            f" -> CI: {w['ci_outcome']} / {CI_OUTCOME_VI.get(w['ci_outcome'], w['ci_outcome'])}")
        for kind, vi in (("expired", "hết hạn"), ("unused", "không dùng đến")):
            for x in w[kind]:
                say(f"    {kind} / {vi}: {x.get('requirement')} ticket {x.get('ticket')} expires / hết hạn "
                    f"{x.get('expires')}")
    v = results["verdict"]
    say(f"VERDICT / KẾT LUẬN: {VERDICT_WORDS[v][1]} ({VERDICT_WORDS[v][0]})")
    if Path(out).suffix.lower() == ".zip":  # `bundle`
        say(f"reports / báo cáo: in / trong {out}: report.html, report.pdf, results.json, junit.xml")
        return
    extra = "".join(f", {name}" for name in ("report.pdf", "allure-report/") if (Path(out) / name).exists())
    say(f"reports / báo cáo: {out}/report.html, results.json, junit.xml, allure-results/{extra}")


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


MAX_ITEM_SELECTION = 1_000_000


def _item(value: str) -> list[int]:
    """Evidence item indexes: `7`, a range `3-40` or a comma list of both (`0-4,7,9-12`), as reproducers print."""
    out: list[int] = []
    try:
        for part in value.split(","):
            lo, sep, hi = part.strip().partition("-")
            a = int(lo)
            b = int(hi) if sep else a
            if a < 0 or b < a or len(out) + (b - a + 1) > MAX_ITEM_SELECTION:
                raise ValueError
            out.extend(range(a, b + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an evidence item index, range or list (e.g. 7, 3-40, 0-4,7): "
                                         f"{value!r}") from None
    return out


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
    a.add_argument("--workers", type=_workers, help="processes for the evidence items (default: usable cores, or $VNQR_CONFORMANCE_WORKERS)")
    a.add_argument("--quiet", action="store_true", help="no progress display and no summary")
    add_report_options(a)


def add_report_options(a: argparse.ArgumentParser) -> None:
    """The filed report's metadata (conformance/reports/filing.py): on the first page, in the signature block and in
    results.json `report`."""
    a.add_argument("--report-number", help="report number printed on every page (e.g. TT-2026-0042)")
    a.add_argument("--organisation", help="the assessing organisation")
    a.add_argument("--assessor", help="the assessor's name")
    a.add_argument("--reviewer", help="the reviewer's name (default: a blank line to fill in)")


def report_metadata(ns: argparse.Namespace) -> dict[str, Any]:
    """The report metadata options as the plain dict write_reports() takes."""
    from conformance.reports.filing import METADATA_KEYS

    return {k: getattr(ns, k, None) for k in METADATA_KEYS}


def report_formats(ns: argparse.Namespace) -> tuple[str, ...]:
    from conformance.reports import ALL_FORMATS

    return ALL_FORMATS + (("pdf",) if getattr(ns, "pdf", False) else ())


def build_allure_html(folder: Path) -> None:
    """allure-report/ from allure-results/ with the npm package `allure` (Allure 3; conformance/reports/allure.py)."""
    from conformance.reports.allure_html import AllureHtmlError, generate_html

    try:
        generate_html(folder / "allure-results", folder / "allure-report")
    except AllureHtmlError as exc:
        from conformance.reports import ReportError

        raise ReportError(exc.message_en, exc.message_vi) from exc


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors said in Vietnamese too (exit 2, as before); its subcommands inherit it."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n"
                     f"{self.prog}: lỗi: tham số dòng lệnh không hợp lệ ({message}); xem `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="vnqr-conformance",
                                description="Conformance suite for the Vietnam personal QR code (1405/QĐ-BTTTT v1.1)")
    p.add_argument("--version", action="version", version=version_text())
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assess", help="assess an evidence package (default: the bundled example candidate)")
    a.add_argument("path", nargs="?", help="evidence package folder containing candidate.json")
    a.add_argument("--out", help="report folder (default: reports/<candidate>-<timestamp>/)")
    add_assess_options(a)
    a.add_argument("--check", action="append", help="run only this check (repeatable); see `checks`")
    a.add_argument("--item", action="extend", type=_item,
                   help="assess only these evidence items: an index, a range 3-40 or a list 0-4,7 (repeatable)")
    a.add_argument("--waivers", help="known issues file (specs/waivers.schema.json); exit 0 if all non-pass results "
                                     "are waived, 4 if a waiver is expired or unused")
    a.add_argument("--pdf", action="store_true", help="also write report.pdf (A4, printed by headless Chromium)")
    a.add_argument("--allure-html", action="store_true",
                   help="also build allure-report/ (HTML) with the npm package `allure` (needs Node; scripts/setup.sh)")
    a.add_argument("--no-cache", action="store_true",
                   help="analyse every file again, without the analysis cache (~/.cache/vnqr-conformance, or "
                        "$VNQR_CONFORMANCE_CACHE_DIR); the cache never changes a result")
    a.set_defaults(func=cmd_assess)
    c = sub.add_parser("checks", help="list every check with its requirement IDs and source location",
                       description="Every check of the suite: its name (for --check), the requirement IDs it "
                                   "verifies and where it is written (file:line). / Mọi phép kiểm tra: tên, mã yêu "
                                   "cầu và vị trí trong mã nguồn.")
    c.set_defaults(func=cmd_checks)
    r = sub.add_parser("requirements", help="list the requirement catalogue",
                       description="The requirement catalogue (specs/requirements.yaml): ID, level, origin (1405 or "
                                   "derived) and title in both languages. / Danh mục yêu cầu: mã, mức, nguồn gốc và "
                                   "tên.")
    r.set_defaults(func=cmd_requirements)
    from conformance import bundle, live_cli

    bundle.register(sub)
    live_cli.register(sub)
    from conformance.campaign import cli as campaign_cli

    campaign_cli.register(sub)
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
    except BrokenPipeError as exc:
        if not _stdout_closed():
            return report_suite_error(exc)  # a pipe of the suite's own (a socket, a child) broke: a suite bug
        # the reader of the output went away (`... | head`): stop quietly, as a shell tool killed by SIGPIPE does
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001 - a bug of the suite (or the machine ran out of something)
        return report_suite_error(exc)


def _stdout_closed() -> bool:
    """Standard output is a pipe whose reader has gone (poll reports an error on its writing end)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def report_suite_error(exc: BaseException) -> int:
    """The suite itself broke: no verdict on the app. Says so in both languages with where it broke (the message of
    the error is left out: it may hold personal data), the full traceback only with VNQR_DEBUG=1; exit 5."""
    import os
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "conformance" in f.filename.replace("\\", "/").split("/")] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno} ({ours[-1].name})" if ours else "?"
    kind = type(exc).__name__
    err(f"the suite itself failed ({kind} at {where}); this is not a verdict on the app. Re-run with VNQR_DEBUG=1 "
        "for the full traceback and report it to the suite's maintainers.",
        f"bộ kiểm thử gặp lỗi nội bộ ({kind} tại {where}); đây không phải kết luận về ứng dụng. Chạy lại với "
        "VNQR_DEBUG=1 để xem đầy đủ vết lỗi và báo cho nhóm phát triển bộ kiểm thử.")
    if os.environ.get("VNQR_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    return exits.SUITE_ERROR


if __name__ == "__main__":
    sys.exit(main())
