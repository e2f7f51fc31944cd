"""pytest front-end over the engine: every (check, target) case of a candidate is a test, tagged with its
requirement IDs. The judgement is the engine's (conformance/engine/session.py), so statuses equal the CLI's.

    pytest conformance --candidate PATH [--profile FILE] [--out DIR] [--show-pii] [--today YYYY-MM-DD]

Selection works as pytest users expect: `-k PAYLOAD-003`, `-k item3`, `-k s1-default`, `-m requirement`, `--lf`,
`--check NAME`; a run that does not cover every case is labelled partial. Outcomes: fail -> failed, error -> error
(Allure "broken"), warn -> passed with a ConformanceWarning, review / skip / not_applicable -> skipped.
At the end of the session results.json and report.html are written to --out (default
reports/<candidate>-<timestamp>/); JUnit and Allure come from pytest's own --junitxml / --alluredir. Works with
pytest-xdist: findings travel to the controller on the test reports.
"""
from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.plan import Case, Plan
from conformance.model import Finding

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CANDIDATE = REPO / "fixtures" / "candidates" / "example"
STATE = pytest.StashKey["FrontEnd"]()
RESULT = pytest.StashKey[dict[str, Any]]()


class ConformanceWarning(UserWarning):
    """A SHOULD-level requirement is not met (status `warn`)."""


class EvidenceError(Exception):
    """The suite could not judge this evidence item (status `error`)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("conformance", "Vietnam personal QR (1405/QĐ-BTTTT v1.1) conformance")
    g.addoption("--candidate", metavar="PATH", help="evidence package folder (default: the bundled example candidate)")
    g.addoption("--profile", metavar="FILE", help="assessment profile (default: specs/profile.default.yaml)")
    g.addoption("--out", metavar="DIR", help="report folder (default: reports/<candidate>-<timestamp>/)")
    g.addoption("--show-pii", action="store_true", help="write personal data unmasked in reports")
    g.addoption("--today", metavar="YYYY-MM-DD", help="validation date (injectable clock; default: today)")
    g.addoption("--check", action="append", metavar="NAME", help="run only these checks (repeatable)")
    g.addoption("--waivers", metavar="FILE", help="known issues (specs/waivers.schema.json): marked, never hidden")
    g.addoption("--campaign", metavar="FILE", help="a campaign file (specs/campaign.schema.json): every candidate's "
                "cases plus the cross-candidate ones (GEN-003); --out is then the campaign folder")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): requirement IDs a conformance check verifies")
    if config.getoption("--candidate", None) and not hasattr(config, "workerinput"):
        # an unusable package, profile or --out is a usage error before any test runs, as in `assess`
        fe = state(config)
        if config.getoption("--out", None):
            from conformance.outdir import OutputError, check_out

            try:
                check_out(Path(config.getoption("--out")), fe.plan.package.root)
            except OutputError as exc:
                raise pytest.UsageError(f"{exc.message_en}\n{exc.message_vi}") from None
    if config.getoption("--campaign", None):
        from conformance.campaign.frontend import CampaignHooks

        config.pluginmanager.register(CampaignHooks(config), "conformance-campaign")


class _FrontEndBase:
    """What every pytest front end shares: --show-pii, masking what pytest prints, the report folder."""

    config: pytest.Config
    _redactor: Any = None

    def subjects(self) -> list[dict[str, Any]]:  # the people whose data is masked
        raise NotImplementedError

    def default_name(self) -> tuple[str, str]:  # (name, prefix) of the default report folder
        raise NotImplementedError

    @property
    def show_pii(self) -> bool:
        return bool(self.config.getoption("--show-pii"))

    def mask(self, text: str) -> str:
        """Personal data masked in everything pytest itself prints or stores (JUnit, Allure, terminal)."""
        if self.show_pii:
            return text
        if self._redactor is None:
            from conformance.reports.redact import build_redactor

            self._redactor = build_redactor({"subjects": self.subjects()})
        return str(self._redactor.mask_string(text))

    def out_dir(self) -> Path:
        out = self.config.getoption("--out")
        if out:
            return Path(out)
        from conformance.outdir import default_out

        return default_out(*self.default_name())


class FrontEnd(_FrontEndBase):
    """The assessment of one pytest session (one per process; the xdist controller gathers the findings)."""

    def __init__(self, config: pytest.Config):
        from conformance.engine.session import Session

        self.config = config
        self.started = dt.datetime.now(dt.UTC)
        cand = config.getoption("--candidate") or str(EXAMPLE_CANDIDATE)
        self.plan = Plan.make(cand, profile=config.getoption("--profile"), today=config.getoption("--today"),
                              checks=config.getoption("--check"))
        self.session = Session(self.plan)
        self.cases = self.plan.cases()
        self.findings: dict[str, list[dict[str, Any]]] = {}  # case id -> findings (as dicts), from every process
        self.entries: dict[int, dict[str, Any]] = {}
        self.sent_entries: set[int] = set()
        self.attached: set[int] = set()
        self._redactor: Any = None

    def subjects(self) -> list[dict[str, Any]]:
        return list(self.plan.package.subjects.values())

    def default_name(self) -> tuple[str, str]:
        return str(self.plan.package.candidate.get("name", "candidate")), ""


def state(config: pytest.Config) -> FrontEnd:
    fe = config.stash.get(STATE, None)
    if fe is None:
        from conformance.campaign.load import CampaignError
        from conformance.capture.package import PackageError
        from conformance.engine.plan import UsageError
        from conformance.specs import SpecError

        try:
            if config.getoption("--campaign"):
                from conformance.campaign.frontend import CampaignFrontEnd

                fe = CampaignFrontEnd(config)  # type: ignore[assignment]
            else:
                fe = FrontEnd(config)
        except (CampaignError, PackageError, SpecError, UsageError) as exc:
            en = getattr(exc, "message_en", None) or getattr(exc, "message", None) or str(exc)
            vi = getattr(exc, "message_vi", None) or en
            where = ": ".join(str(getattr(exc, k)) for k in ("file", "json_path") if getattr(exc, k, None))
            prefix = f"{where}: " if where else ""
            raise pytest.UsageError(f"{prefix}{en}\n{prefix}{vi}") from None
        config.stash[STATE] = fe
    return fe


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "conformance_case" not in metafunc.fixturenames:
        return
    fe = state(metafunc.config)
    params = [pytest.param(c, id=c.id, marks=[pytest.mark.requirement(*c.spec.requirements)]) for c in fe.cases]
    metafunc.parametrize("conformance_case", params)


@pytest.fixture(scope="session")
def conformance_frontend(request: pytest.FixtureRequest) -> FrontEnd:
    return state(request.config)


def _allure_decorate(fe: FrontEnd, case: Case, findings: list[Finding]) -> None:
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-pytest is a pinned dependency
        return
    if not fe.config.pluginmanager.hasplugin("allure_pytest") or not fe.config.getoption("--alluredir", None):
        return
    from conformance.specs import load_catalogue

    cat = load_catalogue()
    for rid in case.spec.requirements:
        allure.dynamic.label("requirement", rid)
        allure.dynamic.tag(rid)
        req = cat[rid]
        allure.dynamic.tag(f"origin:{req['origin']}")
        allure.dynamic.severity({"MUST": allure.severity_level.CRITICAL, "SHOULD": allure.severity_level.NORMAL,
                                 "MAY": allure.severity_level.MINOR}[req["level"]])
    allure.dynamic.title(case.id)
    allure.dynamic.description(fe.mask("\n".join(f"[{f.status}] {f.message_en} / {f.message_vi}" for f in findings)))
    allure.dynamic.label("epic", str(fe.plan.package.candidate["name"]))
    allure.dynamic.label("feature", case.spec.requirements[0].split("-")[0])
    if case.target.startswith("item"):
        index = int(case.target[4:])
        if index not in fe.attached:
            fe.attached.add(index)
            jpeg = _annotated(fe, index)
            if jpeg is not None:
                allure.attach(jpeg, name=f"item {index} (annotated)", attachment_type=allure.attachment_type.JPG)


def _annotated(fe: FrontEnd, index: int) -> bytes | None:
    """The item's annotated screenshot (QR outlined; redacted unless --show-pii) for Allure."""
    from conformance.reports import annotated_picture
    from conformance.reports.items import ItemSource, LazyImages

    entry = json.loads(json.dumps(fe.session.entry(index), default=_json_default))
    files = ItemSource({"evidence": [entry]}).screenshot_files
    images = LazyImages(fe.plan.package.root, {f: f for f in files})
    return annotated_picture({"evidence": [entry]}, images, index, redact=not fe.show_pii)


def judge(fe: FrontEnd, case: Case, item: pytest.Item) -> None:
    """Run one case and turn its findings into a pytest outcome."""
    if not isinstance(fe, FrontEnd):  # a campaign (conformance/campaign/frontend.py)
        fe.judge(case, item)
        return
    findings = fe.session.judge(case)
    payload: dict[str, Any] = {"case": case.id, "findings": [f.to_dict() for f in findings]}
    if case.target.startswith("item"):
        index = int(case.target[4:])
        if index not in fe.sent_entries:
            fe.sent_entries.add(index)
            payload["entry"] = json.loads(json.dumps(fe.session.entry(index), default=_json_default))
    item.stash[RESULT] = payload
    _allure_decorate(fe, case, findings)
    outcome(fe, findings, item)


def outcome(fe: Any, findings: list[Finding], item: pytest.Item) -> None:
    """The pytest outcome of a case's findings (messages masked by fe.mask)."""
    by: dict[str, list[Finding]] = {}
    for f in findings:
        by.setdefault(f.status, []).append(f)
    from conformance.engine.assessment import item_status

    status = item_status(findings) if findings else "skip"
    item.user_properties.append(("status", status))  # JUnit: a warn is a passing testcase marked status=warn
    if status == "warn":
        print(fe.mask("WARN " + "; ".join(f"{f.requirement}: {f.message_en}" for f in by["warn"])))

    def text(fs: list[Finding]) -> str:
        return fe.mask("; ".join(f"{f.requirement} [{f.status}] {f.message_en}" for f in fs))

    # the case's status is the engine's (item_status: fail > error > warn > review > pass > skip > n/a), so a review
    # next to passing findings is still a review, as in results.json
    if status == "fail":
        pytest.fail(text(by["fail"]), pytrace=False)
    if status == "error":
        raise EvidenceError(text(by["error"]))
    for f in by.get("warn", []):
        warnings.warn(ConformanceWarning(fe.mask(f"{f.requirement} [warn] {f.message_en}")), stacklevel=1)
    if status == "review":
        pytest.skip(f"review needed: {text(by['review'])}")
    if status in ("skip", "not_applicable"):
        pytest.skip(text(by.get("skip", []) + by.get("not_applicable", [])) or "nothing to judge")


def _json_default(o: Any) -> Any:
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if call.when == "call" and RESULT in item.stash:
        # a plain attribute: pytest-xdist carries it to the controller; JUnit and the terminal never show it
        report.conformance = item.stash[RESULT]


class _Gatherer:
    """Gathers the findings carried by the test reports (in this process, or from xdist workers)."""

    def __init__(self, config: pytest.Config):
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "conformance", None)
        if not data:
            return
        fe = state(self.config)
        if not isinstance(fe, FrontEnd):
            fe.gather(data)
            return
        fe.findings[data["case"]] = data["findings"]
        if "entry" in data:
            fe.entries[data["entry"]["index"]] = data["entry"]


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    if not session.config.pluginmanager.has_plugin("conformance-gatherer"):
        session.config.pluginmanager.register(_Gatherer(session.config), "conformance-gatherer")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: its findings went to the controller on the reports
        return
    fe = config.stash.get(STATE, None)
    if fe is None or not fe.findings:
        return
    if not isinstance(fe, FrontEnd):
        results = fe.finish()
        tr = config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.write_line(f"campaign verdict: {results['verdict']}  (dashboard: {fe.out_dir() / 'dashboard.html'})")
        return
    results = finish(fe)
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"conformance verdict: {results['verdict']}  (reports: {fe.out_dir()})")


def finish(fe: FrontEnd) -> dict[str, Any]:
    """Build the Assessment from the findings gathered in this session and write results.json and report.html."""
    from conformance.outdir import staged_output
    from conformance.reports import write_reports

    results = gathered_results(fe.plan, fe.cases, fe.findings, fe.entries, fe.started)
    from conformance.reports.filing import complete_results

    complete_results(results, package=fe.plan.package, profile=fe.plan.profile)  # package manifest, profile SHA-256
    waivers = fe.config.getoption("--waivers")
    if waivers:
        from conformance.waivers import apply_waivers, load_waivers

        apply_waivers(results, load_waivers(waivers), fe.plan.today)
    with staged_output(fe.out_dir(), fe.plan.package.root) as folder:
        write_reports(results, folder, package_root=fe.plan.package.root, show_pii=fe.show_pii)
    return results


def gathered_results(plan: Plan, cases: list[Case], found: dict[str, list[dict[str, Any]]],
                     sent_entries: dict[int, dict[str, Any]], started: dt.datetime) -> dict[str, Any]:
    """The results document of one package from the findings (by case id) and evidence entries (by item index)
    gathered in a session; a session that did not run every case is labelled partial."""
    from conformance.engine.analysis import base_view
    from conformance.engine.assessment import Assessment, evidence_entry

    findings = [Finding(**f) for c in cases if c.id in found for f in found[c.id]]
    ran = {c.id for c in cases if c.id in found}
    partial_cases = ran != {c.id for c in cases}
    entries = []
    for it in plan.package.evidence:
        e = sent_entries.get(it.index)
        if e is None:
            e = evidence_entry([base_view(plan.task(it))], it.sha256, it.mode)
            e.pop("status", None)
            if it.error_en:
                e["status"] = "error"
        entries.append(e)
    run_reqs = frozenset(r for c in cases if c.id in ran for r in c.spec.requirements)
    assessment = Assessment(package=plan.package, profile=plan.profile, findings=findings, entries=entries,
                            started=started, finished=dt.datetime.now(dt.UTC), today=plan.today,
                            selected_checks=plan.selected_checks or (sorted({c.spec.name for c in cases
                                                                             if c.id in ran}) if partial_cases
                                                                     else None),
                            run_requirements=run_reqs if (partial_cases or plan.selected_checks) else None)
    return assessment.to_dict()
