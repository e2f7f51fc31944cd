"""SYMBOL-008 robustness: degrade the crop of one symbol and check zxing-cpp still reads the same text.

Also `min_version_for` (SYMBOL-007: is the version inflated?).
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from . import decoders as D

KINDS = ("scale", "blur", "jpeg", "rotate", "contrast")


def _crop(gray: np.ndarray, corners: np.ndarray, module_px: float | None) -> np.ndarray:
    h, w = gray.shape[:2]
    side = float(np.mean([np.linalg.norm(corners[i] - corners[(i + 1) % 4]) for i in range(4)]))
    mod = module_px if module_px and module_px > 0 else side / 25.0
    m = 6 * mod + 4  # a little more than the standard 4-module quiet zone, whatever the image holds there
    x0 = int(max(0, math.floor(corners[:, 0].min() - m)))
    y0 = int(max(0, math.floor(corners[:, 1].min() - m)))
    x1 = int(min(w, math.ceil(corners[:, 0].max() + m)))
    y1 = int(min(h, math.ceil(corners[:, 1].max() + m)))
    return np.ascontiguousarray(gray[y0:y1, x0:x1])


def rotate_expanded(img: np.ndarray, degrees: float, flags: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Rotate counter-clockwise (OpenCV convention) on a canvas grown to hold the whole image; edges replicated."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(math.ceil(h * sin + w * cos)), int(math.ceil(h * cos + w * sin))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def apply_degradation(img: np.ndarray, d: dict[str, Any]) -> np.ndarray:
    """One degradation from the profile (`kind` + its parameter). Raises ValueError on an unknown/invalid one."""
    kind = d.get("kind")
    if kind == "scale":
        f = float(d.get("factor", 0.5))
        if not 0 < f <= 4:
            raise ValueError(f"scale factor {f} out of range")
        nw, nh = max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f))
        return cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    if kind == "blur":
        s = float(d.get("sigma", 1.5))
        if not 0 <= s <= 50:
            raise ValueError(f"blur sigma {s} out of range")
        return cv2.GaussianBlur(img, (0, 0), s) if s > 0 else img.copy()
    if kind == "jpeg":
        q = int(d.get("quality", 30))
        if not 1 <= q <= 100:
            raise ValueError(f"jpeg quality {q} out of range")
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise ValueError("jpeg encoding failed")
        decoded: Any = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
        return np.asarray(decoded)
    if kind == "rotate":
        return rotate_expanded(img, float(d.get("degrees", 7)))
    if kind == "contrast":
        f = float(d.get("factor", 0.6))
        if not 0 <= f <= 4:
            raise ValueError(f"contrast factor {f} out of range")
        mean = float(img.mean())
        if img.dtype == np.uint8:  # the same float32 arithmetic, once per grey level instead of once per pixel
            lut = np.clip(mean + (np.arange(256, dtype=np.float32) - mean) * f + 0.5, 0, 255).astype(np.uint8)
            return cv2.LUT(img, lut)
        return np.clip(mean + (img.astype(np.float32) - mean) * f + 0.5, 0, 255).astype(np.uint8)
    raise ValueError(f"unknown degradation kind {kind!r} (expected one of {', '.join(KINDS)})")


def robustness(analysis: Any, symbol: Any, degradations: list[dict[str, Any]],
               min_passed: int | None = None) -> list[dict[str, Any]]:
    """[{name, decoded, same_text, not_run}] for each degradation applied to the crop of `symbol` (zxing-cpp decodes).

    A degradation that cannot be applied (unknown kind, bad parameter, no image) gives decoded=False plus `error`.
    With `min_passed` (the profile's min_degradations_passed), the sweep stops as soon as the outcome is decided:
    once that many have passed, or once too few remain for it to be reached. The degradations not run are still
    listed, in profile order, with not_run=True and decoded / same_text None. Without it every degradation runs.
    """
    out: list[dict[str, Any]] = []
    gray = getattr(analysis, "gray", None)
    corners = np.asarray(getattr(symbol, "corners", None) or [], np.float64).reshape(-1, 2)
    degradations = list(degradations or [])
    need = None if min_passed is None else max(0, min(int(min_passed), len(degradations)))
    passed = 0
    crop = None
    for i, d in enumerate(degradations):
        d = d if isinstance(d, dict) else {}
        name = str(d.get("name") or f"degradation_{i + 1}")
        if need is not None and (passed >= need or passed + (len(degradations) - i) < need):
            out.append({"name": name, "decoded": None, "same_text": None, "not_run": True})
            continue
        row: dict[str, Any] = {"name": name, "decoded": False, "same_text": False, "not_run": False}
        if gray is None or corners.shape[0] != 4:
            row["error"] = "no image or symbol position to degrade"
            out.append(row)
            continue
        try:
            if crop is None:
                crop = _crop(gray, corners, getattr(symbol, "module_px", None))
            img = apply_degradation(crop, d)
        except (ValueError, TypeError, cv2.error) as exc:
            row["error"] = str(exc)
            out.append(row)
            continue
        res = D.zxing_read(img)
        row["decoded"] = bool(res)
        want = getattr(symbol, "text", None)
        row["same_text"] = want is not None and any(r.text == want for r in res)
        passed += bool(row["decoded"] and row["same_text"])
        out.append(row)
    return out


def min_version_for(data: bytes | str, ecc: str) -> int:
    """Smallest QR version (1..40) holding `data` in byte mode at ECC level `ecc`; 41 if no version can.

    The version segno would choose for one byte-mode segment (make_qr(data, mode="byte", boost_error=False)),
    read from segno's capacity table without building and masking the symbol: 4 mode bits, an 8-bit (versions
    1-9) or 16-bit (10-40) character count, 8 bits per byte."""
    from segno import consts

    if isinstance(data, str):
        data = data.encode("utf-8")
    e = str(ecc).upper()
    level = {"L": consts.ERROR_LEVEL_L, "M": consts.ERROR_LEVEL_M, "Q": consts.ERROR_LEVEL_Q,
             "H": consts.ERROR_LEVEL_H}.get(e)
    if level is None:
        raise ValueError(f"unknown ECC level {ecc!r}")
    n = len(data)
    capacity: Any = consts.SYMBOL_CAPACITY  # {version: {level: data bits}}
    for version in range(1, 41):
        if capacity[version][level] >= 4 + (8 if version <= 9 else 16) + 8 * n:
            return version
    return 41
