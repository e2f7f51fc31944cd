"""Thin wrappers around the reference decoders. Each returns plain data and never raises on bad pixels.

zxing-cpp is primary (finds every symbol, reports ECC/version/mask). zbar (pyzbar) and OpenCV's
QRCodeDetectorAruco are secondary opinions, run as-is (no invert retry): what each reads is the
interoperability fact we report.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import zxingcpp

ZXING = "zxing-cpp"
ZBAR = "zbar"
OPENCV = "opencv-aruco"
DECODER_NAMES = (ZXING, ZBAR, OPENCV)

try:  # pyzbar needs libzbar0; the suite still runs without it (reported as not run)
    from pyzbar import pyzbar as _pyzbar
except Exception:  # noqa: BLE001 - ImportError or OSError from ctypes
    _pyzbar = None

try:
    import cv2

    _HAS_ARUCO = hasattr(cv2, "QRCodeDetectorAruco")
except Exception:  # noqa: BLE001
    cv2 = None  # type: ignore[assignment]
    _HAS_ARUCO = False

_aruco = None


def available() -> dict[str, bool]:
    return {ZXING: True, ZBAR: _pyzbar is not None, OPENCV: _HAS_ARUCO}


@dataclass
class Hit:
    """One symbol read by one decoder."""

    decoder: str
    text: str
    raw: bytes | None
    corners: np.ndarray  # 4x2 float, image coordinates (symbol order for zxing/opencv, polygon order for zbar)
    extra: dict[str, Any]


def zxing_read(img: np.ndarray) -> list[Any]:
    """All QR symbols zxing-cpp finds (zxingcpp.Barcode objects). A crash of the decoder propagates: the caller
    reports it (an analysis that cannot run is an error, never "nothing found")."""
    return list(zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
                                       text_mode=zxingcpp.TextMode.Plain))


def zxing_corners(r: Any) -> np.ndarray:
    p = r.position
    return np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                     [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]], np.float64)


def zbar_read(img: np.ndarray) -> list[Hit]:
    if _pyzbar is None:
        return []
    res = _zbar_decode(np.ascontiguousarray(img, dtype=np.uint8))  # a crash propagates (see zxing_read)
    hits = []
    for data, polygon, orientation in res:
        pts = np.array(polygon, np.float64).reshape(-1, 2)
        if pts.shape[0] != 4:
            xs, ys = pts[:, 0], pts[:, 1]
            x, y, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
            pts = np.array([[x, y], [x1, y], [x1, y1], [x, y1]], np.float64)
        hits.append(Hit(ZBAR, data.decode("utf-8", errors="replace"), data, pts, {"orientation": orientation}))
    return hits


_ZBAR_ORIENTATIONS = {0: "UP", 1: "RIGHT", 2: "DOWN", 3: "LEFT"}


def _zbar_decode(gray: np.ndarray) -> list[tuple[bytes, list[tuple[int, int]], str | None]]:
    """zbar's QR reads as (data, polygon, orientation), through pyzbar's ctypes bindings.

    Not pyzbar.decode(): after zbar has read a structured-append symbol it reports the orientation as
    ZBAR_ORIENT_UNKNOWN (-1, 4294967295 unsigned), and pyzbar raises ValueError converting that to its
    ZBarOrientation enum, losing what zbar read. Here an unknown orientation is simply None.
    """
    from ctypes import c_void_p, cast, string_at

    from pyzbar import wrapper as W
    from pyzbar.locations import convex_hull

    if gray.ndim != 2 or gray.size == 0:
        return []
    height, width = gray.shape
    pixels = gray.tobytes()
    out = []
    scanner = W.zbar_image_scanner_create()
    if not scanner:
        return []
    try:
        for sym in W.ZBarSymbol:
            W.zbar_image_scanner_set_config(scanner, sym, W.ZBarConfig.CFG_ENABLE,
                                            1 if sym == W.ZBarSymbol.QRCODE else 0)
        image = W.zbar_image_create()
        if not image:
            return []
        try:
            W.zbar_image_set_format(image, 808466521)  # fourcc 'Y800': 8-bit greyscale
            W.zbar_image_set_size(image, width, height)
            W.zbar_image_set_data(image, cast(pixels, c_void_p), len(pixels), None)  # type: ignore[arg-type]
            if W.zbar_scan_image(scanner, image) < 0:
                return []
            symbol = W.zbar_image_first_symbol(image)
            while symbol:
                data = string_at(W.zbar_symbol_get_data(symbol), W.zbar_symbol_get_data_length(symbol))
                polygon = convex_hull((W.zbar_symbol_get_loc_x(symbol, i), W.zbar_symbol_get_loc_y(symbol, i))
                                      for i in range(W.zbar_symbol_get_loc_size(symbol)))
                orientation = None
                if W.zbar_symbol_get_orientation is not None:
                    orientation = _ZBAR_ORIENTATIONS.get(int(W.zbar_symbol_get_orientation(symbol)))
                out.append((bytes(data), [(int(x), int(y)) for x, y in polygon], orientation))
                symbol = W.zbar_symbol_next(symbol)
        finally:
            W.zbar_image_destroy(image)
    finally:
        W.zbar_image_scanner_destroy(scanner)
    return out


_ARUCO_LOCK = threading.Lock()


def opencv_read(img: np.ndarray) -> list[Hit]:
    """OpenCV QRCodeDetectorAruco's read. Payload bytes that are not UTF-8 make detectAndDecode raise
    UnicodeDecodeError after OpenCV has decoded them; those are read again as bytes and shown with U+FFFD for the
    undecodable bytes, so the read is reported (and differs from zxing-cpp's) instead of lost."""
    global _aruco
    if not _HAS_ARUCO:
        return []
    raw = None
    with _ARUCO_LOCK:  # one detector object; calls may come from the secondary-decoder threads
        if _aruco is None:
            _aruco = cv2.QRCodeDetectorAruco()
        try:
            text, pts, _straight = _aruco.detectAndDecode(img)
        except UnicodeDecodeError:  # a payload that is not UTF-8: read its bytes
            raw, pts, _straight = _aruco.detectAndDecodeBytes(img)
            raw = bytes(raw) if raw is not None else b""
            text = raw.decode("utf-8", errors="replace")
    if not text or pts is None:
        return []
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    if pts.shape[0] != 4:
        return []
    side = int(_straight.shape[0]) if isinstance(_straight, np.ndarray) and _straight.ndim == 2 else 0
    modules = side if 21 <= side <= 177 and (side - 17) % 4 == 0 else None
    return [Hit(OPENCV, text, raw, pts, {"modules": modules})]  # modules: OpenCV's rectified grid side
