"""Cheap frame comparison and touch-indicator detection on downscaled grey frames.

Difference measure (`frame_difference`): both frames are reduced to SMALL_WIDTH pixels wide grey (area average,
which also averages away most compression noise); the absolute difference is averaged over BLOCK x BLOCK cells and
the largest cell mean (0..255) is the measure. A frame is *distinct* when its measure against the first frame of the
current look is at least DISTINCT_THRESHOLD. On the test recordings (fixtures/recordings/) compression noise and
the encoder's refinement of a still screen measure up to 19 (VP8 at 25 fps; H.264 up to 9), one step of a 6-frame
cross-fade ~35, a touch spot 30-56, a masked document number becoming the whole one ~150.

Touch indicator (`spot_changes`, `TouchTracker`): Android's "show taps" draws a filled, translucent, round spot
under the finger. Between two consecutive frames, a spot that appears is a connected region of change that is
round (it fills about pi/4 of its bounding square and its outline keeps one distance from its centre), of a
finger's size (TOUCH_DIAMETER of the frame width), and changed the way a translucent overlay changes pixels: an
overlay of colour c and opacity a turns p into a*c + (1-a)*p, so the change falls linearly with the old value (on
a flat background: the same change everywhere). The slope tells a spot appearing from one going away; on a flat
background the tracker pairs a spot going away with the one seen before at its place.
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

SMALL_WIDTH = 240  # px: the width every frame is compared at
BLOCK = 4  # px of the small frame per cell of the difference measure
DISTINCT_THRESHOLD = 20.0  # grey levels (0..255): largest cell mean difference that makes a frame distinct
TOUCH_DIAMETER = (0.035, 0.16)  # a touch spot's diameter as a fraction of the frame width (min, max)
TOUCH_FILL = (0.66, 0.90)  # pixel area / bounding-box area: a filled disc gives pi/4 = 0.785, a square 1
TOUCH_RADIAL_CV = 0.09  # max std / mean of the outline's distance to the centre (a disc ~0.04, a square ~0.11)
TOUCH_MIN_CHANGE = 10.0  # grey levels: mean change under a spot
TOUCH_UNIFORMITY = 0.45  # max (std / mean) of the change under a spot (a translucent overlay shifts alike)


def block_difference(a: np.ndarray, b: np.ndarray, ignore: list[list[int]] | None = None) -> float:
    """Largest BLOCK x BLOCK cell mean of |a - b| (grey levels). `ignore`: small-frame boxes [x0, y0, x1, y1] left
    out (set to no difference). Frames of different size are compared after resizing b to a."""
    if a.shape != b.shape:
        b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    d = cv2.absdiff(a, b)
    if ignore:
        d = d.copy()
        for x0, y0, x1, y1 in ignore:
            d[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = 0
    h, w = d.shape
    hc, wc = max(1, h // BLOCK), max(1, w // BLOCK)
    cells = cv2.resize(d[: hc * BLOCK, : wc * BLOCK], (wc, hc), interpolation=cv2.INTER_AREA) if h >= BLOCK and \
        w >= BLOCK else d
    return float(cells.max()) if cells.size else 0.0


def frame_difference(a: np.ndarray, b: np.ndarray) -> float:
    return block_difference(a, b)


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian of a grey image (higher = sharper)."""
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def spot_changes(before: np.ndarray, after: np.ndarray) -> list[dict[str, Any]]:
    """Touch-spot-shaped changes between two small grey frames of one size (a spot appearing or disappearing).

    Returns [{"x", "y", "diameter"} in small-frame pixels, "change" (signed mean grey change under the spot),
    "appears": True / False / None (a translucent spot of colour c and opacity a turns a pixel p into
    a*c + (1-a)*p, so the change falls with the old value at slope -a when the spot appears and rises at slope
    a/(1-a) when it goes; None on a flat background, where the slope cannot be seen),
    "stands_out": the spot contrasts with its surroundings more in `after` than in `before`}]."""
    if before.shape != after.shape:
        return []
    h, w = after.shape
    old = before.astype(np.float32)
    diff = after.astype(np.float32) - old
    mag = np.abs(diff)
    mask = (mag >= TOUCH_MIN_CHANGE * 0.6).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    cnts, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    dmin, dmax = TOUCH_DIAMETER[0] * w, TOUCH_DIAMETER[1] * w
    out = []
    for c in cnts:
        x, y, bw, bh = cv2.boundingRect(c)
        if not (dmin <= bw <= dmax and dmin <= bh <= dmax) or not (0.75 <= bw / bh <= 1.33):
            continue
        disc = np.zeros((h, w), np.uint8)
        cv2.drawContours(disc, [c], -1, 1, thickness=-1)
        area = float(disc.sum())
        fill = area / float(bw * bh)
        if not (TOUCH_FILL[0] <= fill <= TOUCH_FILL[1]):
            continue  # a disc fills pi/4 of its bounding square; a square or a bar fills more
        pts = c.reshape(-1, 2).astype(np.float32)
        rad = np.hypot(pts[:, 0] - (x + (bw - 1) / 2.0), pts[:, 1] - (y + (bh - 1) / 2.0))
        if rad.mean() <= 0 or float(rad.std() / rad.mean()) > TOUCH_RADIAL_CV:
            continue  # the outline is not at one distance from the centre: not round
        core = cv2.erode(disc, np.ones((3, 3), np.uint8)).astype(bool)
        if core.sum() < 6:
            core = disc.astype(bool)
        p, d = old[core], diff[core]
        mean = float(d.mean())
        appears = _overlay_direction(p, d)
        if appears is False and abs(mean) < 0.5 * TOUCH_MIN_CHANGE:
            continue
        if appears is None:
            if abs(mean) < TOUCH_MIN_CHANGE or float(d.std()) > max(3.0, TOUCH_UNIFORMITY * abs(mean)):
                continue  # neither a uniform shift on a flat background nor a translucent overlay
        cx, cy = x + bw / 2.0, y + bh / 2.0
        r = (bw + bh) / 4.0
        stands_out = _edge_contrast(after, cx, cy, r) > _edge_contrast(before, cx, cy, r)
        out.append({"x": round(cx, 1), "y": round(cy, 1), "diameter": round(2 * r, 1), "change": round(mean, 1),
                    "appears": appears, "stands_out": bool(stands_out)})
    return out


def _overlay_direction(p: np.ndarray, d: np.ndarray) -> bool | None | str:
    """True: the change fits a translucent overlay appearing (d = a*(c - p), slope -a in [-0.9, -0.1]); False: one
    going away (slope a/(1-a) in [0.1, 9]); None: the old pixels are flat (no slope to see). "no": the change is
    not an overlay at all."""
    if float(p.std()) < 3.0:
        return None
    A = np.stack([p, np.ones_like(p)], axis=1)
    (slope, icpt), *_ = np.linalg.lstsq(A, d, rcond=None)
    resid = d - (slope * p + icpt)
    if float(resid.std()) > max(6.0, 0.6 * float(d.std())):
        return "no"
    if -0.9 <= slope <= -0.1:
        return True
    if 0.1 <= slope <= 9.0:
        return False
    return "no"


class TouchTracker:
    """Tells appearing touch spots from disappearing ones along a recording.

    A change that fits an appearing overlay is a new touch, one that fits an overlay going away ends a spot; on a
    flat background (no slope to see), a spot-shaped change at the place of an active spot with the opposite sign
    ends it, and any other that stands out in the newer frame is a new touch."""

    def __init__(self) -> None:
        self.active: list[dict[str, Any]] = []

    def update(self, before: np.ndarray, after: np.ndarray) -> list[dict[str, Any]]:
        """New touches between `before` and `after` (small grey frames)."""
        new = []
        for sp in spot_changes(before, after):
            if sp["appears"] == "no":
                continue
            near = next((a for a in self.active if math.hypot(a["x"] - sp["x"], a["y"] - sp["y"]) <
                         0.5 * max(a["diameter"], sp["diameter"])), None)
            if sp["appears"] is False or (sp["appears"] is None and near is not None and
                                          (near["change"] > 0) != (sp["change"] > 0)):
                if near is not None:
                    self.active.remove(near)
                continue
            if sp["appears"] is True or sp["stands_out"]:
                self.active.append(sp)
                new.append({k: sp[k] for k in ("x", "y", "diameter", "change")})
        return new


def _edge_contrast(img: np.ndarray, cx: float, cy: float, r: float) -> float:
    """|mean inside the disc (radius 0.7 r) - mean of the ring 1.15 r .. 1.5 r| of one frame."""
    h, w = img.shape
    yy, xx = np.ogrid[:h, :w]
    d2 = (xx - cx) ** 2 + (yy - cy) ** 2
    inside = img[d2 <= (0.7 * r) ** 2]
    ring = img[(d2 >= (1.15 * r) ** 2) & (d2 <= (1.5 * r) ** 2)]
    if inside.size == 0 or ring.size == 0:
        return 0.0
    return abs(float(inside.mean()) - float(ring.mean()))
