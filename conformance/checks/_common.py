"""Small helpers shared by check modules: the observations for "nothing to judge"."""
from __future__ import annotations

from conformance.checks.context import EvidenceView
from conformance.model import Observation, no_evidence
from conformance.rules.fields import BY_KEY
from conformance.rules.masking import MASKED_FIELD


def masked_field(requirement: str) -> tuple[str, str, str]:
    """(label en, label vi, record key) of the field a masking requirement (DISPLAY-001/002) governs."""
    f = BY_KEY[MASKED_FIELD[requirement]]
    return f.label_en, f.label_vi, f.key


def no_payload(ev: EvidenceView, requirement: str) -> Observation:
    """The evidence item carries no payload to judge (nothing decoded, or several different codes)."""
    if ev.symbol_note is not None:
        en, vi = ev.symbol_note
        return no_evidence(requirement, f"no payload judged: {en} (see SYMBOL-001)",
                           f"không đánh giá nội dung mã: {vi} (xem SYMBOL-001)")
    return no_evidence(requirement, "no payload to judge: no QR symbol was decoded from this capture (see SYMBOL-001)",
                       "không có nội dung để đánh giá: không giải mã được mã QR nào từ ảnh này (xem SYMBOL-001)")


def no_symbol(ev: EvidenceView, requirement: str) -> Observation:
    if ev.symbol_note is not None:
        en, vi = ev.symbol_note
        return no_evidence(requirement, f"nothing measured: {en} (see SYMBOL-001)",
                           f"không đo: {vi} (xem SYMBOL-001)")
    return no_evidence(requirement, "no single decodable QR symbol in this capture to measure (see SYMBOL-001)",
                       "ảnh chụp không có đúng một mã QR giải mã được để đo (xem SYMBOL-001)")
