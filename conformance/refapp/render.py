"""Server-side rendering of the QR symbol and of the phone screen (PIL + real TrueType fonts + segno)."""
from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

SCREEN_W, SCREEN_H = 1080, 2340  # a 412x915 CSS-px phone at DPR ~2.625
QUIET_ZONE = 4  # modules (ISO/IEC 18004 §6.3.8)
BG = (243, 246, 250)
CARD = (255, 255, 255)
INK = (20, 24, 31)
MUTED = (90, 98, 110)
HEADER = (0, 94, 145)
WHITE = (255, 255, 255)

_FONT_DIRS = ("/usr/share/fonts/truetype",)
_REGULAR = ("NotoSans-Regular.ttf", "DejaVuSans.ttf", "LiberationSans-Regular.ttf")
_BOLD = ("NotoSans-Bold.ttf", "DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf")


@cache
def _font_path(bold: bool) -> str | None:
    for name in _BOLD if bold else _REGULAR:
        for d in _FONT_DIRS:
            hits = sorted(Path(d).rglob(name))
            if hits:
                return str(hits[0])
    return None


@cache
def font(size: int, bold: bool = False) -> ImageFont.ImageFont:
    path = _font_path(bold)
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


def make_qr(payload: str, ecc: str = "M") -> segno.QRCode:
    """The QR symbol for `payload` at exactly the error-correction level asked for (no boosting)."""
    return segno.make(payload, error=ecc.lower(), boost_error=False, micro=False)


def qr_png(payload: str, ecc: str = "M", scale: int = 10) -> bytes:
    """PNG of the symbol alone: dark modules on white, quiet zone of 4 modules, `scale` px per module."""
    buf = io.BytesIO()
    make_qr(payload, ecc).save(buf, kind="png", scale=scale, border=QUIET_ZONE, dark="#000000", light="#ffffff")
    return buf.getvalue()


def _center_text(draw: ImageDraw.ImageDraw, y: int, text: str, f, fill) -> int:
    x0, t, r, b = draw.textbbox((0, 0), text, font=f)
    draw.text(((SCREEN_W - (r - x0)) // 2 - x0, y - t), text, font=f, fill=fill)
    return y + (b - t)


def screen_png(payload: str, displayed: dict, mode: str, *, ecc: str = "M", module_px: int | None = None,
               toggle_label: str | None = "Hiện đầy đủ thông tin") -> tuple[bytes, dict]:
    """The phone screen as displayed: header, QR card, name, 'Số CCCD', 'Ngày sinh' and the toggle button.

    Returns (PNG bytes, info) with info = {"module_px", "version", "ecc", "qr_box": [x, y, w, h]} (symbol incl. quiet zone).
    """
    qr = make_qr(payload, ecc)
    n = qr.symbol_size(scale=1, border=0)[0]
    total = n + 2 * QUIET_ZONE
    if module_px is None:
        module_px = max(4, min(18, 760 // total))
    img = Image.new("RGB", (SCREEN_W, SCREEN_H), BG)
    d = ImageDraw.Draw(img)
    # status bar + app header
    d.rectangle([0, 0, SCREEN_W, 300], fill=HEADER)
    d.text((48, 30), "09:41", font=font(38, True), fill=WHITE)
    _center_text(d, 150, "Mã QR cá nhân", font(64, True), WHITE)
    # card
    card_top = 360
    qr_side = total * module_px
    card_bottom = max(card_top + 60 + 70 + 50 + qr_side + 60 + 200 + 40, 1500)
    d.rounded_rectangle([48, card_top, SCREEN_W - 48, card_bottom], radius=40, fill=CARD)
    y = _center_text(d, card_top + 60, displayed.get("ho_ten", ""), font(56, True), INK) + 50
    # QR (the white card is the light background; the symbol PNG carries its own white quiet zone)
    qbuf = io.BytesIO()
    qr.save(qbuf, kind="png", scale=module_px, border=QUIET_ZONE, dark="#000000", light="#ffffff")
    qimg = Image.open(io.BytesIO(qbuf.getvalue())).convert("RGB")
    qx = (SCREEN_W - qimg.width) // 2
    img.paste(qimg, (qx, y))
    qr_box = [qx, y, qimg.width, qimg.height]
    y += qimg.height + 60
    rows = (("Số CCCD", displayed.get("so_giay_to", "")), ("Ngày sinh", displayed.get("ngay_sinh", "")))
    for label, value in rows:
        d.text((110, y), label, font=font(44), fill=MUTED)
        x0, t, r, b = d.textbbox((0, 0), value, font=font(48, True))
        d.text((SCREEN_W - 110 - (r - x0) - x0, y - 2), value, font=font(48, True), fill=INK)
        y += 100
    if toggle_label:
        by = card_bottom + 60
        d.rounded_rectangle([110, by, SCREEN_W - 110, by + 140], radius=70, fill=HEADER)
        _center_text(d, by + 45, toggle_label, font(46, True), WHITE)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue(), {"module_px": module_px, "version": qr.version, "ecc": qr.error.upper(),
                            "qr_box": qr_box, "mode": mode}
