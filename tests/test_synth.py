"""fixtures.synth: fictitious people and rendered phone screens (real segno symbols, real zxing-cpp decoding)."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from conformance.payload.record import ascii_name, build_payload, mask_document_number
from fixtures.synth import (
    LAYOUTS,
    ScreenStyle,
    downscale,
    jpeg,
    make_people,
    random_style,
    render_screen,
    render_screen_with_truth,
)
from fixtures.synth.screens import FONTS, TOGGLE_HIDE, TOGGLE_SHOW, scale_truth

PEOPLE = make_people(20240911, 200)


def _decode(img):
    return zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain)


def _corners(r):
    p = r.position
    return [(p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y), (p.bottom_right.x, p.bottom_right.y),
            (p.bottom_left.x, p.bottom_left.y)]


def _assert_matches_truth(img, truth, payload, tol_px=3.0):
    found = [r for r in _decode(img) if r.text == payload]
    assert found, f"payload not decoded; got {[r.text for r in _decode(img)]}"
    r = found[0]
    q = truth["qr"]
    err = max(abs(a - b) for c, t in zip(_corners(r), q["corners"]) for a, b in zip(c, t))
    assert err <= tol_px, f"zxing corners {_corners(r)} vs truth {q['corners']}"
    assert int(r.extra["Version"]) == q["version"]
    assert r.extra["DataMask"] == q["mask"]
    assert r.extra["ECLevel"] == q["ecc"]
    tl, tr_ = _corners(r)[0], _corners(r)[1]
    zx_module = np.hypot(tr_[0] - tl[0], tr_[1] - tl[1]) / q["modules"]
    assert abs(zx_module - q["module_px"]) / q["module_px"] < 0.03
    x0, y0, x1, y1 = q["box"]
    assert abs((x1 - x0) / q["modules"] - q["module_px"]) < 0.02
    assert abs((y1 - y0) - (x1 - x0)) < 0.02
    return r


# ------------------------------------------------------------------------------------------------ people
def test_people_are_deterministic_and_seed_dependent():
    assert make_people(7, 25) == make_people(7, 25)
    assert make_people(7, 25) != make_people(8, 25)
    assert make_people(7, 10) == make_people(7, 25)[:10]  # person i does not depend on n


def test_people_are_well_formed():
    ids = [p["id"] for p in PEOPLE]
    assert ids == [f"s{i}" for i in range(1, len(PEOPLE) + 1)]
    assert len({p["qid"] for p in PEOPLE}) == len(PEOPLE)
    for p in PEOPLE:
        name = p["ho_ten"]
        assert unicodedata.is_normalized("NFC", name)
        assert re.fullmatch(r"[A-Z]+( [A-Z]+){2,4}", ascii_name(name)), name
        dob = dt.date.fromisoformat(p["ngay_sinh"])
        assert 1920 <= dob.year <= 2021
        assert p["loai_dinh_danh"] in (0, 1)
        doc = p["so_giay_to"]
        if re.fullmatch(r"\d{12}", doc):
            assert 1 <= int(doc[:3]) <= 96
            assert doc[3] in ("0", "1") if dob.year < 2000 else doc[3] in ("2", "3")
            assert doc[4:6] == f"{dob.year % 100:02d}"
        else:
            assert re.fullmatch(r"\d{9}|[A-Z]\d{7}", doc) or (doc == "" and p["loai_dinh_danh"] == 1), doc
        assert re.fullmatch(r"[1-9]\d{17}", p["qid"])
        ext = p["ext"]
        assert ext["gender"] in (0, 1, 2)
        assert re.fullmatch(r"[A-Z]{2}[1-5]\d{2}\d{10}", ext["bhyt"]) and len(ext["bhyt"]) == 15
        assert re.fullmatch(r"0\d{9}", ext["phone"])
        assert ("proxy_qid" in ext) == (p["loai_dinh_danh"] == 1)
        if "proxy_qid" in ext:
            assert re.fullmatch(r"[1-9]\d{17}", ext["proxy_qid"]) and ext["proxy_qid"] != p["qid"]


def test_people_round_trip_through_build_payload():
    for p in PEOPLE:
        payload = build_payload(p)
        fields = payload.split("|")
        assert len(fields) == 6
        assert fields[0] == p["so_giay_to"]
        assert re.fullmatch(r"[A-Z]+( [A-Z]+)*", fields[1]), fields[1]
        assert fields[2] == p["ngay_sinh"]
        assert fields[3] == str(p["loai_dinh_danh"]) and fields[4] == p["qid"]
        ext = fields[5].split("<")
        assert ext[1] == str(p["ext"]["gender"]) and ext[2] == p["ext"]["bhyt"] and ext[3] == p["ext"]["phone"]
        assert ext[0] == p["ext"].get("proxy_qid", "")
        masked = build_payload(p, masked=True).split("|")
        assert masked[2] == p["ngay_sinh"][:4] + "-**-**"


def test_people_cover_the_interesting_cases():
    docs = [p["so_giay_to"] for p in PEOPLE]
    assert any(len(d) == 12 for d in docs) and any(len(d) == 9 for d in docs)
    assert any(d[:1].isalpha() for d in docs) and "" in docs
    names = [p["ho_ten"] for p in PEOPLE]
    assert any("Đ" in n or "đ" in n for n in names)
    assert any(n == n.upper() for n in names) and any(n != n.upper() for n in names)
    assert sum(ascii_name(n) != n.upper() for n in names) > len(names) // 2  # most carry diacritics
    assert {p["ext"]["gender"] for p in PEOPLE} >= {1, 2}
    # never a number published in the press
    for p in PEOPLE:
        assert p["so_giay_to"] != "001093029317" and p["qid"] != "162979388586171100"


# ------------------------------------------------------------------------------------------------ fonts
@pytest.mark.parametrize("family", sorted(FONTS))
def test_fonts_draw_vietnamese_diacritics(family):
    for path in FONTS[family]:
        font = ImageFont.truetype(path, 48)

        def draw(s, font=font):
            im = Image.new("L", (160, 90), 255)
            ImageDraw.Draw(im).text((10, 10), s, font=font, fill=0)
            return np.asarray(im)

        for accented, bare in (("Ễ", "E"), ("Đ", "D"), ("ượ", "uo"), ("ặ", "a"), ("Ỳ", "Y")):
            a, b = draw(accented), draw(bare)
            assert (a != b).sum() > 30, f"{path}: {accented!r} looks like {bare!r}"
        # and no .notdef box: two different accented letters differ from each other
        assert (draw("Ễ") != draw("Ế")).sum() > 10


# ------------------------------------------------------------------------------------------------ screens
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_each_layout_and_theme_renders_a_decodable_code(layout, theme):
    subject = PEOPLE[LAYOUTS.index(layout) * 2 + (theme == "dark")]
    payload = build_payload(subject)
    style = ScreenStyle(layout=layout, theme=theme)
    img, truth = render_screen_with_truth(subject, payload, mode="default", style=style)
    assert img.size == (style.width, style.height) and img.mode == "RGB"
    assert truth["layout"] == layout and truth["theme"] == theme and truth["size"] == [1080, 2340]
    _assert_matches_truth(img, truth, payload)
    W, H = truth["size"]
    ob = truth["qr"]["outer_box"]
    for t in truth["texts"]:
        x0, y0, x1, y1 = t["box"]
        assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H, t
        assert x1 <= ob[0] or ob[2] <= x0 or y1 <= ob[1] or ob[3] <= y0, f"text over the code: {t}"
    roles = {t["role"] for t in truth["texts"]}
    assert {"name", "dob"} <= roles
    # quiet zone: at least as rendered (minus the straddling pixel); dark theme keeps it tight
    q = truth["qr"]
    assert q["effective_quiet_zone_px"] >= q["quiet_zone"] * q["module_px"] - 1.5
    if theme == "dark" and layout != "green_card":  # the green card puts the code on a wider light panel
        assert q["effective_quiet_zone"] < q["quiet_zone"] + 1


def test_layouts_are_genuinely_different():
    subject = PEOPLE[0]
    payload = build_payload(subject)
    boxes = set()
    for layout in LAYOUTS:
        _, truth = render_screen_with_truth(subject, payload, style=ScreenStyle(layout=layout))
        name_box = next(t["box"] for t in truth["texts"] if t["role"] == "name")
        boxes.add((tuple(int(v) for v in truth["qr"]["outer_box"]), tuple(name_box)))
    assert len(boxes) == len(LAYOUTS)


def test_default_and_full_mode_text_follow_display_rules():
    subject = next(p for p in PEOPLE if len(p["so_giay_to"]) == 12 and p["loai_dinh_danh"] == 0)
    payload = build_payload(subject)
    y, m, d = subject["ngay_sinh"].split("-")
    for date_style, masked_dob, full_dob in (("dmy_slash", f"**/**/{y}", f"{d}/{m}/{y}"),
                                             ("iso", f"{y}-**-**", subject["ngay_sinh"])):
        style = ScreenStyle(date_style=date_style, doc_label="Số CCCD:")
        _, t_def = render_screen_with_truth(subject, payload, mode="default", style=style)
        _, t_full = render_screen_with_truth(subject, payload, mode="full", style=style)
        by_role = lambda t, r: [e["text"] for e in t["texts"] if e["role"] == r]  # noqa: E731
        assert by_role(t_def, "doc") == [mask_document_number(subject["so_giay_to"])]
        assert by_role(t_def, "doc")[0].startswith("******")
        assert by_role(t_full, "doc") == [subject["so_giay_to"]]
        assert by_role(t_def, "dob") == [masked_dob] and by_role(t_full, "dob") == [full_dob]
        assert "Số CCCD:" in by_role(t_def, "label")
        assert " ".join(by_role(t_def, "name")) == subject["ho_ten"]
        assert t_def["displayed"]["toggle"] == TOGGLE_SHOW and t_full["displayed"]["toggle"] == TOGGLE_HIDE
        assert t_def["expected_display"] == {"doc": by_role(t_def, "doc")[0], "dob": masked_dob}


def test_defective_display_overrides_and_unlabelled_text():
    subject = next(p for p in PEOPLE if len(p["so_giay_to"]) == 12)
    payload = build_payload(subject)
    style = ScreenStyle(displayed_doc=subject["so_giay_to"], displayed_dob="*****" + subject["ngay_sinh"][5:],
                        doc_label=None, dob_label=None, layout="two_column")
    img, truth = render_screen_with_truth(subject, payload, mode="default", style=style)
    texts = {e["role"]: e["text"] for e in truth["texts"] if e["role"] in ("doc", "dob")}
    assert texts["doc"] == subject["so_giay_to"]  # full number shown in default mode: defective
    assert truth["expected_display"]["doc"] != texts["doc"]
    assert not [e for e in truth["texts"] if e["role"] == "label"]
    _assert_matches_truth(img, truth, payload)


def test_text_is_realistically_sized():
    for w, h, dpr in ((720, 1600, 2.0), (1170, 2532, 3.0)):
        subject = PEOPLE[3]
        _, truth = render_screen_with_truth(subject, build_payload(subject), style=ScreenStyle(
            width=w, height=h, dpr=dpr, layout="card_top"))
        for e in truth["texts"]:
            if e["role"] in ("doc", "dob"):
                ink_h = e["box"][3] - e["box"][1]
                assert 8 * dpr <= ink_h <= 24 * dpr, e  # 14-20 dp fonts: digit ink ~ 10-15 dp


@pytest.mark.parametrize("module_px,resample", [(5.5, "area"), (4.375, "nearest"), (7.0, "area"), (3.2, "area")])
def test_fractional_and_integer_module_sizes(module_px, resample):
    subject = PEOPLE[11]
    payload = build_payload(subject)
    style = ScreenStyle(qr_module_px=module_px, qr_resample=resample, width=828, height=1792, dpr=2.0)
    img, truth = render_screen_with_truth(subject, payload, style=style)
    assert abs(truth["qr"]["module_px"] - module_px) < 0.05
    _assert_matches_truth(img, truth, payload)


@pytest.mark.parametrize("ecc,version", [("L", None), ("H", None), ("Q", 10), ("M", 7)])
def test_ecc_and_version_are_exact(ecc, version):
    subject = PEOPLE[5]
    payload = build_payload(subject)
    img, truth = render_screen_with_truth(subject, payload, style=ScreenStyle(qr_ecc=ecc, qr_version=version))
    assert truth["qr"]["ecc"] == ecc
    if version:
        assert truth["qr"]["version"] == version
    _assert_matches_truth(img, truth, payload)


def test_inverted_coloured_and_small_quiet_zone():
    subject = PEOPLE[8]
    payload = build_payload(subject)
    style = ScreenStyle(theme="dark", qr_inverted=True, quiet_zone=2, layout="text_above")
    img, truth = render_screen_with_truth(subject, payload, style=style)
    assert truth["qr"]["inverted"] and truth["qr"]["quiet_zone"] == 2
    # light modules on the near-black page: the page itself extends the (dark) quiet zone
    assert truth["qr"]["effective_quiet_zone"] > 2
    _assert_matches_truth(img, truth, payload)
    style = ScreenStyle(theme="dark", quiet_zone=1, layout="two_column")
    img, truth = render_screen_with_truth(subject, payload, style=style)
    assert truth["qr"]["effective_quiet_zone"] < 2  # a 1-module white margin on a dark card
    _assert_matches_truth(img, truth, payload)
    style = ScreenStyle(qr_dark="#0B3D2E", qr_light="#F4FFF4", layout="green_card")
    img, truth = render_screen_with_truth(subject, payload, style=style)
    _assert_matches_truth(img, truth, payload)


def test_extra_unrelated_qr_is_present_and_separate():
    subject = PEOPLE[2]
    payload = build_payload(subject)
    style = ScreenStyle(extra_qr=True, layout="card_top")
    img, truth = render_screen_with_truth(subject, payload, style=style)
    assert truth["extra_qr"] is not None
    texts = {r.text for r in _decode(img)}
    assert texts == {payload, style.extra_qr_text}
    _assert_matches_truth(img, truth, payload)


def test_random_styles_render_conformant_decodable_screens():
    for seed in range(24):
        subject = PEOPLE[seed]
        payload = build_payload(subject, masked=bool(seed % 3 == 0))
        style = random_style(seed)
        img, truth = render_screen_with_truth(subject, payload, mode="default" if seed % 2 else "full", style=style)
        assert img.size == (style.width, style.height)
        _assert_matches_truth(img, truth, payload)


def test_jpeg_and_downscale_helpers_keep_truth_usable():
    subject = PEOPLE[4]
    payload = build_payload(subject)
    img, truth = render_screen_with_truth(subject, payload, style=ScreenStyle(theme="dark"))
    small = downscale(img, 0.5)
    assert small.size == (540, 1170)
    j = jpeg(small, 40)
    assert j.size == small.size and j.mode == "RGB"
    assert np.abs(np.asarray(j, np.int16) - np.asarray(small, np.int16)).max() > 0
    t2 = scale_truth(truth, 0.5)
    _assert_matches_truth(j, t2, payload, tol_px=3.0)
    assert render_screen(subject, payload, style=ScreenStyle(theme="dark")).tobytes() == img.tobytes()


def test_bad_arguments_raise_clear_errors():
    subject = PEOPLE[0]
    payload = build_payload(subject)
    with pytest.raises(ValueError, match="layout"):
        render_screen(subject, payload, style=ScreenStyle(layout="nope"))
    with pytest.raises(ValueError, match="mode"):
        render_screen(subject, payload, mode="masked")
    with pytest.raises(ValueError, match="fit"):
        render_screen(subject, payload, style=ScreenStyle(qr_module_px=40))
    with pytest.raises(ValueError, match="font"):
        render_screen(subject, payload, style=ScreenStyle(font="/nonexistent/font.ttf"))
