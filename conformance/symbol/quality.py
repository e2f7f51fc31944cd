"""ISO/IEC 15415-style print-quality grade of a QR symbol, measured on screen luminance (derived, report-only).

    grade_symbol(gray, gr, *, uec=None, quiet_zone_modules=None, aperture_modules=APERTURE_MODULES) -> dict | None

Inputs: the greyscale image (uint8, 0..255) and the `grid.GridRead` of one symbol (its homography maps upright
module coordinates, x = column, y = row, to image pixel edges). Reflectance R is the captured luma / 255 as stored
in the image (gamma-encoded, i.e. what a decoder binarises), not linear light: a screen has no reflectance, so this
is a *derived* grade in the manner of ISO/IEC 15415, not a verification under ISO conditions.

Synthetic aperture (ISO/IEC 15415 §7.3): every R is the mean over a disc of `aperture_modules` module diameters
(default 0.6 X) at a module centre, sampled as a 19-point hexagonal lattice (equal-area weights) through the local
Jacobian of the homography, each point read bilinearly. A single pixel is never used as a module's value.

Parameters graded (4 = A ... 0 = F; the overall grade is the lowest, as ISO/IEC 15415 does for one scan):

- SC = Rmax - Rmin over the symbol and its quiet zone (at most 4 rings, no more than the measured quiet zone, so a
  coloured card beyond a narrow quiet zone cannot inflate Rmax); A >= 70 %, B >= 55 %, C >= 40 %, D >= 20 %.
- GT = (Rmax + Rmin) / 2; per-module modulation m = 2 |R - GT| / SC.
  MOD: ISO/IEC 15415 grades modulation per *codeword*, discounting damaged codewords against the unused
  Reed-Solomon error-correction capacity. Nothing here decodes Reed-Solomon, so MOD is approximated per module, and
  the value graded is the 5th percentile of m over all symbol modules, not the minimum: on a screen capture a single
  anti-aliased module edge (fractional module size resampled with an area filter, sub-pixel misregistration of the
  decoder's corners, one JPEG block) puts one aperture half on a neighbour, and the minimum would then grade an
  excellent rendering F. A codeword-level grade would forgive such isolated modules through the error-correction
  discount; the 5th percentile forgives them too, while blur, JPEG ringing and low-contrast themes, which lower
  many modules at once, still lower it. Bands (QR): A >= 0.50, B >= 0.40, C >= 0.30, D >= 0.20, else F.
- Fixed pattern damage: segments A1-A3 (each finder pattern with its separator, 64 modules) and B (both timing
  patterns), each module compared with its *ideal* dark/light value (not with what the grid read). A module on the
  wrong side of GT is damaged; otherwise its modulation grade uses the MOD bands. Per segment, for each grade level
  L the modules graded below L count as damaged and the segment scores min(L, damage grade); the best L wins (the
  ISO "grade the damage at every modulation level" scheme). Damage grades (as described for ISO/IEC 18004:2015
  FPD, not verified against the standard's text): finder segments 0/1/2/3/>=4 damaged modules -> 4/3/2/1/0;
  timing 0 %, <= 7 %, <= 10 %, <= 13 %, more -> 4/3/2/1/0. FPD = the lowest segment grade. Alignment patterns and
  the quiet-zone segment of ISO/IEC 18004:2015 are not graded here.
- UEC from zxing-cpp's extra['UEC'] (unused error correction, 0..1): A >= 0.62, B >= 0.50, C >= 0.37, D >= 0.25.
  Absent (e.g. the symbol was only read by a secondary decoder) -> uec_grade None and it is left out of the overall.

Not graded: decode, axial and grid non-uniformity, format/version information damage, print growth.
Never raises: returns None when the grid cannot be sampled or anything unexpected happens.
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

METHOD = "ISO/IEC 15415-style on screen luminance (derived)"
APERTURE_MODULES = 0.6
LETTERS = "FDCBA"  # index = numeric grade
SC_BANDS = (0.70, 0.55, 0.40, 0.20)
MOD_BANDS = (0.50, 0.40, 0.30, 0.20)
UEC_BANDS = (0.62, 0.50, 0.37, 0.25)
MOD_PERCENTILE = 5.0
QUIET_RINGS_MAX = 4
_FINDER_DAMAGE = (0, 1, 2, 3)  # damaged modules allowed for grades 4, 3, 2, 1
_TIMING_DAMAGE = (0.0, 0.07, 0.10, 0.13)  # damaged fraction allowed for grades 4, 3, 2, 1


def band_grade(value: float | None, bands: tuple[float, float, float, float]) -> int | None:
    """4..0 for value >= bands[0] .. < bands[3]; None for a missing/non-finite value."""
    if value is None or not math.isfinite(value):
        return None
    for g, b in zip((4, 3, 2, 1), bands):
        if value >= b - 1e-12:
            return g
    return 0


def letter(grade: int | None) -> str | None:
    return None if grade is None else LETTERS[int(grade)]


def _disc_offsets(diameter: float) -> np.ndarray:
    """19 points of a hexagonal lattice inside a disc of `diameter` (module units), equal-area cells."""
    s = diameter / 2 / 2.2  # lattice spacing: the outer ring (at 2s and sqrt(3)s) stays inside the disc
    pts = [(0.0, 0.0)]
    for k in range(6):
        a = math.pi / 3 * k
        pts.append((s * math.cos(a), s * math.sin(a)))
        pts.append((2 * s * math.cos(a), 2 * s * math.sin(a)))
        b = a + math.pi / 6
        pts.append((math.sqrt(3) * s * math.cos(b), math.sqrt(3) * s * math.sin(b)))
    return np.array(pts, np.float64)


def _project(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)
    return p - 0.5  # homography maps to pixel edges; remap samples at pixel centres


def aperture_samples(gray: np.ndarray, h: np.ndarray, centres: np.ndarray, diameter: float) -> np.ndarray:
    """Mean luma/255 over a disc of `diameter` modules at each module-space centre; NaN when any part is outside."""
    c = _project(h, centres)
    jx = _project(h, centres + np.array([0.5, 0.0])) - _project(h, centres - np.array([0.5, 0.0]))
    jy = _project(h, centres + np.array([0.0, 0.5])) - _project(h, centres - np.array([0.0, 0.5]))
    off = _disc_offsets(diameter).astype(np.float32)  # (K, 2) in module units
    c, jx, jy = c.astype(np.float32), jx.astype(np.float32), jy.astype(np.float32)
    m = c.shape[0]
    hgt, wid = gray.shape[:2]
    out = np.empty(m, np.float64)
    step = 4096  # bounded temporaries (a v40 symbol with its quiet zone has 34 225 centres)
    ox, oy = off[None, :, 0], off[None, :, 1]
    for s0 in range(0, m, step):
        sl = slice(s0, s0 + step)
        mx = c[sl, 0:1] + ox * jx[sl, 0:1] + oy * jy[sl, 0:1]
        my = c[sl, 1:2] + ox * jx[sl, 1:2] + oy * jy[sl, 1:2]
        v = cv2.remap(gray, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out[sl] = v.sum(axis=1, dtype=np.float64) / (v.shape[1] * 255.0)
    # a centre counts only when its whole disc (bounded by the Jacobian's extent) lies in the image
    r = diameter / 2
    ex = (np.abs(jx[:, 0]) + np.abs(jy[:, 0])) * r
    ey = (np.abs(jx[:, 1]) + np.abs(jy[:, 1])) * r
    inside = ((c[:, 0] - ex >= -0.5) & (c[:, 0] + ex <= wid - 0.5)
              & (c[:, 1] - ey >= -0.5) & (c[:, 1] + ey <= hgt - 0.5) & np.isfinite(c).all(axis=1))
    out[~inside] = np.nan
    return out


_FINDER = np.ones((7, 7), bool)
_FINDER[1:6, 1:6] = False
_FINDER[2:5, 2:5] = True


def fixed_segments(n: int) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """[(name, rows, cols, ideal dark)] for finder+separator segments A1-A3 and the timing patterns B."""
    ideal = np.zeros((8, 8), bool)
    ideal[:7, :7] = _FINDER
    segs = []
    rr, cc = np.mgrid[0:8, 0:8]
    for name, r0, c0, flip_r, flip_c in (("A1", 0, 0, False, False), ("A2", 0, n - 8, False, True),
                                         ("A3", n - 8, 0, True, False)):
        ide = ideal[::-1] if flip_r else ideal
        ide = ide[:, ::-1] if flip_c else ide
        segs.append((name, (rr + r0).ravel(), (cc + c0).ravel(), ide.ravel().copy()))
    idx = np.arange(8, n - 8)
    rows = np.concatenate([np.full_like(idx, 6), idx])
    cols = np.concatenate([idx, np.full_like(idx, 6)])
    segs.append(("B", rows, cols, np.concatenate([idx % 2 == 0, idx % 2 == 0])))
    return segs


def _damage_grade(name: str, damaged: int, total: int) -> int:
    if name == "B":
        frac = damaged / max(1, total)
        for g, lim in zip((4, 3, 2, 1), _TIMING_DAMAGE):
            if frac <= lim + 1e-12:
                return g
        return 0
    for g, lim in zip((4, 3, 2, 1), _FINDER_DAMAGE):
        if damaged <= lim:
            return g
    return 0


def segment_grade(name: str, module_grades: np.ndarray) -> int:
    """Best over levels L of min(L, damage grade counting modules graded below L as damaged)."""
    best = 0
    for lvl in (4, 3, 2, 1):
        dmg = int(np.count_nonzero(module_grades < lvl))
        best = max(best, min(lvl, _damage_grade(name, dmg, module_grades.size)))
    return best


def _module_grades(m: np.ndarray) -> np.ndarray:
    g = np.zeros(m.shape, np.int8)
    for lvl, b in zip((1, 2, 3, 4), MOD_BANDS[::-1]):
        g[m >= b - 1e-12] = lvl
    return g


def grade_symbol(gray: np.ndarray, gr: Any, *, uec: float | None = None, quiet_zone_modules: float | None = None,
                 aperture_modules: float = APERTURE_MODULES) -> dict[str, Any] | None:
    """Print-quality grade of one symbol (see the module docstring); None when it cannot be measured."""
    try:
        return _grade(gray, gr, uec, quiet_zone_modules, aperture_modules)
    except Exception:  # noqa: BLE001 - a report-only measurement must never break the analysis
        return None


def _grade(gray: np.ndarray, gr: Any, uec: float | None, qz: float | None, ap: float) -> dict[str, Any] | None:
    if gr is None or gray is None or gray.ndim != 2 or not (0.1 <= float(ap) <= 1.0):
        return None
    if gray.dtype != np.uint8:
        gray = np.clip(gray, 0, 255).astype(np.uint8)
    n = int(gr.n)
    h = np.asarray(gr.homography, np.float64)
    if h.shape != (3, 3) or not np.isfinite(h).all() or n < 21:
        return None
    edge = _project(h, np.array([[0.0, 0.0], [float(n), 0.0], [0.0, float(n)]]))
    if min(np.linalg.norm(edge[1] - edge[0]), np.linalg.norm(edge[2] - edge[0])) / n < 0.5:
        return None  # degenerate homography or modules below half a pixel: nothing to grade
    rings = QUIET_RINGS_MAX if qz is None else max(0, min(QUIET_RINGS_MAX, int(qz)))
    span = np.arange(-rings, n + rings) + 0.5
    xx, yy = np.meshgrid(span, span)
    centres = np.stack([xx.ravel(), yy.ravel()], 1)
    r_all = aperture_samples(gray, h, centres, float(ap))
    r_all = r_all.reshape(n + 2 * rings, n + 2 * rings)
    r_sym = r_all[rings:rings + n, rings:rings + n]
    if np.isnan(r_sym).any():
        return None
    finite = r_all[np.isfinite(r_all)]
    rmax, rmin = float(finite.max()), float(finite.min())
    sc = rmax - rmin
    gt = (rmax + rmin) / 2.0
    sc_grade = band_grade(sc, SC_BANDS)
    if sc <= 1e-6:
        mod_p = mod_min = 0.0
        m_sym = np.zeros_like(r_sym)
    else:
        m_sym = 2.0 * np.abs(r_sym - gt) / sc
        mod_p = float(np.percentile(m_sym, MOD_PERCENTILE))
        mod_min = float(m_sym.min())
    mod_grade = band_grade(mod_p, MOD_BANDS)

    # fixed patterns against their ideal values; "dark" in symbol sense is light on screen when inverted
    inverted = bool(getattr(gr, "inverted", False))
    seg_grades: dict[str, int] = {}
    if sc > 1e-6:
        for name, rows, cols, ideal_dark in fixed_segments(n):
            r = r_sym[rows, cols]
            low_expected = ideal_dark != inverted
            right_side = np.where(low_expected, r < gt, r > gt)
            m = np.where(right_side, 2.0 * np.abs(r - gt) / sc, 0.0)
            g = _module_grades(m)
            g[~right_side] = 0
            seg_grades[name] = segment_grade(name, g)
    else:
        seg_grades = {name: 0 for name in ("A1", "A2", "A3", "B")}
    fpd_grade = min(seg_grades.values())

    uec_v = float(uec) if isinstance(uec, (int, float)) and math.isfinite(float(uec)) else None
    uec_grade = band_grade(uec_v, UEC_BANDS)
    parts = [g for g in (sc_grade, mod_grade, fpd_grade, uec_grade) if g is not None]
    overall = min(parts)
    return {
        "sc": round(sc, 4),
        "sc_grade": letter(sc_grade),
        "rmax": round(rmax, 4),
        "rmin": round(rmin, 4),
        "global_threshold": round(gt, 4),
        "mod": round(mod_p, 4),
        "mod_min": round(mod_min, 4),
        "mod_percentile": MOD_PERCENTILE,
        "mod_grade": letter(mod_grade),
        "fpd_grade": letter(fpd_grade),
        "fpd_segments": {k: letter(v) for k, v in seg_grades.items()},
        "uec": round(uec_v, 4) if uec_v is not None else None,
        "uec_grade": letter(uec_grade),
        "overall": int(overall),
        "overall_grade": letter(overall),
        "aperture_modules": float(ap),
        "quiet_zone_rings": rings,
        "method": METHOD,
    }
