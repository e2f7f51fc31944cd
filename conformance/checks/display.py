"""DISPLAY-*: masked (default) and full display modes (specs/SOURCES.md, display clauses), judged on submitted
evidence.

DISPLAY-001/002 have two parts: the encoded payload (masking policy of the profile, rule in
conformance/rules/masking.py applied by the payload validator) and, on captures of the screen, the text shown next
to the code (OCR, conformance/ocr). Live-capture judgements are in display_live.py.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.checks._common import masked_field, no_payload
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
    not_applicable,
    not_met,
    unsure,
)
from conformance.specs import level_of
from conformance.words import mode_vi

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
    en, vi, key = masked_field(requirement)
    masked = bool(report.parsed.masked.get(key))
    state_en = "masked exactly" if masked else "whole"
    state_vi = "được che đúng quy cách" if masked else "đầy đủ"
    policy = ev.thresholds.masking_in_default_mode
    return [met(requirement, f"encoded {en} is {state_en} in {ev.mode} mode (profile masking: {policy})",
                f"{vi} trong mã ở chế độ {mode_vi(ev.mode)} là {state_vi} (hồ sơ đánh giá: {POLICY_VI.get(policy, policy)})",
                measured={"part": "payload", "masked": masked})]


def _screen_text(ev: EvidenceView, requirement: str) -> list[Observation]:
    if ev.kind == "photo" and ev.display is None and ev.error is None:
        return [no_evidence(requirement, "the text shown beside the code was not read: the screen's outline was not "
                            "found in the photo (only the encoded payload is judged)", "không đọc chữ hiển thị cạnh mã: "
                            "không tìm thấy đường viền màn hình trong ảnh (chỉ đánh giá nội dung mã)")]
    if ev.kind not in SCREEN_KINDS or ev.record is None or ev.display is None:
        return []
    verdict: Mapping[str, Any] | None = ev.display.get(requirement)
    if not verdict:
        return []
    field = masked_field(requirement)[2]
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


@check("DISPLAY-001", needs=("payload", "screen_text"))
def display_document_number_masking(ev: EvidenceView) -> list[Observation]:
    """Document number: first 6 characters '*' in default mode, whole in full mode (payload and screen text)."""
    return _payload_masking(ev, "DISPLAY-001") + _screen_text(ev, "DISPLAY-001")


@check("DISPLAY-002", needs=("payload", "screen_text"))
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


# -- screen recordings: the toggle and the first screen, seen over time -------------------------------------------

def recordings(sub: SubjectView) -> list[EvidenceView]:
    """One view per recording item of the subject (a recording has a view per representative frame; its timeline
    judgements, in detail["recording"], are the same in each)."""
    seen: dict[int, EvidenceView] = {}
    for v in sub.items:
        if v.kind == "recording" and v.index not in seen:
            seen[v.index] = v
    return list(seen.values())


BASIS = {"tap_at_seconds": ("the declared tap time (tap_at_seconds)", "thời điểm chạm đã khai báo (tap_at_seconds)"),
         "touch_indicator": ("the first visible touch indicator", "dấu chạm đầu tiên nhìn thấy trên màn hình"),
         "last_old_mode_frame": ("the last frame of the old mode (a lower bound)",
                                 "khung hình cuối của chế độ cũ (giá trị cận dưới)")}


def _judge_changes(sub: SubjectView, v: EvidenceView, changes: list[Mapping[str, Any]], limit: float) -> Observation:
    """One observation per recording: timed changes (from a tap or a visible touch) decide; a lower bound decides
    only when it already exceeds the limit; changes that cannot be timed are listed, not judged."""
    rows: list[dict[str, Any]] = []
    for ch in changes:
        basis_en, basis_vi = BASIS.get(str(ch.get("basis")), (str(ch.get("basis")), str(ch.get("basis"))))
        rows.append({"from": ch.get("from"), "to": ch.get("to"), "frame": ch.get("frame"), "time": ch.get("time"),
                     "action_frame": ch.get("action_frame"), "action_time": ch.get("action_time"),
                     "seconds": ch.get("seconds"), "basis": ch.get("basis"), "basis_en": basis_en, "basis_vi": basis_vi,
                     "lower_bound": bool(ch.get("lower_bound")),
                     "upper_bound": bool(ch.get("frames_not_read_between"))})
    timed = [r for r in rows if r["seconds"] is not None and not r["lower_bound"]]
    slow = [r for r in rows if r["seconds"] is not None and float(r["seconds"]) > limit and not r["upper_bound"]]
    m = {"changes": rows, "limit_s": limit}

    def say(r: Mapping[str, Any]) -> tuple[str, str]:
        return (f"{r['from']} -> {r['to']} at frame {r['frame']} ({r['time']} s), {r['seconds']} s after "
                f"{r['basis_en']}",
                f"chuyển từ chế độ {mode_vi(r['from'])} sang {mode_vi(r['to'])} ở khung hình {r['frame']} "
                f"(giây {r['time']}), {r['seconds']} giây sau {r['basis_vi']}")

    who_en, who_vi = f"subject {sub.subject_id}", f"người dùng {sub.subject_id}"
    if slow:
        en, vi = say(slow[0])
        return not_met("DISPLAY-003", f"{who_en}: {en}: slower than {limit:g} s",
                       f"{who_vi}: {vi}: chậm hơn {limit:g} giây", evidence=v.file, item=v.index, measured=m)
    quick = [r for r in timed if float(r["seconds"]) <= limit]
    if quick:
        en, vi = say(quick[0])
        return met("DISPLAY-003", f"{who_en}: {en} (limit {limit:g} s)", f"{who_vi}: {vi} (giới hạn {limit:g} giây)",
                   evidence=v.file, item=v.index, measured=m)
    return unsure("DISPLAY-003", f"{who_en}: the recording shows the mode change but not the action that caused it "
                  "(no tap_at_seconds, no visible touch): only a bound on the switching time; look at the frames or "
                  "declare tap_at_seconds", f"{who_vi}: video cho thấy việc chuyển chế độ nhưng không thấy thao tác "
                  "gây ra nó (không có tap_at_seconds, không thấy dấu chạm): chỉ có giá trị cận của thời gian chuyển; "
                  "hãy xem các khung hình hoặc khai báo tap_at_seconds", evidence=v.file, item=v.index, measured=m)


@check("DISPLAY-003", scope="subject", needs=("payload",))
def recording_toggle_quick(sub: SubjectView) -> list[Observation]:
    """Screen recording: time from the user's action to the first frame showing the other mode, against the
    profile's display.toggle_max_seconds."""
    recs = recordings(sub)
    if not recs:
        return [not_applicable("DISPLAY-003", f"subject {sub.subject_id}: no screen recording",
                               f"người dùng {sub.subject_id}: không có video quay màn hình")]
    limit = sub.thresholds.toggle_max_seconds
    out: list[Observation] = []
    for v in recs:
        if v.error is not None:
            continue  # the item's own checks report the unusable recording
        toggle = v.detail["recording"]["toggle"]
        changes = toggle.get("changes") or []
        where = {"evidence": v.file, "item": v.index}
        tap = toggle.get("tap") or {}
        if not changes:
            if tap.get("at_seconds") is not None and tap.get("followed_by_change") is False:
                out.append(not_met("DISPLAY-003",
                                   f"subject {sub.subject_id}: the display does not change after the tap at "
                                   f"{tap['at_seconds']} s (frame {tap.get('frame')})",
                                   f"người dùng {sub.subject_id}: màn hình không đổi chế độ sau lần chạm ở giây "
                                   f"{tap['at_seconds']} (khung hình {tap.get('frame')})",
                                   measured={"tap": dict(tap), "modes_seen": toggle.get("modes_seen")}, **where))
            else:
                out.append(no_evidence("DISPLAY-003",
                                       f"subject {sub.subject_id}: the recording shows no change of display mode "
                                       f"(modes seen: {', '.join(toggle.get('modes_seen') or []) or 'none'})",
                                       f"người dùng {sub.subject_id}: video không cho thấy lần chuyển chế độ nào",
                                       measured={"modes_seen": toggle.get("modes_seen")}, **where))
            continue
        out.append(_judge_changes(sub, v, changes, limit))
    return out or [no_evidence("DISPLAY-003", f"subject {sub.subject_id}: no usable recording",
                               f"người dùng {sub.subject_id}: không có video dùng được")]


@check("DISPLAY-004", scope="subject", needs=("payload",))
def recording_masked_mode_first(sub: SubjectView) -> list[Observation]:
    """Screen recording: the first frame that shows the code shows the masked (default) mode."""
    recs = [v for v in recordings(sub) if v.error is None]
    if not recs:
        return [not_applicable("DISPLAY-004", f"subject {sub.subject_id}: no usable screen recording",
                               f"người dùng {sub.subject_id}: không có video quay màn hình dùng được")]
    out: list[Observation] = []
    for v in recs:
        first = v.detail["recording"]["first_mode"]
        m = {k: first.get(k) for k in ("frame", "time", "analysed_frame", "mode", "frames_not_read_before")}
        if first.get("frame") is None:
            out.append(no_evidence("DISPLAY-004", f"subject {sub.subject_id}: no frame of the recording shows the code",
                                   f"người dùng {sub.subject_id}: không khung hình nào của video có mã QR",
                                   measured=m, evidence=v.file, item=v.index))
        elif first.get("frames_not_read_before"):
            out.append(unsure("DISPLAY-004", f"subject {sub.subject_id}: frames before frame {first['frame']} were "
                              "not read; an earlier frame may show the code", f"người dùng {sub.subject_id}: các khung "
                              f"hình trước khung {first['frame']} chưa được đọc; mã có thể đã hiện sớm hơn",
                              measured=m, evidence=v.file, item=v.index))
        elif first.get("mode") == "default":
            out.append(met("DISPLAY-004", f"subject {sub.subject_id}: the first frame showing the code (frame "
                           f"{first['frame']}, {first['time']} s) is the masked mode",
                           f"người dùng {sub.subject_id}: khung hình đầu tiên có mã (khung {first['frame']}, giây "
                           f"{first['time']}) ở chế độ che", measured=m, evidence=v.file, item=v.index))
        elif first.get("mode") == "full":
            out.append(not_met("DISPLAY-004", f"subject {sub.subject_id}: the first frame showing the code (frame "
                               f"{first['frame']}, {first['time']} s) shows full values; the masked mode should come "
                               "first", f"người dùng {sub.subject_id}: khung hình đầu tiên có mã (khung "
                               f"{first['frame']}, giây {first['time']}) hiển thị đầy đủ; nên hiển thị chế độ che trước",
                               measured=m, evidence=v.file, item=v.index))
        else:
            out.append(unsure("DISPLAY-004", f"subject {sub.subject_id}: the mode of the first frame showing the code "
                              f"(frame {first['frame']}) could not be read", f"người dùng {sub.subject_id}: không đọc "
                              f"được chế độ của khung hình đầu tiên có mã (khung {first['frame']})",
                              measured=m, evidence=v.file, item=v.index))
    return out
