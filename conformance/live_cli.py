"""`python -m conformance live CONFIG --out DIR [--profile F] [--show-pii]`: capture a running candidate into
DIR/package (conformance.capture.live.capture), then assess it like a submitted package into DIR.

The lead's CLI calls `register(subparsers)`. Exit codes are those of `assess` (0 conformant, 1 non-conformant,
3 incomplete, 2 unusable config/package).
"""
from __future__ import annotations

import json
from pathlib import Path


def _err(en: str, vi: str) -> None:
    import sys

    print(f"error: {en}\nlỗi: {vi}", file=sys.stderr)


def cmd_live(ns) -> int:
    from conformance.capture.live import capture

    cfg_path = Path(ns.config)
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except OSError as exc:
        _err(f"{cfg_path}: cannot read: {exc.strerror}", f"{cfg_path}: không đọc được: {exc.strerror}")
        return 2
    except (UnicodeDecodeError, ValueError) as exc:
        _err(f"{cfg_path}: not valid JSON: {exc}", f"{cfg_path}: không phải JSON hợp lệ: {exc}")
        return 2
    if not isinstance(config, dict) or not isinstance(config.get("live"), dict):
        _err(f"{cfg_path}: no 'live' section (see specs/candidate.schema.json)",
             f"{cfg_path}: không có mục 'live' (xem specs/candidate.schema.json)")
        return 2
    profile = None
    if ns.profile:
        from conformance.specs import SpecError, load_profile

        try:
            profile = load_profile(ns.profile)
        except SpecError as exc:
            _err(f"profile {exc.file}: {exc.json_path}: {exc.message}",
                 f"hồ sơ {exc.file}: {exc.json_path}: {exc.message}")
            return 2

    def run_capture(folder: Path) -> Path:
        package = capture(config, folder / "package", profile=profile)
        try:
            log = json.loads((package / "capture" / "log.json").read_text(encoding="utf-8"))
            n_err = len(log.get("errors", []))
            print(f"captured {log.get('evidence_count', 0)} evidence item(s) in {log.get('duration_s')} s, "
                  f"{n_err} capture error(s)")
            print(f"đã chụp {log.get('evidence_count', 0)} bằng chứng trong {log.get('duration_s')} giây, "
                  f"{n_err} lỗi khi chụp")
        except (OSError, ValueError):
            pass
        return package

    return capture_and_assess(ns, run_capture)


def capture_and_assess(ns, run_capture) -> int:
    """Capture into OUT/package and assess it into OUT, all in one staging folder that replaces OUT when complete
    (conformance/outdir.py): a failed run leaves no half-written output."""
    from conformance.capture.package import PackageError
    from conformance.cli import EXIT_UNUSABLE, assess_into, err, exit_code_of, print_summary
    from conformance.engine import Plan
    from conformance.outdir import OutputError, staged_output
    from conformance.reports import ReportError

    out = Path(ns.out)
    try:
        with staged_output(out) as folder:
            package = run_capture(folder)
            plan = Plan.make(package, profile=ns.profile)
            shown = assess_into(plan, folder, show_pii=ns.show_pii, quiet=getattr(ns, "quiet", False))
    except (OutputError, ReportError) as exc:
        err(getattr(exc, "message_en", str(exc)), getattr(exc, "message_vi", str(exc)))
        return EXIT_UNUSABLE
    except PackageError as exc:
        err(f"{exc.file}: {exc.json_path}: {exc.message_en}", f"{exc.file}: {exc.json_path}: {exc.message_vi}")
        return EXIT_UNUSABLE
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


def register(subparsers) -> None:
    from conformance.refapp import DEFECTS

    d = subparsers.add_parser("demo-live", help="start the bundled reference candidate, capture it live and assess it "
                                                "/ chạy ứng dụng tham chiếu, chụp trực tiếp và đánh giá")
    d.add_argument("--out", required=True, help="output folder (package in OUT/package, reports in OUT)")
    d.add_argument("--adapter", choices=("browser", "http"), default="browser")
    d.add_argument("--defect", action="append", choices=sorted(DEFECTS), help="switch a defect on (repeatable)")
    d.add_argument("--profile", default=None)
    d.add_argument("--show-pii", action="store_true")
    d.set_defaults(func=cmd_demo_live)
    p = subparsers.add_parser("live", help="capture a running candidate (live section of CONFIG), then assess it / "
                                           "chụp trực tiếp ứng dụng đang chạy rồi đánh giá")
    p.add_argument("config", metavar="CONFIG", help="candidate.json with a 'live' section and the test accounts")
    p.add_argument("--out", required=True, help="output folder (package in OUT/package, reports in OUT)")
    p.add_argument("--profile", default=None, help="assessment profile (YAML/JSON)")
    p.add_argument("--show-pii", action="store_true", help="do not mask personal data in reports")
    p.set_defaults(func=cmd_live)
