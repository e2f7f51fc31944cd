"""Load any evidence image (path, bytes, numpy array, PIL image) into one 8-bit greyscale array.

Never raises anything but LoadError, whose English and Vietnamese messages name the file and the problem.

Formats: PNG (1-16 bit, palette, alpha, APNG), JPEG, WebP, AVIF (Pillow's own decoder), HEIC/HEIF (pillow-heif),
GIF, TIFF, BMP. The steps, each bounded:

1. Header only: PNG text chunks (tEXt, zTXt, iTXt: comments, never pixels) are dropped from the bytes, so a huge or
   compressed-bomb comment neither fails nor costs memory; then the size of the frame is checked against the limits
   (each side, the aspect ratio and the pixel count: ImageLimits) before a single pixel is decoded.
2. One frame is decoded (iter_frames walks several, bounded by ImageLimits.max_frames).
3. 16-bit samples are scaled to 8 bits as round(v * 255 / 65535).
4. Colour management: an embedded ICC profile that is not sRGB (Display P3 on iPhones, Adobe RGB, CMYK) is
   converted to sRGB with LittleCMS (Pillow's ImageCms) before any luminance is computed; a HEIF without ICC
   profile but with nclx colour primaries P3 or BT.2020 is converted with the primaries' matrices.
5. Alpha: composited on the app's background, i.e. the dominant opaque colour on the image border (a screenshot's
   app background), never on black; when no border pixel is opaque, on white or black, whichever contrasts with
   the opaque content.
6. EXIF orientation is applied (HEIF transformations are already applied by pillow-heif).
7. Grey = Rec. 601 luma of the sRGB values (as PIL's convert("L") and OpenCV).

Peak memory per image stays within a few copies of the 8-bit greyscale image for 8-bit sources: the decoded frame
(up to 4 bytes a pixel in PIL), the grey image and at most one temporary of the same size.
"""
from __future__ import annotations

import io
import math
import os
import re
import struct
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageCms

try:  # HEIC/HEIF from iPhones; without pillow-heif such files get a clear "cannot read HEIC" error
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORT = True
except Exception:  # noqa: BLE001 - ImportError or a broken shared library
    HEIF_SUPPORT = False

# Defaults of the profile's `limits` keys (specs/profile.default.yaml carries each one's rationale).
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_SIDE = 16_384
DEFAULT_MAX_ASPECT = 20.0
DEFAULT_MAX_FRAMES = 10
STRIP_PIXELS = 500_000  # pixels per strip of colour conversion: temporaries stay small next to the image

READABLE = "PNG, JPEG, WebP, HEIC/HEIF, AVIF, GIF, TIFF or BMP"
READABLE_VI = "PNG, JPEG, WebP, HEIC/HEIF, AVIF, GIF, TIFF hoặc BMP"


class LoadError(Exception):
    def __init__(self, en: str, vi: str):
        super().__init__(en)
        self.en = en
        self.vi = vi


@dataclass(frozen=True)
class ImageLimits:
    """What one evidence image may cost: checked from the header, before any pixel is decoded."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: int = DEFAULT_MAX_SIDE
    max_aspect: float = DEFAULT_MAX_ASPECT
    max_frames: int = DEFAULT_MAX_FRAMES

    @classmethod
    def from_profile(cls, profile: dict[str, Any] | None) -> ImageLimits:
        """From a whole profile or its `limits` mapping; a missing or unusable value keeps its default."""
        lim = (profile or {}).get("limits", profile or {})
        if not isinstance(lim, dict):
            lim = {}

        def num(key: str, default: float, integer: bool) -> Any:
            v = lim.get(key, default)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 1:
                return default
            return int(v) if integer else float(v)

        return cls(max_pixels=num("max_image_pixels", DEFAULT_MAX_PIXELS, True),
                   max_side=num("max_image_side_px", DEFAULT_MAX_SIDE, True),
                   max_aspect=num("max_aspect_ratio", DEFAULT_MAX_ASPECT, False),
                   max_frames=num("max_image_frames", DEFAULT_MAX_FRAMES, True))


@dataclass
class LoadedImage:
    """One decoded frame: the grey image and how it was obtained (for the report)."""

    gray: np.ndarray
    format: str | None = None
    frame: int = 0
    frames: int = 1  # frames the file declares (APNG, GIF, TIFF pages, HEIF images)
    bit_depth: int = 8
    icc: str | None = None  # description of the embedded ICC profile, if any
    converted_to_srgb: bool = False
    background: list[int] | None = None  # RGB the alpha channel was composited on
    orientation: int = 1  # EXIF orientation that was applied
    notes: list[tuple[str, str]] = field(default_factory=list)  # (English, Vietnamese)

    def info(self) -> dict[str, Any]:
        return {"format": self.format, "frame": self.frame, "frames": self.frames, "bit_depth": self.bit_depth,
                "icc": self.icc, "converted_to_srgb": self.converted_to_srgb, "background": self.background,
                "orientation": self.orientation, "notes": [n[0] for n in self.notes],
                "notes_vi": [n[1] for n in self.notes]}


def source_name(source: Any, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    if isinstance(source, np.ndarray):
        return "<array>"
    if isinstance(source, Image.Image):
        return getattr(source, "filename", "") or "<PIL image>"
    return f"<{type(source).__name__}>"


# ----------------------------------------------------------------------------------------------- size checks
def _too_big(name: str, w: int, h: int, max_pixels: int) -> LoadError:
    return LoadError(
        f"{name}: image is {w}x{h} = {w * h:,} pixels, more than the limit of {max_pixels:,}; not decoded",
        f"{name}: ảnh có kích thước {w}x{h} = {w * h:,} điểm ảnh, vượt giới hạn {max_pixels:,}; không giải mã",
    )


def check_size(name: str, w: int, h: int, limits: ImageLimits, what: str = "image", what_vi: str = "ảnh") -> None:
    """Refuse a frame by its declared size alone (before decoding)."""
    if w <= 0 or h <= 0:
        raise LoadError(f"{name}: {what} header declares an empty size {w}x{h}",
                        f"{name}: phần đầu {what_vi} khai báo kích thước rỗng {w}x{h}")
    if max(w, h) > limits.max_side:
        raise LoadError(
            f"{name}: {what} is {w}x{h} pixels; a side of more than {limits.max_side:,} pixels is over the limit "
            f"(limits.max_image_side_px); not decoded",
            f"{name}: {what_vi} có kích thước {w}x{h} điểm ảnh; cạnh dài hơn {limits.max_side:,} điểm ảnh vượt giới hạn "
            f"(limits.max_image_side_px); không giải mã")
    aspect = max(w, h) / min(w, h)
    if aspect > limits.max_aspect:
        raise LoadError(
            f"{name}: {what} is {w}x{h} pixels, an aspect ratio of {aspect:,.1f}:1, more than the limit of "
            f"{limits.max_aspect:g}:1 (limits.max_aspect_ratio); no phone screen has that shape; not decoded",
            f"{name}: {what_vi} có kích thước {w}x{h} điểm ảnh, tỉ lệ cạnh {aspect:,.1f}:1, vượt giới hạn "
            f"{limits.max_aspect:g}:1 (limits.max_aspect_ratio); không màn hình điện thoại nào có hình dạng đó; "
            f"không giải mã")
    if w * h > limits.max_pixels:
        raise _too_big(name, w, h, limits.max_pixels)


def _limits(max_pixels: int | None, max_side: int | None, max_aspect: float | None,
            max_frames: int | None = None) -> ImageLimits:
    return ImageLimits(max_pixels=int(max_pixels) if max_pixels else DEFAULT_MAX_PIXELS,
                       max_side=int(max_side) if max_side else DEFAULT_MAX_SIDE,
                       max_aspect=float(max_aspect) if max_aspect else DEFAULT_MAX_ASPECT,
                       max_frames=int(max_frames) if max_frames else DEFAULT_MAX_FRAMES)


# ----------------------------------------------------------------------------------------------- PNG bytes
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


def strip_png_text(data: bytes) -> tuple[bytes, int]:
    """PNG bytes without their text chunks, and how many bytes were dropped. Anything that is not a well-formed
    chunk sequence is left as it is (the decoder then reports the problem)."""
    if not data.startswith(PNG_SIGNATURE):
        return data, 0
    pos, n = len(PNG_SIGNATURE), len(data)
    keep: list[memoryview] = []
    mv = memoryview(data)
    start = 0
    dropped = 0
    while pos + 12 <= n:
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        ctype = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > n:
            break
        if ctype in _TEXT_CHUNKS:
            keep.append(mv[start:pos])
            dropped += end - pos
            start = end
        pos = end
        if ctype == b"IEND":
            break
    if not dropped:
        return data, 0
    keep.append(mv[start:])
    return b"".join(keep), dropped


def _png_bit_depth(data: bytes) -> int | None:
    if data.startswith(PNG_SIGNATURE) and len(data) >= 25 and data[12:16] == b"IHDR":
        return data[24]
    return None


# ----------------------------------------------------------------------------------------------- colour
_SRGB = ImageCms.createProfile("sRGB")
_TRANSFORMS: OrderedDict[tuple[bytes, str], Any] = OrderedDict()


def _profile_description(icc: bytes) -> str:
    try:
        return (ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))) or "").strip() or "unnamed"
    except Exception:  # noqa: BLE001
        return "unreadable"


def _is_srgb(desc: str) -> bool:
    d = desc.lower().replace(" ", "")
    return "srgb" in d or "iec61966-2" in d


def _icc_converter(img: Image.Image, icc: bytes, loaded: LoadedImage) -> Callable[[Image.Image], Image.Image] | None:
    """A function converting strips of `img` from its embedded ICC profile to sRGB, or None when nothing is to do."""
    desc = _profile_description(icc)
    loaded.icc = desc
    if _is_srgb(desc) or img.mode not in ("RGB", "RGBA", "CMYK"):
        if img.mode in ("L", "LA") and not _is_srgb(desc):
            loaded.notes.append((f"grey ICC profile '{desc}' not applied (grey values used as they are)",
                                 f"hồ sơ màu xám '{desc}' không được áp dụng (dùng nguyên giá trị xám)"))
        return None
    out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
    key = (icc, img.mode)
    try:
        tr = _TRANSFORMS.get(key)
        if tr is None:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            tr = ImageCms.buildTransform(src, _SRGB, img.mode, out_mode,
                                         renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
            _TRANSFORMS[key] = tr
            while len(_TRANSFORMS) > 8:
                _TRANSFORMS.popitem(last=False)
        ImageCms.applyTransform(img.crop((0, 0, 1, 1)), tr)  # fails here, not half-way, on a broken profile
    except Exception as exc:  # noqa: BLE001 - a broken profile: say so, use the values as sRGB
        loaded.notes.append((f"ICC profile '{desc}' could not be applied ({exc}); colours read as sRGB",
                             f"không áp dụng được hồ sơ màu ICC '{desc}' ({exc}); màu được đọc như sRGB"))
        return None
    loaded.converted_to_srgb = True
    loaded.notes.append((f"colours converted from the embedded ICC profile '{desc}' to sRGB",
                         f"màu được chuyển từ hồ sơ màu ICC nhúng '{desc}' sang sRGB"))

    def convert(part: Image.Image) -> Image.Image:
        if part.mode == out_mode:
            ImageCms.applyTransform(part, tr, inPlace=True)
            return part
        converted = ImageCms.applyTransform(part, tr)
        assert converted is not None  # inPlace=False always returns the new image
        return converted

    return convert


# Linear RGB -> CIE XYZ (D65) of the colour primaries a HEIF nclx box can name (ITU-T H.273 ColourPrimaries).
_XYZ_FROM = {
    12: ("Display P3", np.array([[0.4865709, 0.2656677, 0.1982173],
                                 [0.2289746, 0.6917385, 0.0792869],
                                 [0.0000000, 0.0451134, 1.0439444]])),
    9: ("BT.2020", np.array([[0.6369580, 0.1446169, 0.1688810],
                             [0.2627002, 0.6779981, 0.0593017],
                             [0.0000000, 0.0280727, 1.0609851]])),
}
_SRGB_FROM_XYZ = np.linalg.inv(np.array([[0.4124564, 0.3575761, 0.1804375],
                                         [0.2126729, 0.7151522, 0.0721750],
                                         [0.0193339, 0.1191920, 0.9503041]]))


def _srgb_lut_decode() -> np.ndarray:
    v = np.arange(256) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _srgb_encode(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    v = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    return np.clip(np.rint(v * 255.0), 0, 255).astype(np.uint8)


def _nclx_converter(img: Image.Image, nclx: dict[str, Any], loaded: LoadedImage) -> Callable[[Image.Image], Image.Image] | None:
    prim = nclx.get("color_primaries")
    if prim not in _XYZ_FROM or img.mode not in ("RGB", "RGBA"):
        return None
    label, to_xyz = _XYZ_FROM[prim]
    m = (_SRGB_FROM_XYZ @ to_xyz).astype(np.float32)
    lut = _srgb_lut_decode()
    loaded.converted_to_srgb = True
    loaded.icc = f"nclx {label}"
    loaded.notes.append((f"colours converted from the HEIF colour primaries {label} to sRGB",
                         f"màu được chuyển từ hệ màu cơ bản {label} của HEIF sang sRGB"))

    def convert(part: Image.Image) -> Image.Image:
        a = np.array(part)
        a[..., :3] = _srgb_encode(lut[a[..., :3]] @ m.T)
        return Image.fromarray(a, part.mode)

    return convert


# ----------------------------------------------------------------------------------------------- alpha
def border_background(ring_rgb: np.ndarray, ring_alpha: np.ndarray) -> tuple[int, int, int] | None:
    """The dominant opaque colour (RGB) among the border ring's pixels (N x 3 colours, N alphas), or None when
    (almost) no border pixel is opaque."""
    opaque = ring_rgb[ring_alpha >= 250]
    if opaque.shape[0] < max(8, 0.05 * ring_alpha.size):
        return None
    q = (opaque >> 3).astype(np.int32)
    keys = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
    vals, counts = np.unique(keys, return_counts=True)
    sel = opaque[keys == vals[np.argmax(counts)]]
    return tuple(int(round(v)) for v in sel.mean(axis=0))  # type: ignore[return-value]


def _ring_of(a: np.ndarray) -> np.ndarray:
    """The border ring (about 1 % of the short side wide) of an H x W (x C) array, as N (x C)."""
    h, w = a.shape[:2]
    t = max(1, min(h, w) // 100)
    parts = [a[:t], a[h - t:], a[t:h - t, :t], a[t:h - t, w - t:]]
    return np.concatenate([p.reshape((-1,) + a.shape[2:]) for p in parts])


def _luma(rgb: tuple[int, int, int]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def _composite_gray(gray: np.ndarray, alpha: np.ndarray, bg_luma: float) -> np.ndarray:
    """gray*a + bg*(1-a) in integer arithmetic, a few rows at a time (luma is linear in R, G, B)."""
    out = np.empty_like(gray)
    bg = int(round(bg_luma))
    step = max(1, STRIP_PIXELS // max(1, gray.shape[1]))
    for y in range(0, gray.shape[0], step):
        a = alpha[y:y + step].astype(np.uint16)
        v = gray[y:y + step].astype(np.uint16) * a  # <= 255 * 255: uint16 holds the sum below
        v += (255 - a) * bg + 127
        out[y:y + step] = v // 255
    return out


def choose_background(ring_rgb: np.ndarray, ring_alpha: np.ndarray, content_luma: Callable[[], float],
                      loaded: LoadedImage) -> tuple[int, int, int]:
    """The colour transparent pixels are composited on: the dominant opaque border colour (the app background);
    with no opaque border, white or black, whichever contrasts with the opaque content. Noted in `loaded`."""
    bg = border_background(ring_rgb, ring_alpha)
    if bg is None:
        bg = (255, 255, 255) if content_luma() < 128 else (0, 0, 0)
        loaded.notes.append((f"transparent border: alpha composited on {'white' if bg[0] else 'black'}, "
                             f"opposite to the opaque content",
                             f"viền trong suốt: ghép kênh alpha lên nền {'trắng' if bg[0] else 'đen'}, "
                             f"tương phản với nội dung không trong suốt"))
    else:
        loaded.notes.append((f"alpha composited on the app background #{bg[0]:02X}{bg[1]:02X}{bg[2]:02X} "
                             f"(the dominant opaque colour on the image border)",
                             f"ghép kênh alpha lên nền ứng dụng #{bg[0]:02X}{bg[1]:02X}{bg[2]:02X} "
                             f"(màu không trong suốt chiếm ưu thế ở viền ảnh)"))
    loaded.background = [int(v) for v in bg]
    return bg


def _flatten_alpha(ring_rgb: np.ndarray, ring_alpha: np.ndarray, gray: np.ndarray, alpha: np.ndarray,
                   loaded: LoadedImage) -> np.ndarray:
    if int(alpha.min()) >= 255:
        return gray

    def content() -> float:
        vis = alpha[::4, ::4] >= 128
        return float(gray[::4, ::4][vis].mean()) if vis.any() else 0.0

    bg = choose_background(ring_rgb, ring_alpha, content, loaded)
    return _composite_gray(gray, alpha, _luma(bg))


# ----------------------------------------------------------------------------------------------- numpy sources
def _array_to_gray(a: np.ndarray, name: str, limits: ImageLimits) -> np.ndarray:
    if a.ndim not in (2, 3) or a.size == 0:
        raise LoadError(f"{name}: array of shape {a.shape} is not an image",
                        f"{name}: mảng có kích thước {a.shape} không phải là ảnh")
    h, w = a.shape[:2]
    check_size(name, w, h, limits)
    if a.dtype != np.uint8:
        f = a.astype(np.float64)
        hi = float(np.nanmax(f)) if f.size else 0.0
        if a.dtype == np.uint16:
            f = f / 257.0
        elif a.dtype.kind == "f" and hi <= 1.0:
            f = f * 255.0
        elif hi > 255.0:
            f = f / 257.0
        a = np.clip(np.rint(np.nan_to_num(f)), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        return np.ascontiguousarray(a)
    ch = a.shape[2]
    if ch == 1:
        return np.ascontiguousarray(a[:, :, 0])
    if ch == 3:
        return cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_BGR2GRAY)
    if ch == 4:
        bgr = np.ascontiguousarray(a[:, :, :3])
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        alpha = np.ascontiguousarray(a[:, :, 3])
        return _flatten_alpha(_ring_of(bgr)[:, ::-1], _ring_of(alpha), gray, alpha, LoadedImage(gray=gray))
    raise LoadError(f"{name}: array with {ch} channels is not a grey, BGR or BGRA image",
                    f"{name}: mảng có {ch} kênh không phải ảnh xám, BGR hay BGRA")


# ----------------------------------------------------------------------------------------------- PIL frames
def _scale16(a: np.ndarray) -> np.ndarray:
    """16-bit samples to 8 bits: round(v * 255 / 65535)."""
    return ((a.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _to_8bit(img: Image.Image, png_depth: int | None, loaded: LoadedImage) -> Image.Image:
    """Bring any PIL mode to L, LA, RGB, RGBA or CMYK with 8-bit samples."""
    mode = img.mode
    if mode in ("L", "RGB") and "transparency" in img.info:  # a tRNS colour key: that colour is transparent
        return img.convert("RGBA" if mode == "RGB" else "LA")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return img
    if mode.startswith("I;16"):
        loaded.bit_depth = 16
        return Image.fromarray(_scale16(np.asarray(img)), "L")
    if mode in ("I", "F"):
        a = np.asarray(img).astype(np.float64)
        if mode == "I" and png_depth == 16:
            loaded.bit_depth = 16
            return Image.fromarray(_scale16(np.clip(a, 0, 65535).astype(np.uint16)), "L")
        hi = float(np.nanmax(a)) if a.size else 0.0
        if mode == "F" and hi <= 1.0:
            a = a * 255.0
        elif hi > 255.0:
            a = a / 257.0
        return Image.fromarray(np.clip(np.rint(np.nan_to_num(a)), 0, 255).astype(np.uint8), "L")
    if mode == "P":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    if mode in ("PA", "RGBa"):
        return img.convert("RGBA")
    if mode == "La":
        return img.convert("LA")
    if mode == "1":
        return img.convert("L")
    return img.convert("RGB")


def _gray_by_strips(img: Image.Image, convert: Callable[[Image.Image], Image.Image] | None,
                    loaded: LoadedImage) -> np.ndarray:
    """8-bit grey of an L, LA, RGB, RGBA or CMYK image, converted to sRGB and alpha-composited strip by strip
    into one preallocated array (peak memory: the decoded image, the grey image and one strip)."""
    w, h = img.size
    mode = img.mode
    if mode == "L" and convert is None:
        return np.array(img, dtype=np.uint8)
    extrema: Any = img.getextrema()  # per-band extrema, no copy
    alpha = mode in ("LA", "RGBA") and extrema[-1][0] < 255
    bg_luma = _alpha_background(img, convert, loaded) if alpha else 0.0
    out = np.empty((h, w), np.uint8)
    step = max(1, STRIP_PIXELS // max(1, w))
    for y in range(0, h, step):
        part = img.crop((0, y, w, min(h, y + step)))
        if convert is not None:
            part = convert(part)
        if part.mode == "CMYK":
            part = part.convert("RGB")
        g = np.asarray(part.getchannel(0) if part.mode in ("L", "LA") else part.convert("L"), dtype=np.uint8)
        if alpha:
            g = _composite_gray(g, np.asarray(part.getchannel("A"), dtype=np.uint8), bg_luma)
        out[y:y + g.shape[0]] = g
    return out


def _alpha_background(img: Image.Image, convert: Callable[[Image.Image], Image.Image] | None,
                      loaded: LoadedImage) -> float:
    """Luma of the colour transparent pixels are composited on (sRGB), noted in `loaded`."""
    w, h = img.size
    t = max(1, min(w, h) // 100)
    boxes = [(0, 0, w, t), (0, h - t, w, h), (0, t, t, h - t), (w - t, t, w, h - t)]
    parts = []
    for b in boxes:
        if b[2] > b[0] and b[3] > b[1]:
            part = img.crop(b)
            if convert is not None:
                part = convert(part)
            parts.append(np.asarray(part.convert("RGBA")).reshape(-1, 4))
    ring = np.concatenate(parts)

    def content() -> float:
        k = max(1, int(math.sqrt(w * h / 250_000)))  # a coarse sample is enough for a mean
        # NEAREST: Pillow's averaging resamplers premultiply a full-size RGBA copy first
        small = img.resize((max(1, w // k), max(1, h // k)), Image.Resampling.NEAREST) if k > 1 else img.copy()
        if convert is not None:
            small = convert(small)
        sa = np.asarray(small.convert("RGBA"))
        vis = sa[..., 3] >= 128
        return float(np.asarray(small.convert("L"))[vis].mean()) if vis.any() else 0.0

    bg = choose_background(ring[:, :3], ring[:, 3], content, loaded)
    return _luma(bg)


def _orientation(img: Image.Image) -> int:
    try:
        o = int(img.getexif().get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001
        return 1
    return o if 1 <= o <= 8 else 1


def _orient_gray(gray: np.ndarray, o: int) -> np.ndarray:
    """Apply EXIF orientation `o` to a 2-D array (the same transposes as PIL.ImageOps.exif_transpose)."""
    if o == 2:
        gray = gray[:, ::-1]
    elif o == 3:
        gray = gray[::-1, ::-1]
    elif o == 4:
        gray = gray[::-1, :]
    elif o == 5:
        gray = gray.T
    elif o == 6:
        gray = np.rot90(gray, -1)
    elif o == 7:
        gray = np.rot90(gray, -1)[:, ::-1]
    elif o == 8:
        gray = np.rot90(gray, 1)
    return np.ascontiguousarray(gray)


def _fast_decode(img: Image.Image, data: bytes, frames: int) -> np.ndarray | None:
    """OpenCV's decoder for the common case (8-bit grey/RGB PNG or JPEG, no alpha, no colour profile other than
    sRGB, one frame, no EXIF rotation), else None: anything unusual, or any decoding problem, goes to the PIL
    path, which reports errors properly. Same Rec. 601 grey as PIL's convert("L"); JPEG decodes only the luma."""
    try:
        if frames != 1 or img.format not in ("PNG", "JPEG") or img.mode not in ("L", "RGB") \
                or "transparency" in img.info:
            return None
        icc = img.info.get("icc_profile")
        if icc and img.mode == "RGB" and not _is_srgb(_profile_description(icc)):
            return None
        if img.format == "PNG" and _png_bit_depth(data) not in (8, None):
            return None
        tail = data[-32:]
        if (img.format == "PNG" and b"IEND" not in tail) or (img.format == "JPEG" and b"\xff\xd9" not in tail):
            return None  # possibly truncated: OpenCV would return a partly grey image, PIL reports the problem
        if img.format == "PNG":
            if "exif" in img.info or b"eXIf" in data:  # (PNG's getexif() decodes the pixels to look for eXIf)
                return None
        elif _orientation(img) != 1:
            return None
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION)
    except Exception:  # noqa: BLE001
        return None
    if arr is None or arr.shape[:2] != (img.size[1], img.size[0]):
        return None
    return arr


def _png16(data: bytes, img: Image.Image, loaded: LoadedImage) -> Image.Image | None:
    """A one-frame 16-bit PNG decoded exactly by OpenCV (Pillow truncates 16-bit RGB to the high byte)."""
    try:
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except Exception:  # noqa: BLE001
        return None
    if arr is None or arr.dtype != np.uint16 or arr.shape[:2] != (img.size[1], img.size[0]):
        return None
    a8 = _scale16(arr)
    loaded.bit_depth = 16
    if a8.ndim == 2:
        return Image.fromarray(a8, "L")
    if a8.shape[2] == 3:
        return Image.fromarray(np.ascontiguousarray(a8[:, :, ::-1]), "RGB")
    if a8.shape[2] == 4:
        return Image.fromarray(np.ascontiguousarray(a8[:, :, [2, 1, 0, 3]]), "RGBA")
    return None


class _Opened:
    """An image opened from its header only (no pixels decoded yet)."""

    def __init__(self, source: Any, name: str, limits: ImageLimits):
        self.name, self.limits = name, limits
        self.data: bytes | None = None
        self.stripped = 0
        if isinstance(source, Image.Image):
            self.img = source
        else:
            self.data = _read_bytes(source, name)
            self.data, self.stripped = strip_png_text(self.data)
            self.img = _open(self.data, name, limits)
        w, h = self.img.size
        check_size(name, w, h, limits)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.frames = max(1, int(getattr(self.img, "n_frames", 1) or 1))
        except Exception:  # noqa: BLE001 - a broken frame table: the first frame is still readable
            self.frames = 1
        self.format = self.img.format or (None if self.data is None else "image")

    def frame(self, index: int) -> LoadedImage:
        name, img = self.name, self.img
        loaded = LoadedImage(gray=np.zeros((0, 0), np.uint8), format=self.format, frame=index, frames=self.frames)
        if self.stripped:
            loaded.notes.append((f"{self.stripped:,} bytes of PNG text chunks ignored",
                                 f"bỏ qua {self.stripped:,} byte khối văn bản PNG"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if index:
                    img.seek(index)
                w, h = img.size  # a TIFF page or a frame may declare its own size
                check_size(name, w, h, self.limits, "frame", "khung hình")
            except LoadError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise LoadError(f"{name}: frame {index + 1} of {self.frames} cannot be read ({exc})",
                                f"{name}: không đọc được khung hình {index + 1}/{self.frames} ({exc})") from None
            data = self.data
            if data is not None and index == 0:
                fast = _fast_decode(img, data, self.frames)
                if fast is not None:
                    loaded.gray = fast
                    icc = img.info.get("icc_profile")
                    loaded.icc = _profile_description(icc) if icc else None
                    return loaded
            try:
                png_depth = _png_bit_depth(data) if data is not None else None
                work: Image.Image | None = None
                if png_depth == 16 and self.frames == 1 and data is not None:
                    work = _png16(data, img, loaded)
                if work is None:
                    if img.format == "JPEG" and img.mode in ("RGB", "YCbCr") and not _needs_colour(img):
                        img.draft("L", img.size)  # decode only the luma plane (same Rec. 601 weights)
                    img.load()
                    work = img
                loaded.orientation = _orientation(img)
                if img.format == "HEIF":
                    loaded.orientation = 1  # pillow-heif applied the transformations already
                info = img.info
                work = _to_8bit(work, png_depth, loaded)
                icc = info.get("icc_profile")
                convert = None
                if icc:
                    convert = _icc_converter(work, icc, loaded)
                elif isinstance(info.get("nclx_profile"), dict):
                    convert = _nclx_converter(work, info["nclx_profile"], loaded)
                gray = _gray_by_strips(work, convert, loaded)
                del work
                loaded.gray = _orient_gray(gray, loaded.orientation)
                if loaded.orientation != 1:
                    loaded.notes.append((f"EXIF orientation {loaded.orientation} applied",
                                         f"đã áp dụng hướng EXIF {loaded.orientation}"))
                return loaded
            except LoadError:
                raise
            except MemoryError:
                raise LoadError(f"{name}: not enough memory to decode the {w}x{h} image",
                                f"{name}: không đủ bộ nhớ để giải mã ảnh {w}x{h}") from None
            except Exception as exc:  # noqa: BLE001 - truncated/corrupt data
                fmt = img.format or "image"
                raise LoadError(f"{name}: the {fmt} data is corrupt or truncated ({exc})",
                                f"{name}: dữ liệu {fmt} bị hỏng hoặc bị cắt cụt ({exc})") from None


def _needs_colour(img: Image.Image) -> bool:
    icc = img.info.get("icc_profile")
    return isinstance(icc, bytes) and bool(icc) and not _is_srgb(_profile_description(icc))


def _read_bytes(source: Any, name: str) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        p = Path(source)
        try:
            if not p.exists():
                raise LoadError(f"{name}: file not found", f"{name}: không tìm thấy tệp")
            if not p.is_file():
                raise LoadError(f"{name}: not a regular file", f"{name}: không phải là tệp thông thường")
            data = p.read_bytes()
        except LoadError:
            raise
        except OSError as exc:
            raise LoadError(f"{name}: cannot read the file ({exc.strerror or exc})",
                            f"{name}: không đọc được tệp ({exc.strerror or exc})") from None
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        raise LoadError(f"{name}: unsupported image source of type {type(source).__name__}",
                        f"{name}: không hỗ trợ nguồn ảnh kiểu {type(source).__name__}")
    if len(data) == 0:
        raise LoadError(f"{name}: the file is empty (0 bytes)", f"{name}: tệp rỗng (0 byte)")
    return data


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1",
                                                   b"msf1")


def _open(data: bytes, name: str, limits: ImageLimits) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            # Pillow's own guard fired first (over ~179 MP): say it with the header's size and our limits
            if data.startswith(PNG_SIGNATURE) and len(data) >= 24:
                w, h = struct.unpack(">II", data[16:24])
                check_size(name, w, h, limits)
            m = re.search(r"\((\d+) pixels\)", str(exc))
            px = f"{int(m.group(1)):,}" if m else "too many"
            raise LoadError(f"{name}: image declares {px} pixels, more than the limit of {limits.max_pixels:,}; "
                            f"not decoded",
                            f"{name}: ảnh khai báo {px} điểm ảnh, vượt giới hạn {limits.max_pixels:,}; "
                            f"không giải mã") from None
        except Exception:  # noqa: BLE001 - UnidentifiedImageError, SyntaxError, ValueError, ...
            if _is_heif(data) and not HEIF_SUPPORT:
                raise LoadError(f"{name}: a HEIC/HEIF image, but HEIF support (pillow-heif) is not installed",
                                f"{name}: ảnh HEIC/HEIF nhưng chưa cài hỗ trợ HEIF (pillow-heif)") from None
            raise LoadError(f"{name}: not a readable image (expected {READABLE})",
                            f"{name}: không phải tệp ảnh đọc được (cần {READABLE_VI})") from None


# ----------------------------------------------------------------------------------------------- public
def probe(source: Any, name: str | None = None, limits: ImageLimits | None = None) -> dict[str, Any]:
    """Header facts (format, width, height, frames) after the size checks; decodes no pixel."""
    nm = source_name(source, name)
    if isinstance(source, np.ndarray):
        h, w = source.shape[:2] if source.ndim >= 2 else (0, 0)
        check_size(nm, w, h, limits or ImageLimits())
        return {"format": None, "width": w, "height": h, "frames": 1}
    op = _open_guarded(source, nm, limits or ImageLimits())
    w, h = op.img.size
    return {"format": op.format, "width": w, "height": h, "frames": op.frames}


def _open_guarded(source: Any, name: str, limits: ImageLimits) -> _Opened:
    try:
        return _Opened(source, name, limits)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence
        raise LoadError(f"{name}: cannot open the image ({type(exc).__name__}: {exc})",
                        f"{name}: không mở được ảnh ({type(exc).__name__}: {exc})") from None


def load_image(source: Any, name: str | None = None, limits: ImageLimits | None = None, *,
               frame: int = 0) -> LoadedImage:
    """One frame of an image as 8-bit grey with how it was obtained. Raises LoadError only."""
    nm = source_name(source, name)
    limits = limits or ImageLimits()
    if isinstance(source, np.ndarray):
        return LoadedImage(gray=_array_to_gray(source, nm, limits))
    try:
        op = _open_guarded(source, nm, limits)
        if frame >= op.frames:
            raise LoadError(f"{nm}: has {op.frames} frame(s), frame {frame + 1} asked for",
                            f"{nm}: chỉ có {op.frames} khung hình, không có khung hình {frame + 1}")
        return op.frame(frame)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence
        raise LoadError(f"{nm}: cannot load the image ({type(exc).__name__}: {exc})",
                        f"{nm}: không nạp được ảnh ({type(exc).__name__}: {exc})") from None


def iter_frames(source: Any, name: str | None = None, limits: ImageLimits | None = None) -> Iterator[LoadedImage]:
    """The frames of an image in order, at most limits.max_frames of them, each decoded when asked for.

    The first frame's problems raise LoadError; a later frame's problem raises LoadError when that frame is
    reached (the caller keeps what it has)."""
    nm = source_name(source, name)
    limits = limits or ImageLimits()
    if isinstance(source, np.ndarray):
        yield LoadedImage(gray=_array_to_gray(source, nm, limits))
        return
    op = _open_guarded(source, nm, limits)
    for i in range(min(op.frames, limits.max_frames)):
        try:
            yield op.frame(i)
        except LoadError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise LoadError(f"{nm}: cannot load frame {i + 1} ({type(exc).__name__}: {exc})",
                            f"{nm}: không nạp được khung hình {i + 1} ({type(exc).__name__}: {exc})") from None


def load_gray(source: Any, name: str, max_pixels: int = DEFAULT_MAX_PIXELS, *, max_side: int | None = None,
              max_aspect: float | None = None, frame: int = 0) -> np.ndarray:
    """8-bit greyscale of one frame (the first by default). Raises LoadError (only) with English and Vietnamese
    text. Sides over `max_side` and aspect ratios over `max_aspect` are refused from the header, like the pixel
    count (defaults: DEFAULT_MAX_SIDE, DEFAULT_MAX_ASPECT)."""
    return load_image(source, name, _limits(max_pixels, max_side, max_aspect), frame=frame).gray


__all__ = ["LoadError", "ImageLimits", "LoadedImage", "load_gray", "load_image", "iter_frames", "probe",
           "check_size", "source_name", "strip_png_text", "border_background", "HEIF_SUPPORT",
           "DEFAULT_MAX_PIXELS", "DEFAULT_MAX_SIDE", "DEFAULT_MAX_ASPECT", "DEFAULT_MAX_FRAMES"]
