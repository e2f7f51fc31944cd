"""The data in specs/ is valid: every JSON Schema is a schema, the catalogue and the default profile pass theirs,
and a broken copy of each is rejected with the JSON path of the problem."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from conformance.specs import SPECS_DIR, SpecError, load_catalogue, load_catalogue_document, load_profile, validate

ISSUE_IDS = ["GEN-001", "GEN-002", *[f"PAYLOAD-{i:03d}" for i in range(1, 13)], *[f"DISPLAY-{i:03d}" for i in range(1, 5)],
             "PRIV-001", *[f"SYMBOL-{i:03d}" for i in range(1, 9)]]


@pytest.mark.parametrize("path", sorted(SPECS_DIR.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_schema_is_a_valid_json_schema(path):
    jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def test_catalogue_valid_and_has_the_contract_ids():
    cat = load_catalogue()
    assert list(cat) == ISSUE_IDS + ["GEN-003"]  # exact IDs, in order; new IDs may be appended, never renumbered
    levels = {"PAYLOAD-010": "SHOULD", "PAYLOAD-012": "MAY", "DISPLAY-004": "SHOULD", "PRIV-001": "SHOULD"}
    for rid, req in cat.items():
        want = levels.get(rid, "SHOULD" if rid.startswith("SYMBOL-") and rid != "SYMBOL-001" else "MUST")
        assert req["level"] == want, rid
        assert req["title_vi"] != req["title_en"] and req["text_vi"] != req["text_en"]
    # derived requirements are never presented as clauses of 1405
    assert {r for r, q in cat.items() if q["origin"] == "derived"} == {
        "PAYLOAD-010", "DISPLAY-004", "PRIV-001", *[f"SYMBOL-{i:03d}" for i in range(1, 9)]}


def test_catalogue_schema_rejects_a_broken_entry():
    doc = copy.deepcopy(load_catalogue_document())
    doc["requirements"][3]["level"] = "MUSTNT"
    with pytest.raises(SpecError) as e:
        validate(doc, "requirements.schema.json", "requirements.yaml")
    assert e.value.json_path == "$.requirements[3].level"


def test_default_profile_valid_and_documented():
    prof = load_profile()
    assert prof["symbol"]["min_ecc"] == "M" and prof["symbol"]["min_quiet_zone_modules"] == 4
    assert prof["symbol"]["min_module_px"] == 4 and prof["symbol"]["min_symbol_mm"] == 25
    assert prof["symbol"]["min_symbol_contrast"] == 0.40 and prof["payload"]["masking_in_default_mode"] == "allowed"
    text = (SPECS_DIR / "profile.default.yaml").read_text(encoding="utf-8")
    # each default carries its rationale in a comment next to it
    for key in ("min_ecc", "min_quiet_zone_modules", "min_module_px", "min_symbol_mm", "min_symbol_contrast",
                "masking_in_default_mode", "toggle_max_seconds", "max_image_pixels"):
        after = text.split(key, 1)[1].splitlines()[1]
        assert after.strip().startswith("#"), key


def test_profile_with_unknown_key_is_rejected(tmp_path):
    prof = yaml.safe_load((SPECS_DIR / "profile.default.yaml").read_text(encoding="utf-8"))
    prof["symbol"]["min_ecc"] = "X"
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(prof), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_profile(p)
    assert e.value.json_path == "$.symbol.min_ecc"


def test_openapi_document_parses_and_names_the_routes():
    doc = yaml.safe_load((SPECS_DIR / "assessment-api.openapi.yaml").read_text(encoding="utf-8"))
    assert doc["openapi"].startswith("3.1")
    paths = set(doc["paths"])
    assert {"/assessment/v1/session", "/assessment/v1/subjects", "/assessment/v1/subjects/{id}/display",
            "/assessment/v1/subjects/{id}/screen.png", "/assessment/v1/subjects/{id}/toggle"} <= paths


def test_example_manifests_pass_the_candidate_schema():
    root = Path(__file__).resolve().parent.parent / "fixtures" / "candidates"
    for man in sorted(root.glob("*/candidate.json")):
        validate(json.loads(man.read_text(encoding="utf-8")), "candidate.schema.json", str(man))


def test_a_misspelt_key_in_a_choice_of_forms_is_named():
    """A oneOf of object forms (a campaign candidate is a `package` or a `live`): the message names the keys that
    choose the form and the key nobody knows, in both languages, instead of 'not valid under any of the schemas'."""
    doc = {"campaign_version": "1.0", "name": "x", "subjects": [{"id": "s1", "so_giay_to": "001201000001",
           "ho_ten": "NGUYEN VAN A", "ngay_sinh": "2001-02-21", "loai_dinh_danh": 0, "qid": "1" * 18}],
           "candidates": [{"pakage": "apps/a"}]}
    try:
        validate(doc, "campaign.schema.json", "campaign.yaml")
    except SpecError as exc:
        assert exc.json_path == "$.candidates[0]"
        assert "'package' or 'live'" in exc.message and "'pakage'" in exc.message
        assert "'package' hoặc 'live'" in exc.message_vi and "'pakage'" in exc.message_vi
    else:
        raise AssertionError("a misspelt candidate key was accepted")


def test_the_live_run_budget_defaults_to_90_seconds():
    """A live run stops after live.max_run_seconds, 90 s unless the profile says otherwise (the profile and the
    capturer's own default agree)."""
    from conformance.capture.live import DEFAULT_MAX_RUN_SECONDS

    assert load_profile()["live"]["max_run_seconds"] == 90 == DEFAULT_MAX_RUN_SECONDS
