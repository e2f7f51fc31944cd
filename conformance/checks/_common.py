"""Small helpers shared by check modules."""
from __future__ import annotations

from conformance.checks.registry import finding
from conformance.model import Finding


def no_payload(ev, requirement: str) -> Finding:
    """The evidence item carries no payload to judge (nothing decoded from the screenshot)."""
    return finding("skip", requirement,
                   "no payload to judge: no QR symbol was decoded from this capture (see SYMBOL-001)",
                   "không có nội dung để đánh giá: không giải mã được mã QR nào từ ảnh này (xem SYMBOL-001)")


def no_symbol(ev, requirement: str) -> Finding:
    return finding("skip", requirement,
                   "no single decodable QR symbol in this capture to measure (see SYMBOL-001)",
                   "ảnh chụp không có đúng một mã QR giải mã được để đo (xem SYMBOL-001)")
