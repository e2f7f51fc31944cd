"""ISO/IEC 15415-style print-quality grade (conformance/symbol/quality.py) on real renders, read by real decoders.

Ground truth from segno (boost_error=False); every image goes through analyse_image (zxing-cpp corners + grid read).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from conformance.symbol import analyse_image  # noqa: E402
from conformance.symbol import grid as G  # noqa: E402
from conformance.symbol import quality as QL  # noqa: E402
from conformance.symbol.degrade import apply_degradation  # noqa: E402
from tests.support import qrimages as Q  # noqa: E402

CANDIDATES = ROOT / "fixtures" / "candidates"
KEYS = {"sc", "sc_grade", "mod", "mod_grade", "fpd_grade", "uec_grade", "overall", "overall_grade",
        "aperture_modules", "method"}


def _symbol(version: int, ecc: str, i: int = 0) -> Q.Truth:
    return Q.make_symbol(Q.payload_for(version, ecc, i), ecc, version=version)


def _quality(img: np.ndarray, fmt: str = "PNG") -> dict:
    an = analyse_image(Q.encode(img, fmt), name="render")
    assert an.error is None, an.error
    assert len(an.symbols) == 1, [s.text for s in an.symbols]
    q = an.symbols[0].quality
    assert q is not None
    assert KEYS <= set(q)
    assert q["method"] == QL.METHOD
    assert q["overall_grade"] == "FDCBA"[q["overall"]]
    graded = [q[k] for k in ("sc_grade", "mod_grade", "fpd_grade", "uec_grade") if q[k] is not None]
    assert q["overall_grade"] == min(graded, key="FDCBA".index)  # the lowest parameter grade
    json.dumps(an.to_dict())
    return q


def _g(letter: str) -> int:
    return "FDCBA".index(letter)


@pytest.mark.parametrize("version,ecc,module_px", [(2, "L", 3), (4, "M", 4), (7, "Q", 6), (10, "H", 9),
                                                   (15, "M", 5)])
def test_crisp_black_on_white_grades_A(version, ecc, module_px):
    q = _quality(Q.render(_symbol(version, ecc, version), module_px, frame=128))
    assert q["overall"] == 4 and q["overall_grade"] == "A", q
    assert q["sc"] > 0.97 and q["mod"] > 0.9
    assert 0.4 <= q["aperture_modules"] <= 0.8


def test_grey_on_grey_contrast_bands():
    t = _symbol(5, "M", 1)
    q = _quality(Q.render(t, 6, dark=110, light=170))
    assert q["sc"] == pytest.approx(60 / 255, abs=0.02)
    assert q["sc_grade"] == "D" and q["overall_grade"] == "D"
    q = _quality(Q.render(t, 6, dark=140, light=175))
    assert q["sc"] < 0.20
    assert q["sc_grade"] == "F" and q["overall"] == 0


@pytest.mark.parametrize("module_px", [3, 4, 5])
def test_blur_and_jpeg_lower_modulation(module_px):
    t = _symbol(6, "Q", module_px)
    crisp = Q.render(t, module_px, frame=128)
    qc = _quality(crisp)
    blurred = apply_degradation(crisp, {"kind": "blur", "sigma": 1.5})
    an = analyse_image(Q.encode(blurred))
    if module_px >= 4:  # at 3 px modules zxing-cpp may not read a sigma-1.5 blur at all
        assert len(an.symbols) == 1
    if an.symbols:
        qb = an.symbols[0].quality
        assert qb["mod"] < qc["mod"] - 0.2
        assert _g(qb["mod_grade"]) < _g(qc["mod_grade"]) or module_px >= 5
        assert qb["overall"] < qc["overall"]
    qj = _quality(apply_degradation(crisp, {"kind": "jpeg", "quality": 30}))
    assert qj["mod"] < qc["mod"]
    assert _g(qj["mod_grade"]) <= _g(qc["mod_grade"])


@pytest.mark.parametrize("version", [10, 12])
def test_centre_logo_lowers_uec_grade(version):
    t = _symbol(version, "H", 3)
    mp = 6
    img = Q.render(t, mp)
    q0 = _quality(img)
    side = int(round(np.sqrt(0.20) * t.modules))  # a square covering 20 % of the symbol area
    lo = 4 + (t.modules - side) // 2
    img[lo * mp:(lo + side) * mp, lo * mp:(lo + side) * mp] = 255
    q1 = _quality(img)
    assert _g(q1["uec_grade"]) < _g(q0["uec_grade"]), (q0, q1)
    assert q1["overall"] < q0["overall"]
    assert q1["fpd_grade"] == "A"  # the logo leaves finders and timing patterns alone


def test_inverted_symbols_are_measured():
    t = _symbol(5, "Q", 4)
    q = _quality(Q.render(t, 5, dark=255, light=0))
    assert q["overall_grade"] == "A", q
    rgb = Q.phone_screen([(t, 6)], size=(720, 1600), theme="dark", seed=3)
    an = analyse_image(Q.encode(rgb), name="dark.png")
    s = an.symbols[0]
    assert s.polarity == "light-on-dark"
    # fixed patterns are compared with their ideal values in the symbol's own polarity
    assert s.quality["fpd_grade"] == "A" and s.quality["overall"] >= 3, s.quality


@pytest.mark.parametrize("target", [4.6, 3.7, 5.3])
def test_fractional_module_sizes_keep_A_or_B(target):
    for version, ecc in ((4, "M"), (9, "H")):
        big = Q.render(_symbol(version, ecc, 7), 10, frame=200)
        img = cv2.resize(big, None, fx=target / 10, fy=target / 10, interpolation=cv2.INTER_AREA)
        q = _quality(img)
        assert q["overall"] >= 3, (target, version, q)


def test_fixed_pattern_damage_counts_finder_modules():
    t = _symbol(5, "H", 9)
    m = t.matrix.copy()
    m[0, 3] = ~m[0, 3]  # one module of the top-left finder's outer ring
    t1 = Q.Truth(t.text, t.ecc, t.version, t.mask, t.modules, m)
    q1 = _quality(Q.render(t1, 6))
    assert q1["fpd_grade"] == "B" and q1["fpd_segments"]["A1"] == "B", q1
    m2 = m.copy()
    m2[7, 0:3] = True  # three more: separator modules made dark
    t2 = Q.Truth(t.text, t.ecc, t.version, t.mask, t.modules, m2)
    q2 = _quality(Q.render(t2, 6))
    assert q2["fpd_segments"]["A1"] == "F" and q2["overall"] == 0, q2
    assert q2["fpd_segments"]["A2"] == "A"


def test_grade_bands_and_segment_scheme():
    assert [QL.band_grade(v, QL.SC_BANDS) for v in (0.70, 0.69, 0.55, 0.40, 0.20, 0.19)] == [4, 3, 3, 2, 1, 0]
    assert [QL.band_grade(v, QL.MOD_BANDS) for v in (0.5, 0.45, 0.3, 0.2, 0.1)] == [4, 3, 2, 1, 0]
    assert [QL.band_grade(v, QL.UEC_BANDS) for v in (0.62, 0.5, 0.37, 0.25, 0.24)] == [4, 3, 2, 1, 0]
    assert QL.band_grade(None, QL.UEC_BANDS) is None and QL.letter(None) is None
    g = np.full(64, 4, np.int8)
    assert QL.segment_grade("A1", g) == 4
    g[:2] = 2  # two modules of modulation grade C: counted damaged only at levels above C
    assert QL.segment_grade("A1", g) == 2
    g = np.full(40, 4, np.int8)
    g[:3] = 0  # 7.5 % of a timing segment on the wrong side
    assert QL.segment_grade("B", g) == 2


def test_never_raises_and_none_without_grid():
    gray = Q.render(_symbol(3, "M"), 4)
    assert QL.grade_symbol(gray, None) is None
    gr = G.read_grid(gray, np.array([[16, 16], [132, 16], [132, 132], [16, 132]], float))
    assert gr is not None
    assert QL.grade_symbol(gray, gr, aperture_modules=5.0) is None  # out-of-range aperture
    assert QL.grade_symbol(np.zeros((3, 3, 3)), gr) is None
    gr.homography = np.full((3, 3), np.nan)
    assert QL.grade_symbol(gray, gr) is None
    assert QL.grade_symbol(gray.astype(np.float32), G.read_grid(gray, np.array(
        [[16, 16], [132, 16], [132, 132], [16, 132]], float)))["overall"] == 4


def test_fixture_candidates():
    for p in sorted((CANDIDATES / "example" / "screens").glob("*")):
        an = analyse_image(p)
        assert an.error is None and an.symbols, p
        for s in an.symbols:
            assert s.quality is not None and s.quality["overall"] >= 3, (p.name, s.quality)
    low = analyse_image(CANDIDATES / "symbol-006-low-contrast" / "screens" / "s1-default.png")
    q = low.symbols[0].quality
    assert _g(q["sc_grade"]) <= 1 and q["overall"] <= 1, q
    dark = analyse_image(CANDIDATES / "symbol-006-inverted-dark-mode" / "screens" / "s1-default.png")
    assert dark.symbols[0].polarity == "light-on-dark" and dark.symbols[0].quality["overall"] >= 3


def test_degenerate_homography_gives_none():
    gray = Q.render(_symbol(3, "M"), 4)
    gr = G.read_grid(gray, np.array([[16, 16], [132, 16], [132, 132], [16, 132]], float))
    gr.homography = np.zeros((3, 3))
    assert QL.grade_symbol(gray, gr) is None
