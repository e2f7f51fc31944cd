"""Screen text on browser-rendered app pages (headless Chromium, JPEG q=85): the looks that Tesseract and the first
geometric reading left in review (measured with `python -m conformance.ocr.bench --web 90 --web-hard`), and each
display defect on hard looks. One Chromium launch for the whole module; real Tesseract on every page."""
from __future__ import annotations

import pytest

from conformance.ocr import judge_display, read_screen
from conformance.ocr.bench import render_web, web_spec
from conformance.ocr.reader import _spaced, _vote
from fixtures.synth.people import make_people

PEOPLE = make_people(4242, 60)
CCCD = [p for p in PEOPLE if len(p["so_giay_to"]) == 12 and p["so_giay_to"].isdigit()]
CMND = [p for p in PEOPLE if len(p["so_giay_to"]) == 9 and p["so_giay_to"].isdigit()]


def look(font, weight, fs, dpr, *, ls=0, dark=False, layout="table", iso=False, width=390):
    return {"font": font, "weight": weight, "ls": ls, "fs": fs, "dpr": dpr, "dark": dark, "layout": layout,
            "iso": iso, "width": width}


# (look, subject index, mode): each was "review" for DISPLAY-001 before the voted digit reading
CONFORMANT = [
    (look("Liberation Serif", 600, 17, 3.0), 0, "default"),  # '560552' read '960552' at 48 px
    (look("DejaVu Serif", 600, 18, 3.5, dark=True, iso=True), 1, "default"),  # 5 read as 3 / 9
    (look("DejaVu Serif", 600, 16, 3.0, layout="stacked"), 2, "default"),
    (look("DejaVu Sans", 400, 14, 2.0, ls=0.5, layout="inline", iso=True), 3, "default"),  # '733111' -> '7331'
    (look("DejaVu Sans Mono", 600, 18, 3.0, layout="inline"), 4, "default"),  # dotted zero
    (look("Liberation Mono", 600, 14, 2.625, ls=0.5, layout="stacked"), 5, "default"),  # wide star cells
    (look("Noto Sans", 700, 18, 3.5, iso=True), 6, "default"),  # digits that nearly touch
    (look("Noto Serif", 700, 20, 1.5, dark=True, layout="stacked"), 7, "default"),
    (look("DejaVu Sans Condensed", 700, 15, 2.625, layout="inline"), -1, "default"),  # CMND
    (look("Liberation Sans", 400, 19, 1.75, iso=True), 8, "full"),
]
DEFECTS = [
    (look("Liberation Serif", 600, 17, 3.0), 9, "5 stars", "fail"),
    (look("DejaVu Serif", 700, 16, 3.5, dark=True), 10, "7 stars", "fail"),
    (look("Noto Sans", 700, 18, 2.625, layout="inline"), 11, "full number", "fail"),
    (look("DejaVu Sans Mono", 600, 16, 3.0, layout="stacked", iso=True), 12, "year masked", "fail"),
    (look("Liberation Mono", 700, 15, 2.0, dark=True), 13, "masked in full", "fail"),
    (look("DejaVu Sans Condensed", 600, 14, 1.5, ls=0.5, layout="inline"), -2, "5 stars", "fail"),  # CMND
]


def _person(i):
    p = dict(CMND[-1 - i] if i < 0 else CCCD[i])
    p["id"] = "s1"
    return p


@pytest.fixture(scope="module")
def judged():
    specs = [web_spec(_person(i), lk, mode) for lk, i, mode in CONFORMANT]
    specs += [web_spec(_person(i), lk, "full" if d == "masked in full" else "default", d) for lk, i, d, _ in DEFECTS]
    out = []
    for it in render_web(specs):
        r = read_screen(it["img"], exclude_boxes=it["boxes"])
        assert r.error is None, (it["label"], r.error)
        out.append((it, r, judge_display(r, it["subject"], it["mode"])))
    return out


@pytest.mark.browser
@pytest.mark.parametrize("k", range(len(CONFORMANT)))
def test_conformant_browser_screens_pass(judged, k):
    it, r, j = judged[k]
    assert (j["DISPLAY-001"]["status"], j["DISPLAY-002"]["status"]) == ("pass", "pass"), (it["label"], r.text)
    if it["mode"] == "default":
        assert j["DISPLAY-001"]["found"] == it["doc"]


@pytest.mark.browser
@pytest.mark.parametrize("k", range(len(DEFECTS)))
def test_defect_browser_screens_fail(judged, k):
    it, r, j = judged[len(CONFORMANT) + k]
    want = DEFECTS[k][3]
    for rid, w in it["want"].items():
        got = j[rid]["status"]
        if w == "not_pass":
            assert got == want, (it["label"], rid, got, r.text)
        else:  # the other requirement of a one-defect screen is never failed
            assert got != "fail", (it["label"], rid, got, r.text)


def test_vote_needs_two_agreeing_readings_of_the_right_length():
    assert _vote([("560552", 96.0), ("960552", 70.0), ("560552", 60.0)], 6) == ("560552", 96.0)
    assert _vote([("560552", 96.0), ("960552", 90.0)], 6) is None  # a tie is no reading
    assert _vote([("560552", 96.0), ("56055", 90.0), ("5605522", 90.0)], 6) is None  # one vote is not enough
    assert _vote([("7331", 0.0), ("733111", 73.0), ("733111", 96.0), ("7331", 0.0)], 6) == ("733111", 96.0)
    assert _vote([], 4) is None


def test_spaced_copy_puts_white_between_ink_columns():
    import numpy as np

    crop = np.full((10, 9), 255, np.uint8)
    crop[:, 1:3] = 0
    crop[:, 3:5] = 0  # touching columns stay one piece
    crop[:, 7:8] = 0
    out = _spaced(crop, crop < 128)
    cols = (out < 128).any(axis=0)
    runs = int(np.count_nonzero(cols[1:] & ~cols[:-1]) + cols[0])
    assert runs == 2 and out.shape[1] > crop.shape[1]
