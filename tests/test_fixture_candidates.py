"""Every fixture candidate goes through the real assessment (pytest plugin + reports) and must produce the verdict,
requirement statuses and evidence statuses written in its expected.json sidecar."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import EXIT, run_assessment

CANDIDATES = Path(__file__).resolve().parent.parent / "fixtures" / "candidates"
NAMES = sorted(p.name for p in CANDIDATES.iterdir() if (p / "expected.json").is_file())


def test_there_is_a_conformant_example_and_defects():
    assert "example" in NAMES
    assert len(NAMES) >= 25


@pytest.fixture(scope="module")
def assessed(tmp_path_factory):
    cache: dict[str, tuple[int, dict]] = {}

    def run(name: str) -> tuple[int, dict]:
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            rc = run_assessment(CANDIDATES / name, out, today="2026-11-27", quiet=True)
            cache[name] = (rc, json.loads((out / "results.json").read_text(encoding="utf-8")))
        return cache[name]

    return run


@pytest.mark.parametrize("name", NAMES)
def test_candidate_matches_expectations(name, assessed):
    expected = json.loads((CANDIDATES / name / "expected.json").read_text(encoding="utf-8"))
    rc, results = assessed(name)
    got = {r["id"]: r["status"] for r in results["requirements"]}
    mismatches = {rid: (want, got.get(rid)) for rid, want in expected["statuses"].items() if got.get(rid) != want}
    detail = {rid: [f["message_en"] for f in r["findings"] if f["status"] != "pass"][:2]
              for r in results["requirements"] for rid in [r["id"]] if rid in mismatches}
    assert not mismatches, f"{name}: (expected, got) {mismatches}\n{json.dumps(detail, ensure_ascii=False, indent=1)}"
    assert results["verdict"] == expected["verdict"]
    assert rc == EXIT[expected["verdict"]]
    ev = {e["file"]: e for e in results["evidence"]}
    for file, status in expected.get("evidence_status", {}).items():
        assert ev[file]["status"] == status, (file, ev[file])
        if status == "error":
            assert ev[file]["error"] and ev[file]["error_vi"]
