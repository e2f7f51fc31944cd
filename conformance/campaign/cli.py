"""`vnqr-conformance campaign CAMPAIGN --out DIR [--workers N] [--scheduler ADDRESS] [--profile FILE]
[--today YYYY-MM-DD] [--show-pii] [--quiet]`

Exit codes: 0 every candidate conformant and the cross-candidate requirements (GEN-003) pass; 1 a candidate is
non-conformant or GEN-003 fails; 3 incomplete; 2 the campaign file (or a package, the profile, --out, the scheduler)
cannot be used: the message names the file and the JSON path, nothing is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    from conformance.cli import add_assess_options

    c = subparsers.add_parser(
        "campaign", help="assess several candidate apps for the same test accounts and compare the codes they show "
                         "(GEN-003) / đánh giá nhiều ứng dụng với cùng các tài khoản thử nghiệm")
    c.add_argument("campaign", metavar="CAMPAIGN", help="campaign.yaml or campaign.json (specs/campaign.schema.json)")
    c.add_argument("--out", help="output folder: dashboard.html, campaign.json, junit.xml and one report folder per "
                                 "candidate (default: reports/campaign-<name>-<timestamp>/)")
    add_assess_options(c)
    c.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the evidence items on a Dask distributed cluster (e.g. tcp://10.0.0.5:8786; the workers "
                        "must see the evidence files at the same paths); default: a local process pool")
    c.set_defaults(func=cmd_campaign)


def cmd_campaign(ns: argparse.Namespace) -> int:
    from conformance.campaign.load import CampaignError, load_campaign
    from conformance.campaign.run import LineProgress, make_plan, run_campaign
    from conformance.cli import report_unusable, unusable_errors
    from conformance.engine.plan import parse_today
    from conformance.engine.run import default_workers
    from conformance.outdir import check_out, staged_output
    from conformance.specs import load_profile

    try:
        campaign = load_campaign(ns.campaign)
        profile = load_profile(ns.profile)
        today = parse_today(ns.today)
        plans = {s.index: make_plan(s, profile, today) for s in campaign.candidates if s.kind == "package"}
        out = Path(ns.out) if ns.out else default_out(campaign.name)
        for s in campaign.candidates:
            check_out(out, s.path if s.kind == "package" else None)
    except (CampaignError, *unusable_errors()) as exc:
        return report_unusable(exc)
    workers = ns.workers or default_workers()
    progress = None if ns.quiet else LineProgress(sys.stderr, sum(len(p.package.evidence) for p in plans.values()))
    try:
        with staged_output(out) as folder:
            run = run_campaign(campaign, folder, profile=profile, today=today, workers=workers,
                               scheduler=ns.scheduler, show_pii=ns.show_pii, progress=progress, plans=plans,
                               shown_folder=out)
    except (CampaignError, *unusable_errors()) as exc:
        return report_unusable(exc)
    finally:
        if progress is not None:
            progress.close()
    if not ns.quiet:
        print_summary(run.document, out)
    return run.exit_code


def default_out(name: str) -> Path:
    from conformance.outdir import default_out as _d

    return _d(name, prefix="campaign-")


def print_summary(doc: dict[str, Any], out: Path) -> None:
    from conformance.cli import STATUS_MARK, printable
    from conformance.words import VERDICT_WORDS

    def say(text: str) -> None:
        print(printable(text))

    say(f"Campaign / Đợt đánh giá: {doc['name']}")
    width = max([len(c["name"]) for c in doc["candidates"]] + [22]) + 2
    say(f"{'CANDIDATE / ỨNG DỤNG':<{width}} {'VERDICT / KẾT LUẬN':<18} MUST FAILED / OPEN (MUST không đạt / chưa xong)")
    for c in doc["candidates"]:
        open_ = ", ".join(c.get("must_failed") or []) or "-"
        if c.get("must_open"):
            open_ += f" / {', '.join(c['must_open'])}"
        say(f"{c['name']:<{width}} {VERDICT_WORDS[c['verdict']][1]:<18} {open_}")
    for r in doc["requirements"]:
        say("")
        say(f"{r['id']} [{STATUS_MARK[r['status']]}] {r['title_en']} / {r['title_vi']}")
        for f in r["findings"]:
            if f["status"] == "pass":
                continue
            say(f"    {f.get('subject')}: [{STATUS_MARK[f['status']]}] {f['message_en']}")
            say(f"    {' ' * len(str(f.get('subject')))}  {f['message_vi']}")
        people = doc["summary"]["people"]
        say(f"    people / người dùng: {people.get('pass', 0)} pass, {people.get('fail', 0)} fail, "
            f"{people.get('skip', 0)} skip")
    v = doc["verdict"]
    say(f"CAMPAIGN VERDICT / KẾT LUẬN ĐỢT ĐÁNH GIÁ: {VERDICT_WORDS[v][0]} ({VERDICT_WORDS[v][1]})")
    say(f"reports / báo cáo: {out}/dashboard.html, campaign.json, junit.xml, "
        + ", ".join(f"{c['slug']}/report.html" for c in doc["candidates"]))
