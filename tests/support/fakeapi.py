"""Pieces of the small assessment interfaces (specs/assessment-api.openapi.yaml) that the live-capture tests serve on
loopback with Flask, each breaking one part of it: the fictitious person they show, the QR picture, and the bearer
check with Cache-Control: no-store that a conformant interface has."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import segno
from flask import Flask, jsonify, request

API = "/assessment/v1"
PAYLOAD_FULL = "079201004512|TRAN THI BICH NGOC|1992-07-25|0|163000111222333444|<2"


def qr_png() -> bytes:
    """The screen picture: the fictitious person's full-mode code."""
    buf = io.BytesIO()
    segno.make(PAYLOAD_FULL, error="m").save(buf, kind="png", scale=6, border=4)
    return buf.getvalue()


def display(sid: str, mode: str) -> dict[str, Any]:
    """The interface's display answer for subject `sid` in `mode` (default: masked number and date)."""
    full = mode == "full"
    return {"subject": sid, "mode": mode,
            "payload": ("079201004512" if full else "******004512") + "|TRAN THI BICH NGOC|"
                       + ("1992-07-25" if full else "1992-**-**") + "|0|163000111222333444|<2",
            "displayed": {"so_giay_to": "079201004512" if full else "******004512",
                          "ngay_sinh": "25/07/1992" if full else "**/**/1992", "ho_ten": "TRẦN THỊ BÍCH NGỌC"}}


def guard(app: Flask, token: str, open_path: Callable[[str], bool] = lambda path: False) -> None:
    """Refuse requests without `Bearer token` (401, except paths open_path lets through); no-store on every answer."""
    @app.before_request
    def auth() -> Any:
        if request.headers.get("Authorization") != f"Bearer {token}" and not open_path(request.path):
            return jsonify({"error": "unauthorized"}), 401
        return None

    @app.after_request
    def nostore(resp: Any) -> Any:
        resp.headers["Cache-Control"] = "no-store"
        return resp
