"""Draw the located QR symbol(s) on a screenshot and, for reports without personal data, redact it.

Redaction (annotate_screenshot(..., redact=True)):
  1. every text-like region is found with a cheap detector that does not need to read anything
     (text_regions: morphological gradient against the local background, long straight edges removed, strokes
     joined by dilation, one rotated rectangle per group), so faint, light-grey, small, outlined and rotated text
     is found as well as what OCR read; each region is pixelated with blocks of about its text height and blurred,
     so no character stays legible;
  2. the text boxes OCR read are blurred too; when no OCR reading is known (ocr_boxes=None) the whole picture is
     also blurred;
  3. each QR symbol (reported, or found by zxing-cpp before anything was changed) is pixelated with blocks of
     several modules, quiet zone included;
  4. nothing decodable is left: zxing-cpp, ZBar and OpenCV are asked, at full and half size, and whatever one of
     them still reads is covered.
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


def _gradient_mask(gray: np.ndarray) -> np.ndarray:
    """Pixels on a stroke edge: morphological gradient above the picture's own noise level."""
    import cv2

    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    noise = float(np.percentile(grad, 50))
    thr = max(7.0, 3.0 * noise + 4.0)
    return (grad >= thr).astype(np.uint8)


def text_regions(image: Any, exclude: list[list[tuple[float, float]]] | None = None,
                 max_side: int = 2400) -> list[dict]:
    """Text-like regions of a screenshot, found without reading: [{"poly": 4 corners, "height": text height px}].

    Any contrast above the picture's noise counts (light grey on white, white on dark), in any orientation.
    `exclude`: polygons (QR symbols) left out. The picture is examined at most `max_side` px on its longer side.
    """
    import cv2

    gray = np.asarray(to_pil(image).convert("L"))
    h0, w0 = gray.shape
    scale = min(1.0, max_side / max(h0, w0))
    if scale < 1.0:
        gray = cv2.resize(gray, (max(1, round(w0 * scale)), max(1, round(h0 * scale))), interpolation=cv2.INTER_AREA)
    h, w = gray.shape
    bw = _gradient_mask(gray)
    # long straight edges (cards, dividers, buttons) are layout, not text
    k = max(25, w // 12)
    lines = cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((1, k), np.uint8)) | \
        cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((k, 1), np.uint8))
    bw = bw & (1 - lines)
    if exclude:
        ex = np.zeros_like(bw)
        for poly in exclude:
            cv2.fillPoly(ex, [np.round(np.asarray(poly, np.float64) * scale).astype(np.int32)], 1)
        bw = bw & (1 - ex)
    d = max(3, round(w / 110))
    joined = cv2.dilate(bw, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        if area < 6 or bw[y:y + ch, x:x + cw][labels[y:y + ch, x:x + cw] == i].sum() < 4:
            continue
        ys, xs = np.nonzero(labels[y:y + ch, x:x + cw] == i)
        pts = np.stack([xs + x, ys + y], axis=1).astype(np.float32)
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(pts)
        pad = d / 2 + 1
        box = cv2.boxPoints(((cx, cy), (rw + 2 * pad, rh + 2 * pad), ang))
        out.append({"poly": [(float(px) / scale, float(py) / scale) for px, py in box],
                    "height": float(max(1.0, min(rw, rh))) / scale})
    return out


def _mosaic(img: Image.Image, poly: list[tuple[float, float]], block: float) -> None:
    """Pixelate (blocks of `block` px) and blur the polygon in place."""
    w, h = img.size
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    box = (max(0, int(min(xs))), max(0, int(min(ys))), min(w, int(math.ceil(max(xs)))), min(h, int(math.ceil(max(ys)))))
    if box[2] - box[0] < 1 or box[3] - box[1] < 1:
        return
    region = img.crop(box)
    rw, rh = region.size
    b = max(2, int(round(block)))
    small = region.resize((max(1, -(-rw // b)), max(1, -(-rh // b))), Image.Resampling.BOX)
    coarse = small.resize((rw, rh), Image.Resampling.NEAREST).filter(ImageFilter.GaussianBlur(max(1.0, b / 2.5)))
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).polygon(poly, fill=255)
    img.paste(coarse, box, mask.crop(box))


def _readers(img: Image.Image) -> list[list[tuple[float, float]]]:
    """Corners of every QR code zxing-cpp, ZBar or OpenCV can read, at full and half size."""
    found = _decodable(img)
    gray = img.convert("L")
    for factor in (1.0, 0.5):
        g = gray if factor == 1.0 else gray.resize((max(1, gray.width // 2), max(1, gray.height // 2)),
                                                   Image.Resampling.BOX)
        if factor != 1.0:
            found += [[(x / factor, y / factor) for x, y in q] for q in _decodable(g.convert("RGB"))]
        try:
            from pyzbar import pyzbar

            for r in pyzbar.decode(g, symbols=[pyzbar.ZBarSymbol.QRCODE]):
                pts = [(p.x / factor, p.y / factor) for p in r.polygon]
                if len(pts) >= 3:
                    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                    found.append([(min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys))])
        except Exception:  # noqa: BLE001 - ZBar missing or refusing the picture: the other readers still run
            pass
        try:
            import cv2

            ok, texts, pts, _ = cv2.QRCodeDetector().detectAndDecodeMulti(np.asarray(g))
            if ok and pts is not None:
                for t, q in zip(texts, pts):
                    if t:
                        found.append([(float(x) / factor, float(y) / factor) for x, y in q])
        except Exception:  # noqa: BLE001
            pass
    return found


def redact_image(img: Image.Image, symbols: list[dict], ocr_boxes: list[dict] | None) -> Image.Image:
    """Pixelate QR areas and every text-like region, blur OCR'd text; returns a new image."""
    img = img.copy()
    w, h = img.size
    # find every symbol before anything is blurred (a blurred symbol is no longer found, yet might be restored)
    quads = [c for c in (symbol_corners(s) for s in symbols or []) if c]
    quads += _decodable(img)
    qr_polys = []
    for pts in quads:
        side = _side(pts)
        n = next((_module_count(s) for s in symbols or [] if _module_count(s)), None) or 25
        qr_polys.append((pts, side, side / n))
    regions = text_regions(img, exclude=[_expand(p, m * 4.5) for p, _, m in qr_polys])
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
    for r in regions:
        # blocks of about the text height: not one character survives, the layout does
        _mosaic(img, r["poly"], block=max(3.0, 0.7 * r["height"]))
    for pts, side, module in qr_polys:
        poly = _expand(pts, module * 4.5)  # finder patterns and quiet zone too
        _pixelate_region(img, poly, block=int(max(6, module * 5, side / 7)))
    # guarantee: nothing readable is left; cover whatever a reader still decodes
    for _ in range(3):
        left = _readers(img)
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
    """Outline each located QR symbol (corners marked, labelled) and, if `redact`, make it undecodable and every
    text on it illegible (see the module docstring).

    `symbols`: SymbolReport dicts (corners under corners/position/quad/box). `ocr_boxes`: [{"box": [x0,y0,x1,y1],
    "role": ...}] text boxes OCR read, blurred when redacting in addition to every text-like region found;
    None means no reading is known, so the whole screenshot is blurred as well.
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
