"""pytest plugin: every (check, evidence item) pair of a candidate is a test, tagged with its requirement IDs.

    pytest conformance --candidate PATH [--profile FILE] [--out DIR] [--show-pii] [--today YYYY-MM-DD]

Selection works as pytest users expect: `-k PAYLOAD-003`, `-k s1-default`, `-m "requirement"`, `--lf`.
At the end of the session results.json, report.html (and, with --junitxml / --alluredir, JUnit and Allure) are
written to --out (default reports/<candidate>-<timestamp>/).
"""
from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from conformance.checks.registry import all_checks, iter_cases, run_check
from conformance.model import Finding

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CANDIDATE = REPO / "fixtures" / "candidates" / "example"
ASSESSMENT_KEY = pytest.StashKey["Assessment"]()


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): requirement IDs a conformance check verifies")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60] or "candidate"


class Assessment:
    """State of one assessment run inside a pytest session."""

    def __init__(self, config: pytest.Config):
        from conformance.capture.package import load_package
        from conformance.context import build_contexts
        from conformance.specs import load_profile

        self.config = config
        self.started = dt.datetime.now(dt.timezone.utc)
        cand = config.getoption("--candidate") or str(EXAMPLE_CANDIDATE)
        today = config.getoption("--today")
        self.today = dt.date.fromisoformat(today) if today else dt.date.today()
        self.profile = load_profile(config.getoption("--profile"))
        from conformance.waivers import load_waivers

        self.waivers = load_waivers(config.getoption("--waivers")) if config.getoption("--waivers") else None
        self.package = load_package(cand)
        self.ctx = build_contexts(self.package, self.profile, self.today)
        checks = all_checks()
        wanted = config.getoption("--check")
        if wanted:
            unknown = sorted(set(wanted) - set(checks))
            if unknown:
                raise pytest.UsageError(f"unknown check(s): {', '.join(unknown)}; see `python -m conformance checks`")
            checks = {k: v for k, v in checks.items() if k in wanted}
        self.selected = sorted(checks) if wanted else None
        self.cases = iter_cases(self.ctx, checks.values())
        self.findings: list[Finding] = []
        self.ran = False
        self.attachments: dict[str, bytes] = {}  # evidence key -> annotated PNG, made once per item
        out = config.getoption("--out")
        stamp = self.started.strftime("%Y%m%d-%H%M%S")
        self.out_dir = Path(out) if out else REPO / "reports" / f"{_slug(self.package.candidate['name'])}-{stamp}"

    @property
    def show_pii(self) -> bool:
        return bool(self.config.getoption("--show-pii"))

    def mask(self, text: str) -> str:
        """Personal data masked in everything pytest itself prints or stores (JUnit, Allure, terminal)."""
        if self.show_pii:
            return text
        if getattr(self, "_redactor", None) is None:
            from conformance.reports.redact import build_redactor

            self._redactor = build_redactor({"subjects": list(self.package.subjects.values())})
        return self._redactor.mask_string(text)

    def execute(self, spec, target) -> list[Finding]:
        self.ran = True
        found = run_check(spec, target)
        self.findings.extend(found)
        return found

    def finish(self) -> dict[str, Any]:
        from conformance.reports import write_reports
        from conformance.results import build_results, evidence_status

        evidence, images = [], {}
        for ev in self.ctx.evidence:
            fs = [f for f in self.findings if f.evidence == ev.key]
            entry: dict[str, Any] = {"file": ev.item.file, "sha256": ev.item.sha256, "kind": ev.item.kind,
                                     "mode": ev.item.mode, "subject": ev.item.subject,
                                     "status": "error" if ev.error else evidence_status(fs), "symbols": []}
            if ev.error:
                entry["error"], entry["error_vi"] = ev.error
            else:
                if ev.item.kind == "screenshot" and ev.analysis is not None:
                    entry["symbols"] = [s.to_dict() for s in ev.symbols]
                    entry["image"] = {"width": ev.analysis.width, "height": ev.analysis.height}
                    if getattr(ev.analysis, "gray", None) is not None:
                        images[ev.item.file] = ev.analysis.gray
                    reading = ev.__dict__.get("screen_text")  # only if a check actually ran OCR
                    if reading is not None:
                        entry["screen_text"] = reading.to_dict()
                if ev.payload_text is not None:
                    entry["payload"] = ev.payload_text
            for k in ("source", "step", "displayed", "toggle_ms"):
                if k in ev.item.extra:
                    entry[k] = ev.item.extra[k]
            evidence.append(entry)
        results = build_results(package=self.package, profile=self.profile, findings=self.findings, evidence=evidence,
                                started=self.started, finished=dt.datetime.now(dt.timezone.utc),
                                selected_checks=self.selected, today=self.today)
        if self.waivers is not None:
            from conformance.waivers import apply_waivers

            apply_waivers(results, self.waivers, self.today)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        write_reports(results, self.out_dir, images=images, show_pii=self.show_pii)
        return results


def get_assessment(config: pytest.Config) -> Assessment:
    a = config.stash.get(ASSESSMENT_KEY, None)
    if a is None:
        from conformance.capture.package import PackageError
        from conformance.specs import SpecError

        try:
            a = Assessment(config)
        except PackageError as exc:
            raise pytest.UsageError(f"{exc.file}: {exc.json_path}: {exc.message_en}") from None
        except SpecError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[ASSESSMENT_KEY] = a
    return a


class Case(tuple):
    """(check, target) with a repr that names the case only: pytest and Allure store parameter reprs, and the
    target's repr would carry the subjects' personal data."""

    def __new__(cls, spec, target):
        return super().__new__(cls, (spec, target))

    def __repr__(self) -> str:
        return case_id(*self)


def case_id(spec, target) -> str:
    return f"{'+'.join(spec.requirements)}-{spec.name}-{target.key}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "conformance_case" not in metafunc.fixturenames:
        return
    a = get_assessment(metafunc.config)
    params = []
    for spec, target in a.cases:
        marks = [pytest.mark.requirement(*spec.requirements)]
        params.append(pytest.param(Case(spec, target), id=case_id(spec, target), marks=marks))
    metafunc.parametrize("conformance_case", params)


@pytest.fixture(scope="session")
def conformance_assessment(request) -> Assessment:
    return get_assessment(request.config)


def _allure_decorate(a: Assessment, spec, target, findings: list[Finding]) -> None:
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-pytest is a pinned dependency
        return
    if not a.config.pluginmanager.hasplugin("allure_pytest") or not a.config.getoption("--alluredir", None):
        return
    from conformance.specs import load_catalogue

    cat = load_catalogue()
    for rid in spec.requirements:
        allure.dynamic.label("requirement", rid)
        allure.dynamic.tag(rid)
        req = cat[rid]
        allure.dynamic.tag(f"origin:{req['origin']}")
        allure.dynamic.severity({"MUST": allure.severity_level.CRITICAL, "SHOULD": allure.severity_level.NORMAL,
                                 "MAY": allure.severity_level.MINOR}[req["level"]])
    allure.dynamic.title(f"{'+'.join(spec.requirements)} {spec.name} [{target.key}]")
    allure.dynamic.description(a.mask("\n".join(f"[{f.status}] {f.message_en} / {f.message_vi}" for f in findings)))
    allure.dynamic.label("epic", a.package.candidate["name"])
    allure.dynamic.label("feature", spec.requirements[0].split("-")[0])
    analysis = getattr(target, "analysis", None) if spec.scope == "evidence" else None
    if analysis is not None and not analysis.error and getattr(analysis, "gray", None) is not None:
        png = a.attachments.get(target.key)
        if png is None:
            import io

            from conformance.reports import annotate_screenshot

            img = annotate_screenshot(analysis.gray, [s.to_dict() for s in target.symbols],
                                      redact=not a.show_pii)
            img.thumbnail((480, 1040))
            buf = io.BytesIO()
            img.save(buf, "PNG")
            png = a.attachments[target.key] = buf.getvalue()
        allure.attach(png, name=f"{target.key} (annotated)", attachment_type=allure.attachment_type.PNG)


def judge(a: Assessment, spec, target) -> None:
    """Run one case and turn its findings into a pytest outcome."""
    findings = a.execute(spec, target)
    _allure_decorate(a, spec, target, findings)
    by = {s: [f for f in findings if f.status == s] for s in ("fail", "error", "warn", "review", "pass", "skip", "not_applicable")}

    def text(fs):
        return a.mask("; ".join(f"{f.requirement} [{f.status}] {f.message_en}" for f in fs))

    if by["fail"]:
        pytest.fail(text(by["fail"]), pytrace=False)
    if by["error"]:
        raise EvidenceError(text(by["error"]))
    for f in by["warn"]:
        warnings.warn(ConformanceWarning(a.mask(f"{f.requirement} [warn] {f.message_en}")))
    if by["review"] and not by["pass"] and not by["warn"]:
        pytest.skip(f"review needed: {text(by['review'])}")
    if not by["pass"] and not by["warn"] and not by["review"]:
        pytest.skip(text(by["skip"] + by["not_applicable"]) or "nothing to judge")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    a = session.config.stash.get(ASSESSMENT_KEY, None)
    if a is None or not a.ran:
        return
    results = a.finish()
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"conformance verdict: {results['verdict']}  (reports: {a.out_dir})")
