"""Black-box payload vectors (zxing-cpp style): every fixtures/payloads/*/*.txt with its .expected.json sidecar."""
from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest
import yaml

from conformance.payload import parse_payload, validate_payload

ROOT = pathlib.Path(__file__).resolve().parents[1]
VECTORS = ROOT / "fixtures" / "payloads"
FILES = sorted(VECTORS.glob("*/*.txt"))
CATALOGUE = {r["id"] for r in yaml.safe_load((ROOT / "specs" / "requirements.yaml").read_text("utf-8"))["requirements"]}


def _sidecar(path: pathlib.Path) -> dict:
    return json.loads((path.parent / f"{path.stem}.expected.json").read_text("utf-8"))


def test_vector_folder_is_populated():
    assert len([f for f in FILES if f.parent.name == "valid"]) >= 6
    assert len([f for f in FILES if f.parent.name == "invalid"]) >= 13


@pytest.mark.parametrize("path", FILES, ids=[f"{f.parent.name}/{f.stem}" for f in FILES])
def test_vector(path: pathlib.Path):
    side = _sidecar(path)
    assert side["mode"] in ("full", "default", None)
    data = path.read_bytes()
    report = validate_payload(data, mode=side["mode"], masking=side.get("masking", "allowed"))
    got = report.requirements_violated()
    assert got == set(side["violations"]), [v.message_en for v in report.violations]
    if path.parent.name == "valid":
        assert report.ok and side["violations"] == []
    else:
        assert not report.ok and side["violations"], "an invalid vector must name at least one violated rule"
    assert {v.requirement for v in report.review} == set(side.get("review", [])), \
        [v.message_en for v in report.review]
    assert {v.requirement for v in report.notes} == set(side.get("notes", [])), [v.message_en for v in report.notes]
    text = parse_payload(data).raw
    for v in report.violations + report.review:
        assert v.requirement in CATALOGUE
        assert v.message_en and v.message_vi and v.message_en != v.message_vi
        if v.position is not None:
            assert 0 <= v.position <= len(text)


def test_every_rule_has_a_negative_vector():
    covered = set()
    for f in FILES:
        if f.parent.name == "invalid":
            covered |= set(_sidecar(f)["violations"])
    rules = {f"PAYLOAD-{i:03d}" for i in range(1, 12)} | {"DISPLAY-001", "DISPLAY-002"}
    assert rules <= covered, rules - covered


def test_vectors_match_their_generator():
    """The committed files are exactly what fixtures/payloads/make_vectors.py produces (no hand edits drift)."""
    spec = importlib.util.spec_from_file_location("make_vectors", VECTORS / "make_vectors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for sub, table in (("valid", mod.VALID), ("invalid", mod.INVALID)):
        for name, (payload, _mode, violations, _desc) in table.items():
            want = payload if isinstance(payload, bytes) else payload.encode("utf-8")
            assert (VECTORS / sub / f"{name}.txt").read_bytes() == want, name
            assert _sidecar(VECTORS / sub / f"{name}.txt")["violations"] == violations
    assert len(FILES) == len(mod.VALID) + len(mod.INVALID)
