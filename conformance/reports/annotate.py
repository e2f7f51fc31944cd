"""Draw the located QR symbol(s) on a screenshot and, for reports without personal data, redact it.

Redaction pixelates the QR area so coarsely (blocks of several modules) that no decoder can read it, blurs the
OCR'd text boxes (or, when no OCR boxes are known, the whole screenshot, so rendered personal text never
leaks), and then checks with zxing-cpp that nothing decodable is left; anything still decodable is covered.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
)
OUTLINE = (230, 0, 110)
LABEL_BG = (230, 0, 110)
OCR_OUTLINE = (0, 110, 200)  # regions whose text was read (OCR) for DISPLAY-001/002


def _font(size: int) -> ImageFont.ImageFont:
    for p in _FONT_DIRS:
        if Path(p).exists():
            try:
                return ImageFont.truetype(p, size)
            except OSError:
                continue
    return ImageFont.load_default()


def to_pil(image: Any) -> Image.Image:
    """ndarray (greyscale, RGB or RGBA, uint8 or float 0..1) or PIL image -> RGB PIL image."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        if a.size and a.max() <= 1.0:
            a = a * 255.0
        arr = np.clip(a, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        return Image.fromarray(arr, "L").convert("RGB")
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        return Image.fromarray(arr[:, :, :3].copy(), "RGB")
    raise ValueError(f"unsupported image array shape {arr.shape}")


def _pt(v: Any) -> tuple[float, float] | None:
    if isinstance(v, dict):
        if "x" in v and "y" in v:
            return float(v["x"]), float(v["y"])
        return None
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(c, (int, float)) for c in v):
        return float(v[0]), float(v[1])
    return None


def symbol_corners(sym: dict) -> list[tuple[float, float]] | None:
    """The symbol's 4 corners from a SymbolReport dict, whatever the spelling (corners/position/quad/box)."""
    if not isinstance(sym, dict):
        return None
    for key in ("corners", "quad", "polygon", "points", "position"):
        v = sym.get(key)
        if isinstance(v, dict):
            order = ("top_left", "top_right", "bottom_right", "bottom_left")
            pts = [_pt(v.get(k)) for k in order]
            if all(pts):
                return pts  # type: ignore[return-value]
        elif isinstance(v, (list, tuple)) and len(v) >= 4:
            pts = [_pt(p) for p in v]
            if all(pts):
                return pts  # type: ignore[return-value]
    for key in ("box", "bbox", "rect"):
        v = sym.get(key)
        if isinstance(v, (list, tuple)) and len(v) == 4 and all(isinstance(c, (int, float)) for c in v):
            x0, y0, x1, y1 = map(float, v)
            return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return None


def _module_count(sym: dict) -> int | None:
    v = sym.get("version")
    try:
        v = int(v)
        if 1 <= v <= 40:
            return 17 + 4 * v
    except (TypeError, ValueError):
        pass
    return None


def _expand(pts: list[tuple[float, float]], margin: float) -> list[tuple[float, float]]:
    cx = sum(p[0] for p in pts) / len(pts)
    cy = sum(p[1] for p in pts) / len(pts)
    out = []
    for x, y in pts:
        dx, dy = x - cx, y - cy
        d = math.hypot(dx, dy) or 1.0
        out.append((x + dx / d * margin, y + dy / d * margin))
    return out


def _side(pts: list[tuple[float, float]]) -> float:
    return sum(math.dist(pts[i], pts[(i + 1) % 4]) for i in range(4)) / 4


def _pixelate_region(img: Image.Image, poly: list[tuple[float, float]], block: int) -> None:
    w, h = img.size
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    box = (max(0, int(min(xs))), max(0, int(min(ys))), min(w, int(math.ceil(max(xs)))), min(h, int(math.ceil(max(ys)))))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return
    region = img.crop(box)
    rw, rh = region.size
    block = max(2, block)
    small = region.resize((max(1, rw // block), max(1, rh // block)), Image.Resampling.BOX)
    coarse = small.resize((rw, rh), Image.Resampling.NEAREST).filter(ImageFilter.GaussianBlur(block / 3))
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).polygon(poly, fill=255)
    img.paste(coarse, box, mask.crop(box))


def _decodable(img: Image.Image) -> list[list[tuple[float, float]]]:
    """Corners of every QR symbol zxing-cpp can still read (empty when none, or zxing is unavailable)."""
    try:
        import zxingcpp
    except ImportError:  # pragma: no cover - zxing-cpp is a pinned dependency
        return []
    try:
        found = zxingcpp.read_barcodes(img.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode, try_invert=True)
    except TypeError:
        found = zxingcpp.read_barcodes(img.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    out = []
    for r in found:
        p = r.position
        out.append([(p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y),
                    (p.bottom_right.x, p.bottom_right.y), (p.bottom_left.x, p.bottom_left.y)])
    return out


def _ocr_box(b: dict) -> tuple[int, int, int, int] | None:
    v = b.get("box") if isinstance(b, dict) else None
    if isinstance(v, (list, tuple)) and len(v) == 4 and all(isinstance(c, (int, float)) for c in v):
        x0, y0, x1, y1 = v
        return int(min(x0, x1)), int(min(y0, y1)), int(math.ceil(max(x0, x1))), int(math.ceil(max(y0, y1)))
    return None


def redact_image(img: Image.Image, symbols: list[dict], ocr_boxes: list[dict] | None) -> Image.Image:
    """Pixelate QR areas and blur text; returns a new image."""
    img = img.copy()
    w, h = img.size
    # find every symbol before anything is blurred (a blurred symbol is no longer found, yet might be restored)
    quads = [c for c in (symbol_corners(s) for s in symbols or []) if c]
    quads += _decodable(img)
    if ocr_boxes is None:
        img = img.filter(ImageFilter.GaussianBlur(max(4.0, w / 70)))
    else:
        for b in ocr_boxes:
            box = _ocr_box(b)
            if box is None:
                continue
            pad = max(2, (box[3] - box[1]) // 4)
            box = (max(0, box[0] - pad), max(0, box[1] - pad), min(w, box[2] + pad), min(h, box[3] + pad))
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                continue
            region = img.crop(box)
            radius = max(4.0, (box[3] - box[1]) / 3)
            img.paste(region.filter(ImageFilter.GaussianBlur(radius)), box)
    for pts in quads:
        side = _side(pts)
        n = next((_module_count(s) for s in symbols or [] if _module_count(s)), None) or 25
        module = side / n
        poly = _expand(pts, module * 4.5)  # finder patterns and quiet zone too
        _pixelate_region(img, poly, block=int(max(6, module * 5, side / 7)))
    # guarantee: nothing readable is left; cover whatever zxing-cpp still reads
    for _ in range(3):
        left = _decodable(img)
        if not left:
            break
        d = ImageDraw.Draw(img)
        for pts in left:
            d.polygon(_expand(pts, _side(pts) * 0.15), fill=(128, 128, 128))
    return img


def _symbol_label(i: int, sym: dict) -> str:
    parts = [f"QR {i + 1}"]
    ver, ecc = sym.get("version"), sym.get("ecc") or sym.get("ec_level")
    if ver is not None or ecc:
        parts.append(f"{ver if ver is not None else '?'}-{ecc or '?'}")
    mp = sym.get("module_px")
    if isinstance(mp, (int, float)):
        parts.append(f"{mp:.1f} px/mod")
    return "  ".join(parts)


def annotate_screenshot(image: Any, symbols: list[dict], *, redact: bool,
                        ocr_boxes: list[dict] | None = None, highlights: list[dict] | None = None) -> Image.Image:
    """Outline each located QR symbol (corners marked, labelled) and, if `redact`, make it undecodable.

    `symbols`: SymbolReport dicts (corners under corners/position/quad/box). `ocr_boxes`: [{"box": [x0,y0,x1,y1],
    "role": ...}] text boxes to blur when redacting; None means unknown, so the whole screenshot is blurred.
    `highlights`: [{"box": [x0,y0,x1,y1], "label": str}] regions where the screen text was read (OCR), outlined
    and labelled so the report shows where each DISPLAY judgement looked.
    """
    img = to_pil(image)
    symbols = [s for s in (symbols or []) if isinstance(s, dict)]
    if redact:
        img = redact_image(img, symbols, ocr_boxes)
    w, h = img.size
    d = ImageDraw.Draw(img)
    lw = max(2, round(w / 270))
    font = _font(max(12, round(w / 36)))
    for i, sym in enumerate(symbols):
        corners = symbol_corners(sym)
        if not corners:
            continue
        side = _side(corners)
        n = _module_count(sym) or 25
        module = sym.get("module_px") if isinstance(sym.get("module_px"), (int, float)) else side / n
        # drawn just outside the symbol (edges 2 modules out, inside the quiet zone) so the outline never
        # covers a module: an unredacted annotated picture still scans
        off = 2 * module + lw / 2
        pts = _expand(corners, off * math.sqrt(2))
        d.line(pts + [pts[0]], fill=OUTLINE, width=lw, joint="curve")
        r = lw * 2
        for j, (x, y) in enumerate(pts):
            d.ellipse((x - r, y - r, x + r, y + r), fill=OUTLINE if j else (0, 160, 255))
        label = _symbol_label(i, sym)
        x0 = min(p[0] for p in pts)
        y0 = min(p[1] for p in pts)
        tb = d.textbbox((0, 0), label, font=font)
        tw, th = tb[2] - tb[0], tb[3] - tb[1]
        lx = max(0, min(w - tw - 8, x0))
        ly = y0 - th - 10 - lw if y0 - th - 10 - lw > 0 else min(h - th - 8, max(p[1] for p in pts) + lw + 2)
        d.rectangle((lx, ly, lx + tw + 8, ly + th + 8), fill=LABEL_BG)
        d.text((lx + 4 - tb[0], ly + 4 - tb[1]), label, fill=(255, 255, 255), font=font)
    for hl in highlights or []:
        box = hl.get("box") if isinstance(hl, dict) else None
        if not (isinstance(box, (list, tuple)) and len(box) == 4):
            continue
        x0, y0, x1, y1 = (float(v) for v in box)
        pad = lw * 2
        d.rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), outline=OCR_OUTLINE, width=lw)
        label = str(hl.get("label") or "")
        if label:
            tb = d.textbbox((0, 0), label, font=font)
            tw, th = tb[2] - tb[0], tb[3] - tb[1]
            lx = max(0, min(w - tw - 8, x0 - pad))
            ly = max(0, y0 - pad - th - 8 - lw)
            d.rectangle((lx, ly, lx + tw + 8, ly + th + 8), fill=OCR_OUTLINE)
            d.text((lx + 4 - tb[0], ly + 4 - tb[1]), label, fill=(255, 255, 255), font=font)
    return img
