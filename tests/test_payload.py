"""Unit tests of the payload parser/validator: spec example, masks, modes, positions, schema, GEN-002, robustness."""
from __future__ import annotations

import datetime as dt
import json
import pathlib

import jsonschema
import pytest

from conformance.model import Violation
from conformance.payload import (
    ParsedPayload,
    PayloadReport,
    ascii_name,
    build_payload,
    compare_to_record,
    parse_payload,
    validate_payload,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "specs" / "payload.schema.json").read_text("utf-8"))
# Spec-v1.1 §3.2 example E1 (published example) and its §3.3 masked rendering.
E1 = "001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700"
E1_MASKED = "******029317|NGUYEN LE KHA HAN|1987-**-**|0|162979388586171100|<1<HS4010120878821<0944713700"
TODAY = dt.date(2024, 6, 30)
# fictitious subject
REC = {"so_giay_to": "079201004321", "ho_ten": "Trần Thị Mai Anh", "ngay_sinh": "1995-07-23", "loai_dinh_danh": 0,
       "qid": "163012345678901234", "ext": {"gender": 2, "bhyt": "DN4790123456789", "phone": "0987000111"}}


def ids(report: PayloadReport) -> set[str]:
    return report.requirements_violated()


def test_spec_example_full_mode_is_valid():
    r = validate_payload(E1, mode="full")
    assert r.ok and r.violations == [] and r.review == []
    p = r.parsed
    assert isinstance(p, ParsedPayload)
    assert (p.so_giay_to, p.ho_ten, p.ngay_sinh, p.loai_dinh_danh, p.qid) == (
        "001093029317", "NGUYEN LE KHA HAN", "1987-01-18", "0", "162979388586171100")
    assert p.ext == "<1<HS4010120878821<0944713700"
    assert p.ext_items == ["", "1", "HS4010120878821", "0944713700"]
    assert p.masked == {"so_giay_to": False, "ngay_sinh": False}
    assert p.field_count == 6 and p.decode_error is None


@pytest.mark.parametrize("mode", ["default", None])
def test_spec_example_mask_is_valid_in_default_mode(mode):
    r = validate_payload(E1_MASKED, mode=mode)
    assert r.ok, [v.message_en for v in r.violations]
    assert r.parsed.masked == {"so_giay_to": True, "ngay_sinh": True}


def test_bytes_and_str_give_the_same_result():
    assert validate_payload(E1.encode(), mode="full").ok
    assert parse_payload(E1.encode()).to_dict() == parse_payload(E1).to_dict()
    assert parse_payload(bytearray(E1.encode())).qid == "162979388586171100"


def test_masking_modes():
    # full mode: any '*' fails, one ID per field
    assert ids(validate_payload(E1_MASKED, mode="full")) == {"DISPLAY-001", "DISPLAY-002"}
    only_doc = E1_MASKED.replace("1987-**-**", "1987-01-18")
    assert ids(validate_payload(only_doc, mode="full")) == {"DISPLAY-001"}
    assert ids(validate_payload(only_doc, mode="default")) == set()
    # required / forbidden
    assert ids(validate_payload(E1, mode="default", masking="required")) == {"DISPLAY-001", "DISPLAY-002"}
    assert validate_payload(E1_MASKED, mode="default", masking="required").ok
    assert ids(validate_payload(E1_MASKED, mode="default", masking="forbidden")) == {"DISPLAY-001", "DISPLAY-002"}
    assert validate_payload(E1, mode="default", masking="forbidden").ok
    # masking setting does not apply outside default mode
    assert validate_payload(E1, mode="full", masking="required").ok
    assert validate_payload(E1_MASKED, mode=None, masking="forbidden").ok


@pytest.mark.parametrize("doc, ok", [
    ("******029317", True), ("******509", True), ("******37", True),  # CCCD, CMND, 8-char passport
    ("*****3029317", False), ("*******29317", False), ("001093******", False), ("******02*317", False),
    ("***", False), ("*", False),
])
def test_document_masks(doc, ok):
    r = validate_payload(E1_MASKED.replace("******029317", doc), mode="default")
    assert r.ok is ok, [v.message_en for v in r.violations]
    if not ok:
        assert ids(r) == {"DISPLAY-001"}  # wrong mask: DISPLAY-001 only, not PAYLOAD-002 as well


def test_masked_document_with_impossible_suffix_is_payload_002():
    r = validate_payload(E1_MASKED.replace("******029317", "******02931a"), mode="default")
    assert ids(r) == {"PAYLOAD-002"}


@pytest.mark.parametrize("dob, want", [
    ("1987-**-**", set()), ("****-01-18", {"DISPLAY-002"}), ("1987-01-**", {"DISPLAY-002"}),
    ("1987-**-18", {"DISPLAY-002"}), ("1987******", {"DISPLAY-002"}), ("1987-*-*", {"DISPLAY-002"}),
    ("87-**-**", {"DISPLAY-002"}), ("2999-**-**", {"PAYLOAD-004"}), ("0000-**-**", {"PAYLOAD-004"}),
])
def test_date_masks(dob, want):
    assert ids(validate_payload(E1_MASKED.replace("1987-**-**", dob), mode="default", today=TODAY)) == want


def test_today_is_injectable():
    p = E1.replace("1987-01-18", "2024-06-30")
    assert validate_payload(p, mode="full", today=TODAY).ok
    assert ids(validate_payload(p, mode="full", today=dt.date(2024, 6, 29))) == {"PAYLOAD-004"}
    assert ids(validate_payload(E1_MASKED.replace("1987", "2025"), mode="default", today=TODAY)) == {"PAYLOAD-004"}
    assert validate_payload(E1_MASKED.replace("1987", "2024"), mode="default", today=TODAY).ok


def test_positions_point_at_the_defect():
    bad = E1.replace("NGUYEN LE", "NGUYEN  LE")
    (v,) = validate_payload(bad, mode="full").violations
    assert v.requirement == "PAYLOAD-003" and v.field == "ho_ten" and bad[v.position:v.position + 2] == "  "
    bad = E1.replace("<0944713700", "<094471370")
    (v,) = validate_payload(bad, mode="full").violations
    assert v.requirement == "PAYLOAD-011" and bad[v.position:] == "094471370"
    bad = E1.replace("162979388586171100", "1629793<88586171100")
    (v,) = validate_payload(bad, mode="full").violations
    assert v.requirement == "PAYLOAD-006" and bad[v.position] == "<"
    bad = E1.replace("HAN", "HÂN")
    (v,) = validate_payload(bad, mode="full").violations
    assert bad[v.position] == "Â" and "diacritic" in v.message_en
    (v,) = validate_payload(E1_MASKED.replace("******0", "*****30"), mode="default").violations
    assert v.requirement == "DISPLAY-001" and v.position == 5


def test_violation_fields_are_filled():
    r = validate_payload(E1.replace("|0|", "|7|"), mode="full")
    (v,) = r.violations
    assert isinstance(v, Violation)
    assert v.requirement == "PAYLOAD-005" and v.field == "loai_dinh_danh" and v.found == "'7'" and v.expected
    assert "LoaiDinhDanh" in v.message_vi and v.message_vi != v.message_en
    d = r.to_dict()
    assert d["ok"] is False and d["violations"][0]["requirement"] == "PAYLOAD-005"
    json.dumps(d)


def test_review_notes_and_remarks():
    sig = E1 + "<MEUCIQDk3Zq0b1x9fRk2tQ8f7Q4u1b8pJm6cV0yYgNwX4LrA5wIgTn2J8h5Xk1f0Rz3d9Cq7Lp4Vw6Ys2Ue1Ha0Gb8Fi9M="
    r = validate_payload(sig, mode="full")
    assert r.ok and [v.requirement for v in r.review] == ["PAYLOAD-012"]
    assert r.review[0].field == "ext.signature"
    # EXT items after the fifth are "other information", allowed by v1.1: a note, not a defect or a review
    r = validate_payload(sig + "<<X1", mode="full")
    assert r.ok and [v.requirement for v in r.review] == ["PAYLOAD-012"]
    assert [(v.requirement, v.field) for v in r.notes] == [("PAYLOAD-007", "ext[7]")]
    # the proxy QID missing when LoaiDinhDanh=1 breaks PAYLOAD-008's SHOULD-level remark (its level is in specs/)
    for proxy_no_qid in ("|NGO GIA HUY|2016-09-05|1|163012345678900001|<1",
                         "|NGO GIA HUY|2016-09-05|1|163012345678900001|"):
        r = validate_payload(proxy_no_qid, mode="full")
        assert [(v.requirement, v.remark) for v in r.violations] == [("PAYLOAD-008", "proxy-qid-missing")]
        assert r.review == []
    # masked EXT values (seen in the wild, not described by v1.1): review outside full mode, failure in full mode
    masked_ext = E1_MASKED.replace("<HS4010120878821<0944713700", "<HS40101********<0944******")
    r = validate_payload(masked_ext, mode="default")
    assert r.ok and {v.requirement for v in r.review} == {"PAYLOAD-010", "PAYLOAD-011"}
    assert ids(validate_payload(masked_ext.replace("******029317", "001093029317").replace("1987-**-**", "1987-01-18"),
                                mode="full")) == {"PAYLOAD-010", "PAYLOAD-011"}


def test_proxy_declared():
    ok = "|NGO GIA HUY|2016-09-05|1|163012345678900001|163099887766554433<1"
    assert validate_payload(ok, mode="full").ok
    assert ids(validate_payload(ok.replace("|1|", "|0|"), mode="full")) == {"PAYLOAD-002", "PAYLOAD-008"}
    assert ids(validate_payload(ok.replace("1630998877", "16309 98877"), mode="full")) == {"PAYLOAD-008"}


@pytest.mark.parametrize("ext, want", [
    ("", set()), ("<", set()), ("<<<<", set()), ("<0", set()), ("<2<<", set()), ("<1<7901234567", set()),
    ("<1<HS4010120878821<0944713700<", set()),
    ("<1,HS4010120878821,0944713700", {"PAYLOAD-009"}),  # '<' present: items judged, item 2 is wrong
    (",1,HS4010120878821,0944713700", {"PAYLOAD-007"}),
    ("<1<HS4010120878821<0944713700\r\n", {"PAYLOAD-007"}),
    ("<1<HS4010120878821<0944713700\x00", {"PAYLOAD-007"}),
    ("<1<HS4010120878821\u200b<0944713700", {"PAYLOAD-007"}),
    ("<1 <HS4010120878821<0944713700", {"PAYLOAD-007"}),
    ("%3C1%3CHS4010120878821", {"PAYLOAD-007"}),
    ("<1<HS0010120878821", {"PAYLOAD-010"}), ("<1<HS401012087882", {"PAYLOAD-010"}),
    ("<1<<09447137001", {"PAYLOAD-011"}), ("<1<<+84944713700", {"PAYLOAD-011"}),
])
def test_ext(ext, want):
    assert ids(validate_payload(E1.rsplit("|", 1)[0] + "|" + ext, mode="full")) == want


@pytest.mark.parametrize("doc, ok", [
    ("001093029317", True), ("271845509", True), ("C4821937", True), ("AB123456", True), ("N1234567X", True),
    ("07920100432", False), ("0792010043215", False), ("12345678", False), ("c4821937", False),
    ("ABC", False), ("079201004321 ", False), ("０７９２０１００４３２１", False),  # full-width digits
])
def test_document_numbers(doc, ok):
    assert validate_payload(E1.replace("001093029317", doc), mode="full").ok is ok


@pytest.mark.parametrize("name, ok", [
    ("NGUYEN LE KHA HAN", True), ("LY", True), ("DO VAN A", True),
    ("ĐO VAN A", False), ("NGUYỄN LE", False), ("NGUYEN\tLE", False), ("NGUYEN\u00a0LE", False),
    ("NGUYEN LE2", False), ("N'GUYEN", False), ("nguyen", False), ("NGUYEN LE ", False), ("", False),
    ("NGUYE\u0302N", False),  # decomposed (NFD) diacritic
])
def test_names(name, ok):
    r = validate_payload(E1.replace("NGUYEN LE KHA HAN", name), mode="full")
    assert r.ok is ok
    if not ok:
        assert ids(r) == {"PAYLOAD-003"}


@pytest.mark.parametrize("dob", ["1987-1-18", "18-01-1987", "1987/01/18", "1987-13-01", "1987-02-29", "19870118",
                                 "1987-01-18T00:00", "١٩٨٧-٠١-١٨", ""])
def test_bad_dates(dob):
    assert ids(validate_payload(E1.replace("1987-01-18", dob), mode="full", today=TODAY)) == {"PAYLOAD-004"}


def test_structure():
    assert ids(validate_payload(E1 + "|", mode="full")) == {"PAYLOAD-001"}
    assert ids(validate_payload(E1.rsplit("|", 1)[0], mode="full")) == {"PAYLOAD-001"}
    r = validate_payload("a|b", mode="full")
    assert ids(r) == {"PAYLOAD-001"} and len(r.violations) == 1
    p = parse_payload("a|b")
    assert p.fields == ["a", "b"] and p.ho_ten == "b" and p.ngay_sinh is None and p.ext is None
    p = parse_payload("")
    assert p.fields == [] and p.so_giay_to is None and p.field_count == 0


@pytest.mark.parametrize("data", [None, b"", "", 12345, b"\x00" * 10, b"\xff\xfe\xfd", "|" * 5, "|" * 10_000,
                                  "a|" * 10_000, b"\xc3", "\ud800|x", object(), [1, 2], b"|".join([b"\xff"] * 6)])
def test_never_raises(data):
    r = validate_payload(data)
    assert isinstance(r, PayloadReport) and not r.ok
    assert r.requirements_violated()
    json.dumps(r.to_dict())
    jsonschema.validate(parse_payload(data).to_dict(), SCHEMA)


def test_non_utf8_is_reported():
    bad = E1.replace("HAN", "H\xc2N").encode("latin-1")
    p = parse_payload(bad)
    assert p.decode_error and "byte offset 28" in p.decode_error
    assert ids(validate_payload(bad, mode="full")) == {"PAYLOAD-003"}
    # undecodable byte in a field with an open character set is still caught
    bad_qid = E1.encode().replace(b"162979388586171100", b"16297938858617\xff100")
    assert ids(validate_payload(bad_qid, mode="full")) == {"PAYLOAD-006"}
    bad_sig = (E1 + "<SIG\xffX").encode("latin-1")
    assert ids(validate_payload(bad_sig, mode="full")) == {"PAYLOAD-007"}


def test_size_cap_stops_work_at_the_limit():
    huge = E1 + "<" + "A" * 5_000_000
    r = validate_payload(huge, mode="full")
    assert ids(r) == {"PAYLOAD-001"} and "over the limit" in r.violations[0].message_en
    assert len(r.parsed.raw) <= 65536
    assert validate_payload(E1, mode="full", max_bytes=len(E1)).ok
    assert ids(validate_payload(E1, mode="full", max_bytes=len(E1) - 1)) == {"PAYLOAD-001"}
    # bytes truncated mid UTF-8 sequence do not produce a spurious decode error
    r = validate_payload(("Ầ" * 30000).encode(), max_bytes=65536 - 1)
    assert r.parsed.decode_error is None


def test_unknown_mode_and_masking_fall_back():
    r = validate_payload(E1_MASKED, mode="FULL", masking="nonsense", today="yesterday")
    assert r.mode is None and r.masking == "allowed" and r.ok  # unknown mode: neither mode's rule is applied


def test_parsed_to_dict_matches_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    for data in (E1, E1_MASKED, "", "a|b|c", E1 + "|x", b"\xff|x"):
        d = parse_payload(data).to_dict()
        jsonschema.validate(d, SCHEMA, cls=jsonschema.Draft202012Validator)
    d = parse_payload(E1).to_dict()
    assert d["field_offsets"] == [0, 13, 31, 42, 44, 63] and d["ext_offsets"] == [63, 64, 66, 82]


@pytest.mark.parametrize("name, want", [
    ("Đặng Văn Đức", "DANG VAN DUC"), ("  Nguyễn   Thị  Ánh ", "NGUYEN THI ANH"),
    ("Bùi Bích Diệu Thủy", "BUI BICH DIEU THUY"), ("Lê Hoàng Yến", "LE HOANG YEN"), ("ĐỖ ƯNG", "DO UNG")])
def test_ascii_name(name, want):
    assert ascii_name(name) == want


# ------------------------------------------------------------------------------------------- GEN-002

def test_compare_to_record_equal():
    for masked in (False, True):
        payload = build_payload(REC, masked=masked)
        assert validate_payload(payload, mode="default" if masked else "full").ok
        assert compare_to_record(parse_payload(payload), REC) == []


def test_compare_to_record_differences():
    payload = build_payload(REC)
    other = dict(REC, ho_ten="Trần Thị Mai Anh Thư", qid="163012345678900000",
                 ext={"gender": 1, "bhyt": "DN4790123456789", "phone": "0987000112"})
    out = compare_to_record(parse_payload(payload), other)
    assert {v.field for v in out} == {"ho_ten", "qid", "ext.gender", "ext.phone"}
    assert all(v.requirement == "GEN-002" and v.message_en and v.message_vi for v in out)
    phone = next(v for v in out if v.field == "ext.phone")
    assert payload[phone.position:] == "0987000111" and phone.expected == "0987000112"


def test_compare_to_record_masked_positions_are_excepted():
    masked = parse_payload(build_payload(REC, masked=True))
    # hidden digits and hidden day/month may differ
    assert compare_to_record(masked, dict(REC, so_giay_to="999999004321", ngay_sinh="1995-12-31")) == []
    # visible suffix or year may not
    out = compare_to_record(masked, dict(REC, so_giay_to="079201004322", ngay_sinh="1996-07-23"))
    assert {v.field for v in out} == {"so_giay_to", "ngay_sinh"}
    # a different length cannot be the same number
    assert [v.field for v in compare_to_record(masked, dict(REC, so_giay_to="01004321"))] == ["so_giay_to"]


def test_compare_to_record_partial_and_bad_records():
    p = parse_payload(build_payload(REC))
    assert compare_to_record(p, {"qid": REC["qid"]}) == []  # missing keys are not compared
    assert compare_to_record(p, {"ext": {"proxy_qid": "163099887766554433"}})[0].field == "ext.proxy_qid"
    out = compare_to_record(parse_payload(b"\xff"), REC)
    assert {v.field for v in out} >= {"so_giay_to", "ho_ten", "ngay_sinh", "qid"}
