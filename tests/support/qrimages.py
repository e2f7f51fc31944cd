"""Image builders for the symbol-layer tests. Ground truth comes from segno (boost_error=False)."""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont
from segno import consts as _sc
from segno import encoder as _enc

FONT_DIR = "/usr/share/fonts/truetype"
FONTS = [f"{FONT_DIR}/dejavu/DejaVuSans.ttf", f"{FONT_DIR}/liberation/LiberationSans-Regular.ttf",
         f"{FONT_DIR}/dejavu/DejaVuSans-Bold.ttf"]


@dataclass
class Truth:
    text: str | bytes
    ecc: str
    version: int
    mask: int
    modules: int
    matrix: np.ndarray  # bool, True = dark
    mode: str | None = None
    # filled by renderers
    module_px: float | None = None
    quiet_zone: int | None = None
    polarity: str = "dark-on-light"
    corners: list[list[float]] = field(default_factory=list)


def make_symbol(text: str | bytes, ecc: str, version: int | None = None, mask: int | None = None,
                mode: str | None = None) -> Truth:
    q = segno.make_qr(text, error=ecc, version=version, mask=mask, mode=mode, boost_error=False)
    m = np.array([list(r) for r in q.matrix], dtype=bool)
    assert q.error.upper() == ecc.upper()
    return Truth(text=text, ecc=q.error.upper(), version=int(q.version), mask=int(q.mask), modules=m.shape[0],
                 matrix=m, mode=q.mode)


def make_mixed_symbol(parts: list[tuple[str, str]], ecc: str, version: int) -> Truth:
    """A symbol with several data segments, e.g. [("0123456789", "numeric"), ("|abc", "byte")] (segno internals)."""
    modes = {"numeric": _sc.MODE_NUMERIC, "alphanumeric": _sc.MODE_ALPHANUMERIC, "byte": _sc.MODE_BYTE}
    errs = {"L": _sc.ERROR_LEVEL_L, "M": _sc.ERROR_LEVEL_M, "Q": _sc.ERROR_LEVEL_Q, "H": _sc.ERROR_LEVEL_H}
    segs = [_enc.make_segment(t, modes[md]) for t, md in parts]
    code = _enc._encode(segs, errs[ecc], version, None, False, False)
    m = np.array([list(r) for r in code.matrix], dtype=bool)
    return Truth(text="".join(t for t, _ in parts), ecc=ecc, version=version, mask=int(code.mask),
                 modules=m.shape[0], matrix=m, mode="mixed")


def render(t: Truth, module_px: int, quiet_zone: int = 4, dark: int = 0, light: int = 255,
           frame: int | None = None, frame_px: int = 40) -> np.ndarray:
    """Grey image: symbol + `quiet_zone` light modules + (optional) a frame of grey `frame` so the quiet zone ends."""
    img = np.where(np.kron(t.matrix, np.ones((module_px, module_px), bool)), dark, light).astype(np.uint8)
    qz = quiet_zone * module_px
    img = np.pad(img, qz, constant_values=light)
    off = qz
    if frame is not None:
        img = np.pad(img, frame_px, constant_values=frame)
        off += frame_px
    t.module_px = float(module_px)
    t.quiet_zone = quiet_zone
    t.polarity = "dark-on-light" if dark < light else "light-on-dark"
    s = t.modules * module_px
    t.corners = [[off, off], [off + s, off], [off + s, off + s], [off, off + s]]
    return img


def rotate(img: np.ndarray, degrees: float, t: Truth | None = None) -> np.ndarray:
    """Rotate (counter-clockwise, OpenCV convention) with the canvas expanded; edge pixels replicated."""
    if degrees % 90 == 0:
        k = int(degrees // 90) % 4
        out = np.ascontiguousarray(np.rot90(img, k))
        return out
    from conformance.symbol.degrade import rotate_expanded

    return rotate_expanded(img, degrees, cv2.INTER_CUBIC)


def encode(img: np.ndarray | Image.Image, fmt: str = "PNG", quality: int = 90, **kw: Any) -> bytes:
    pil = img if isinstance(img, Image.Image) else Image.fromarray(
        img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    buf = io.BytesIO()
    if fmt.upper() in ("JPEG", "JPG"):
        pil.save(buf, "JPEG", quality=quality, **kw)
    else:
        pil.save(buf, fmt, **kw)
    return buf.getvalue()


def _font(size: int, idx: int = 0) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(FONTS[idx % len(FONTS)], size)
    except OSError:
        return ImageFont.load_default()


def phone_screen(symbols: list[tuple[Truth, int]], size: tuple[int, int] = (1080, 2340), theme: str = "light",
                 quiet_zone: int = 4, colours: tuple[tuple[int, int, int], tuple[int, int, int]] | None = None,
                 seed: int = 0) -> np.ndarray:
    """An app screen (RGB ndarray) with status bar, app bar, avatar, text, buttons and the QR card(s).

    Each symbol is drawn at its module size on a card exactly `quiet_zone` modules wider than the symbol; the card
    sits on a coloured panel, so the measured quiet zone must equal `quiet_zone`. Truth corners are filled in.
    Symbols are stacked vertically. theme: light | dark (light-on-dark symbol) .
    """
    rng = np.random.default_rng(seed)
    w, h = size
    dark_theme = theme == "dark"
    bg = (18, 18, 18) if dark_theme else (245, 246, 250)
    panel = (190, 200, 210) if dark_theme else (20, 110, 80)
    fg_txt = (230, 230, 230) if dark_theme else (30, 30, 30)
    if colours is None:
        mod_dark, mod_light = ((235, 235, 235), (18, 18, 18)) if dark_theme else ((0, 0, 0), (255, 255, 255))
    else:
        mod_dark, mod_light = colours
    im = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(im)
    sc = w / 1080
    d.rectangle([0, 0, w, int(70 * sc)], fill=(0, 0, 0) if not dark_theme else (40, 40, 40))
    d.text((int(30 * sc), int(15 * sc)), "9:41", fill=(255, 255, 255), font=_font(int(36 * sc)))
    d.rectangle([0, int(70 * sc), w, int(220 * sc)], fill=(200, 30, 45))
    d.text((int(40 * sc), int(110 * sc)), "PC-COVID  Thẻ thông tin", fill=(255, 255, 255),
           font=_font(int(48 * sc), seed))
    d.ellipse([int(40 * sc), int(260 * sc), int(200 * sc), int(420 * sc)], fill=(120, 150, 200))
    d.text((int(230 * sc), int(280 * sc)), "NGUYỄN VĂN MẪU", fill=fg_txt, font=_font(int(44 * sc), seed + 1))
    d.text((int(230 * sc), int(350 * sc)), f"Mã: {rng.integers(10**9, 10**10)}", fill=fg_txt,
           font=_font(int(34 * sc)))
    y = int(470 * sc)
    for t, mod in symbols:
        s = t.modules * mod
        card = s + 2 * quiet_zone * mod
        pad = max(12, int(24 * sc))
        x_card = (w - card) // 2
        if x_card - pad < 0 or y + card + pad > h - int(150 * sc):
            raise ValueError("symbol does not fit on the screen")
        d.rectangle([x_card - pad, y - pad, x_card + card + pad - 1, y + card + pad - 1], fill=panel)
        d.rectangle([x_card, y, x_card + card - 1, y + card - 1], fill=mod_light)
        arr = np.asarray(im).copy()
        x0, y0 = x_card + quiet_zone * mod, y + quiet_zone * mod
        block = np.kron(t.matrix, np.ones((mod, mod), bool))
        region = arr[y0:y0 + s, x0:x0 + s]
        region[block] = mod_dark
        region[~block] = mod_light
        im = Image.fromarray(arr)
        d = ImageDraw.Draw(im)
        t.module_px = float(mod)
        t.quiet_zone = quiet_zone
        t.polarity = "light-on-dark" if sum(mod_dark) > sum(mod_light) else "dark-on-light"
        t.corners = [[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s]]
        y += card + 2 * pad + int(30 * sc)
    by = h - int(130 * sc)
    d.rounded_rectangle([int(40 * sc), by, int(520 * sc), by + int(90 * sc)], radius=int(20 * sc),
                        fill=(30, 90, 200))
    d.text((int(90 * sc), by + int(20 * sc)), "Chế độ đầy đủ", fill=(255, 255, 255), font=_font(int(36 * sc)))
    d.rounded_rectangle([int(560 * sc), by, int(1040 * sc), by + int(90 * sc)], radius=int(20 * sc),
                        fill=(90, 90, 90))
    return np.asarray(im)


def to_bgr(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def png_with_header(width: int, height: int) -> bytes:
    """A syntactically valid PNG whose IHDR declares `width` x `height` but carries a tiny (invalid) IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + \
        chunk(b"IEND", b"")


def payload(i: int = 0, length: int | None = None) -> str:
    """A fictitious v1.1-like payload (byte mode because of '|' and '<')."""
    s = (f"******0{i:05d}|NGUYEN VAN MAU {i}|1990-**-**|1|{10**9 + i}|<1<<0900000{i:03d}")
    if length is not None:
        s = (s * (length // len(s) + 1))[:length]
    return s


def byte_capacity(version: int, ecc: str) -> int:
    """Largest byte-mode payload (bytes) for this version and ECC level (data bits from segno's ISO table)."""
    errs = {"L": _sc.ERROR_LEVEL_L, "M": _sc.ERROR_LEVEL_M, "Q": _sc.ERROR_LEVEL_Q, "H": _sc.ERROR_LEVEL_H}
    bits = _sc.SYMBOL_CAPACITY[version][errs[ecc]]
    return (bits - 4 - (8 if version <= 9 else 16)) // 8


def payload_for(version: int, ecc: str, i: int = 0, fill: float = 0.8) -> str:
    """A payload that needs exactly `version` at `ecc` (more than the previous version holds)."""
    cap = byte_capacity(version, ecc)
    prev = byte_capacity(version - 1, ecc) if version > 1 else 0
    n = max(prev + 1, min(cap, int(cap * fill)))
    return payload(i, length=n)
