"""Run a campaign: capture the live candidates, assess every candidate (their evidence items on one shared executor:
a local process pool or a Dask cluster), then the campaign-scope checks (GEN-003), and build campaign.json.

    campaign = load_campaign("campaign.yaml")
    with staged_output(out) as folder:
        run = run_campaign(campaign, folder, workers=4)              # or scheduler="tcp://10.0.0.5:8786"
    run.document                                                       # campaign.json as written

Results do not depend on where the items ran: every item is analysed by the engine's `analyse_and_check`
(conformance/engine/run.py) whatever the executor, and the output keeps the campaign's and the manifests' order.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import exits
from conformance.campaign.load import Campaign, CandidateSource, campaign_package, unknown_subjects
from conformance.checks.context import CampaignView, EvidenceView, Thresholds
from conformance.checks.registry import CheckSpec, all_checks
from conformance.engine.assessment import OPEN, combine
from conformance.engine.judge import run_check
from conformance.engine.plan import Plan, UsageError
from conformance.model import Finding

FORMAT = "vnqr-conformance-campaign/1.0"
SCHEDULER_TIMEOUT_S = 30
# A candidate's or the campaign's verdict, worst first.
VERDICT_ORDER = ("non-conformant", "incomplete", "conformant")

Progress = Callable[[str, int, int, str], None]  # (candidate slug, items done, items total, label)


def campaign_specs() -> list[CheckSpec]:
    return [s for s in all_checks().values() if s.scope == "campaign"]


# ------------------------------------------------------------------------------------------------- executors
@contextmanager
def executor_for(workers: int, scheduler: str | None = None, groups: int | None = None) -> Iterator[Executor | None]:
    """Where evidence items run: a Dask cluster (`scheduler` address, e.g. tcp://127.0.0.1:8786), a local process
    pool of `workers` processes, or this process (None, workers == 1)."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs dask.distributed (pip install dask distributed, see requirements.txt)",
                             "--scheduler cần dask.distributed (pip install dask distributed, xem requirements.txt)"
                             ) from None
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S, set_as_default=False)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"--scheduler {scheduler}: cannot connect to the Dask scheduler: {exc}",
                             f"--scheduler {scheduler}: không kết nối được bộ lập lịch Dask: {exc}") from None
        try:
            yield client.get_executor(pure=False)  # type: ignore[no-untyped-call]
        finally:
            client.close()  # type: ignore[no-untyped-call]
    elif workers > 1 and (groups is None or groups > 1):
        from conformance.engine.run import _finish, _pool

        pool = _pool(workers if groups is None else min(workers, groups))
        try:
            yield pool
        finally:
            _finish(pool)  # bounded: a stuck or orphaned worker is killed, never waited for
    else:
        yield None


# ------------------------------------------------------------------------------------------------- candidates
@dataclass
class CandidateRun:
    source: CandidateSource
    plan: Plan
    views: dict[int, list[EvidenceView]] = field(default_factory=dict)  # an item's views (a recording has several)
    results: dict[str, Any] = field(default_factory=dict)  # results.json before masking (with `campaign`)


def make_plan(source: CandidateSource, profile: dict[str, Any], today: dt.date) -> Plan:
    assert source.package is not None
    return Plan.make(source.package, profile=profile, today=today)


def capture_live(campaign: Campaign, source: CandidateSource, folder: Path, profile: dict[str, Any],
                 shown_folder: Path | None = None) -> None:
    """Capture a live candidate into folder/<slug>/package and load it as the campaign assesses it. `shown_folder`:
    where `folder` will be once the run is complete (the reports name the package there)."""
    from conformance.campaign.load import CampaignError
    from conformance.capture.live import capture
    from conformance.capture.package import PackageError, load_package

    assert source.config is not None
    target = folder / source.slug / "package"
    capture(copy.deepcopy(source.config), target, profile=profile)
    try:
        pkg = load_package(target)
        pkg.shown_root = (shown_folder or folder) / source.slug / "package"
    except PackageError as exc:  # the capturer writes a valid manifest; a failure here is reported, not hidden
        raise CampaignError(str(campaign.file), source.json_path, f"{exc.file}: {exc.json_path}: {exc.message_en}",
                            f"{exc.file}: {exc.json_path}: {exc.message_vi}") from None
    bad = unknown_subjects(pkg, campaign.subjects)
    if bad:
        raise CampaignError(str(campaign.file), source.json_path,
                            f"the captured package uses subject id {bad[0][0]!r}, which the campaign lacks",
                            f"gói đã chụp dùng mã người dùng {bad[0][0]!r}, không có trong đợt đánh giá")
    source.package = campaign_package(pkg, campaign.subjects)


def assess_candidates(campaign: Campaign, plans: Sequence[tuple[CandidateSource, Plan]], *,
                      executor: Executor | None = None, progress: Progress | None = None) -> list[CandidateRun]:
    """Every candidate's assessment, its items on one executor shared by all candidates (each candidate's plan is
    driven from its own thread, so the pool is kept busy across candidates); executor None: in this process, one
    candidate after the other."""
    from conformance.engine.run import run_plan

    def one(source: CandidateSource, plan: Plan) -> CandidateRun:
        started = dt.datetime.now(dt.UTC)
        prog = None if progress is None else (lambda d, t, label: progress(source.slug, d, t, label))
        views: dict[int, list[EvidenceView]] = {}
        assessment = run_plan(plan, workers=1, progress=prog, started=started, executor=executor, cache=False,
                              on_views=views.__setitem__)
        results = assessment.to_dict()
        results["campaign"] = campaign.metadata(source)
        return CandidateRun(source, plan, dict(sorted(views.items())), results)

    if executor is None:
        return [one(s, p) for s, p in plans]
    with ThreadPoolExecutor(max_workers=max(1, len(plans)), thread_name_prefix="candidate") as threads:
        futures = [threads.submit(one, s, p) for s, p in plans]
        return [f.result() for f in futures]


# ------------------------------------------------------------------------------------------------- GEN-003
def person_view(campaign: Campaign, subject_id: str, views: Mapping[str, Sequence[EvidenceView]],
                profile: dict[str, Any]) -> CampaignView:
    """The CampaignView of one person: views maps every candidate's name to its evidence views (any subject)."""
    names = tuple(c.name for c in campaign.candidates)
    return CampaignView(subject_id=subject_id, record=campaign.subjects[subject_id], candidates=names,
                        views={n: tuple(v for v in views.get(n, ()) if v.subject_id == subject_id) for n in names},
                        thresholds=Thresholds.from_profile(profile))


def campaign_findings(campaign: Campaign, views: Mapping[str, Sequence[EvidenceView]], profile: dict[str, Any],
                      specs: Sequence[CheckSpec] | None = None) -> list[Finding]:
    """The findings of the campaign-scope checks, person by person in campaign order."""
    out: list[Finding] = []
    for sid in campaign.subjects:
        pv = person_view(campaign, sid, views, profile)
        for spec in specs if specs is not None else campaign_specs():
            out.extend(run_check(spec, pv))
    return out


# ------------------------------------------------------------------------------------------------- document
def _shows(results: dict[str, Any], subject_id: str) -> list[str]:
    """Modes in which a candidate's results show the person a decoded payload."""
    modes = [e["mode"] for e in results.get("evidence") or []
             if e.get("subject") == subject_id and e.get("status") != "error" and e.get("payload") is not None]
    return [m for m in ("default", "full") if m in modes]


def campaign_verdict(candidate_verdicts: Sequence[str], requirements: Sequence[dict[str, Any]]) -> str:
    must = [r["status"] for r in requirements if r["level"] == "MUST"]
    if "non-conformant" in candidate_verdicts or "fail" in must:
        return "non-conformant"
    if "incomplete" in candidate_verdicts or "partial" in candidate_verdicts or any(
            s in ("skip", "review", "error") for s in must):
        return "incomplete"
    return "conformant"


def campaign_document(campaign: Campaign, candidates: Sequence[tuple[CandidateSource, dict[str, Any]]],
                      findings: Sequence[Finding], profile: dict[str, Any], today: dt.date, started: dt.datetime,
                      finished: dt.datetime) -> dict[str, Any]:
    """campaign.json before masking (specs/campaign-results.schema.json). `candidates`: each candidate with its
    results document (unmasked, as to_dict() gives it)."""
    from conformance import SPEC_VERSION, __version__
    from conformance.specs import load_catalogue, load_catalogue_document

    cat = load_catalogue()
    cands = []
    for src, res in candidates:
        cands.append({
            "name": src.name, "slug": src.slug, "kind": src.kind, "verdict": res["verdict"],
            "report": f"{src.slug}/report.html", "results": f"{src.slug}/results.json",
            "version": (res.get("candidate") or {}).get("version"),
            "statuses": {r["id"]: r["status"] for r in res["requirements"]},
            "must_failed": list(res["summary"]["must_failed"]), "must_open": list(res["summary"]["must_open"]),
            "subjects": [sid for sid in campaign.subjects if any(e.get("subject") == sid for e in res["evidence"])],
        })
    by_req: dict[str, list[Finding]] = {}
    for f in findings:
        by_req.setdefault(f.requirement, []).append(f)
    reqs = []
    for spec_req in dict.fromkeys(r for s in campaign_specs() for r in s.requirements):
        req = cat[spec_req]
        fs = by_req.get(spec_req, [])
        reqs.append({"id": spec_req, "level": req["level"], "origin": req["origin"], "grade": req["grade"],
                     "title_en": req["title_en"], "title_vi": req["title_vi"], "status": combine(f.status for f in fs),
                     "findings": [_finding_entry(f) for f in fs]})
    people = []
    gen3 = by_req.get("GEN-003", [])
    for sid, rec in campaign.subjects.items():
        fs = [f for f in gen3 if f.measured.get("subject") == sid or f.evidence == f"campaign:{sid}"]
        cells = []
        for src, res in candidates:
            modes = _shows(res, sid)
            failed = [f for f in fs if f.status == "fail" and src.name in f.measured.get("candidates", [])]
            compared = any(src.name in f.measured.get("compared", []) for f in fs if f.status in ("pass", "fail"))
            if failed:
                cell = {"status": "fail", "fields": list(dict.fromkeys(str(f.field) for f in failed if f.field)),
                        "modes": list(dict.fromkeys(str(f.measured.get("mode")) for f in failed
                                                    if f.measured.get("mode")))}
            elif compared:
                cell = {"status": "pass"}
            elif any(f.status == "error" for f in fs):
                cell = {"status": "error"}
            else:
                cell = {"status": "skip", "reason": "not_shown" if not modes else "nothing_to_compare"}
            cells.append({"candidate": src.name, "slug": src.slug, "shown_modes": modes, **cell})
        people.append({"id": sid, "name": str(rec.get("ho_ten", "")),
                       "status": combine(f.status for f in fs), "cells": cells})
    verdicts = [c["verdict"] for c in cands]
    verdict = campaign_verdict(verdicts, reqs)
    doc = load_catalogue_document()
    out: dict[str, Any] = {
        "format": FORMAT,
        "suite_version": __version__,
        "spec_version": SPEC_VERSION,
        "catalogue_version": doc["catalogue_version"],
        "generated_at": finished.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "validation_date": today.isoformat(),
        "duration_s": round((finished - started).total_seconds(), 3),
        "name": campaign.name,
        "profile": {"name": profile["name"], "profile_version": profile["profile_version"]},
        "verdict": verdict,
        "summary": {
            "candidates": {v: verdicts.count(v) for v in VERDICT_ORDER},
            "people": {s: sum(1 for p in people if p["status"] == s) for s in ("pass", "fail", "skip", "error")},
            "requirements_open": [r["id"] for r in reqs if r["status"] in OPEN + ("skip",)],
        },
        "candidates": cands,
        "requirements": reqs,
        "people": people,
        "pii_masked": False,
    }
    for k in ("organisation", "report_number"):
        if getattr(campaign, k):
            out[k] = getattr(campaign, k)
    return out


def _finding_entry(f: Finding) -> dict[str, Any]:
    d = f.to_dict()
    m = d.get("measured") or {}
    d["subject"] = m.get("subject")
    if m.get("mode"):
        d["mode"] = m["mode"]
    if f.status == "fail":
        d["candidates"] = list(m.get("candidates") or [])
    elif f.status == "pass":
        d["candidates"] = list(m.get("compared") or [])
    else:
        d["candidates"] = list(m.get("shown_by") or m.get("candidates") or [])
    d.pop("evidence", None)
    return {k: v for k, v in d.items() if v is not None}


def mask_document(doc: dict[str, Any], campaign: Campaign) -> dict[str, Any]:
    """The campaign document masked like the reports (conformance/reports/redact.py)."""
    from conformance.reports.redact import build_redactor

    red = build_redactor({**doc, "subjects": list(campaign.subjects.values())})
    out = red.walk(copy.deepcopy(doc))
    out["pii_masked"] = True
    return dict(out)


def exit_code(doc: dict[str, Any]) -> int:
    return exits.OF_VERDICT[doc["verdict"]]


# ------------------------------------------------------------------------------------------------- the whole run
@dataclass
class CampaignRun:
    document: dict[str, Any]  # campaign.json as written (masked unless show_pii)
    candidates: list[dict[str, Any]]  # each candidate's results.json as written
    exit_code: int


def write_candidate(folder: Path, source: CandidateSource, results: dict[str, Any], plan: Plan, show_pii: bool,
                    metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The candidate's report folder, exactly as `assess` writes it (conformance/reports write_assessment: results.json,
    report.html, junit.xml, allure-results/), and the marker that lets `assess --out` replace it later."""
    from conformance import __version__
    from conformance.outdir import MARKER
    from conformance.reports import write_assessment

    target = folder / source.slug
    shown = write_assessment(results, target, package=plan.package, profile=plan.profile, today=plan.today,
                             show_pii=show_pii, metadata=metadata)
    (target / MARKER).write_text(json.dumps({"suite_version": __version__}) + "\n", encoding="utf-8")
    return shown


def write_campaign(folder: Path, campaign: Campaign, document: dict[str, Any],
                   shown_candidates: Sequence[dict[str, Any]], show_pii: bool) -> dict[str, Any]:
    """campaign.json (validated), junit.xml and dashboard.html into `folder`. Returns the document as written."""
    from conformance.campaign.report import render_dashboard, validate_document, write_junit

    shown = document if show_pii else mask_document(document, campaign)
    shown["pii_masked"] = not show_pii
    validate_document(shown)
    (folder / "campaign.json").write_text(json.dumps(shown, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_junit(shown, shown_candidates, folder / "junit.xml")
    (folder / "dashboard.html").write_text(render_dashboard(shown), encoding="utf-8")
    return shown


def run_campaign(campaign: Campaign, folder: Path, *, profile: dict[str, Any], today: dt.date,
                 workers: int = 1, scheduler: str | None = None, show_pii: bool = False,
                 progress: Progress | None = None, plans: dict[int, Plan] | None = None,
                 shown_folder: Path | None = None) -> CampaignRun:
    """Capture, assess, compare and write everything into `folder` (a staging folder, conformance/outdir.py).
    `plans`: plans made beforehand for the package candidates (by candidates[] index). The Dask scheduler, when
    given, is reached before anything is captured. `shown_folder`: where `folder` is published (the --out)."""
    started = dt.datetime.now(dt.UTC)
    plans = dict(plans or {})
    with ExitStack() as stack:
        executor = stack.enter_context(executor_for(1, scheduler)) if scheduler else None
        for src in campaign.candidates:
            if src.kind == "live":
                capture_live(campaign, src, folder, profile, shown_folder)
            if src.index not in plans:
                plans[src.index] = make_plan(src, profile, today)
        if executor is None:
            groups = sum(len(p.groups()) for p in plans.values())
            executor = stack.enter_context(executor_for(workers, None, groups))
        runs = assess_candidates(campaign, [(s, plans[s.index]) for s in campaign.candidates], executor=executor,
                                 progress=progress)
    findings = campaign_findings(campaign, {r.source.name: [v for vs in r.views.values() for v in vs] for r in runs},
                                 profile)
    meta = campaign.report_metadata()
    shown_candidates = [write_candidate(folder, r.source, r.results, r.plan, show_pii, meta) for r in runs]
    document = campaign_document(campaign, [(r.source, r.results) for r in runs], findings, profile, today, started,
                                 dt.datetime.now(dt.UTC))
    shown = write_campaign(folder, campaign, document, shown_candidates, show_pii)
    return CampaignRun(shown, shown_candidates, exit_code(shown))


class LineProgress:
    """Items done per candidate, one line each (a CI log) or one bar over every candidate's items (a terminal)."""

    def __init__(self, stream: Any, total: int):
        self.stream, self.total, self.done = stream, total, 0
        self.bar: Any = None
        self.lock = threading.Lock()
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, slug: str, done: int, total: int, label: str) -> None:
        from conformance.cli import printable

        with self.lock:
            self.done += 1
            if self.tty:
                if self.bar is None:
                    from tqdm import tqdm

                    self.bar = tqdm(total=self.total, unit="item", file=self.stream, desc="campaign", leave=False)
                self.bar.update(1)
            else:
                print(f"[{slug}] [{done}/{total}] {printable(label)}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
