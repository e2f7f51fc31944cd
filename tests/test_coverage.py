"""The suite checks itself: every check names catalogue IDs, every MUST has a check, and every check is proven
by fixture candidates that must pass it and fixture candidates that must not."""
from __future__ import annotations

import json
from pathlib import Path

from conformance.checks.registry import all_checks
from conformance.specs import load_catalogue

CANDIDATES = Path(__file__).resolve().parent.parent / "fixtures" / "candidates"
CAMPAIGNS = Path(__file__).resolve().parent.parent / "fixtures" / "campaigns"
LIVE_ONLY = {"DISPLAY-004", "PRIV-001"}  # proven by the live-capture self-tests (tests/test_live*.py)


def expectations() -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in CANDIDATES.glob("*/expected.json")}


def campaign_expectations() -> dict[str, dict]:
    """Cross-candidate requirements (GEN-003) are proven by the fixture campaigns (tests/test_campaign_fixture.py):
    {campaign file: {"statuses": {ID: status}}}."""
    out = {}
    for p in CAMPAIGNS.glob("*/expected.json"):
        for file, exp in json.loads(p.read_text(encoding="utf-8"))["campaigns"].items():
            out[f"{p.parent.name}/{file}"] = {"statuses": exp["requirements"]}
    return out


def test_every_check_names_known_requirements():
    cat = load_catalogue()
    unknown = {name: [r for r in spec.requirements if r not in cat] for name, spec in all_checks().items()}
    assert not {k: v for k, v in unknown.items() if v}


def test_every_must_requirement_has_a_check():
    covered = {r for spec in all_checks().values() for r in spec.requirements}
    missing = [rid for rid, req in load_catalogue().items() if req["level"] == "MUST" and rid not in covered]
    assert not missing


def test_every_requirement_has_a_check():
    covered = {r for spec in all_checks().values() for r in spec.requirements}
    assert set(load_catalogue()) <= covered


def test_check_modules_follow_the_id_prefix():
    """A newcomer finds the check for an ID by its prefix: GEN-* in general.py, PAYLOAD-* in payload.py, ..."""
    where = {"GEN": "general", "PAYLOAD": "payload", "DISPLAY": "display", "SYMBOL": "symbol", "PRIV": "privacy"}
    for spec in all_checks().values():
        module = spec.module.rsplit(".", 1)[1]
        for rid in spec.requirements:
            assert module.startswith(where[rid.split("-")[0]]), (spec.name, rid, module)


def test_every_requirement_is_proven_by_passing_and_failing_fixtures():
    exp = {**expectations(), **campaign_expectations()}
    cat = load_catalogue()
    unproven = []
    for rid in cat:
        if rid in LIVE_ONLY:
            continue
        statuses = {e["statuses"].get(rid) for e in exp.values()}
        bad = {"fail"} if cat[rid]["level"] == "MUST" else {"warn", "review", "fail"}
        if rid == "PAYLOAD-012":
            bad = {"review"}
        if "pass" not in statuses and rid != "PAYLOAD-012":
            unproven.append((rid, "no fixture where it passes"))
        if rid == "DISPLAY-003":
            bad = {"skip"}  # static evidence can only miss a mode; live self-tests prove the fail path
        if not statuses & bad:
            unproven.append((rid, f"no fixture with status in {sorted(bad)}"))
    assert not unproven
