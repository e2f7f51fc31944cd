"""Matching rules of conformance.ocr.match on text (no image): the contract documented in match.py."""
from __future__ import annotations

import pytest

from conformance.ocr import ScreenReading, canon, classify_date, classify_doc, judge_display

REC = {"so_giay_to": "001093029317", "ho_ten": "Nguyễn Văn An", "ngay_sinh": "1987-01-18"}
CMND = {"so_giay_to": "123456509", "ho_ten": "Trần Thị Bé", "ngay_sinh": "1990-12-03"}
DOB = (1987, 1, 18)


def reading(*lines: str, conf: float = 90.0) -> ScreenReading:
    out = []
    for i, t in enumerate(lines):
        box = [10, 40 * i, 10 + 20 * len(t), 40 * i + 30]
        words = [{"text": w, "box": box, "conf": conf} for w in t.split()]
        out.append({"text": t, "box": box, "conf": conf, "words": words})
    return ScreenReading(lines=out, text="\n".join(lines))


@pytest.mark.parametrize("cand,cls", [
    ("******029317", "EXACT"), ("001093029317", "FULL"), ("*****3029317", "WRONG"), ("001093******", "WRONG"),
    ("*******29317", "WRONG"), ("**1093029317", "WRONG"), ("*****029317", "COUNT"), ("*******029317", "COUNT"),
    ("******029318", "NEAR"), ("001093029318", "NEAR"), ("029317", "PARTIAL"), ("******555555", None),
    ("987654321", None), ("0010930293170", "FULL"),
])
def test_classify_doc(cand, cls):
    assert classify_doc(canon(cand), "001093029317") == cls


def test_canon_confusions():
    assert canon("xX%+#¥") == "******"
    assert canon("OIlSB") == "01158"
    assert classify_doc(canon("x*%+#*O29317"), "001093029317") == "EXACT"
    assert classify_doc(canon("OO1O93O29317"), "001093029317") == "FULL"


@pytest.mark.parametrize("d,m,y,cls", [
    ("**", "**", "1987", "EXACT"), ("18", "01", "1987", "FULL"), ("18", "1", "1987", "FULL"),
    ("01", "18", "1987", "FULL"),  # mm/dd order is still the whole date
    ("18", "01", "****", "WRONG"), ("**", "01", "1987", "WRONG"), ("18", "**", "1987", "WRONG"),
    ("*", "**", "1987", "COUNT"), ("***", "**", "1987", "COUNT"), ("12", "10", "1987", None),
    ("**", "**", "1988", "NEAR"), ("**", "**", "2021", None), ("x+", "%*", "1987", "EXACT"),
])
def test_classify_date(d, m, y, cls):
    assert classify_date(d, m, y, DOB) == cls


@pytest.mark.parametrize("lines,mode,s1,s2", [
    (["Số CCCD: ******029317", "Ngày sinh: **/**/1987"], "default", "pass", "pass"),
    (["CCCD ******029317", "NS 1987-**-**"], "default", "pass", "pass"),
    (["******029317", "**/**/1987"], "default", "pass", "pass"),
    (["Số CCCD: 001093029317", "Ngày sinh: 18/01/1987"], "default", "fail", "fail"),
    (["Số CCCD: ******029317", "DOB 1987-01-18"], "default", "pass", "fail"),  # full date anywhere
    (["Số CCCD: *****3029317", "Ngày sinh: 18/01/****"], "default", "fail", "fail"),
    (["Số CCCD: *****029317", "Ngày sinh: */**/1987"], "default", "review", "review"),
    (["Số CCCD: 001093029317", "Ngày sinh: 18-01-1987"], "full", "pass", "pass"),
    (["Số CCCD: 1987-01-18", "Ngày sinh: 1987-01-18"], "full", "review", "pass"),
    (["Số CCCD: ******029317", "Ngày sinh: **/**/1987"], "full", "fail", "fail"),
    (["Cập nhật lúc 08:15 12/10/2021", "Xin chào"], "default", "review", "review"),
])
def test_judge_text(lines, mode, s1, s2):
    j = judge_display(reading(*lines), REC, mode)
    assert (j["DISPLAY-001"]["status"], j["DISPLAY-002"]["status"]) == (s1, s2)
    for rid in ("DISPLAY-001", "DISPLAY-002"):
        assert j[rid]["message_en"] and j[rid]["message_vi"]
        if j[rid]["status"] != "pass":
            assert j[rid]["evidence_text"]


def test_cmnd_nine_digits():
    assert judge_display(reading("CMND: ******509", "1990-**-**"), CMND, "default")["DISPLAY-001"]["status"] == "pass"
    assert judge_display(reading("CMND: 123456509"), CMND, "default")["DISPLAY-001"]["status"] == "fail"
    assert judge_display(reading("CMND: *****6509"), CMND, "default")["DISPLAY-001"]["status"] == "fail"


def test_split_words_are_joined_and_low_conf_is_not_a_pass():
    assert judge_display(reading("Số CCCD: ****** 029317"), REC, "default")["DISPLAY-001"]["status"] == "pass"
    low = judge_display(reading("Số CCCD: ******029317", conf=10), REC, "default")["DISPLAY-001"]
    assert low["status"] == "review" and low["box"] is not None


def test_conflicting_readings_of_one_line_are_review():
    r = reading("Số CCCD: ******029317")
    r.lines[0]["alt"] = [{"text": "*****3029317", "conf": 90, "box": r.lines[0]["box"],
                          "words": [{"text": "*****3029317", "box": r.lines[0]["box"], "conf": 90}]}]
    assert judge_display(r, REC, "default")["DISPLAY-001"]["status"] == "review"


def test_no_text_and_error_are_review_not_pass():
    for r in (ScreenReading(), ScreenReading(error="Tesseract failed")):
        j = judge_display(r, REC, "default")
        assert j["DISPLAY-001"]["status"] == j["DISPLAY-002"]["status"] == "review"


def test_name_with_and_without_diacritics():
    assert judge_display(reading("NGUYỄN VĂN AN"), REC, "default")["name"]["matches"] is True
    n = judge_display(reading("NGUYEN VAN AN"), REC, "default")["name"]
    assert n["matches"] is False and n["matches_without_diacritics"] is True


def test_no_document_number_is_not_applicable():
    rec = dict(REC, so_giay_to="")
    assert judge_display(reading("**/**/1987"), rec, "default")["DISPLAY-001"]["status"] == "not_applicable"


def test_unread_regions_turn_a_default_mode_pass_into_review():
    """Rule 6: text the suite could not read near the code may show the whole value: never a pass."""
    r = reading("Số CCCD: ******029317", "Ngày sinh: **/**/1987")
    r.unread = [{"box": [400, 10, 430, 300], "kind": "rotated", "text": ""}]
    j = judge_display(r, REC, "default")
    for rid in ("DISPLAY-001", "DISPLAY-002"):
        assert j[rid]["status"] == "review" and j[rid]["box"] == [400, 10, 430, 300]
        assert j[rid]["unread_regions"] == [{"box": [400, 10, 430, 300], "kind": "rotated"}]
        assert j[rid]["message_vi"] and "could not be read" in j[rid]["message_en"]
    # a value read whole still fails; full mode needs the whole value and is judged as before
    r2 = reading("Số CCCD: 001093029317", "Ngày sinh: **/**/1987")
    r2.unread = r.unread
    assert judge_display(r2, REC, "default")["DISPLAY-001"]["status"] == "fail"
    r3 = reading("Số CCCD: 001093029317", "Ngày sinh: 18/01/1987")
    r3.unread = r.unread
    j3 = judge_display(r3, REC, "full")
    assert (j3["DISPLAY-001"]["status"], j3["DISPLAY-002"]["status"]) == ("pass", "pass")
    # no unread region: today's judgement, with an empty list
    j4 = judge_display(reading("Số CCCD: ******029317", "Ngày sinh: **/**/1987"), REC, "default")
    assert j4["DISPLAY-001"]["status"] == "pass" and j4["DISPLAY-001"]["unread_regions"] == []


def test_system_lines_are_never_evidence():
    r = reading("001093029317", "Số CCCD: ******029317", "Ngày sinh: **/**/1987")
    r.lines[0]["system"] = True  # e.g. a keyboard's suggestion strip
    assert judge_display(r, REC, "default")["DISPLAY-001"]["status"] == "pass"
    r.lines[0]["system"] = False
    assert judge_display(r, REC, "default")["DISPLAY-001"]["status"] == "fail"
