"""DISPLAY-*: masked (default) and full display modes (specs/SOURCES.md, display clauses), judged on submitted
evidence.

DISPLAY-001/002 have two parts: the encoded payload (masking policy of the profile, rule in
conformance/rules/masking.py applied by the payload validator) and, on captures of the screen, the text shown next
to the code (OCR, conformance/ocr). Live-capture judgements are in display_live.py.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.checks._common import no_payload
from conformance.checks.context import EvidenceView, SubjectView
from conformance.checks.payload import structure_broken, structure_skip
from conformance.checks.registry import check
from conformance.model import (
    MET,
    NO_EVIDENCE,
    NOT_APPLICABLE,
    NOT_MET,
    UNSURE,
    Observation,
    from_violation,
    met,
    no_evidence,
)
from conformance.specs import level_of
from conformance.words import mode_vi

WHAT = {"DISPLAY-001": ("document number", "số giấy tờ", "so_giay_to"),
        "DISPLAY-002": ("date of birth", "ngày sinh", "ngay_sinh")}
POLICY_VI = {"allowed": "cho phép che", "required": "bắt buộc che", "forbidden": "không được che"}
# what the screen-text judge (conformance/ocr/match.py) reports -> what the check saw
SCREEN_SEEN = {"pass": MET, "fail": NOT_MET, "review": UNSURE, "not_applicable": NOT_APPLICABLE, "skip": NO_EVIDENCE}
SCREEN_KINDS = ("screenshot", "photo", "recording")


def _payload_masking(ev: EvidenceView, requirement: str) -> list[Observation]:
    report = ev.payload
    if report is None:
        return [no_payload(ev, requirement)]
    if structure_broken(report):
        return [structure_skip(requirement)]
    bad = [from_violation(v) for v in report.violations if v.requirement == requirement]
    if bad:
        return bad
    en, vi, key = WHAT[requirement]
    masked = bool(report.parsed.masked.get(key))
    state_en = "masked exactly" if masked else "whole"
    state_vi = "được che đúng quy cách" if masked else "đầy đủ"
    policy = ev.thresholds.masking_in_default_mode
    return [met(requirement, f"encoded {en} is {state_en} in {ev.mode} mode (profile masking: {policy})",
                f"{vi} trong mã ở chế độ {mode_vi(ev.mode)} là {state_vi} (hồ sơ đánh giá: {POLICY_VI.get(policy, policy)})",
                measured={"part": "payload", "masked": masked})]


def _screen_text(ev: EvidenceView, requirement: str) -> list[Observation]:
    if ev.kind not in SCREEN_KINDS or ev.record is None or ev.display is None:
        return []
    verdict: Mapping[str, Any] | None = ev.display.get(requirement)
    if not verdict:
        return []
    field = WHAT[requirement][2]
    if verdict["status"] == "review" and (ev.extra.get("displayed") or {}).get(field):
        # Live capture read the displayed text directly (interface or DOM; judged in display_live.py): an OCR
        # that could not read the pixels adds nothing. A confident OCR pass or fail still counts.
        return []
    measured: dict[str, Any] = {"part": "screen_text"}
    for k in ("found", "expected", "box", "unread_regions"):
        if verdict.get(k) is not None:
            measured[k] = verdict[k]
    if verdict.get("evidence_text"):
        measured["ocr_text"] = verdict["evidence_text"]
    return [Observation(requirement=requirement, seen=SCREEN_SEEN[verdict["status"]], message_en=verdict["message_en"],
                        message_vi=verdict["message_vi"], found=verdict.get("found"), expected=verdict.get("expected"),
                        measured=measured)]


@check("DISPLAY-001", kinds=("screenshot", "payload", "photo"), needs=("payload", "screen_text"))
def display_document_number_masking(ev: EvidenceView) -> list[Observation]:
    """Document number: first 6 characters '*' in default mode, whole in full mode (payload and screen text)."""
    return _payload_masking(ev, "DISPLAY-001") + _screen_text(ev, "DISPLAY-001")


@check("DISPLAY-002", kinds=("screenshot", "payload", "photo"), needs=("payload", "screen_text"))
def display_date_of_birth_masking(ev: EvidenceView) -> list[Observation]:
    """Date of birth: day and month '*' in default mode, whole in full mode (payload and screen text)."""
    return _payload_masking(ev, "DISPLAY-002") + _screen_text(ev, "DISPLAY-002")


def valid_code(ev: EvidenceView) -> bool:
    """A decoded payload that breaks no MUST-level rule (SHOULD-level remarks do not count)."""
    report = ev.payload
    return report is not None and not any(level_of(v.requirement, v.remark) == "MUST" for v in report.violations)


@check("DISPLAY-003", scope="subject", needs=("payload",))
def display_both_modes_available(sub: SubjectView) -> list[Observation]:
    """The package shows the subject in both modes with valid codes (static evidence of the mode switch)."""
    judged = [e for e in sub.items if e.error is None and e.payload is not None]
    modes = {e.mode for e in judged}
    valid = {e.mode for e in judged if valid_code(e)}
    if {"default", "full"} <= valid:
        return [met("DISPLAY-003",
                    f"subject {sub.subject_id}: valid codes captured in both default and full mode "
                    "(switching speed is measured only by live capture or a screen recording)",
                    f"người dùng {sub.subject_id}: có mã hợp lệ ở cả chế độ mặc định và đầy đủ "
                    "(tốc độ chuyển chỉ đo được khi đánh giá trực tiếp hoặc qua video quay màn hình)",
                    measured={"modes": sorted(modes)})]
    if {"default", "full"} <= modes:
        bad = sorted({"default", "full"} - valid)
        return [no_evidence("DISPLAY-003",
                            f"subject {sub.subject_id}: both modes are captured but the codes in {', '.join(bad)} mode "
                            "break payload rules (see PAYLOAD-*/DISPLAY-001/002), so the switch between two valid "
                            "displays is not evidenced",
                            f"người dùng {sub.subject_id}: có ảnh cả hai chế độ nhưng mã ở chế độ "
                            f"{', '.join(mode_vi(m) for m in bad)} vi phạm quy tắc nội dung (xem "
                            "PAYLOAD-*/DISPLAY-001/002), nên chưa có bằng chứng chuyển đổi giữa hai cách hiển thị "
                            "hợp lệ", measured={"modes": sorted(modes), "invalid_modes": bad})]
    missing = sorted({"default", "full"} - modes)
    return [no_evidence("DISPLAY-003",
                        f"subject {sub.subject_id}: no decodable capture in {', '.join(missing)} mode, so the mode "
                        "switch is not evidenced; add a capture of that mode or use live capture",
                        f"người dùng {sub.subject_id}: không có ảnh giải mã được ở chế độ "
                        f"{', '.join(mode_vi(m) for m in missing)}, nên chưa có bằng chứng về chức năng chuyển chế độ; "
                        "hãy bổ sung ảnh chế độ đó hoặc đánh giá trực tiếp", measured={"modes": sorted(modes)})]
