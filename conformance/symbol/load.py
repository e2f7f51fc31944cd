"""Load any screenshot (path, bytes, numpy array, PIL image) into one 8-bit greyscale array. Never raises.

The pixel count is checked from the header before any pixel is decoded.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

import cv2


class LoadError(Exception):
    def __init__(self, en: str, vi: str):
        super().__init__(en)
        self.en = en
        self.vi = vi


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


def _too_big(name: str, w: int, h: int, max_pixels: int) -> LoadError:
    return LoadError(
        f"{name}: image is {w}x{h} = {w * h:,} pixels, more than the limit of {max_pixels:,}; not decoded",
        f"{name}: ảnh có kích thước {w}x{h} = {w * h:,} điểm ảnh, vượt giới hạn {max_pixels:,}; không giải mã",
    )


def _pil_to_gray(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode == "L":
        return np.asarray(img, dtype=np.uint8)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(img)
        a = a.astype(np.float64)
        hi = float(a.max()) if a.size else 0.0
        if mode == "F" and hi <= 1.0:
            a = a * 255.0
        elif hi > 255.0:
            a = a / 257.0
        return np.clip(np.rint(a), 0, 255).astype(np.uint8)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info) \
            or (mode in ("RGB", "L") and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(bg, rgba).convert("L"), dtype=np.uint8)
    if mode == "CMYK":
        return np.asarray(img.convert("RGB").convert("L"), dtype=np.uint8)
    return np.asarray(img.convert("L"), dtype=np.uint8)


def _array_to_gray(a: np.ndarray, name: str, max_pixels: int) -> np.ndarray:
    if a.ndim not in (2, 3) or a.size == 0:
        raise LoadError(f"{name}: array of shape {a.shape} is not an image",
                        f"{name}: mảng có kích thước {a.shape} không phải là ảnh")
    h, w = a.shape[:2]
    if w * h > max_pixels:
        raise _too_big(name, w, h, max_pixels)
    if a.dtype != np.uint8:
        f = a.astype(np.float64)
        hi = float(np.nanmax(f)) if f.size else 0.0
        if a.dtype.kind == "f" and hi <= 1.0:
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
        alpha = a[:, :, 3:4].astype(np.float32) / 255.0
        bgr = a[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return cv2.cvtColor(np.clip(bgr + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)
    raise LoadError(f"{name}: array with {ch} channels is not a grey, BGR or BGRA image",
                    f"{name}: mảng có {ch} kênh không phải ảnh xám, BGR hay BGRA")


def _fast_decode(img: Image.Image, data: bytes) -> np.ndarray | None:
    """OpenCV's decoder for the common case (8-bit grey/RGB PNG or JPEG, no alpha, no EXIF rotation), else None.

    Same Rec. 601 grey as PIL's convert("L"); JPEG decodes only the luma plane. Anything unusual (palette, alpha,
    16-bit, CMYK, rotation tag) or any decoding problem goes to the PIL path, which reports errors properly.
    """
    try:
        if img.format not in ("PNG", "JPEG") or img.mode not in ("L", "RGB") or "transparency" in img.info:
            return None
        if img.format == "PNG" and img.info.get("bitdepth", 8) not in (8, None):
            return None
        tail = data[-32:]
        if (img.format == "PNG" and b"IEND" not in tail) or (img.format == "JPEG" and b"\xff\xd9" not in tail):
            return None  # possibly truncated: OpenCV would return a partly grey image, PIL reports the problem
        if img.format == "PNG":
            if "exif" in img.info:  # (PNG's getexif() would decode the pixels to look for a late eXIf chunk)
                return None
        elif img.getexif().get(0x0112, 1) != 1:
            return None
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION)
    except Exception:  # noqa: BLE001
        return None
    if arr is None or arr.shape[:2] != (img.size[1], img.size[0]):
        return None
    return arr


def load_gray(source: Any, name: str, max_pixels: int) -> np.ndarray:
    """8-bit greyscale (alpha composited on white). Raises LoadError (only) with English and Vietnamese text."""
    if isinstance(source, np.ndarray):
        return _array_to_gray(source, name, max_pixels)
    if isinstance(source, Image.Image):
        w, h = source.size
        if w * h > max_pixels:
            raise _too_big(name, w, h, max_pixels)
        try:
            return _pil_to_gray(source)
        except Exception as exc:  # noqa: BLE001
            raise LoadError(f"{name}: cannot convert the image ({exc})",
                            f"{name}: không chuyển đổi được ảnh ({exc})") from None
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise LoadError(f"{name}: image has too many pixels ({exc})",
                            f"{name}: ảnh có quá nhiều điểm ảnh ({exc})") from None
        except Exception:  # noqa: BLE001 - UnidentifiedImageError, SyntaxError, ...
            raise LoadError(f"{name}: not a readable image (expected PNG or JPEG)",
                            f"{name}: không phải tệp ảnh đọc được (cần PNG hoặc JPEG)") from None
        w, h = img.size
        if w <= 0 or h <= 0:
            raise LoadError(f"{name}: image header declares an empty size {w}x{h}",
                            f"{name}: phần đầu ảnh khai báo kích thước rỗng {w}x{h}")
        if w * h > max_pixels:
            raise _too_big(name, w, h, max_pixels)
        fast = _fast_decode(img, data)
        if fast is not None:
            return fast
        try:
            if img.format == "JPEG" and img.mode in ("RGB", "YCbCr"):
                img.draft("L", img.size)  # decode only the luma plane (same Rec. 601 weights)
            img.load()
            if img.getexif().get(0x0112, 1) != 1:
                img = ImageOps.exif_transpose(img)
            return _pil_to_gray(img)
        except Exception as exc:  # noqa: BLE001 - truncated/corrupt data
            fmt = img.format or "image"
            raise LoadError(f"{name}: the {fmt} data is corrupt or truncated ({exc})",
                            f"{name}: dữ liệu {fmt} bị hỏng hoặc bị cắt cụt ({exc})") from None
