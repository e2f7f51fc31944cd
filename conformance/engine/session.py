"""In-process, on-demand judgement of single (check, target) cases: the pytest front-end's engine.

Each evidence file is analysed once, the first time a case needs it; the findings of a case are exactly those
`assess()` gives for it (the same views, the same checks, the same judge)."""
from __future__ import annotations

from dataclasses import replace

from conformance.capture.package import EvidenceItem
from conformance.checks.context import EvidenceView
from conformance.engine.analysis import analyse_group, file_key
from conformance.engine.assessment import evidence_entry
from conformance.engine.judge import run_check, suite_error
from conformance.engine.plan import Case, Plan
from conformance.engine.run import package_view, subject_views
from conformance.model import Finding


class Session:
    def __init__(self, plan: Plan, cache: bool | str | None = None):
        """cache: the analysis cache (conformance/engine/cache.py; None: the default folder unless switched off)."""
        from conformance.engine.cache import open_cache

        self.plan = plan
        ac = open_cache(cache)
        self._cache_dir = None if ac is None else str(ac.root)
        self._views: dict[int, list[EvidenceView]] = {}
        groups: dict[str, list[EvidenceItem]] = {}
        for it in plan.items():
            groups.setdefault(file_key(it), []).append(it)
        self._group = {it.index: g for g in groups.values() for it in g}

    def view(self, index: int) -> list[EvidenceView]:
        """The views of one item (one, or one per part of it such as a recording's representative frames)."""
        if index not in self._views:
            group = self._group[index]
            fresh: dict[int, list[EvidenceView]] = {}
            for v in analyse_group([replace(self.plan.task(it), cache_dir=self._cache_dir) for it in group]):
                fresh.setdefault(v.index, []).append(v)
            self._views.update(fresh)
        return self._views[index]

    def views(self) -> dict[int, list[EvidenceView]]:
        return {it.index: self.view(it.index) for it in self.plan.items()}

    def judge(self, case: Case) -> list[Finding]:
        """The findings of one case; an analyser crash is `error` on the case's requirements (suite bug)."""
        try:
            return self._judge(case)
        except Exception as exc:  # noqa: BLE001 - reported, the session goes on
            return suite_error(case.spec, _Target(case), exc)

    def _judge(self, case: Case) -> list[Finding]:
        if case.target.startswith("item"):
            return [f for v in self.view(int(case.target[4:])) if v.kind in case.spec.kinds
                    for f in run_check(case.spec, v)]
        if case.target.startswith("subject:"):
            sid = case.target.split(":", 1)[1]
            target = next(sv for sv in subject_views(self.plan, self.views()) if sv.subject_id == sid)
            return run_check(case.spec, target)
        return run_check(case.spec, package_view(self.plan, self.views()))

    def entry(self, index: int) -> dict[str, object]:
        it = self.plan.package.evidence[index]
        return evidence_entry(self.view(index), it.sha256, it.mode)

    def analysed(self) -> list[int]:
        return sorted(self._views)


class _Target:
    """Names a case's target for error findings when its view could not be built."""

    def __init__(self, case: Case):
        self.key = case.target
        if case.target.startswith("item"):
            self.index = int(case.target[4:])
            self.file = case.label
