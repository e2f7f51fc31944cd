"""Thin wrappers around the reference decoders. Each returns plain data and never raises on bad pixels.

zxing-cpp is primary (finds every symbol, reports ECC/version/mask). zbar (pyzbar) and OpenCV's
QRCodeDetectorAruco are secondary opinions, run as-is (no invert retry): what each reads is the
interoperability fact we report.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import threading
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
    """All QR symbols zxing-cpp finds (zxingcpp.Barcode objects)."""
    try:
        return list(zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode,
                                           text_mode=zxingcpp.TextMode.Plain))
    except Exception:  # noqa: BLE001
        return []


def zxing_corners(r: Any) -> np.ndarray:
    p = r.position
    return np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                     [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]], np.float64)


def zbar_read(img: np.ndarray) -> list[Hit]:
    if _pyzbar is None:
        return []
    try:
        res = _pyzbar.decode(np.ascontiguousarray(img), symbols=[_pyzbar.ZBarSymbol.QRCODE])
    except Exception:  # noqa: BLE001
        return []
    hits = []
    for r in res:
        pts = np.array([[p.x, p.y] for p in r.polygon], np.float64)
        if pts.shape[0] != 4:
            x, y, w, h = r.rect
            pts = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
        data = bytes(r.data)
        hits.append(Hit(ZBAR, data.decode("utf-8", errors="replace"), data, pts,
                        {"orientation": getattr(r, "orientation", None)}))
    return hits


_ARUCO_LOCK = threading.Lock()


def opencv_read(img: np.ndarray) -> list[Hit]:
    global _aruco
    if not _HAS_ARUCO:
        return []
    try:
        with _ARUCO_LOCK:  # one detector object; calls may come from the secondary-decoder threads
            if _aruco is None:
                _aruco = cv2.QRCodeDetectorAruco()
            text, pts, _straight = _aruco.detectAndDecode(img)
    except Exception:  # noqa: BLE001
        return []
    if not text or pts is None:
        return []
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    if pts.shape[0] != 4:
        return []
    return [Hit(OPENCV, text, None, pts, {})]
