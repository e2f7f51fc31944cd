"""`assess()`: the whole assessment as a plain function, evidence items analysed on a process pool.

    from conformance.engine import assess
    result = assess("fixtures/candidates/example", workers=2)
    result.to_dict()   # the results.json document

Results do not depend on the worker count: every item's view and findings are computed by the same function
(`analyse_and_check`), and the output keeps the manifest order.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from conformance.capture.package import EvidenceItem, Package
from conformance.checks.context import EvidenceView, PackageView, SubjectView, Thresholds
from conformance.checks.registry import all_checks
from conformance.engine.analysis import ItemTask, analyse_group
from conformance.engine.assessment import Assessment, evidence_entry
from conformance.engine.judge import run_check, run_checks, suite_error
from conformance.engine.plan import Plan
from conformance.model import Finding

Progress = Callable[[int, int, str], None]  # (items done, items total, label of the item just finished)
ItemResult = tuple[EvidenceView, list[Finding]]  # one view (an item, or a part of it such as a recording's frame)


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def analyse_and_check(tasks: Sequence[ItemTask], check_names: Sequence[str]) -> list[ItemResult]:
    """Views of a group of items naming one file, and the findings of their evidence checks. Runs in a worker.

    An analyser crash is a suite bug: every selected requirement of those items becomes `error`."""
    registry = all_checks()
    specs = [registry[n] for n in check_names]
    try:
        views = analyse_group(tasks)
    except Exception as exc:  # noqa: BLE001 - reported as error findings, the run goes on
        out: list[ItemResult] = []
        for t in tasks:
            view = _bare_view(t)
            fs = [f for s in specs if t.item.kind in s.kinds for f in suite_error(s, view, exc)]
            out.append((view, fs))
        return out
    return [(v, run_checks([s for s in specs if v.kind in s.kinds], v)) for v in views]


def _bare_view(t: ItemTask) -> EvidenceView:
    it = t.item
    return EvidenceView(index=it.index, file=it.file, kind=it.kind, mode=it.mode, subject_id=it.subject,
                        record=t.record, extra=dict(it.extra), thresholds=Thresholds.from_profile(t.profile),
                        today=t.today, ppi=t.ppi, screen_width_px=t.screen_width_px)


def _pool(workers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("forkserver")
    # The fork server imports the analysers once; every worker forks from it with them loaded.
    ctx.set_forkserver_preload(["conformance.engine.run", "conformance.symbol", "conformance.ocr"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def analyse_items(plan: Plan, workers: int, progress: Progress | None = None,
                  executor: Executor | None = None) -> dict[int, list[ItemResult]]:
    """Every selected item's views and evidence findings, by item index (most items have one view).

    executor: run the evidence-file groups on this concurrent.futures executor (a shared process pool, or a Dask
    cluster's `client.get_executor()`) instead of a pool of `workers` processes; the results are the same."""
    names = [s.name for s in plan.specs if s.scope == "evidence"]
    groups = plan.groups()
    total = sum(len(g) for g in groups)
    results: dict[int, list[ItemResult]] = {}
    done = 0

    def collect(group: list[EvidenceItem], res: list[ItemResult]) -> None:
        nonlocal done
        for view, fs in res:
            results.setdefault(view.index, []).append((view, fs))
        for it in group:
            done += 1
            if progress is not None:
                progress(done, total, f"#{it.index} {it.kind} {it.subject}/{it.mode or '-'}")

    def run_on(pool: Executor) -> None:
        futures: list[tuple[list[EvidenceItem], Future[list[ItemResult]]]] = [
            (g, pool.submit(analyse_and_check, t, names)) for g, t in zip(groups, tasks)]
        for g, fut in futures:
            collect(g, fut.result())

    tasks = [[plan.task(it) for it in g] for g in groups]
    if executor is not None:
        run_on(executor)
    elif workers <= 1 or len(groups) <= 1:
        for g, t in zip(groups, tasks):
            collect(g, analyse_and_check(t, names))
    else:
        with _pool(min(workers, len(groups))) as pool:
            run_on(pool)
    return results


def flat(views: dict[int, list[EvidenceView]]) -> tuple[EvidenceView, ...]:
    return tuple(v for _, vs in sorted(views.items()) for v in vs)


def subject_views(plan: Plan, views: dict[int, list[EvidenceView]]) -> list[SubjectView]:
    th = Thresholds.from_profile(plan.profile)
    return [SubjectView(sid, rec, tuple(v for v in flat(views) if v.subject_id == sid), th)
            for sid, rec in plan.package.subjects.items()]


def package_view(plan: Plan, views: dict[int, list[EvidenceView]]) -> PackageView:
    from conformance.capture.live import load_capture_log

    pkg: Package = plan.package
    log, err = load_capture_log(pkg.root, pkg.manifest)
    return PackageView(root=pkg.root, manifest=pkg.manifest, subjects=pkg.subjects,
                       items=flat(views), thresholds=Thresholds.from_profile(plan.profile),
                       today=plan.today, capture_log=log, capture_log_error=err,
                       capture_log_file=pkg.manifest.get("capture_log"))


def assess(package: str | os.PathLike[str] | Package, *, profile: str | os.PathLike[str] | dict[str, Any] | None = None,
           today: str | dt.date | None = None, checks: Sequence[str] | None = None, workers: int | None = None,
           progress: Progress | None = None, items: Sequence[int] | None = None) -> Assessment:
    """Assess an evidence package. `package`: a folder (str / PathLike) with candidate.json, or a loaded Package.

    profile: a profile file or a loaded profile dict (default specs/profile.default.yaml); today: the validation date
    (default today); checks: names of the checks to run (default all: a partial run otherwise); items: evidence item
    indexes to assess (default all); workers: processes for the evidence items (default: usable cores, 1 =
    in-process). Raises PackageError / SpecError / UsageError for unusable input, before any work."""
    started = dt.datetime.now(dt.UTC)
    plan = Plan.make(package, profile=profile, today=today, checks=checks, items=items)
    return run_plan(plan, workers=workers, progress=progress, started=started)


def run_plan(plan: Plan, *, workers: int | None = None, progress: Progress | None = None,
             started: dt.datetime | None = None, executor: Executor | None = None) -> Assessment:
    started = started or dt.datetime.now(dt.UTC)
    per_item = analyse_items(plan, usable_cores() if workers is None else max(1, int(workers)), progress,
                             executor=executor)
    return assessment_of(plan, per_item, started)


def assessment_of(plan: Plan, per_item: dict[int, list[ItemResult]], started: dt.datetime) -> Assessment:
    """The Assessment of a plan from its items' views and evidence findings (analyse_items): the subject and
    package checks run here, in this process."""
    views = {i: [v for v, _ in res] for i, res in per_item.items()}
    findings: list[Finding] = [f for _, res in sorted(per_item.items()) for _, fs in res for f in fs]
    for spec in plan.specs:
        if spec.scope == "subject":
            for sv in subject_views(plan, views):
                findings.extend(run_check(spec, sv))
    pkg_specs = [s for s in plan.specs if s.scope == "package"]
    if pkg_specs:
        pv = package_view(plan, views)
        for spec in pkg_specs:
            findings.extend(run_check(spec, pv))
    ev = plan.package.evidence
    entries = [evidence_entry(views[i], ev[i].sha256, ev[i].mode) for i in sorted(views)]
    return Assessment(package=plan.package, profile=plan.profile, findings=findings, entries=entries, started=started,
                      finished=dt.datetime.now(dt.UTC), today=plan.today,
                      selected_checks=plan.selected_checks, selected_items=plan.selected_items,
                      run_requirements=plan.run_requirements)
