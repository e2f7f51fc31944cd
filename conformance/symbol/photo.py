"""Analyse a camera photograph of a phone screen (evidence kind "photo").

    analyse_photo(source, *, screen_width_mm=None, max_pixels=40_000_000, name=None, limits=None) -> PhotoAnalysis
                                                                                              (never raises)

A photo is not a screenshot: the symbol is seen under perspective, rotation, moire, glare and blur, so its pixel
size and colours say nothing about the app. What survives a photograph is judged from a rectified view:

1. Load (conformance/symbol/load.py: every phone format, EXIF orientation, colour profile, the profile's limits).
2. Find every symbol on a downscaled copy (long side DETECT_SIDE px, bounded time) with zxing-cpp, then on
   blurred / contrast-equalised / smaller variants and on the full image, and finally zxing-cpp's undecoded
   finds and OpenCV's detector, until something is found.
3. Rectify each symbol: the homography from its four corners maps it onto an upright canvas of RECT_MODULE_PX
   pixels a module with RECT_MARGIN_MODULES modules around it, sampled from the full-resolution photo after a
   blur against the display's pixel grid (moire). The canvas is analysed by analyse_image (analyse.py: all
   reference decoders, ECC / version / mask from the format information, quiet zone in modules); a few variants
   (plain, moire-blurred, contrast-equalised, sharpened) are tried until every decoder agrees; the corners found
   on the canvas refine the homography once.
4. Find the screen outline: in the plane rectified by the symbol's homography the display is an upright
   rectangle around the symbol; its four edges are the outermost strong steps from the lit display to the dark
   border, checked along their whole length, then refined to sub-pixel lines in the photo (line fits).
5. With the outline: the rectified screen image (for the OCR layer) and, given `screen_width_mm`, the symbol's
   physical width = its fraction of the screen width (from the outline homography) x screen_width_mm, with an
   uncertainty from the line-fit residuals, the corner precision and the symbol's squareness.

PhotoAnalysis is an ImageAnalysis (analyse.py): `symbols` are SymbolReports from the rectified canvases with
`corners`, `module_px`, `size_px`, `orientation_deg` in photo pixels and `size_mm` only from the outline estimate;
`gray` is the photo; and `photo` (a JSON-safe dict) says how: see PhotoAnalysis.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import zxingcpp

from .analyse import ImageAnalysis, SymbolReport, _json_safe, analyse_image
from .load import ImageLimits, LoadError, load_image, source_name

DETECT_SIDE = 1600  # long side of the copy the symbol is searched on
RECT_MODULE_PX = 8.0  # module size on the rectified canvas
RECT_MARGIN_MODULES = 12  # canvas margin around the symbol (the quiet zone is measured up to here)
MAX_SYMBOLS = 4
TIME_BUDGET_S = 30.0  # CPU seconds per photo after which remaining variants are skipped (noted)
SCREEN_RECT_MAX_SIDE = 1600  # long side of the rectified screen image
MAX_EDGE_CANDIDATES = 6  # per side; the display edge is often not the strongest step (dark app bars)
MIN_EDGE_SUPPORT = 0.8  # fraction of each display edge that must show the lit-to-border step
PHONE_ASPECT = (1.6, 2.5)  # display long side / short side: phones are 16:9 (1.78) to 21:9 (2.33)


@dataclass
class PhotoAnalysis(ImageAnalysis):
    """ImageAnalysis of a photo. `photo` holds (JSON-safe):

    kind: "photo"; scale_detect: detection copy scale; symbols: per symbol {found_by, corners (photo px),
    module_px_photo, rectification {homography (canvas -> photo), module_px, margin_modules, variant,
    refined, tried}, decoders_reading}; outline: {found, corners (photo px, tl tr br bl of the display), aspect
    (height / width on the display plane), line_residual_px [left, top, right, bottom], reason}; size:
    {symbol_mm, uncertainty_mm, relative_uncertainty, screen_width_mm, fraction_of_screen_width, squareness,
    method} or None; rectified_screen: {width, height, px_per_screen_width} or None; notes / notes_vi.
    """

    photo: dict[str, Any] = field(default_factory=dict)
    image: dict[str, Any] = field(default_factory=dict)
    rectified_screen: np.ndarray | None = field(default=None, repr=False)
    rectified_symbols: list[np.ndarray] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["photo"] = _json_safe(self.photo)
        d["image"] = _json_safe(self.image)
        return d


@dataclass
class _Found:
    corners: np.ndarray  # 4x2 photo px, symbol order tl tr br bl
    text: str | None
    version: int | None
    by: str


# ----------------------------------------------------------------------------------------------- detection
def _zx(img: np.ndarray, *, errors: bool = False, binarizer: Any = None) -> list[Any]:
    try:
        kw: dict[str, Any] = dict(formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain,
                                  return_errors=errors)
        if binarizer is not None:
            kw["binarizer"] = binarizer
        return list(zxingcpp.read_barcodes(img, **kw))
    except ValueError:  # this zxing-cpp build does not know a binarizer or option asked for: nothing read with it
        return []


def _corners(r: Any) -> np.ndarray:
    p = r.position
    return np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                     [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]], np.float64)


def _version(r: Any) -> int | None:
    try:
        v = (r.extra or {}).get("Version")
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError, AttributeError):
        return None


def _resize(gray: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return gray
    h, w = gray.shape
    return cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def _clahe(img: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.5, tileGridSize=(8, 8)).apply(img)


def _add(found: list[_Found], cand: _Found) -> None:
    c = cand.corners.mean(axis=0)
    side = float(np.linalg.norm(cand.corners[0] - cand.corners[1]))
    for f in found:
        if np.linalg.norm(f.corners.mean(axis=0) - c) < max(10.0, 0.4 * side):
            if f.text is None and cand.text is not None:
                f.corners, f.text, f.version, f.by = cand.corners, cand.text, cand.version, cand.by
            return
    found.append(cand)


def _detect(gray: np.ndarray, budget: _Budget) -> tuple[list[_Found], float, list[str]]:
    h, w = gray.shape
    s0 = min(1.0, DETECT_SIDE / max(h, w))
    det = _resize(gray, s0)
    tried: list[str] = []
    found: list[_Found] = []

    def attempt(label: str, img: np.ndarray, scale: float, **kw: Any) -> None:
        tried.append(label)
        for r in _zx(img, **kw):
            if kw.get("errors") and r.valid:
                continue
            ok = r.valid and r.text is not None
            _add(found, _Found(_corners(r) / scale, r.text if ok else None, _version(r), f"zxing-cpp {label}"))

    variants: list[tuple[str, Callable[[], np.ndarray], float]] = [
        ("detect", lambda: det, s0),
        ("detect+blur", lambda: cv2.GaussianBlur(det, (0, 0), 1.2), s0),
        ("detect+clahe", lambda: _clahe(det), s0),
        ("small", lambda: _resize(gray, min(1.0, 1000 / max(h, w))), min(1.0, 1000 / max(h, w))),
        ("full", lambda: gray, 1.0),
        ("detect+blur3", lambda: cv2.GaussianBlur(det, (0, 0), 2.5), s0),
    ]
    for label, make, scale in variants:
        if label == "full" and s0 >= 1.0:
            continue
        attempt(label, make(), scale)
        if any(f.text for f in found) or budget.over():
            break
    if not any(f.text for f in found) and not budget.over():
        attempt("detect, undecoded", det, s0, errors=True)
        try:
            ok, pts = cv2.QRCodeDetectorAruco().detectMulti(det)
        except Exception:  # noqa: BLE001
            ok, pts = False, None
        tried.append("opencv-aruco detect")
        if ok and pts is not None:
            for quad in np.asarray(pts, np.float64).reshape(-1, 4, 2):
                _add(found, _Found(quad / s0, None, None, "opencv-aruco detect"))
    return found[:MAX_SYMBOLS], s0, tried


class _Budget:
    def __init__(self, seconds: float):
        self.t0 = time.process_time()
        self.seconds = seconds

    def over(self) -> bool:
        return time.process_time() - self.t0 > self.seconds


# ----------------------------------------------------------------------------------------------- rectification
def _canvas(n: int) -> tuple[np.ndarray, int]:
    m = RECT_MODULE_PX
    q = RECT_MARGIN_MODULES * m
    side = int(round(2 * q + n * m))
    dst = np.array([[q, q], [q + n * m, q], [q + n * m, q + n * m], [q, q + n * m]], np.float64)
    return dst, side


def _warp(gray: np.ndarray, H: np.ndarray, side: int, blur_sigma: float) -> np.ndarray:
    """Canvas (side x side) sampled from `gray` through H (canvas -> photo), after a blur of `blur_sigma` photo
    px on the region only."""
    pts = cv2.perspectiveTransform(np.array([[[0, 0]], [[side, 0]], [[side, side]], [[0, side]]], np.float64), H)
    pts = pts.reshape(-1, 2)
    h, w = gray.shape
    pad = int(math.ceil(3 * blur_sigma)) + 2
    x0 = int(max(0, math.floor(pts[:, 0].min()) - pad))
    y0 = int(max(0, math.floor(pts[:, 1].min()) - pad))
    x1 = int(min(w, math.ceil(pts[:, 0].max()) + pad))
    y1 = int(min(h, math.ceil(pts[:, 1].max()) + pad))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return np.full((side, side), 255, np.uint8)
    crop = gray[y0:y1, x0:x1]
    if blur_sigma > 0.3:
        crop = cv2.GaussianBlur(crop, (0, 0), blur_sigma)
    T = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    return cv2.warpPerspective(crop, T @ H, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)


def _unsharp(img: np.ndarray) -> np.ndarray:
    b = cv2.GaussianBlur(img, (0, 0), 2.0)
    return cv2.addWeighted(img, 1.8, b, -0.8, 0)


def _side_px(c: np.ndarray) -> float:
    return float(np.mean([np.linalg.norm(c[i] - c[(i + 1) % 4]) for i in range(4)]))


def _score(an: ImageAnalysis, centre: np.ndarray, radius: float) -> tuple[int, int, SymbolReport | None]:
    best, bd = None, radius
    for s in an.symbols:
        if not s.corners:
            continue
        d = float(np.linalg.norm(np.asarray(s.corners, np.float64).mean(axis=0) - centre))
        if d <= bd:
            best, bd = s, d
    if best is None or best.text is None:
        return (0, 0, best)
    reading = sum(1 for v in best.decoders.values() if v is not None and v == best.text)
    return (reading, 1 if (best.grid or {}).get("confident") else 0, best)


def _rectify(gray: np.ndarray, f: _Found, name: str, budget: _Budget) -> dict[str, Any]:
    """Rectify one symbol and analyse the canvas; returns the best attempt."""
    n = 17 + 4 * f.version if f.version else 33
    dst, side = _canvas(n)
    H = cv2.getPerspectiveTransform(dst.astype(np.float32), f.corners.astype(np.float32)).astype(np.float64)
    module_photo = _side_px(f.corners) / n
    # against the display's pixel grid: a blur of a fraction of a module (a module is >= ~3 screen pixels)
    moire = max(0.0, 0.18 * module_photo)
    aa = max(0.0, 0.4 * (module_photo / RECT_MODULE_PX - 1.0))  # anti-alias when the canvas is smaller
    variants = [("plain", max(aa, 0.0), None), ("moire-blur", max(aa, moire), None),
                ("clahe", max(aa, moire * 0.5), _clahe), ("sharpen", aa, _unsharp),
                ("strong-blur", max(aa, 2 * moire), None)]
    centre = np.array([side / 2, side / 2])
    best: dict[str, Any] | None = None
    tried = []
    for label, sigma, post in variants:
        canvas = _warp(gray, H, side, sigma)
        if post is not None:
            canvas = post(canvas)
        an = analyse_image(canvas, name=f"{name} (rectified)")
        tried.append(label)
        reading, conf, sym = _score(an, centre, side * 0.35)
        cand = {"variant": label, "sigma": sigma, "post": post, "analysis": an, "symbol": sym, "canvas": canvas,
                "key": (reading, conf)}
        if best is None or cand["key"] > best["key"]:
            best = cand
        if reading >= len(an.decoders_run) and conf:
            break
        if budget.over():
            break
    assert best is not None
    best["tried"] = tried
    best["H"] = H
    best["n"] = n
    best["refined"] = False
    sym = best["symbol"]
    if sym is not None and sym.text is not None and not budget.over():
        # refine: where the decoder found the corners on the canvas vs where they were meant to be; re-rectify
        # from them once (the first homography's fourth corner is only an estimate under perspective)
        n2 = 17 + 4 * sym.version if sym.version else n
        got = np.asarray(sym.corners, np.float64)
        if got.shape == (4, 2):
            dev = np.abs(got - dst).max() / RECT_MODULE_PX if n2 == n else math.inf
            if dev > 0.15:
                photo_c = cv2.perspectiveTransform(got.reshape(-1, 1, 2), H).reshape(-1, 2)
                dst2, side2 = _canvas(n2)
                H2 = cv2.getPerspectiveTransform(dst2.astype(np.float32),
                                                 photo_c.astype(np.float32)).astype(np.float64)
                canvas = _warp(gray, H2, side2, best["sigma"])
                if best["post"] is not None:
                    canvas = best["post"](canvas)
                an = analyse_image(canvas, name=f"{name} (rectified)")
                reading, conf, sym2 = _score(an, np.array([side2 / 2, side2 / 2]), side2 * 0.35)
                if (reading, conf) >= best["key"] and sym2 is not None and sym2.text == sym.text:
                    best.update(analysis=an, symbol=sym2, canvas=canvas, H=H2, n=n2, key=(reading, conf),
                                refined=True)
    return best


# ----------------------------------------------------------------------------------------------- screen outline
def _plane_view(det: np.ndarray, H_det: np.ndarray, n: int, extent: tuple[float, float, float, float],
                r: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The detection image resampled on the symbol's plane: module units u in [u0,u1], v in [v0,v1] at r px a
    module. Returns (image, valid mask, matrix plane-view px -> detection px)."""
    u0, u1, v0, v1 = extent
    W, Hh = int(round((u1 - u0) * r)), int(round((v1 - v0) * r))
    A = np.array([[1 / r, 0, u0], [0, 1 / r, v0], [0, 0, 1]], np.float64)  # plane-view px -> module units
    M = H_det @ A
    img = cv2.warpPerspective(det, np.linalg.inv(M), (W, Hh), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    valid = cv2.warpPerspective(np.full(det.shape, 255, np.uint8), np.linalg.inv(M), (W, Hh),
                                flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
    # points behind the camera (w <= 0) map to nonsense: mark them invalid
    yy, xx = np.mgrid[0:Hh:8, 0:W:8]
    wv = M[2, 0] * xx + M[2, 1] * yy + M[2, 2]
    if (wv <= 0).any():
        bad = cv2.resize((wv <= 0).astype(np.uint8), (W, Hh), interpolation=cv2.INTER_NEAREST) > 0
        valid &= ~bad
    return img, valid, M


def _step_candidates(profile: np.ndarray, inside_right: bool, lo: int, hi: int, d: int, thr: float,
                     dark_max: float) -> list[tuple[float, int]]:
    """Positions in [lo, hi) where the profile steps down by >= thr going outward, outside <= dark_max."""
    out = []
    n = len(profile)
    for x in range(max(lo, d), min(hi, n - d)):
        inside = profile[x + d] if inside_right else profile[x - d]
        outside = profile[x - d] if inside_right else profile[x + d]
        if not (np.isfinite(inside) and np.isfinite(outside)):
            continue
        step = inside - outside
        if step >= thr and outside <= dark_max:
            out.append((float(step), x))
    # keep local maxima only
    out.sort(reverse=True)
    keep: list[tuple[float, int]] = []
    for s, x in out:
        if all(abs(x - k) > 2 * d for _, k in keep):
            keep.append((s, x))
        if len(keep) >= MAX_EDGE_CANDIDATES:
            break
    return keep


def _outermost(profile: np.ndarray, pos: int, inward: int, thr_dark: float, d: int, r: float, reach: int) -> bool:
    """The display's border is the darkest thing beyond its edge: True when nothing further out (away from the
    symbol, up to `reach` px: an app's panels sit a few per cent of the width inside the display edge) is darker,
    by `thr_dark` over about a module, than the darkest level just outside the edge."""
    k = max(3, int(round(r)))
    if inward > 0:
        a = pos - 4 * d - k
        near, beyond = profile[max(0, a):pos - d + 1], profile[max(0, a - reach):max(0, a)]
    else:
        a = pos + 4 * d + k + 1
        near, beyond = profile[pos + d:a], profile[a:a + reach]
    near = near[np.isfinite(near)]
    beyond = beyond[np.isfinite(beyond)]
    if len(near) < k:
        return False
    level = float(np.convolve(near, np.ones(k) / k, mode="valid").min())
    if len(beyond) < k:
        return True
    return float(np.convolve(beyond, np.ones(k) / k, mode="valid").min()) >= level - thr_dark


def _edge_support(img: np.ndarray, valid: np.ndarray, axis: str, pos: int, a: int, b: int, inside_pos: bool,
                  d: int, thr: float, dark_max: float) -> float:
    """Fraction of the edge (between a and b, ends excluded for rounded corners) showing the lit-to-dark step,
    searched within a few px of `pos` (the plane view drifts a little far from the symbol) on a straight line."""
    L = b - a
    if L < 10:
        return 0.0
    g = img if axis == "x" else img.T  # vertical edges: rows along the edge, columns across
    v = valid if axis == "x" else valid.T
    s0, s1 = a + int(0.12 * L), b - int(0.12 * L)
    tol = max(3, int(round(0.02 * L)))
    if pos - tol - d < 0 or pos + tol + d >= g.shape[1] or s0 < 0 or s1 > g.shape[0]:
        return 0.0
    rows = np.arange(s0, s1, 2)
    offs = np.arange(-tol, tol + 1)
    cols = pos + offs
    sgn = 1 if inside_pos else -1
    # inside: the lit display over a few px (a bright rim on the phone's frame is one or two px wide)
    ins = np.median(np.stack([g[rows[:, None], np.clip(cols[None, :] + sgn * k * d, 0, g.shape[1] - 1)]
                              for k in (1, 2, 3)]), axis=0).astype(np.float64)
    outs = g[rows[:, None], cols[None, :] - (d if inside_pos else -d)].astype(np.float64)
    ok = v[rows[:, None], cols[None, :] - d] & v[rows[:, None], cols[None, :] + d]
    step = np.where(ok & (outs <= dark_max) & np.isfinite(ins) & np.isfinite(outs), ins - outs, -np.inf)
    best = step.max(axis=1)
    where = offs[np.argmax(step, axis=1)].astype(np.float64)
    good = best >= thr
    if good.sum() < max(5, 0.5 * len(rows)):
        return float(good.sum()) / max(1, len(rows))
    # the step positions must lie on one straight line (within the step's own width)
    A = np.stack([rows[good].astype(np.float64), np.ones(int(good.sum()))], axis=1)
    coef, *_ = np.linalg.lstsq(A, where[good], rcond=None)
    on_line = np.zeros_like(good)
    on_line[good] = np.abs(A @ coef - where[good]) <= d + 1.0
    return float(on_line.sum()) / max(1, len(rows))


def _find_outline(det: np.ndarray, s_det: float, H_photo: np.ndarray, n: int, sym: SymbolReport | None,
                  dbg: dict[str, Any] | None = None) -> dict[str, Any]:
    """Approximate display rectangle in the symbol's plane (module units), or a reason."""
    S = np.diag([s_det, s_det, 1.0])
    # H_photo: canvas px -> photo px; module units -> canvas px:
    m, q = RECT_MODULE_PX, RECT_MARGIN_MODULES * RECT_MODULE_PX
    C = np.array([[m, 0, q], [0, m, q], [0, 0, 1]], np.float64)
    H_det = S @ H_photo @ C  # module units -> detection px
    # the display may be up to ~5 symbol widths on either side and ~9 symbol heights above or below (a small
    # code on a tall screen); the plane view has ~130 px across the symbol
    r = max(1.5, min(5.0, 130.0 / n))
    ext = (-5.0 * n, 6.0 * n, -9.0 * n, 10.0 * n)
    img, valid, M = _plane_view(det, H_det, n, ext, r)
    f = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 1.0)
    f[~valid] = np.nan
    ox, oy = -ext[0] * r, -ext[2] * r  # plane-view px of the symbol's top-left corner
    sx0, sx1, sy0, sy1 = int(ox), int(ox + n * r), int(oy), int(oy + n * r)
    dark = float(sym.dark_luma) if sym is not None and sym.dark_luma is not None else float(np.nanpercentile(f, 5))
    light = float(sym.light_luma) if sym is not None and sym.light_luma is not None else float(np.nanpercentile(f, 95))
    contrast = max(10.0, light - dark)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        black = float(np.nanpercentile(f, 1))  # the unlit border if it is in view, else the darkest content
    thr = max(12.0, 0.15 * contrast)
    # "dark" outside an edge means near the black level: an app's coloured panels are lit, not a border
    dark_max = min(dark + 0.3 * contrast, black + 0.2 * contrast)
    d = max(2, int(round(0.6 * r)))
    thr_dark = max(6.0, 0.06 * contrast)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # all-NaN columns outside the photo
        band_rows = f[sy0:sy1, :]
        prof_x = np.nanmedian(band_rows, axis=0)
        band_cols = f[:, sx0:sx1]
        prof_y = np.nanmedian(band_cols, axis=1)
    qz = int(2 * r)
    lefts = _step_candidates(prof_x, True, 0, sx0 - qz, d, thr, dark_max)
    rights = _step_candidates(prof_x, False, sx1 + qz, len(prof_x), d, thr, dark_max)
    tops = _step_candidates(prof_y, True, 0, sy0 - qz, d, thr, dark_max)
    bottoms = _step_candidates(prof_y, False, sy1 + qz, len(prof_y), d, thr, dark_max)
    if dbg is not None:
        dbg.update(lefts=lefts, rights=rights, tops=tops, bottoms=bottoms, r=r, ext=ext, thr=thr, dark_max=dark_max,
                   sym_px=(sx0, sx1, sy0, sy1), H_det=H_det, prof_x=prof_x, prof_y=prof_y, f=f, valid=valid,
                   d=d, thr_dark=thr_dark, combos=[])
    if not (lefts and rights and tops and bottoms):
        missing = [k for k, v in (("left", lefts), ("right", rights), ("top", tops), ("bottom", bottoms)) if not v]
        return {"found": False, "reason": "no display edge found on the " + ", ".join(missing) + " side(s)"}
    best = None
    combos = sorted(((R - L) * (B - T), L, T, R, B) for _, L in lefts for _, R in rights for _, T in tops
                    for _, B in bottoms)
    sides = ((prof_x, +1), (prof_y, +1), (prof_x, -1), (prof_y, -1))  # left, top, right, bottom
    for _, L, T, R, B in reversed(combos):  # the largest rectangle that passes every check is the display
        w, h = R - L, B - T
        if w <= 0 or h <= 0 or not (PHONE_ASPECT[0] <= max(w, h) / min(w, h) <= PHONE_ASPECT[1]):
            continue
        sup = [_edge_support(f, valid, "x", L, T, B, True, d, thr, dark_max),
               _edge_support(f, valid, "y", T, L, R, True, d, thr, dark_max),
               _edge_support(f, valid, "x", R, T, B, False, d, thr, dark_max),
               _edge_support(f, valid, "y", B, L, R, False, d, thr, dark_max)]
        reach = int(0.12 * min(w, h))
        outer = [_outermost(prof, pos, inward, thr_dark, d, r, reach)
                 for (prof, inward), pos in zip(sides, (L, T, R, B))]
        if dbg is not None:
            dbg["combos"].append(((L, T, R, B), max(w, h) / min(w, h), sup, outer))
        if min(sup) < MIN_EDGE_SUPPORT:
            continue
        if not all(outer):
            continue  # something darker lies beyond: this is a lit panel inside the display
        best = ((w * h, min(sup)), (L, T, R, B), sup)
        break
    if best is None:
        return {"found": False, "reason": "no rectangle of phone-display shape with a dark border along all four "
                                          "edges around the symbol"}
    (L, T, R, B), sup = best[1], best[2]
    def to_units(x: float, y: float) -> tuple[float, float]:
        return (x + 0.5) / r + ext[0], (y + 0.5) / r + ext[2]

    quad_units = np.array([to_units(L, T), to_units(R, T), to_units(R, B), to_units(L, B)], np.float64)
    return {"found": True, "quad_units": quad_units, "support": sup, "H_units_to_det": H_det, "r": r}


def _refine_lines(gray: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, list[float], list[float]] | None:
    """Sub-pixel display edges in the photo: each side's edge points along its normal, a total-least-squares
    line per side (outliers over 3 MAD dropped), corners from the intersections. Returns (corners,
    residual std per side, standard error of each line's offset)."""
    h, w = gray.shape
    lines, res, se = [], [], []
    centre = quad.mean(axis=0)
    for i in range(4):
        p, q = quad[i], quad[(i + 1) % 4]
        L = float(np.linalg.norm(q - p))
        if L < 20:
            return None
        t = (q - p) / L
        nrm = np.array([-t[1], t[0]])
        if np.dot(centre - (p + q) / 2, nrm) < 0:
            nrm = -nrm  # normal points inside
        reach = max(6.0, 0.025 * L)
        ts = np.linspace(-reach, reach, int(2 * reach) * 2 + 1)
        pts = []
        for a in np.linspace(0.15, 0.85, 41):
            base = p + a * (q - p)
            xy = base[None, :] + ts[:, None] * nrm[None, :]
            if xy[:, 0].min() < 0 or xy[:, 1].min() < 0 or xy[:, 0].max() > w - 2 or xy[:, 1].max() > h - 2:
                continue
            prof = cv2.remap(gray, xy[:, 0].astype(np.float32).reshape(1, -1),
                             xy[:, 1].astype(np.float32).reshape(1, -1), cv2.INTER_LINEAR).ravel().astype(np.float64)
            prof = np.asarray(cv2.GaussianBlur(prof.reshape(1, -1), (0, 0), 1.5).ravel(), np.float64)
            g = np.gradient(prof)  # inside is at +t: a rising profile
            k = int(np.argmax(g))
            if k <= 0 or k >= len(g) - 1 or g[k] <= 0:
                continue
            den = g[k - 1] - 2 * g[k] + g[k + 1]
            off = 0.5 * (g[k - 1] - g[k + 1]) / den if den != 0 else 0.0
            tk = ts[k] + off * (ts[1] - ts[0])
            pts.append(base + tk * nrm)
        if len(pts) < 10:
            return None
        P = np.array(pts)
        for _ in range(2):
            c = P.mean(axis=0)
            _, _, vt = np.linalg.svd(P - c)
            nn = vt[1]
            dist = (P - c) @ nn
            mad = float(np.median(np.abs(dist - np.median(dist)))) * 1.4826 + 1e-6
            keep = np.abs(dist - np.median(dist)) <= max(3 * mad, 0.5)
            if keep.sum() < 8:
                break
            P = P[keep]
        c = P.mean(axis=0)
        _, _, vt = np.linalg.svd(P - c)
        nn = vt[1]
        dist = (P - c) @ nn
        sd = float(np.sqrt(np.mean(dist ** 2)))
        lines.append((c, nn))
        res.append(sd)
        se.append(sd / math.sqrt(len(P)))
    corners = []
    for i in range(4):
        (c1, n1), (c0, n0) = lines[i], lines[(i - 1) % 4]
        A = np.array([n0, n1])
        b = np.array([n0 @ c0, n1 @ c1])
        if abs(np.linalg.det(A)) < 1e-9:
            return None
        corners.append(np.linalg.solve(A, b))
    return np.array(corners), res, se


def _fraction(outline: np.ndarray, aspect: float, sym_corners: np.ndarray) -> tuple[float, float]:
    """Symbol width and height as fractions of the display width (display-plane coordinates)."""
    dst = np.array([[0, 0], [1, 0], [1, aspect], [0, aspect]], np.float32)
    Hs = cv2.getPerspectiveTransform(outline.astype(np.float32), dst)
    u = cv2.perspectiveTransform(sym_corners.reshape(-1, 1, 2).astype(np.float64), Hs.astype(np.float64))
    u = u.reshape(-1, 2)
    wfrac = (np.linalg.norm(u[1] - u[0]) + np.linalg.norm(u[2] - u[3])) / 2
    hfrac = (np.linalg.norm(u[3] - u[0]) + np.linalg.norm(u[2] - u[1])) / 2
    return float(wfrac), float(hfrac)


def _shift_line(outline: np.ndarray, side: int, amount: float) -> np.ndarray:
    """Move side `side` (0 top: c0-c1, 1 right: c1-c2, 2 bottom: c2-c3, 3 left: c3-c0) outward by `amount` px."""
    o = outline.copy()
    i, j = side, (side + 1) % 4
    t = o[j] - o[i]
    nrm = np.array([-t[1], t[0]]) / (np.linalg.norm(t) + 1e-12)
    if np.dot(o.mean(axis=0) - (o[i] + o[j]) / 2, nrm) > 0:
        nrm = -nrm
    o[i] = o[i] + amount * nrm
    o[j] = o[j] + amount * nrm
    return o


# ----------------------------------------------------------------------------------------------- public
def analyse_photo(source: Any, *, screen_width_mm: float | None = None, max_pixels: int = 40_000_000,
                  name: str | None = None, limits: ImageLimits | None = None) -> PhotoAnalysis:
    """Find, rectify, decode and measure every QR symbol in a photo of a phone screen. Never raises."""
    t_all = time.perf_counter()
    nm = source_name(source, name)
    out = PhotoAnalysis(name=nm)
    out.photo = {"kind": "photo", "symbols": [], "outline": {"found": False, "reason": "no symbol found"},
                 "size": None, "rectified_screen": None, "notes": [], "notes_vi": []}
    try:
        lim = limits or ImageLimits()
        if max_pixels and max_pixels != lim.max_pixels and limits is None:
            lim = ImageLimits(int(max_pixels), lim.max_side, lim.max_aspect, lim.max_frames)
        if screen_width_mm is not None and not (isinstance(screen_width_mm, (int, float))
                                                and not isinstance(screen_width_mm, bool)
                                                and math.isfinite(screen_width_mm) and 0 < screen_width_mm < 1000):
            _note(out, f"screen_width_mm {screen_width_mm!r} is not a usable width in millimetres; ignored",
                  f"screen_width_mm {screen_width_mm!r} không phải độ rộng dùng được (mm); bỏ qua")
            screen_width_mm = None
        _analyse(source, out, nm, screen_width_mm, lim)
    except LoadError as exc:
        out.error, out.error_vi = exc.en, exc.vi
    except Exception as exc:  # noqa: BLE001 - last line of defence: report, never raise
        out.error = f"{nm}: internal error while analysing the photo ({type(exc).__name__}: {exc})"
        out.error_vi = f"{nm}: lỗi nội bộ khi phân tích ảnh chụp ({type(exc).__name__}: {exc})"
    out.timings_ms["total"] = round((time.perf_counter() - t_all) * 1000, 2)
    out.timings_ms = {k: round(v, 2) for k, v in out.timings_ms.items()}
    return out


def _note(out: PhotoAnalysis, en: str, vi: str) -> None:
    out.photo["notes"].append(en)
    out.photo["notes_vi"].append(vi)


def _analyse(source: Any, out: PhotoAnalysis, nm: str, screen_width_mm: float | None, lim: ImageLimits) -> None:
    tm = out.timings_ms
    budget = _Budget(TIME_BUDGET_S)
    t = time.perf_counter()
    li = load_image(source, nm, lim)
    tm["load"] = (time.perf_counter() - t) * 1000
    gray = li.gray
    out.gray = gray
    out.height, out.width = int(gray.shape[0]), int(gray.shape[1])
    out.image = li.info()
    if li.frames > 1:
        _note(out, f"the file holds {li.frames} images; the first was analysed",
              f"tệp chứa {li.frames} ảnh; ảnh đầu tiên được phân tích")

    t = time.perf_counter()
    found, s_det, tried = _detect(gray, budget)
    tm["detect"] = (time.perf_counter() - t) * 1000
    out.photo["scale_detect"] = round(s_det, 4)
    out.photo["detect_tried"] = tried
    if not found:
        _note(out, "no QR symbol was found in the photo", "không tìm thấy mã QR nào trong ảnh chụp")
        return
    det = _resize(gray, s_det)
    decoders_run: list[str] = []
    t_rect = t_out = 0.0
    outline_done = False
    for f in found:
        t = time.perf_counter()
        best = _rectify(gray, f, nm, budget)
        t_rect += time.perf_counter() - t
        an: ImageAnalysis = best["analysis"]
        for k in an.decoders_run:
            if k not in decoders_run:
                decoders_run.append(k)
        sym = best["symbol"]
        H, n = best["H"], best["n"]
        if sym is None or sym.text is None:
            at = np.round(f.corners.mean(axis=0)).astype(int).tolist()
            if f.text is None:
                _note(out, f"a symbol located at {at} could not be read, neither on the photo nor rectified",
                      f"một mã tìm thấy tại {at} không đọc được, cả trên ảnh chụp lẫn sau khi nắn ảnh")
                continue
            # read on the photo itself but not on any rectified canvas: report that reading, unmeasured
            sym = SymbolReport(text=f.text, corners=[[float(x), float(y)] for x, y in f.corners],
                               metadata_source="zxing-cpp (photo, not rectified)")
            sym.decoders["zxing-cpp"] = f.text
            sym.version = f.version
            _note(out, f"the symbol at {at} was read on the photo but not after rectification: it is not measured",
                  f"mã tại {at} đọc được trên ảnh chụp nhưng không đọc được sau khi nắn ảnh: không đo được")
            side_photo = _side_px(f.corners)
            sym.size_px = round(side_photo, 1)
            sym.module_px = round(side_photo / (17 + 4 * f.version), 3) if f.version else None
            out.symbols.append(sym)
            out.photo["symbols"].append({"found_by": f.by, "corners": sym.corners, "module_px_photo": sym.module_px,
                                         "rectification": None, "decoders_reading": ["zxing-cpp"]})
            continue
        canvas_corners = np.asarray(sym.corners, np.float64).reshape(-1, 2)
        photo_corners = cv2.perspectiveTransform(canvas_corners.reshape(-1, 1, 2), H).reshape(-1, 2)
        n_sym = 17 + 4 * sym.version if sym.version else n
        rect_module = sym.module_px
        rect_size = sym.size_px
        sym.corners = [[round(float(x), 2), round(float(y), 2)] for x, y in photo_corners]
        side_photo = _side_px(photo_corners)
        sym.size_px = round(side_photo, 1)
        sym.module_px = round(side_photo / n_sym, 3)
        v = photo_corners[1] - photo_corners[0]
        sym.orientation_deg = round(math.degrees(math.atan2(v[1], v[0])), 1)
        sym.size_mm = None
        info = {"found_by": f.by, "corners": sym.corners, "module_px_photo": sym.module_px,
                "rectification": {"homography": H.round(6).tolist(), "module_px": rect_module,
                                  "size_px": rect_size, "margin_modules": RECT_MARGIN_MODULES,
                                  "variant": best["variant"], "tried": best["tried"], "refined": best["refined"]},
                "decoders_reading": sorted(k for k, v in sym.decoders.items() if v is not None and v == sym.text)}
        out.symbols.append(sym)
        out.rectified_symbols.append(best["canvas"])
        out.photo["symbols"].append(info)
        if not outline_done and sym.text is not None and not budget.over():
            outline_done = True
            t = time.perf_counter()
            _outline_and_size(out, gray, det, s_det, H, n_sym, sym, photo_corners, screen_width_mm)
            t_out += time.perf_counter() - t
    out.decoders_run = decoders_run
    tm["rectify+decode"] = t_rect * 1000
    tm["outline"] = t_out * 1000
    if budget.over():
        _note(out, f"time budget of {TIME_BUDGET_S:g} s CPU reached; remaining variants were skipped",
              f"đã hết thời gian cho phép {TIME_BUDGET_S:g} giây CPU; các phương án còn lại bị bỏ qua")


def _outline_and_size(out: PhotoAnalysis, gray: np.ndarray, det: np.ndarray, s_det: float, H: np.ndarray,
                      n: int, sym: SymbolReport, photo_corners: np.ndarray, screen_width_mm: float | None) -> None:
    # the canvas of H may have been built for another module count: re-express in this symbol's canvas
    dst, _ = _canvas(n)
    Hs = cv2.getPerspectiveTransform(dst.astype(np.float32), photo_corners.astype(np.float32)).astype(np.float64)
    res = _find_outline(det, s_det, Hs, n, sym)
    if not res.get("found"):
        out.photo["outline"] = {"found": False, "reason": res.get("reason")}
        _note(out, f"screen outline not found: {res.get('reason')}",
              "không tìm thấy đường viền màn hình: " + _vi_reason(res.get("reason", "")))
        return
    Hu = res["H_units_to_det"]
    quad_det = cv2.perspectiveTransform(res["quad_units"].reshape(-1, 1, 2), Hu).reshape(-1, 2)
    quad_photo = quad_det / s_det
    ref = _refine_lines(gray, quad_photo)
    if ref is None:
        out.photo["outline"] = {"found": False, "reason": "the display edges could not be fitted in the photo"}
        _note(out, "screen outline not found: the display edges could not be fitted in the photo",
              "không tìm thấy đường viền màn hình: không khớp được các cạnh màn hình trong ảnh")
        return
    outline, resid, se = ref
    # display aspect on its own plane (metric up to scale, from the square symbol's homography)
    Hinv = np.linalg.inv(Hs)
    oc = cv2.perspectiveTransform(outline.reshape(-1, 1, 2), Hinv).reshape(-1, 2)
    wpl = (np.linalg.norm(oc[1] - oc[0]) + np.linalg.norm(oc[2] - oc[3])) / 2
    hpl = (np.linalg.norm(oc[3] - oc[0]) + np.linalg.norm(oc[2] - oc[1])) / 2
    aspect = float(hpl / wpl)
    # sides: 0 top (c0-c1), 1 right, 2 bottom, 3 left; _refine_lines returns residuals per quad side i = c_i-c_i+1
    out.photo["outline"] = {"found": True, "corners": outline.round(2).tolist(), "aspect": round(aspect, 4),
                            "line_residual_px": [round(v, 3) for v in resid],
                            "line_offset_se_px": [round(v, 3) for v in se],
                            "edge_support": [round(v, 3) for v in res["support"]]}
    # rectified screen for the OCR layer
    wpx = (np.linalg.norm(outline[1] - outline[0]) + np.linalg.norm(outline[2] - outline[3])) / 2
    W = int(min(SCREEN_RECT_MAX_SIDE / max(1.0, aspect), max(64, round(wpx))))
    Hh = int(round(W * aspect))
    if W >= 32 and Hh >= 32:
        dst_s = np.array([[0, 0], [W, 0], [W, Hh], [0, Hh]], np.float32)
        Hscr = cv2.getPerspectiveTransform(outline.astype(np.float32), dst_s)
        out.rectified_screen = cv2.warpPerspective(gray, Hscr, (W, Hh), flags=cv2.INTER_AREA
                                                   if wpx > W else cv2.INTER_LINEAR)
        out.photo["rectified_screen"] = {"width": W, "height": Hh, "px_per_screen_width": W,
                                         "homography_photo_to_screen": Hscr.astype(np.float64).round(8).tolist()}
    if screen_width_mm is None:
        _note(out, "screen outline found; no screen_width_mm given, so no physical size is estimated",
              "đã tìm thấy đường viền màn hình; không có screen_width_mm nên không ước lượng kích thước thực")
        return
    wf, hf = _fraction(outline, aspect, photo_corners)
    # uncertainty: each side's line offset (standard error, at least 0.3 px for edge-localisation bias), the
    # symbol corners (0.1 module each), and the symbol's squareness on the display plane
    comps = []
    for side in range(4):
        s = max(0.3, se[side])
        w2, _ = _fraction(_shift_line(outline, side, s), aspect, photo_corners)
        comps.append(w2 - wf)
    module_photo = _side_px(photo_corners) / n
    comps.append(wf * 0.14 * module_photo / max(1e-6, _side_px(photo_corners)) * math.sqrt(2))
    sigma = math.sqrt(sum(c * c for c in comps))
    square = (hf - wf) / wf if wf > 0 else 0.0
    sigma = math.sqrt(sigma ** 2 + (0.5 * abs(hf - wf)) ** 2)
    size = wf * screen_width_mm
    unc = 2.0 * sigma * screen_width_mm  # about 95 %
    sym.size_mm = round(size, 2)
    out.photo["size"] = {"symbol_mm": round(size, 2), "uncertainty_mm": round(max(unc, 0.05), 2),
                         "relative_uncertainty": round(unc / size, 4) if size > 0 else None,
                         "screen_width_mm": screen_width_mm, "fraction_of_screen_width": round(wf, 5),
                         "squareness": round(square, 4),
                         "method": "symbol width as a fraction of the display width through the display outline's "
                                   "homography x screen_width_mm; +- about 2 standard deviations from the outline "
                                   "line fits (>= 0.3 px each), 0.1-module corner precision and the symbol's "
                                   "squareness on the display plane"}
    _note(out, f"symbol width estimated at {size:.1f} mm +- {unc:.1f} mm from the screen outline and "
               f"screen_width_mm = {screen_width_mm:g}",
          f"độ rộng mã ước lượng {size:.1f} mm ± {unc:.1f} mm từ đường viền màn hình và "
          f"screen_width_mm = {screen_width_mm:g}")


def _vi_reason(en: str) -> str:
    if en.startswith("no display edge found"):
        return "không thấy cạnh màn hình ở một hoặc nhiều phía"
    if en.startswith("no rectangle"):
        return "không có hình chữ nhật dạng màn hình điện thoại với viền tối dọc cả bốn cạnh quanh mã"
    return "không xác định được"


__all__ = ["PhotoAnalysis", "analyse_photo"]
