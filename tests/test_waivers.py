"""Waivers mark known issues for vendor CI: they never change statuses or the verdict, and a stale waiver
(expired, or matching nothing) fails the run with exit code 4."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import EXIT_UNUSABLE, run_assessment
from conformance.waivers import EXIT_STALE_WAIVER

CANDIDATES = Path(__file__).resolve().parent.parent / "fixtures" / "candidates"


def waivers(tmp_path, *items) -> Path:
    lines = ["waivers:"]
    for req, expires, extra in items:
        lines += [f"  - requirement: {req}", "    reason: being fixed", "    ticket: VENDOR-1", f"    expires: {expires}"]
        lines += [f"    {k}: {v}" for k, v in extra.items()]
    p = tmp_path / "waivers.yaml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def assess(tmp_path, name, wfile, today="2026-11-27"):
    out = tmp_path / "out"
    rc = run_assessment(CANDIDATES / name, out, today=today, quiet=True, waivers=str(wfile))
    return rc, json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_waived_failure_keeps_the_verdict_but_ci_passes(tmp_path):
    # the defect also leaves DISPLAY-003 unproven (skip): the vendor waives both
    w = waivers(tmp_path, ("PAYLOAD-005", "2027-01-31", {"status": "fail"}), ("DISPLAY-003", "2027-01-31", {}))
    rc, res = assess(tmp_path, "payload-005-type-2", w)
    assert rc == 0
    assert res["verdict"] == "non-conformant"  # never hidden
    req = {r["id"]: r for r in res["requirements"]}["PAYLOAD-005"]
    assert req["status"] == "fail" and req["waiver"]["ticket"] == "VENDOR-1"
    assert res["waivers"]["ci_outcome"] == "expected" and res["waivers"]["unwaived"] == []


def test_unwaived_failure_gives_the_verdict_code(tmp_path):
    rc, res = assess(tmp_path, "payload-005-type-2", waivers(tmp_path, ("DISPLAY-003", "2027-01-31", {})))
    assert rc == 1 and res["waivers"]["ci_outcome"] == "unexpected"
    assert res["waivers"]["unwaived"] == ["PAYLOAD-005"]


def test_waiver_expecting_another_status_does_not_cover(tmp_path):
    w = waivers(tmp_path, ("PAYLOAD-005", "2027-01-31", {"status": "warn"}), ("DISPLAY-003", "2027-01-31", {}))
    rc, res = assess(tmp_path, "payload-005-type-2", w)
    assert rc == EXIT_STALE_WAIVER  # it expects a warning, the result is a failure: unused, so stale
    assert "PAYLOAD-005" in res["waivers"]["unwaived"]


def test_waiver_for_a_fixed_defect_is_stale(tmp_path):
    rc, res = assess(tmp_path, "example", waivers(tmp_path, ("SYMBOL-003", "2027-01-31", {})))
    assert rc == EXIT_STALE_WAIVER
    assert res["verdict"] == "conformant" and [w["requirement"] for w in res["waivers"]["unused"]] == ["SYMBOL-003"]


def test_expired_waiver_is_stale(tmp_path):
    rc, res = assess(tmp_path, "symbol-003-ecc-low", waivers(tmp_path, ("SYMBOL-003", "2026-06-30", {})))
    assert rc == EXIT_STALE_WAIVER
    assert res["waivers"]["expired"] and "SYMBOL-003" in res["waivers"]["unwaived"]


def test_waiver_scoped_to_evidence_files(tmp_path):
    w = waivers(tmp_path, ("SYMBOL-004", "2027-01-31", {"evidence": "'screens/*-default.png'"}))
    rc, res = assess(tmp_path, "symbol-004-quiet-zone-1", w)
    assert rc == 0 and res["waivers"]["applied"]


@pytest.mark.parametrize("body,where", [
    ("waivers:\n  - requirement: SYMBOL-999\n    reason: r\n    ticket: t\n    expires: 2027-01-01\n", "$.waivers[0]"),
    ("waivers:\n  - requirement: SYMBOL-003\n    reason: r\n    expires: 2027-01-01\n", "$.waivers[0]"),
    ("waivers:\n  - requirement: SYMBOL-003\n    reason: r\n    ticket: t\n    expires: 2027-02-30\n", "expires"),
])
def test_broken_waiver_file_is_unusable(tmp_path, capsys, body, where):
    p = tmp_path / "w.yaml"
    p.write_text(body, encoding="utf-8")
    rc = run_assessment(CANDIDATES / "example", tmp_path / "o", waivers=str(p))
    assert rc == EXIT_UNUSABLE
    err = capsys.readouterr().err
    assert "w.yaml" in err and where in err


def test_stale_waivers_are_named_everywhere(tmp_path, capsys):
    """Exit 4 names every expired and unused waiver (requirement, ticket, expiry) in the terminal, results.json and
    the HTML; expiry dates are not personal data and are never masked; approved_by is kept."""
    p = tmp_path / "w.yaml"
    p.write_text("waivers:\n"
                 "  - requirement: SYMBOL-003\n    reason: raising ECC\n    ticket: VENDOR-700\n    expires: 2026-06-30\n"
                 "    approved_by: Trưởng nhóm B\n"
                 "  - requirement: PAYLOAD-009\n    reason: fixed already\n    ticket: VENDOR-9\n    expires: 2027-12-31\n",
                 encoding="utf-8")
    out = tmp_path / "out"
    rc = run_assessment(CANDIDATES / "symbol-003-ecc-low", out, today="2026-11-27", waivers=str(p),
                        checks=["symbol_error_correction", "payload_ext_gender"])
    assert rc == EXIT_STALE_WAIVER
    term = capsys.readouterr().out
    assert "expired / hết hạn: SYMBOL-003 ticket VENDOR-700 expires / hết hạn 2026-06-30" in term
    assert "unused / không dùng đến: PAYLOAD-009 ticket VENDOR-9 expires / hết hạn 2027-12-31" in term
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    w = res["waivers"]
    assert [(x["requirement"], x["ticket"], x["expires"]) for x in w["expired"]] == [("SYMBOL-003", "VENDOR-700",
                                                                                        "2026-06-30")]
    assert w["expired"][0]["approved_by"] == "Trưởng nhóm B"
    assert [(x["requirement"], x["ticket"], x["expires"]) for x in w["unused"]] == [("PAYLOAD-009", "VENDOR-9",
                                                                                       "2027-12-31")]
    html = (out / "report.html").read_text(encoding="utf-8")
    for needle in ("VENDOR-700", "2026-06-30", "VENDOR-9", "2027-12-31", "Trưởng nhóm B", "exit code 4"):
        assert needle in html, needle


def test_duplicate_key_in_a_waiver_is_unusable(tmp_path, capsys):
    p = tmp_path / "dup.yaml"
    p.write_text("waivers:\n  - requirement: SYMBOL-003\n    reason: r\n    ticket: T-1\n    ticket: T-2\n"
                 "    expires: 2027-01-01\n", encoding="utf-8")
    rc = run_assessment(CANDIDATES / "example", tmp_path / "o", waivers=str(p), checks=["symbol_error_correction"],
                        quiet=True)
    assert rc == EXIT_UNUSABLE
    assert "dup.yaml" in capsys.readouterr().err


def test_alias_bomb_in_a_waiver_file_is_refused_unexpanded(tmp_path):
    """Waivers are read with the suite's YAML loader: aliases are refused before anything expands."""
    from conformance.specs import SpecError
    from conformance.waivers import load_waivers

    p = tmp_path / "waivers.yaml"
    p.write_text("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n"
                 "waivers: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n", encoding="utf-8")
    with pytest.raises(SpecError) as exc:
        load_waivers(p)
    assert "alias" in str(exc.value).lower()
