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
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from conformance.capture.package import EvidenceItem, Package
from conformance.checks.context import EvidenceView, PackageView, SubjectView, Thresholds
from conformance.checks.registry import all_checks
from conformance.engine.analysis import ItemTask, analyse_group, base_view, cache_key
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


ENV_WORKERS = "VNQR_CONFORMANCE_WORKERS"


def default_workers() -> int:
    """The worker count when none is given: VNQR_CONFORMANCE_WORKERS when it is a whole number from 1 to the usable
    cores (a runner already spreading work over the cores, such as pytest-xdist, sets 1), else the usable cores."""
    cores = usable_cores()
    raw = os.environ.get(ENV_WORKERS, "").strip()
    if not (raw.isascii() and raw.isdigit()):  # "²" is a digit to str.isdigit, not to int()
        return cores
    return min(cores, int(raw)) if int(raw) >= 1 else cores


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
            view = base_view(t)
            fs = [f for s in specs if t.item.kind in s.kinds for f in suite_error(s, view, exc)]
            out.append((view, fs))
        return out
    return [(v, run_checks([s for s in specs if v.kind in s.kinds], v)) for v in views]


def _pool(workers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("forkserver")
    # The fork server imports the analysers once; every worker forks from it with them loaded.
    ctx.set_forkserver_preload(["conformance.engine.run", "conformance.symbol", "conformance.ocr"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


ItemSink = Callable[[int, list[ItemResult]], None]
GroupWork = Callable[[Sequence[ItemTask], Sequence[str]], list[ItemResult]]
DEFAULT_FILE_DEADLINE_S = 600.0


def file_deadline(plan: Plan) -> float:
    """How long the analysis of one evidence file (with its items) may take on a worker (profile
    limits.max_file_analysis_seconds): past it the file's items are errors and the worker is stopped."""
    value = (plan.profile.get("limits") or {}).get("max_file_analysis_seconds", DEFAULT_FILE_DEADLINE_S)
    return float(value)


def failed_group(tasks: Sequence[ItemTask], names: Sequence[str], en: str, vi: str) -> list[ItemResult]:
    """A group whose analysis did not come back (its worker died, or it ran past its deadline): each item becomes
    an evidence error naming what happened, through the same checks (so every requirement it feeds is `error`)."""
    return analyse_and_check([replace(t, item=replace(t.item, error_en=en, error_vi=vi)) for t in tasks], names)


def _crashed(group: list[EvidenceItem]) -> tuple[str, str]:
    return (f"{group[0].file}: the analysis of this file stopped its worker process (killed, or out of memory); the "
            "suite could not judge it",
            f"{group[0].file}: việc phân tích tệp này làm tiến trình xử lý dừng đột ngột (bị dừng hoặc hết bộ nhớ); "
            "bộ kiểm thử không đánh giá được tệp")


def _overran(group: list[EvidenceItem], deadline_s: float) -> tuple[str, str]:
    return (f"{group[0].file}: the analysis of this file did not end within {deadline_s:g} s (profile "
            "limits.max_file_analysis_seconds); stopped",
            f"{group[0].file}: việc phân tích tệp này không xong trong {deadline_s:g} giây (hồ sơ "
            "limits.max_file_analysis_seconds); đã dừng")


def analyse_items(plan: Plan, workers: int, progress: Progress | None = None, *,
                  cache_dir: str | os.PathLike[str] | None = None, sink: ItemSink | None = None,
                  executor: Executor | None = None, work: GroupWork | None = None) -> dict[int, list[ItemResult]]:
    """Every selected item's views and evidence findings, by item index (most items have one view).

    cache_dir: the analysis cache folder (None: none); groups whose analysis is cached run in this process, the
    others on the pool. sink: called with (item index, its results) as each item completes, instead of keeping
    them (the returned dict is then empty). executor: run the groups on this concurrent.futures executor (a shared
    process pool, or a Dask cluster's `client.get_executor()`) instead of a pool of `workers` processes; the
    results are the same.

    On a pool, a file's analysis is bounded by file_deadline(), and a worker that dies (killed, out of memory, a
    crash in a native decoder) costs only its own file: the groups that were in flight are run again one at a time,
    and the one that kills its worker again becomes an evidence error. In this process (workers=1) there is no
    such bound. work: what runs for each group on a worker (default analyse_and_check; tests inject faults)."""
    names = [s.name for s in plan.specs if s.scope == "evidence"]
    remote_work = work or analyse_and_check
    groups = plan.groups()
    total = sum(len(g) for g in groups)
    results: dict[int, list[ItemResult]] = {}
    done = 0
    deadline_s = file_deadline(plan)

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
        (local if cached or (workers <= 1 and executor is None) else remote).append(g)
    if executor is None and len(remote) <= 1:
        local, remote = sorted(local + remote, key=lambda grp: grp[0].index), []

    def run_local() -> None:
        for g in local:
            collect(g, analyse_and_check(_tasks(plan, g, folder), names))
        local.clear()

    if not remote:
        run_local()
    elif executor is not None:
        _on_executor(executor, remote_work, plan, remote, names, folder, collect, run_local, deadline_s)
    else:
        _on_pools(remote_work, plan, remote, names, folder, min(workers, len(remote)), collect, run_local, deadline_s)
    return results


def _on_executor(executor: Executor, work: GroupWork, plan: Plan, groups: list[list[EvidenceItem]], names: Sequence[str],
                 folder: str | None, collect: Callable[[list[EvidenceItem], list[ItemResult]], None],
                 run_local: Callable[[], None], deadline_s: float) -> None:
    """Groups on a caller's executor, a bounded window in flight. A group that fails or overruns is an evidence
    error (the executor is the caller's: it is not stopped)."""
    todo = iter(groups)
    futures: deque[tuple[list[EvidenceItem], Future[list[ItemResult]]]] = deque()

    def submit(n: int) -> None:
        for g in itertools.islice(todo, n):
            try:
                futures.append((g, executor.submit(work, _tasks(plan, g, folder), names)))
            except Exception:  # noqa: BLE001 - a broken pool or a lost cluster refuses the task: that file is an error
                collect(g, failed_group(_tasks(plan, g, folder), names, *_crashed(g)))

    submit(32)
    run_local()
    while futures:
        g, fut = futures.popleft()
        try:
            res = fut.result(timeout=deadline_s)
        except FutureTimeout:
            fut.cancel()
            res = failed_group(_tasks(plan, g, folder), names, *_overran(g, deadline_s))
        except Exception:  # noqa: BLE001 - the worker or the cluster lost the task: that file is an error
            res = failed_group(_tasks(plan, g, folder), names, *_crashed(g))
        collect(g, res)
        del fut
        submit(1)


def _on_pools(work: GroupWork, plan: Plan, groups: list[list[EvidenceItem]], names: Sequence[str], folder: str | None, workers: int,
              collect: Callable[[list[EvidenceItem], list[ItemResult]], None], run_local: Callable[[], None],
              deadline_s: float) -> None:
    """Groups on a process pool with a bounded window in flight: tasks are made as they are submitted and a
    collected result is dropped with its future, so the parent's memory does not grow with the number of items.
    A broken pool (a worker died) or an overrun is contained: see analyse_items."""
    todo: deque[list[EvidenceItem]] = deque(groups)
    suspects: deque[list[EvidenceItem]] = deque()  # in flight when a worker died: each is run again alone
    while todo or suspects:
        alone = bool(suspects)
        queue = suspects if alone else todo
        size = 1 if alone else min(workers, len(todo))
        pool = _pool(size)
        inflight: deque[tuple[list[EvidenceItem], Future[list[ItemResult]]]] = deque()
        broken = False

        def submit(n: int, queue: deque[list[EvidenceItem]] = queue, pool: ProcessPoolExecutor = pool,
                   inflight: deque[tuple[list[EvidenceItem], Future[list[ItemResult]]]] = inflight) -> None:
            while n > 0 and queue:
                g = queue[0]  # taken off the queue only once the pool has it (submit raises on a broken pool)
                inflight.append((g, pool.submit(work, _tasks(plan, g, folder), names)))
                queue.popleft()
                n -= 1

        try:
            submit(1 if alone else 4 * size)
            run_local()  # while the workers start (the first time only: it empties the list)
            while inflight:
                g, fut = inflight[0]
                try:
                    res = fut.result(timeout=deadline_s)
                except FutureTimeout:
                    inflight.popleft()
                    collect(g, failed_group(_tasks(plan, g, folder), names, *_overran(g, deadline_s)))
                    broken = True  # its worker is still busy: the pool is stopped, the others run again
                    todo.extendleft(reversed([grp for grp, _ in inflight]))
                    break
                except Exception:  # noqa: BLE001 - BrokenProcessPool: some worker died, which one is unknown
                    if alone:
                        inflight.popleft()
                        collect(g, failed_group(_tasks(plan, g, folder), names, *_crashed(g)))
                    else:
                        suspects.extend(grp for grp, _ in inflight)
                    broken = True
                    break
                inflight.popleft()
                collect(g, res)
                del fut
                if not alone:
                    submit(1)
        except BrokenProcessPool:
            # a worker died while tasks were still being handed out (submit refuses a broken pool): the groups in
            # flight are suspects, run again alone; the ones not handed out stay queued
            suspects.extend(grp for grp, _ in inflight)
            broken = True
        finally:
            if broken:
                _stop(pool)
            else:
                _finish(pool)


POOL_EXIT_S = 30.0  # a pool whose work is done: time for its workers to exit before they are killed


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool whose workers may be stuck: kill them, then shut it down without waiting."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            proc.kill()
        except Exception:  # noqa: BLE001 - already gone
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def _finish(pool: ProcessPoolExecutor) -> None:
    """Shut down a pool whose work is done, bounded: a worker that has not exited after POOL_EXIT_S (a stuck
    one must never hold the run) is killed."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False)
    end = time.monotonic() + POOL_EXIT_S
    for proc in procs:
        proc.join(max(0.0, end - time.monotonic()))
    if any(proc.is_alive() for proc in procs):
        _stop(pool)
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:
        manager.join(POOL_EXIT_S)


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
    indexes to assess (default all); workers: processes for the evidence items (default: default_workers(), 1 =
    in-process); cache: the analysis cache (conformance/engine/cache.py: None the default folder unless
    VNQR_CONFORMANCE_CACHE=off, False none, or a folder). Raises PackageError / SpecError / UsageError for unusable
    input, before any work."""
    started = dt.datetime.now(dt.UTC)
    plan = Plan.make(package, profile=profile, today=today, checks=checks, items=items)
    return run_plan(plan, workers=workers, progress=progress, started=started, cache=cache)


def run_plan(plan: Plan, *, workers: int | None = None, progress: Progress | None = None,
             started: dt.datetime | None = None, cache: bool | str | os.PathLike[str] | None = None,
             executor: Executor | None = None,
             on_views: Callable[[int, list[EvidenceView]], None] | None = None,
             work: GroupWork | None = None) -> Assessment:
    """The assessment of a plan (see assess). executor, work: as for analyse_items; on_views: called with every
    item's whole views as they come (a campaign keeps them for its cross-app checks)."""
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
        if on_views is not None:
            on_views(index, item_views)

    ac = open_cache(cache)
    analyse_items(plan, default_workers() if workers is None else max(1, int(workers)), progress,
                  cache_dir=None if ac is None else ac.root, sink=sink, executor=executor, work=work)
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

