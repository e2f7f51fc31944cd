"""`assess()`: the whole assessment as a plain function, evidence items analysed on a process pool.

    from conformance.engine import assess
    result = assess("fixtures/candidates/example", workers=2)
    result.to_dict()   # the results.json document

Results do not depend on the worker count: every item's view and findings are computed by the same function
(`analyse_and_check`), and the output keeps the manifest order. Nor on the analysis cache
(conformance/engine/cache.py): an entry is only reused for exactly the same computation.

Memory stays flat in the number of items: as each item comes back, its whole evidence entry goes to a temporary
file (DetailStore), its findings to a FindingDigest (every open finding, the first few others), and the parent
keeps of its views only what the subject and package checks declare they read.
"""
from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from conformance.capture.package import EvidenceItem, Package
from conformance.checks.context import EvidenceView, PackageView, SubjectView, Thresholds
from conformance.checks.registry import all_checks
from conformance.engine.analysis import ItemTask, analyse_group, cache_key
from conformance.engine.assessment import (
    Assessment,
    DetailStore,
    FindingDigest,
    evidence_entry,
    item_status,
    split_entry,
)
from conformance.engine.judge import run_check, run_checks, suite_error
from conformance.engine.plan import Plan
from conformance.model import NOT_RUN, Finding

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


ItemSink = Callable[[int, list[ItemResult]], None]


def analyse_items(plan: Plan, workers: int, progress: Progress | None = None, *,
                  cache_dir: str | os.PathLike[str] | None = None,
                  sink: ItemSink | None = None) -> dict[int, list[ItemResult]]:
    """Every selected item's views and evidence findings, by item index (most items have one view).

    cache_dir: the analysis cache folder (None: none); groups whose analysis is cached run in this process, the
    others on the pool. sink: called with (item index, its results) as each item completes, instead of keeping
    them (the returned dict is then empty)."""
    names = [s.name for s in plan.specs if s.scope == "evidence"]
    groups = plan.groups()
    total = sum(len(g) for g in groups)
    results: dict[int, list[ItemResult]] = {}
    done = 0

    def collect(group: list[EvidenceItem], res: list[ItemResult]) -> None:
        nonlocal done
        by: dict[int, list[ItemResult]] = {}
        for view, fs in res:
            by.setdefault(view.index, []).append((view, fs))
        for it in group:
            if it.index in by:
                if sink is not None:
                    sink(it.index, by.pop(it.index))
                else:
                    results.setdefault(it.index, []).extend(by.pop(it.index))
            done += 1
            if progress is not None:
                progress(done, total, f"#{it.index} {it.kind} {it.subject}/{it.mode or '-'}")

    folder = None if cache_dir is None else str(cache_dir)
    local: list[list[EvidenceItem]] = []
    remote: list[list[EvidenceItem]] = []
    for g in groups:
        cached = folder is not None and _cached(_tasks(plan, g, folder))
        (local if cached or workers <= 1 else remote).append(g)
    if len(remote) <= 1:
        local, remote = sorted(local + remote, key=lambda grp: grp[0].index), []
    if not remote:
        for g in local:
            collect(g, analyse_and_check(_tasks(plan, g, folder), names))
        return results
    with _pool(min(workers, len(remote))) as pool:
        # a bounded window of groups in flight: tasks are made as they are submitted and a collected result is
        # dropped with its future, so the parent's memory does not grow with the number of items
        window = 4 * min(workers, len(remote))
        todo = iter(remote)
        futures: deque[tuple[list[EvidenceItem], Future[list[ItemResult]]]] = deque()

        def submit(n: int) -> None:
            for g in itertools.islice(todo, n):
                futures.append((g, pool.submit(analyse_and_check, _tasks(plan, g, folder), names)))

        submit(window)
        for g in local:  # while the workers start
            collect(g, analyse_and_check(_tasks(plan, g, folder), names))
        while futures:
            g, fut = futures.popleft()
            collect(g, fut.result())
            del fut
            submit(1)
    return results


def _tasks(plan: Plan, group: list[EvidenceItem], cache_dir: str | None) -> list[ItemTask]:
    return [replace(plan.task(it), cache_dir=cache_dir) for it in group]


def _cached(tasks: list[ItemTask]) -> bool:
    """The group's file analysis is in the cache (so it costs no worker)."""
    from conformance.engine.analysis import _cache_of

    needs = frozenset().union(*(t.needs for t in tasks))
    key = cache_key(tasks[0], needs)
    return key is not None and _cache_of(tasks[0]).has(key)


def flat(views: dict[int, list[EvidenceView]]) -> tuple[EvidenceView, ...]:
    return tuple(v for _, vs in sorted(views.items()) for v in vs)


def subject_views(plan: Plan, views: dict[int, list[EvidenceView]]) -> list[SubjectView]:
    th = Thresholds.from_profile(plan.profile)
    by: dict[str, list[EvidenceView]] = {}
    for v in flat(views):
        by.setdefault(v.subject_id, []).append(v)
    return [SubjectView(sid, rec, tuple(by.get(sid, ())), th) for sid, rec in plan.package.subjects.items()]


def package_view(plan: Plan, views: dict[int, list[EvidenceView]]) -> PackageView:
    from conformance.capture.live import load_capture_log

    pkg: Package = plan.package
    log, err = load_capture_log(pkg.root, pkg.manifest)
    return PackageView(root=pkg.root, manifest=pkg.manifest, subjects=pkg.subjects,
                       items=flat(views), thresholds=Thresholds.from_profile(plan.profile),
                       today=plan.today, capture_log=log, capture_log_error=err,
                       capture_log_file=pkg.manifest.get("capture_log"))


def kept_view(plan: Plan, reads: frozenset[str], thresholds: Thresholds) -> Callable[[EvidenceView], EvidenceView]:
    """What the parent keeps of an item's view for the subject and package checks: the inputs they declare
    (`reads`; the payload is always kept), the subject's record and the thresholds shared with every other view."""
    drop: dict[str, Any] = {}
    if "symbols" not in reads:
        drop.update(symbols=(), symbol=None)
    if "screen_text" not in reads:
        drop.update(screen=None, display=None)
    if "robustness" not in reads:
        drop.update(robustness=None)
    subjects = plan.package.subjects

    def keep(v: EvidenceView) -> EvidenceView:
        rec = subjects.get(v.subject_id)
        return replace(v, **drop, thresholds=thresholds, record=rec if rec == v.record else v.record)

    return keep


def assess(package: str | os.PathLike[str] | Package, *, profile: str | os.PathLike[str] | dict[str, Any] | None = None,
           today: str | dt.date | None = None, checks: Sequence[str] | None = None, workers: int | None = None,
           progress: Progress | None = None, items: Sequence[int] | None = None,
           cache: bool | str | os.PathLike[str] | None = None) -> Assessment:
    """Assess an evidence package. `package`: a folder (str / PathLike) with candidate.json, or a loaded Package.

    profile: a profile file or a loaded profile dict (default specs/profile.default.yaml); today: the validation date
    (default today); checks: names of the checks to run (default all: a partial run otherwise); items: evidence item
    indexes to assess (default all); workers: processes for the evidence items (default: usable cores, 1 =
    in-process); cache: the analysis cache (conformance/engine/cache.py: None the default folder unless
    VNQR_CONFORMANCE_CACHE=off, False none, or a folder). Raises PackageError / SpecError / UsageError for unusable
    input, before any work."""
    started = dt.datetime.now(dt.UTC)
    plan = Plan.make(package, profile=profile, today=today, checks=checks, items=items)
    return run_plan(plan, workers=workers, progress=progress, started=started, cache=cache)


def run_plan(plan: Plan, *, workers: int | None = None, progress: Progress | None = None,
             started: dt.datetime | None = None, cache: bool | str | os.PathLike[str] | None = None) -> Assessment:
    from conformance.engine.cache import open_cache

    started = started or dt.datetime.now(dt.UTC)
    store = DetailStore()
    digest = FindingDigest()
    entries: dict[int, dict[str, Any]] = {}
    views: dict[int, list[EvidenceView]] = {}
    others = [s for s in plan.specs if s.scope != "evidence"]
    keep = kept_view(plan, frozenset().union(*(s.needs for s in others)), Thresholds.from_profile(plan.profile))
    ev = plan.package.evidence

    def sink(index: int, res: list[ItemResult]) -> None:
        item_views = [v for v, _ in res]
        fs = [f for _, part in res for f in part]
        entry = evidence_entry(item_views, ev[index].sha256, ev[index].mode)
        entry.setdefault("status", item_status(fs) if fs else NOT_RUN)
        store.put(index, entry)
        entries[index] = split_entry(entry)[0]
        digest.add(fs, (0, index))
        views[index] = [keep(v) for v in item_views]

    ac = open_cache(cache)
    analyse_items(plan, usable_cores() if workers is None else max(1, int(workers)), progress,
                  cache_dir=None if ac is None else ac.root, sink=sink)
    n = 0
    subject_specs = [s for s in others if s.scope == "subject"]
    if subject_specs:
        svs = subject_views(plan, views)
        for spec in subject_specs:
            for sv in svs:
                digest.add(run_check(spec, sv), (1, n))
                n += 1
    pkg_specs = [s for s in others if s.scope == "package"]
    if pkg_specs:
        pv = package_view(plan, views)
        for spec in pkg_specs:
            digest.add(run_check(spec, pv), (1, n))
            n += 1
    if ac is not None:
        ac.prune()
    return Assessment(package=plan.package, profile=plan.profile, findings=digest.findings(),
                      entries=[entries[i] for i in sorted(entries)], started=started,
                      finished=dt.datetime.now(dt.UTC), today=plan.today,
                      selected_checks=plan.selected_checks, selected_items=plan.selected_items,
                      run_requirements=plan.run_requirements, omitted=digest.omitted, details=store)


def default_out(package_root: Path, name: str) -> Path:
    import re

    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:60] or "candidate"
    return Path("reports") / f"{slug}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
