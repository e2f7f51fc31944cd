"""DISPLAY-*: masked (default) and full display modes (spec-v1.1 §2.4), judged on submitted evidence.

DISPLAY-001/002 have two parts: the encoded payload (masking policy of the profile) and, on screenshots, the text
the screen shows next to the code (OCR, conformance.ocr). Live-capture judgements are in display_live.py.
"""
from __future__ import annotations

from conformance.checks._common import no_payload
from conformance.checks.payload import structure_broken, structure_skip
from conformance.checks.registry import check, finding, from_violation, violation_status

WHAT = {"DISPLAY-001": ("document number", "số giấy tờ"), "DISPLAY-002": ("date of birth", "ngày sinh")}


def _payload_masking(ev, requirement: str):
    report = ev.payload_report
    if report is None:
        return [no_payload(ev, requirement)]
    if structure_broken(report):
        return [structure_skip(requirement)]
    bad = [from_violation(v) for v in report.violations if v.requirement == requirement]
    if bad:
        return bad
    en, vi = WHAT[requirement]
    masked = bool(getattr(report.parsed, "masked", {}).get("so_giay_to" if requirement == "DISPLAY-001" else "ngay_sinh"))
    state_en = "masked exactly" if masked else "whole"
    state_vi = "được che đúng quy cách" if masked else "đầy đủ"
    policy = ev.profile["payload"]["masking_in_default_mode"]
    return [finding("pass", requirement,
                    f"encoded {en} is {state_en} in {ev.mode} mode (profile masking: {policy})",
                    f"{vi} trong mã ở chế độ {ev.mode} là {state_vi} (hồ sơ: {policy})",
                    measured={"part": "payload", "masked": masked})]


def _screen_text(ev, requirement: str):
    if ev.item.kind != "screenshot" or ev.subject is None:
        return []
    reading = ev.screen_text
    if reading is None:
        return []
    from conformance.ocr import judge_display

    verdict = judge_display(reading, ev.subject, ev.mode).get(requirement)
    if not verdict:
        return []
    field = "so_giay_to" if requirement == "DISPLAY-001" else "ngay_sinh"
    if verdict["status"] == "review" and (ev.item.extra.get("displayed") or {}).get(field):
        # Live capture read the displayed text directly (interface or DOM; judged in display_live.py): an OCR
        # that could not read the pixels adds nothing. A confident OCR pass or fail still counts.
        return []
    measured = {"part": "screen_text"}
    for k in ("found", "expected", "box"):
        if verdict.get(k) is not None:
            measured[k] = verdict[k]
    if verdict.get("evidence_text"):
        measured["ocr_text"] = verdict["evidence_text"]
    return [finding(verdict["status"], requirement, verdict["message_en"], verdict["message_vi"],
                    found=verdict.get("found"), expected=verdict.get("expected"), measured=measured)]


@check("DISPLAY-001")
def display_document_number_masking(ev):
    """Document number: first 6 characters '*' in default mode, whole in full mode (payload and screen text)."""
    return _payload_masking(ev, "DISPLAY-001") + _screen_text(ev, "DISPLAY-001")


@check("DISPLAY-002")
def display_date_of_birth_masking(ev):
    """Date of birth: day and month '*' in default mode, whole in full mode (payload and screen text)."""
    return _payload_masking(ev, "DISPLAY-002") + _screen_text(ev, "DISPLAY-002")


def _valid_code(ev) -> bool:
    """A decoded payload that breaks no MUST-level rule (SHOULD-level remarks do not count)."""
    report = ev.payload_report
    return report is not None and not any(violation_status(v.requirement) == "fail" for v in report.violations)


@check("DISPLAY-003", scope="subject")
def display_both_modes_available(sub):
    """The package shows the subject in both modes with valid codes (static evidence of the mode switch)."""
    judged = [e for e in sub.evidence if not e.error and e.payload_report is not None]
    modes = {e.mode for e in judged}
    valid = {e.mode for e in judged if _valid_code(e)}
    if {"default", "full"} <= valid:
        return finding("pass", "DISPLAY-003",
                       f"subject {sub.subject_id}: valid codes captured in both default and full mode "
                       "(switching speed is measured only by live capture)",
                       f"người dùng {sub.subject_id}: có mã hợp lệ ở cả chế độ mặc định và đầy đủ "
                       "(tốc độ chuyển chỉ đo được khi đánh giá trực tiếp)",
                       measured={"modes": sorted(modes)})
    if {"default", "full"} <= modes:
        bad = sorted({"default", "full"} - valid)
        return finding("skip", "DISPLAY-003",
                       f"subject {sub.subject_id}: both modes are captured but the codes in {', '.join(bad)} mode break "
                       "payload rules (see PAYLOAD-*/DISPLAY-001/002), so the switch between two valid displays is "
                       "not evidenced", f"người dùng {sub.subject_id}: có ảnh cả hai chế độ nhưng mã ở chế độ "
                       f"{', '.join(bad)} vi phạm quy tắc nội dung (xem PAYLOAD-*/DISPLAY-001/002), nên chưa có bằng "
                       "chứng chuyển đổi giữa hai cách hiển thị hợp lệ", measured={"modes": sorted(modes),
                                                                               "invalid_modes": bad})
    missing = sorted({"default", "full"} - modes)
    return finding("skip", "DISPLAY-003",
                   f"subject {sub.subject_id}: no decodable capture in {', '.join(missing)} mode, so the mode switch "
                   "is not evidenced; add a capture of that mode or use live capture",
                   f"người dùng {sub.subject_id}: không có ảnh giải mã được ở chế độ {', '.join(missing)}, nên chưa có "
                   "bằng chứng về chức năng chuyển chế độ; hãy bổ sung ảnh chế độ đó hoặc đánh giá trực tiếp",
                   measured={"modes": sorted(modes)})
