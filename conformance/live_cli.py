"""`python -m conformance live CONFIG --out DIR [--profile F] [--show-pii] [--adb PATH]`: capture a running candidate
into DIR/package (conformance.capture.live.capture), then assess it like a submitted package into DIR.

The lead's CLI calls `register(subparsers)`. Exit codes are those of `assess`: 0 conformant, 1 non-conformant,
3 incomplete, 2 unusable config/package/profile. Before anything is written the config is checked: a value that would
become a path or a program (subject ids, file names, live.page, live.android.adb, adb arguments) or anything else
specs/candidate.schema.json refuses exits 2 with the value's JSON path. A capture in which the candidate answered
nothing usable (capture/log.json `usable_responses` = 0: not running, refusing, timing out, garbage, oversized,
redirected away) exits 3 without a verdict: no requirement is judged on nothing. Anything captured goes on to the
assessment.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

MAX_CONFIG_BYTES = 5_000_000


def _err(en: str, vi: str) -> None:
    print(f"error: {en}\nlỗi: {vi}", file=sys.stderr)


def _read_config(cfg_path: Path) -> tuple[dict | None, int]:
    try:
        if cfg_path.stat().st_size > MAX_CONFIG_BYTES:
            _err(f"{cfg_path}: larger than {MAX_CONFIG_BYTES} bytes", f"{cfg_path}: lớn hơn {MAX_CONFIG_BYTES} byte")
            return None, 2
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except OSError as exc:
        _err(f"{cfg_path}: cannot read: {exc.strerror}", f"{cfg_path}: không đọc được: {exc.strerror}")
        return None, 2
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        _err(f"{cfg_path}: not valid JSON: {str(exc)[:300]}", f"{cfg_path}: không phải JSON hợp lệ: {str(exc)[:300]}")
        return None, 2
    if not isinstance(config, dict) or not isinstance(config.get("live"), dict):
        _err(f"{cfg_path}: no 'live' section (see specs/candidate.schema.json)",
             f"{cfg_path}: không có mục 'live' (xem specs/candidate.schema.json)")
        return None, 2
    return config, 0


def _refuse(cfg_path: Path, problems: list[tuple[str, str, str]]) -> int:
    for path, en, vi in problems[:10]:
        _err(f"{cfg_path}: {path}: {en}", f"{cfg_path}: {path}: {vi}")
    if len(problems) > 10:
        _err(f"{len(problems) - 10} more problem(s)", f"còn {len(problems) - 10} lỗi khác")
    return 2


def _no_usable_answer(package: Path, shown: Path | None = None) -> int | None:
    """3 (printed, bilingual) when the capture log says the candidate answered nothing usable; None otherwise.
    `shown`: where the package will be once the output folder is published (printed instead of `package`)."""
    shown = shown or package
    try:
        log = json.loads((package / "capture" / "log.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        _err(f"{package}/capture/log.json was not written; no verdict (incomplete)",
             f"không ghi được {package}/capture/log.json; không có kết luận (chưa đủ)")
        return 3
    n_err = len(log.get("errors") or [])
    print(f"captured {log.get('evidence_count', 0)} evidence item(s), {log.get('usable_responses', 0)} usable "
          f"response(s) in {log.get('duration_s')} s, {n_err} capture error(s)"
          f"{', time budget exceeded' if log.get('budget_exceeded') else ''} -> {shown}")
    print(f"đã chụp {log.get('evidence_count', 0)} bằng chứng, {log.get('usable_responses', 0)} phản hồi dùng được "
          f"trong {log.get('duration_s')} giây, {n_err} lỗi khi chụp"
          f"{', đã hết thời gian cho phép' if log.get('budget_exceeded') else ''} -> {shown}")
    if log.get("usable_responses", 0) > 0:
        return None
    first = next((e.get("message_en") for e in log.get("errors") or [] if e.get("message_en")), None)
    first_vi = next((e.get("message_vi") for e in log.get("errors") or [] if e.get("message_vi")), None)
    _err("INCOMPLETE: the candidate gave no usable answer (not running, refusing, timing out, garbage, oversized or "
         "redirected away), so no requirement can be judged and there is no verdict"
         + (f"; first problem: {first}" if first else ""),
         "CHƯA ĐỦ: ứng dụng không trả lời được gì dùng được (không chạy, từ chối, quá thời gian, dữ liệu rác, quá lớn "
         "hoặc chuyển hướng đi nơi khác), nên không thể đánh giá yêu cầu nào và không có kết luận"
         + (f"; lỗi đầu tiên: {first_vi}" if first_vi else ""))
    print(f"see / xem: {shown / 'capture' / 'log.json'}", file=sys.stderr)
    return 3


def cmd_live(ns) -> int:
    from conformance.capture.live import LiveConfigError, capture, config_problems

    cfg_path = Path(ns.config)
    config, rc = _read_config(cfg_path)
    if config is None:
        return rc
    problems = config_problems(config)
    if problems:
        return _refuse(cfg_path, problems)
    adb = getattr(ns, "adb", None)
    if adb is not None:
        from conformance.capture.android import AdbError, resolve_adb

        try:
            adb = resolve_adb(adb)
        except AdbError as exc:
            _err(f"--adb: {exc}", f"--adb: không phải tệp chạy được: {adb}")
            return 2
    profile = None
    if ns.profile:
        from conformance.specs import SpecError, load_profile

        try:
            profile = load_profile(ns.profile)
        except SpecError as exc:
            _err(f"profile {exc.file}: {exc.json_path}: {exc.message}",
                 f"hồ sơ {exc.file}: {exc.json_path}: {exc.message_vi}")
            return 2

    try:
        return capture_and_assess(ns, lambda folder: capture(config, folder / "package", profile=profile, adb=adb))
    except LiveConfigError as exc:
        return _refuse(cfg_path, exc.problems)


def capture_and_assess(ns, run_capture) -> int:
    """Capture into OUT/package and assess it into OUT, all in one staging folder that replaces OUT when complete
    (conformance/outdir.py): a failed run leaves no half-written output."""
    from conformance.cli import (
        assess_into,
        exit_code_of,
        print_summary,
        report_formats,
        report_metadata,
        report_unusable,
        unusable_errors,
    )
    from conformance.engine import Plan
    from conformance.outdir import staged_output

    out = Path(ns.out)
    try:
        with staged_output(out) as folder:
            package = run_capture(folder)
            rc3 = _no_usable_answer(package, out / "package")
            if rc3 is not None:
                return rc3  # the capture (its log says why) is kept in OUT; no report, no verdict
            plan = Plan.make(package, profile=ns.profile)
            plan.package.shown_root = out / "package"  # where it is once the output folder is in place
            shown = assess_into(plan, folder, show_pii=ns.show_pii, quiet=getattr(ns, "quiet", False),
                                workers=getattr(ns, "workers", None), metadata=report_metadata(ns),
                                formats=report_formats(ns))
    except unusable_errors() as exc:
        return report_unusable(exc)
    ns.path, ns.today = str(out / "package"), None
    if not getattr(ns, "quiet", False):
        print_summary(shown, out, ns)
    return exit_code_of(shown)


def cmd_demo_live(ns) -> int:
    """Start the reference candidate on loopback, capture it live (HTTP or real browser), assess, stop it."""
    from conformance.capture.live import capture
    from conformance.refapp import DEFECT_ADAPTERS, unobservable
    from conformance.refapp.launch import RefAppProcess

    hidden = unobservable(ns.defect or [], ns.adapter)
    if hidden:
        where = ", ".join(f"{d} (--adapter {'/'.join(DEFECT_ADAPTERS[d])})" for d in hidden)
        _err(f"--adapter {ns.adapter} cannot observe the defect {where}: the run would look conformant; "
             "use the adapter named", f"--adapter {ns.adapter} không quan sát được lỗi {where}: lần chạy sẽ trông như "
             "phù hợp; hãy dùng phương thức chụp đã nêu")
        return 2
    try:
        app = RefAppProcess(ns.defect or [])
    except RuntimeError as exc:
        _err(str(exc), "ứng dụng tham chiếu không khởi động được (python -m conformance.refapp)")
        return 2
    with app:
        print(f"reference app / ứng dụng tham chiếu: {app.url}  defects: {', '.join(ns.defect or []) or 'none'}")
        return capture_and_assess(ns, lambda folder: capture(app.live_config(ns.adapter), folder / "package"))


def _common_options(p) -> None:
    """What `assess` also takes for the reports: profile, personal data, workers, quiet, PDF, the filed report."""
    from conformance.cli import _workers, add_report_options

    p.add_argument("--profile", default=None, help="assessment profile (YAML/JSON; default specs/profile.default.yaml)")
    p.add_argument("--show-pii", action="store_true", help="do not mask personal data in reports")
    p.add_argument("--workers", type=_workers,
                   help="processes for the evidence items (default: usable cores, or $VNQR_CONFORMANCE_WORKERS)")
    p.add_argument("--quiet", action="store_true", help="no progress display and no summary table")
    p.add_argument("--pdf", action="store_true", help="also write report.pdf (A4, printed by headless Chromium)")
    add_report_options(p)


def register(subparsers) -> None:
    from conformance.refapp import DEFECTS

    d = subparsers.add_parser("demo-live", help="start the bundled reference candidate, capture it live and assess it "
                                                "/ chạy ứng dụng tham chiếu, chụp trực tiếp và đánh giá")
    d.add_argument("--out", required=True, help="output folder (package in OUT/package, reports in OUT)")
    d.add_argument("--adapter", choices=("browser", "http"), default="browser",
                   help="browser: headless Chromium on the app's page (default); http: its assessment interface")
    d.add_argument("--defect", action="append", choices=sorted(DEFECTS), help="switch a defect on (repeatable)")
    _common_options(d)
    d.set_defaults(func=cmd_demo_live)
    p = subparsers.add_parser("live", help="capture a running candidate (live section of CONFIG), then assess it / "
                                           "chụp trực tiếp ứng dụng đang chạy rồi đánh giá")
    p.add_argument("config", metavar="CONFIG", help="candidate.json with a 'live' section and the test accounts")
    p.add_argument("--out", required=True, help="output folder (package in OUT/package, reports in OUT)")
    _common_options(p)
    p.add_argument("--adb", default=None, metavar="PATH",
                   help="adb program for the android adapter (else $VNQR_ADB, else adb on PATH; never from CONFIG) / "
                        "chương trình adb cho bộ chụp android (nếu không: $VNQR_ADB, rồi adb trong PATH)")
    p.set_defaults(func=cmd_live)
