"""`pytest conformance --campaign FILE [--out DIR] [--profile F] [--today D] [--show-pii] [-n N]`: a campaign as
pytest tests. Every candidate's (check, target) cases (test IDs `<candidate-slug>-<case>`), plus one case per person
and campaign-scope check (`GEN-003-same_code_in_every_app-campaign-<subject>`). The judgement is the engine's and the
campaign runner's (conformance/campaign/run.py), so the statuses and the GEN-003 findings equal the CLI's; with
pytest-xdist the findings travel to the controller on the test reports, which writes the campaign folder (every
candidate's reports, campaign.json, junit.xml, dashboard.html) exactly as `vnqr-conformance campaign` does.

Live candidates are captured once, by the controller, before the tests are distributed (the workers get the
captured packages' paths), and copied into the campaign folder as the CLI does (<slug>/package).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.campaign.load import CandidateSource, load_campaign
from conformance.campaign.run import (
    campaign_document,
    campaign_specs,
    capture_live,
    make_plan,
    person_view,
    write_campaign,
    write_candidate,
)
from conformance.checks.registry import CheckSpec
from conformance.engine.plan import Case, Plan
from conformance.model import Finding
from conformance.plugin import _FrontEndBase

CAPTURES_KEY = "vnqr_campaign_captures"  # xdist workerinput: {candidate index: captured package folder}
PAYLOAD_NEEDS = frozenset({"symbols", "payload"})  # what a payload comparison needs of an item


@dataclass(frozen=True)
class CampaignCase:
    """One test of a campaign: a candidate's engine case, or a campaign-scope check on one person."""

    spec: CheckSpec
    slug: str | None  # the candidate's slug; None for a campaign case
    case: Case | None  # the candidate's engine case
    subject: str | None = None  # campaign case: the person

    @property
    def id(self) -> str:
        if self.case is not None:
            return f"{self.slug}-{self.case.id}"
        return f"{'+'.join(self.spec.requirements)}-{self.spec.name}-campaign-{self.subject}"

    def __repr__(self) -> str:  # pytest and Allure store parameter reprs: the case's name only, no personal data
        return self.id


class CampaignFrontEnd(_FrontEndBase):
    """The campaign of one pytest session (one per process; the xdist controller gathers the findings)."""

    def __init__(self, config: pytest.Config):
        from conformance.engine.plan import parse_today
        from conformance.engine.session import Session
        from conformance.specs import load_profile

        self.config = config
        self.started = dt.datetime.now(dt.UTC)
        self.campaign = load_campaign(config.getoption("--campaign"))
        self.profile = load_profile(config.getoption("--profile"))
        self.today = parse_today(config.getoption("--today"))
        self.captures: dict[int, str] = {}
        self._capture_dir: Path | None = None
        workerinput = getattr(config, "workerinput", None)
        live = [s for s in self.campaign.candidates if s.kind == "live"]
        if live:
            if workerinput is not None:  # captured by the controller
                self.captures = {int(k): v for k, v in workerinput.get(CAPTURES_KEY, {}).items()}
            else:
                self._capture_dir = Path(tempfile.mkdtemp(prefix="vnqr-campaign-capture-"))
                for s in live:
                    capture_live(self.campaign, s, self._capture_dir, self.profile)
                    self.captures[s.index] = str(self._capture_dir / s.slug / "package")
            for s in live:
                if s.package is None:
                    self._load_captured(s)
        checks = config.getoption("--check")
        specs = [s for s in campaign_specs() if not checks or s.name in checks]
        own_checks = [c for c in checks or [] if c not in {x.name for x in campaign_specs()}]
        self.plans: dict[str, Plan] = {}
        for s in self.campaign.candidates:
            plan = make_plan(s, self.profile, self.today)
            if own_checks:
                plan = Plan.make(plan.package, profile=self.profile, today=self.today, checks=own_checks)
            self.plans[s.slug] = plan
        self.sessions = {slug: Session(plan) for slug, plan in self.plans.items()}
        self.sources = {s.slug: s for s in self.campaign.candidates}
        self.cases: list[CampaignCase] = [] if checks and not own_checks else [
            CampaignCase(c.spec, slug, c) for slug, plan in self.plans.items() for c in plan.cases()]
        self.cases += [CampaignCase(spec, None, None, sid) for spec in specs for sid in self.campaign.subjects]
        self.findings: dict[str, list[dict[str, Any]]] = {}  # case id -> findings, from every process
        # candidate slug -> engine case id -> findings; candidate slug -> item index -> evidence entry
        self.candidate_findings: dict[str, dict[str, list[dict[str, Any]]]] = {slug: {} for slug in self.plans}
        self.entries: dict[str, dict[int, dict[str, Any]]] = {slug: {} for slug in self.plans}
        self.sent_entries: set[tuple[str, int]] = set()
        self._payload_views: dict[tuple[str, int], Any] = {}
        self._redactor: Any = None

    def _load_captured(self, source: CandidateSource) -> None:
        from conformance.campaign.load import campaign_package
        from conformance.capture.package import load_package

        source.package = campaign_package(load_package(Path(self.captures[source.index])), self.campaign.subjects)

    # -- what pytest-xdist needs ----------------------------------------------------------------------------
    def worker_input(self) -> dict[str, Any]:
        return {CAPTURES_KEY: {str(k): v for k, v in self.captures.items()}}

    def subjects(self) -> list[dict[str, Any]]:
        return list(self.campaign.subjects.values())

    def default_name(self) -> tuple[str, str]:
        return self.campaign.name, "campaign-"

    # -- judging -------------------------------------------------------------------------------------------
    def _payload_view(self, slug: str, index: int) -> Any:
        """An item's view for a payload comparison: the session's when this process analysed the item already,
        else one computed with the payload inputs only (the payload is the same; no OCR)."""
        session = self.sessions[slug]
        if index in session.analysed():
            return session.view(index)
        key = (slug, index)
        if key not in self._payload_views:
            from conformance.engine.analysis import analyse_group

            plan = self.plans[slug]
            item = plan.package.evidence[index]
            self._payload_views[key] = analyse_group([plan.task(item, needs=PAYLOAD_NEEDS)])
        return self._payload_views[key]

    def judge_findings(self, case: CampaignCase) -> list[Finding]:
        from conformance.engine.judge import run_check, suite_error

        if case.case is not None:
            assert case.slug is not None
            return self.sessions[case.slug].judge(case.case)
        assert case.subject is not None
        try:
            views = {}
            for s in self.campaign.candidates:
                plan = self.plans[s.slug]
                views[s.name] = [v for it in plan.items() if it.subject == case.subject
                                 for v in self._payload_view(s.slug, it.index)]
            return run_check(case.spec, person_view(self.campaign, case.subject, views, self.profile))
        except Exception as exc:  # noqa: BLE001 - an analyser crash is a suite bug: error, the session goes on
            return suite_error(case.spec, _Key(f"campaign:{case.subject}"), exc)

    def judge(self, case: CampaignCase, item: pytest.Item) -> None:
        from conformance.plugin import RESULT, _json_default, outcome

        findings = self.judge_findings(case)
        payload: dict[str, Any] = {"case": case.id, "findings": [f.to_dict() for f in findings]}
        if case.case is not None:
            assert case.slug is not None
            payload.update(candidate=case.slug, engine_case=case.case.id)
            if case.case.target.startswith("item"):
                index = int(case.case.target[4:])
                if (case.slug, index) not in self.sent_entries:
                    self.sent_entries.add((case.slug, index))
                    payload["entry"] = json.loads(json.dumps(self.sessions[case.slug].entry(index),
                                                             default=_json_default))
        item.stash[RESULT] = payload
        _allure(self, case, findings)
        outcome(self, findings, item)

    def gather(self, data: dict[str, Any]) -> None:
        self.findings[data["case"]] = data["findings"]
        if data.get("candidate"):
            self.candidate_findings[data["candidate"]][data["engine_case"]] = data["findings"]
        if "entry" in data:
            self.entries[data["candidate"]][data["entry"]["index"]] = data["entry"]

    # -- the campaign folder -------------------------------------------------------------------------------
    def finish(self) -> dict[str, Any]:
        """Every candidate's results and the campaign document from the gathered findings, written as the CLI
        writes them."""
        from conformance.outdir import staged_output
        from conformance.plugin import gathered_results

        by_slug: dict[str, list[Case]] = {}
        for c in self.cases:
            if c.case is not None and c.slug is not None:
                by_slug.setdefault(c.slug, []).append(c.case)
        per_candidate = []
        for s in self.campaign.candidates:
            results = gathered_results(self.plans[s.slug], by_slug.get(s.slug, []), self.candidate_findings[s.slug],
                                       self.entries[s.slug], self.started)
            results["campaign"] = self.campaign.metadata(s)
            per_candidate.append((s, results))
        campaign_ids = {c.id for c in self.cases if c.case is None}
        findings = [Finding(**f) for cid in [c.id for c in self.cases if c.id in campaign_ids]
                    for f in self.findings.get(cid, [])]
        out = self.out_dir()
        with staged_output(out) as folder:
            for s, _ in per_candidate:
                if s.kind == "live":
                    shutil.copytree(self.captures[s.index], folder / s.slug / "package")
            shown = [write_candidate(folder, s, r, self.plans[s.slug], self.show_pii, self.campaign.report_metadata())
                     for s, r in per_candidate]
            document = campaign_document(self.campaign, per_candidate, findings, self.profile, self.today,
                                         self.started, dt.datetime.now(dt.UTC))
            doc = write_campaign(folder, self.campaign, document, shown, self.show_pii)
        return doc

    def cleanup(self) -> None:
        if self._capture_dir is not None:
            shutil.rmtree(self._capture_dir, ignore_errors=True)


class _Key:
    """Names a campaign case's target for error findings."""

    def __init__(self, key: str):
        self.key = key


def _allure(fe: CampaignFrontEnd, case: CampaignCase, findings: list[Finding]) -> None:
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-pytest is a pinned dependency
        return
    if not fe.config.pluginmanager.hasplugin("allure_pytest") or not fe.config.getoption("--alluredir", None):
        return
    for rid in case.spec.requirements:
        allure.dynamic.label("requirement", rid)
        allure.dynamic.tag(rid)
    allure.dynamic.title(case.id)
    allure.dynamic.label("epic", fe.campaign.name)
    allure.dynamic.label("feature", fe.sources[case.slug].name if case.slug else "campaign")
    allure.dynamic.description(fe.mask("\n".join(f"[{f.status}] {f.message_en} / {f.message_vi}" for f in findings)))


class CampaignHooks:
    """Registered by conformance/plugin.py when --campaign is given: the xdist controller captures the live
    candidates once and hands the packages to its workers; the capture folder is removed at the end."""

    def __init__(self, config: pytest.Config):
        self.config = config

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        from conformance.plugin import state

        fe = state(self.config)
        if isinstance(fe, CampaignFrontEnd):
            node.workerinput.update(fe.worker_input())

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        from conformance.plugin import STATE

        fe = config.stash.get(STATE, None)
        if isinstance(fe, CampaignFrontEnd):
            fe.cleanup()
