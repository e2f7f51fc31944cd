"""Locate, decode and measure every QR symbol in one screenshot (SYMBOL-001..008 evidence).

zxing-cpp is primary and finds all symbols; zbar and OpenCV Aruco read only the region each primary symbol occupies
(whole image only when the primary found nothing). ECC/version/mask are cross-checked against our own reading of
the two format-information copies (grid.py); disagreements are reported, never hidden. The grid's module count is
cross-checked against the decoded version (N = 17 + 4 * version), so the module size cannot come from a wrong N.

The quiet zone is measured in fractional modules (grid.quiet_zone): `quiet_zone_modules` is the value to compare
with a minimum (one decimal, rounded down, see quiet_zone_value), `quiet_zone_modules_measured` the measurement to
0.001 module and `quiet_zone_px` the same in pixels.
"""
from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from . import decoders as D
from . import grid as G
from . import quality as Q
from .load import LoadError, load_gray, source_name


@dataclass
class SymbolReport:
    text: str | None = None
    raw_bytes: bytes | None = None
    decoders: dict[str, str | None] = field(default_factory=lambda: {n: None for n in D.DECODER_NAMES})
    decoder_errors: dict[str, str] = field(default_factory=dict)  # a secondary decoder that crashed or timed out
    ecc: str | None = None
    version: int | None = None
    mask: int | None = None
    mode: str | None = None
    eci: bool | None = None
    corners: list[list[float]] = field(default_factory=list)
    orientation_deg: float | None = None
    module_px: float | None = None
    # quiet zone in fractional modules, one decimal, rounded DOWN; only a measurement short of a whole number of
    # modules by what the pixel grid can explain counts as that whole number (quiet_zone_value); compare this one
    quiet_zone_modules: float | None = None
    quiet_zone_modules_measured: float | None = None  # the measurement itself, to 0.001 module (no allowance)
    quiet_zone_px: float | None = None  # the measurement in image pixels
    quiet_zone_clipped: bool = False  # the measurement reached the image edge (the value is a lower bound)
    polarity: str | None = None
    symbol_contrast: float | None = None
    wcag_contrast: float | None = None
    dark_luma: float | None = None
    light_luma: float | None = None
    size_px: float | None = None
    size_mm: float | None = None
    uec: float | None = None
    grid: dict[str, Any] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)
    metadata_source: str | None = None  # "zxing-cpp" or "format-info grid read"
    segments: list[dict[str, Any]] | None = None
    quality: dict[str, Any] | None = None  # ISO/IEC 15415-style grade (quality.py), reported only

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        raw = self.raw_bytes
        d["raw_bytes"] = raw.hex() if raw is not None else None
        d["raw_bytes_b64"] = base64.b64encode(raw).decode("ascii") if raw is not None else None
        return _json_safe(d)


@dataclass
class ImageAnalysis:
    name: str
    width: int | None = None
    height: int | None = None
    error: str | None = None
    error_vi: str | None = None
    symbols: list[SymbolReport] = field(default_factory=list)
    gray: np.ndarray | None = field(default=None, repr=False)
    timings_ms: dict[str, float] = field(default_factory=dict)
    decoders_run: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _json_safe({
            "name": self.name, "width": self.width, "height": self.height, "error": self.error,
            "error_vi": self.error_vi, "symbols": [s.to_dict() for s in self.symbols],
            "timings_ms": self.timings_ms, "decoders_run": list(self.decoders_run),
        })


def _json_safe(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, np.ndarray):
        return _json_safe(v.tolist())
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


SECONDARY_TIMEOUT_S = 60.0  # a secondary decoder that takes longer on one crop has hung (recorded, never "not read")
SECONDARY_MODULE_PX = 6.0  # secondaries see the region downscaled (never enlarged) to about this module size
SECONDARY_MARGIN_MODULES = 6  # region margin: the standard 4-module quiet zone plus 2


def _region(gray: np.ndarray, corners: np.ndarray, margin_px: float) -> tuple[np.ndarray, int, int]:
    h, w = gray.shape[:2]
    m = max(8.0, margin_px)
    x0 = int(max(0, math.floor(corners[:, 0].min() - m)))
    y0 = int(max(0, math.floor(corners[:, 1].min() - m)))
    x1 = int(min(w, math.ceil(corners[:, 0].max() + m)))
    y1 = int(min(h, math.ceil(corners[:, 1].max() + m)))
    return np.ascontiguousarray(gray[y0:y1, x0:x1]), x0, y0


def _centre(c: np.ndarray) -> np.ndarray:
    return np.asarray(c, np.float64).reshape(-1, 2).mean(axis=0)


def _pick(hits: list[D.Hit], centre: np.ndarray, radius: float) -> D.Hit | None:
    best, bd = None, radius
    for h in hits:
        d = float(np.linalg.norm(_centre(h.corners) - centre))
        if d <= bd:
            best, bd = h, d
    return best


def _orientation(corners: np.ndarray) -> float:
    v = corners[1] - corners[0]
    return round(math.degrees(math.atan2(v[1], v[0])), 1)


def _read_grid_checked(gray: np.ndarray, corners: np.ndarray, hint: int | None,
                       source: str = D.ZXING) -> G.GridRead | None:
    """The module grid, its module count cross-checked against the decoded version (N = 17 + 4 * version).

    The timing-pattern estimate of N fixes the module size (side / N). When it disagrees with the version the
    decoder read (e.g. a version-21 symbol with 2-pixel modules taken for 21 modules of 9.6 pixels), the grid is
    read again with N from the version; if that is impossible, the first read is kept but marked not confident.
    """
    gr = G.read_grid(gray, corners, hint_modules=hint)
    if not hint or (gr is not None and gr.n == hint):
        return gr
    gr2 = G.read_grid(gray, corners, force_modules=hint)
    if gr2 is not None:
        gr2.format["modules_from"] = f"{source} version"
        if gr is not None:
            gr2.format["modules_estimated"] = gr.n
        return gr2
    if gr is not None:
        gr.format["confident"] = False
        gr.format["not_confident_because"] = (f"{gr.n} modules from the timing patterns, but the decoded version "
                                              f"{(hint - 17) // 4} has {hint}")
    return gr


RASTER_ALLOWANCE_PX = 0.5


def quiet_zone_value(measured: float, module_px: float, modules: int) -> float:
    """The quiet zone to report and compare with a minimum: one decimal, rounded down, except that a measurement
    short of a whole number of modules by no more than the pixel grid can explain counts as that whole number.

    An app that draws a 4-module quiet zone at a fractional module size can only fill whole pixels: the quiet
    zone's outer edge lands up to RASTER_ALLOWANCE_PX (half a pixel) off, and the module size, measured over the
    symbol's side whose own edges are rounded too, is known to one pixel over N modules, i.e. measured/N pixel over
    the quiet zone. A shortfall within those (21 light pixels at 5.35-pixel modules: 3.92 modules) is 4 modules as
    far as a screenshot can tell. A margin a whole pixel short (21 px at 5.5-px modules = 3.82 modules) is
    reported as 3.8 and never reaches 4.
    """
    v = round(float(measured), 3)
    whole = math.ceil(v - 1e-9)
    if module_px and module_px > 0 and modules and whole > v:
        allowance_px = RASTER_ALLOWANCE_PX + v / modules
        if (whole - v) * module_px <= allowance_px + 1e-9:
            return float(whole)
    return math.floor(v * 10 + 1e-9) / 10


def _fill_from_grid(rep: SymbolReport, gray: np.ndarray, gr: G.GridRead | None, ppi: float | None,
                    timings: dict[str, float]) -> None:
    if gr is None:
        rep.grid = {"ecc": None, "mask": None, "version": None, "confident": False, "hamming": None}
        return
    rep.grid = dict(gr.format)
    rep.grid["modules"] = gr.n
    rep.grid["mirrored"] = gr.mirrored
    t = time.perf_counter()
    m = G.measure(gray, gr)
    timings["measure"] = timings.get("measure", 0.0) + (time.perf_counter() - t) * 1000
    rep.module_px = round(m["module_px"], 3)
    rep.size_px = round(m["size_px"], 1)
    rep.size_mm = round(m["size_px"] / ppi * 25.4, 2) if ppi else None
    rep.quiet_zone_modules = quiet_zone_value(m["quiet_zone_modules"], m["quiet_zone_module_px"], gr.n)
    rep.quiet_zone_modules_measured = round(float(m["quiet_zone_modules"]), 3)
    rep.quiet_zone_px = round(float(m["quiet_zone_modules"]) * m["quiet_zone_module_px"], 2)
    rep.quiet_zone_clipped = m["quiet_zone_clipped"]
    rep.polarity = m["polarity"]
    rep.dark_luma = round(m["dark_luma"], 1)
    rep.light_luma = round(m["light_luma"], 1)
    rep.symbol_contrast = round(m["symbol_contrast"], 4)
    rep.wcag_contrast = round(m["wcag_contrast"], 3)
    t = time.perf_counter()
    rep.quality = Q.grade_symbol(gray, gr, uec=rep.uec, quiet_zone_modules=rep.quiet_zone_modules)
    timings["quality"] = timings.get("quality", 0.0) + (time.perf_counter() - t) * 1000


def analyse_image(source: Any, *, ppi: float | None = None, max_pixels: int = 40_000_000,
                  name: str | None = None) -> ImageAnalysis:
    """Locate, decode and measure every QR symbol in one image. Never raises: problems go to `.error`."""
    t_all = time.perf_counter()
    nm = source_name(source, name)
    an = ImageAnalysis(name=nm)
    try:
        _analyse(source, an, ppi, max_pixels)
    except LoadError as exc:
        an.error, an.error_vi = exc.en, exc.vi
    except Exception as exc:  # noqa: BLE001 - last line of defence: report, never raise
        an.error = f"{nm}: internal error while analysing the image ({type(exc).__name__}: {exc})"
        an.error_vi = f"{nm}: lỗi nội bộ khi phân tích ảnh ({type(exc).__name__}: {exc})"
    an.timings_ms["total"] = round((time.perf_counter() - t_all) * 1000, 2)
    an.timings_ms = {k: round(v, 2) for k, v in an.timings_ms.items()}
    return an


def _analyse(source: Any, an: ImageAnalysis, ppi: float | None, max_pixels: int) -> None:
    tm = an.timings_ms
    if ppi is not None and not (isinstance(ppi, (int, float)) and math.isfinite(ppi) and ppi > 0):
        ppi = None
    t = time.perf_counter()
    gray = load_gray(source, an.name, max_pixels)
    tm["load"] = (time.perf_counter() - t) * 1000
    an.gray = gray
    an.height, an.width = int(gray.shape[0]), int(gray.shape[1])
    avail = D.available()

    t = time.perf_counter()
    results = D.zxing_read(gray)
    tm["zxing-cpp"] = (time.perf_counter() - t) * 1000
    an.decoders_run.append(D.ZXING)
    for k in (D.ZBAR, D.OPENCV):
        if avail[k]:
            an.decoders_run.append(k)
            tm[k] = 0.0
    tm["grid"] = 0.0
    tm["measure"] = 0.0

    for r in results:
        rep = SymbolReport()
        corners = D.zxing_corners(r)
        rep.text = r.text
        rep.raw_bytes = bytes(r.bytes)
        rep.decoders[D.ZXING] = r.text
        rep.ecc = r.ec_level or None
        ex = dict(r.extra or {})
        try:
            v = ex.get("Version")
            rep.version = int(v) if v not in (None, "") else None
        except (TypeError, ValueError):
            rep.version = None
        rep.mask = int(ex["DataMask"]) if isinstance(ex.get("DataMask"), (int, float)) else None
        rep.uec = float(ex["UEC"]) if isinstance(ex.get("UEC"), (int, float)) else None
        rep.orientation_deg = float(r.orientation)
        rep.corners = [[float(x), float(y)] for x, y in corners]
        rep.metadata_source = D.ZXING
        hint = 17 + 4 * rep.version if rep.version else None

        # The secondary decoders run on the pool's threads (both release the GIL) while this thread reads the grid.
        pending = _start_secondaries(gray, corners, rep, avail)
        t = time.perf_counter()
        gr = _read_grid_checked(gray, corners, hint)
        tm["grid"] += (time.perf_counter() - t) * 1000
        _fill_from_grid(rep, gray, gr, ppi, tm)
        if gr is not None and rep.ecc and rep.mask is not None:
            t = time.perf_counter()
            md = G.read_modes(gr.grid, rep.ecc, rep.mask, rep.raw_bytes)
            tm["grid"] += (time.perf_counter() - t) * 1000
            if md is not None:
                rep.mode, rep.eci, rep.segments = md["mode"], md["eci"], md["segments"]

        _finish_secondaries(pending, rep, tm)
        _disagreements(rep)
        an.symbols.append(rep)

    if not results:
        _fallback(gray, an, avail, ppi, tm)


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="secondary-decoder")
    return _POOL


def _start_secondaries(gray: np.ndarray, corners: np.ndarray, rep: SymbolReport,
                       avail: dict[str, bool]) -> list[tuple[str, Future[tuple[D.Hit | None, float]]]]:
    """zbar and OpenCV on the primary's region only (2-core budget), as-is: no invert retry.

    Large modules are downscaled (INTER_AREA) to about SECONDARY_MODULE_PX: both decoders read 6-px modules
    reliably, and OpenCV's cost grows with the pixel count. Small modules are never resampled. The module size
    comes from zxing-cpp's corners and version so that the decoders can start before the grid is read.
    """
    side = float(np.mean([np.linalg.norm(corners[i] - corners[(i + 1) % 4]) for i in range(4)]))
    n = 17 + 4 * rep.version if rep.version else 25
    module = side / n
    crop, x0, y0 = _region(gray, corners, SECONDARY_MARGIN_MODULES * module)
    centre = _centre(corners) - np.array([x0, y0])
    scale = 1.0
    if module > SECONDARY_MODULE_PX * 1.25:
        scale = SECONDARY_MODULE_PX / module
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
        centre = centre * scale
    crop = np.ascontiguousarray(crop)

    def run(fn: Callable[[np.ndarray], list[D.Hit]]) -> tuple[D.Hit | None, float]:
        t = time.perf_counter()
        hit = _pick(fn(crop), centre, side * scale * 0.5)
        return hit, (time.perf_counter() - t) * 1000

    return [(name, _pool().submit(run, fn)) for name, fn in ((D.ZBAR, D.zbar_read), (D.OPENCV, D.opencv_read))
            if avail[name]]


def _finish_secondaries(pending: list[tuple[str, Future[tuple[D.Hit | None, float]]]], rep: SymbolReport,
                        tm: dict[str, float]) -> None:
    for name, fut in pending:
        try:
            hit, ms = fut.result(timeout=SECONDARY_TIMEOUT_S)
        except FutureTimeout:
            rep.decoder_errors[name] = f"no answer within {SECONDARY_TIMEOUT_S:g} s"
            hit, ms = None, 0.0
        except Exception as exc:  # noqa: BLE001 - recorded: SYMBOL-002 is then `error`, never "not read"
            rep.decoder_errors[name] = f"{type(exc).__name__}: {exc}"[:200]
            hit, ms = None, 0.0
        tm[name] += ms
        rep.decoders[name] = hit.text if hit is not None else None


def _disagreements(rep: SymbolReport) -> None:
    g = rep.grid or {}
    if g.get("confident"):
        for key in ("ecc", "version", "mask"):
            mine, theirs = g.get(key), getattr(rep, key)
            if theirs is not None and mine is not None and mine != theirs:
                rep.disagreements.append(f"{key}: zxing-cpp says {theirs}, format-info grid read says {mine}")
    vi = g.get("version_info")
    if vi and vi.get("confident") and g.get("confident") and rep.version is not None and vi["version"] != rep.version:
        rep.disagreements.append(f"version: zxing-cpp says {rep.version}, version-info grid read says {vi['version']}")
    if rep.text is not None:
        for name in (D.ZBAR, D.OPENCV):
            other = rep.decoders.get(name)
            if other is not None and other != rep.text:
                rep.disagreements.append(f"text: {name} reads {other!r}, zxing-cpp reads {rep.text!r}")


def _fallback(gray: np.ndarray, an: ImageAnalysis, avail: dict[str, bool], ppi: float | None,
              tm: dict[str, float]) -> None:
    """zxing-cpp found nothing: give the secondaries the whole image and report what they read."""
    hits: list[D.Hit] = []
    for name, fn in ((D.ZBAR, D.zbar_read), (D.OPENCV, D.opencv_read)):
        if not avail[name]:
            continue
        t = time.perf_counter()
        hits += fn(gray)
        tm[name] += (time.perf_counter() - t) * 1000
    groups: list[list[D.Hit]] = []
    for h in hits:
        c = _centre(h.corners)
        for g in groups:
            side = float(np.linalg.norm(g[0].corners[0] - g[0].corners[1]))
            if np.linalg.norm(_centre(g[0].corners) - c) < max(side * 0.5, 10):
                g.append(h)
                break
        else:
            groups.append([h])
    for g in groups:
        rep = SymbolReport()
        for h in g:
            rep.decoders[h.decoder] = h.text
        first = next((h for h in g if h.decoder == D.OPENCV), g[0])
        rep.text = first.text
        rep.raw_bytes = first.raw
        t = time.perf_counter()
        hint = next((h.extra.get("modules") for h in g if h.extra.get("modules")), None)  # OpenCV's grid side
        gr = _read_grid_checked(gray, first.corners, hint, D.OPENCV)
        tm["grid"] += (time.perf_counter() - t) * 1000
        _fill_from_grid(rep, gray, gr, ppi, tm)
        if gr is not None:
            rep.corners = [[float(x), float(y)] for x, y in gr.corners]
            rep.orientation_deg = _orientation(gr.corners)
            if gr.format.get("confident"):
                rep.ecc, rep.mask, rep.version = gr.format["ecc"], gr.format["mask"], gr.format["version"]
                rep.metadata_source = "format-info grid read"
                md = G.read_modes(gr.grid, rep.ecc, rep.mask, rep.raw_bytes)
                if md is not None:
                    rep.mode, rep.eci, rep.segments = md["mode"], md["eci"], md["segments"]
        else:
            rep.corners = [[float(x), float(y)] for x, y in first.corners]
        texts = {h.decoder: h.text for h in g}
        if len(set(texts.values())) > 1:
            rep.disagreements.append("text: " + ", ".join(f"{k} reads {v!r}" for k, v in texts.items()))
        an.symbols.append(rep)


def symbol_boxes(symbols: Any) -> list[list[int]]:
    """[x0, y0, x1, y1] of every symbol's corners: the regions screen-text reading leaves out (a code is no text)."""
    boxes = []
    for s in symbols:
        xs = [p[0] for p in s.corners]
        ys = [p[1] for p in s.corners]
        if xs and ys:
            boxes.append([int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1])
    return boxes
