"""DISPLAY-001..004 judged from live capture (conformance/capture/live.py): the texts the app displayed (interface
"displayed" / DOM field texts) and the toggle timings in capture/log.json.

Packages without live capture get one observation per requirement from these checks (no evidence for DISPLAY-004,
which only live capture or a recording can show; not applicable otherwise); the submitted-evidence judgements are in
display.py. The masking rule itself is conformance/rules/masking.py.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from conformance.checks._common import masked_field
from conformance.checks.context import EvidenceView, PackageView
from conformance.checks.registry import check
from conformance.model import (
    MET,
    NO_EVIDENCE,
    NOT_APPLICABLE,
    NOT_MET,
    UNUSABLE,
    Observation,
    met,
    no_evidence,
    not_applicable,
    not_met,
    unsure,
    unusable,
)
from conformance.rules import masking
from conformance.words import mode_vi

LIVE_SOURCES = ("http", "browser", "android")
STEP_VI = {"initial": "màn hình ban đầu", "after_toggle": "sau khi chuyển chế độ"}


def _not_live(requirement: str) -> Observation:
    # DISPLAY-004 can only be shown by live capture: without it the evidence is missing. DISPLAY-001..003 are also
    # judged from submitted evidence by display.py, so this part simply does not apply.
    if requirement == "DISPLAY-004":
        return no_evidence(requirement, "which mode the app shows first is only observed by live capture; this package "
                           "has none", "chế độ ứng dụng hiển thị đầu tiên chỉ quan sát được khi chụp trực tiếp; gói "
                           "này không có dữ liệu chụp trực tiếp")
    return not_applicable(requirement, "no live capture in this package (judged from submitted evidence)",
                          "gói không có dữ liệu chụp trực tiếp (đánh giá theo bằng chứng đã nộp)")


def live_items(ctx: PackageView) -> list[EvidenceView]:
    """Evidence views captured live (source http/browser/android), in manifest order."""
    return [e for e in ctx.items if e.extra.get("source") in LIVE_SOURCES]


def _by_subject_step(ctx: PackageView) -> dict[str, dict[str, EvidenceView]]:
    """{subject: {step: evidence view with displayed text (payload preferred), ...}} for live items."""
    out: dict[str, dict[str, EvidenceView]] = {}
    for e in live_items(ctx):
        step = e.extra.get("step")
        if step not in ("initial", "after_toggle") or e.error is not None:
            continue  # an item the capture could not fill shows nothing (its mode is only what was asked for)
        slot = out.setdefault(e.subject_id, {})
        if step not in slot or (slot[step].extra.get("displayed") is None and e.extra.get("displayed")):
            slot[step] = e
    return out


# -- pure judges (unit-tested directly) ------------------------------------------------------------------------------

def judge_document_number(text: str | None, record_doc: str, mode: str) -> dict[str, Any]:
    """DISPLAY-001 on a displayed text read exactly (interface or DOM): default = the masking rule's form, full =
    the whole number. Returns {"seen", "en", "vi", "expected", "found"}."""
    doc = (record_doc or "").strip()
    if not doc:
        return {"seen": NOT_APPLICABLE, "en": "the subject has no document number (proxy-declared)",
                "vi": "người dùng không có số giấy tờ (khai hộ)"}
    if text is None:
        return {"seen": NO_EVIDENCE, "en": "the document number field was not read from the display",
                "vi": "không đọc được trường số giấy tờ trên màn hình"}
    expected = masking.expected_document_number(doc, mode)
    tokens = re.findall(r"[A-Za-z0-9*]+", text.replace(" ", "")) or [""]
    classes = {t: masking.classify_document_number(t.upper(), doc.upper()) for t in tokens}
    best = max(tokens, key=lambda t: (classes[t] is not None, masking.MASK_CHAR in t, len(t)))
    want = masking.FULL if mode == "full" else masking.EXACT
    if want in classes.values() and (mode == "full" or masking.FULL not in classes.values()):
        return {"seen": MET, "en": f"document number displayed as {'the whole number' if mode == 'full' else 'the exact mask'} in {mode} mode",
                "vi": f"số giấy tờ hiển thị {'đầy đủ' if mode == 'full' else 'đúng dạng che'} ở chế độ {mode_vi(mode)}",
                "expected": expected, "found": best}
    if mode == "default" and masking.FULL in classes.values():
        en = "default mode shows the whole document number; the first 6 characters must be '*'"
        vi = "chế độ mặc định hiển thị đầy đủ số giấy tờ; 6 ký tự đầu phải là '*'"
    elif mode == "full" and masking.MASK_CHAR in best:
        en = "full mode shows a masked document number; it must show the whole number"
        vi = "chế độ đầy đủ hiển thị số giấy tờ bị che; phải hiển thị toàn bộ"
    else:
        en = f"displayed document number {best!r} differs from the expected {mode}-mode form {expected!r}"
        vi = f"số giấy tờ hiển thị {best!r} khác dạng cần có ở chế độ {mode_vi(mode)} {expected!r}"
    return {"seen": NOT_MET, "en": en, "vi": vi, "expected": expected, "found": best}


def judge_date_of_birth(text: str | None, record_dob: str, mode: str) -> dict[str, Any]:
    """DISPLAY-002 on a displayed text read exactly, any usual layout (YYYY-MM-DD, DD/MM/YYYY, DD.MM.YYYY ...):
    default = the masking rule's form (day and month '**', year kept), full = the whole date."""
    ymd = masking.parse_iso((record_dob or "").strip())
    if ymd is None:
        return {"seen": UNUSABLE, "en": f"registered date of birth {record_dob!r} is not YYYY-MM-DD",
                "vi": f"ngày sinh đăng ký {record_dob!r} không ở dạng YYYY-MM-DD"}
    if text is None:
        return {"seen": NO_EVIDENCE, "en": "the date of birth field was not read from the display",
                "vi": "không đọc được trường ngày sinh trên màn hình"}
    shown = text.strip()
    dates = masking.shown_dates(shown)
    expected = masking.expected_date_of_birth(record_dob.strip(), mode)
    found = "".join(shown.split())[:30]
    if not dates:
        return {"seen": NOT_MET, "en": f"no date found in the displayed text {shown[:60]!r}",
                "vi": f"không thấy ngày tháng trong văn bản hiển thị {shown[:60]!r}", "expected": expected,
                "found": shown[:60]}
    classes = [masking.classify_date(d, m, y, ymd) for _, d, m, y in dates]
    if mode == "default" and masking.EXACT in classes and masking.FULL not in classes:
        return {"seen": MET, "en": "date of birth displayed with day and month masked, year kept",
                "vi": "ngày sinh hiển thị che ngày và tháng, giữ năm", "expected": expected, "found": found}
    # in full mode the date must read as the date (day before month, or year first): the whole value in another
    # order still leaks it in default mode, but does not display it correctly
    in_order = [c == masking.FULL and int(d) == ymd[2] and int(m) == ymd[1] for c, (_, d, m, _y) in zip(classes, dates)]
    if mode == "full" and any(in_order) and not {masking.EXACT, masking.WRONG} & set(classes):
        return {"seen": MET, "en": "date of birth displayed whole in full mode",
                "vi": "ngày sinh hiển thị đầy đủ ở chế độ đầy đủ", "expected": expected, "found": found}
    masked = any(masking.MASK_CHAR in "".join(p[1:]) for p in dates)
    if mode == "default" and not masked:
        en, vi = ("default mode shows the whole date of birth; day and month must be '*'",
                  "chế độ mặc định hiển thị đầy đủ ngày sinh; ngày và tháng phải là '*'")
    elif mode == "full" and masked:
        en, vi = ("full mode shows a masked date of birth; it must show the whole date",
                  "chế độ đầy đủ hiển thị ngày sinh bị che; phải hiển thị toàn bộ")
    else:
        en, vi = (f"displayed date of birth {found!r} differs from the expected {mode}-mode form",
                  f"ngày sinh hiển thị {found!r} khác dạng cần có ở chế độ {mode_vi(mode)}")
    return {"seen": NOT_MET, "en": en, "vi": vi, "expected": expected, "found": found}


JUDGES: dict[str, Callable[[str | None, str, str], dict[str, Any]]] = {
    "DISPLAY-001": judge_document_number, "DISPLAY-002": judge_date_of_birth}


def _masking(ctx: PackageView, requirement: str) -> list[Observation]:
    groups = _by_subject_step(ctx)
    if not groups:
        return [_not_live(requirement)]
    en_what, vi_what, key = masked_field(requirement)
    out: list[Observation] = []
    for sid, steps in groups.items():
        record: Mapping[str, Any] = ctx.subjects.get(sid) or {}
        modes_seen = set()
        for step in ("initial", "after_toggle"):
            e = steps.get(step)
            if e is None:
                continue
            shown = e.extra.get("displayed")
            if not shown:
                continue
            modes_seen.add(e.mode)
            v = JUDGES[requirement](shown.get(key), str(record.get(key) or ""), e.mode)
            measured = {"subject": sid, "step": step, "mode": e.mode, "source": e.extra.get("source")}
            out.append(Observation(requirement=requirement, seen=v["seen"], message_en=f"subject {sid}, {step}: {v['en']}",
                                   message_vi=f"người dùng {sid}, {STEP_VI[step]}: {v['vi']}", evidence=e.file,
                                   field=key, expected=v.get("expected"), found=v.get("found"), measured=measured))
        if modes_seen and "default" not in modes_seen:
            out.append(not_met(requirement,
                               f"subject {sid}: the default (masked) {en_what} was never displayed, neither initially "
                               "nor after the toggle",
                               f"người dùng {sid}: {vi_what} ở chế độ mặc định (đã che) không hề được hiển thị, cả lúc "
                               "đầu lẫn sau khi chuyển chế độ",
                               field=key, measured={"subject": sid, "modes_seen": sorted(modes_seen)}))
        elif modes_seen and "full" not in modes_seen:
            out.append(no_evidence(requirement,
                                   f"subject {sid}: the full {en_what} was never displayed (see DISPLAY-003), so full "
                                   "mode is not evidenced",
                                   f"người dùng {sid}: {vi_what} đầy đủ không được hiển thị (xem DISPLAY-003), chưa có "
                                   "bằng chứng cho chế độ đầy đủ",
                                   field=key, measured={"subject": sid, "modes_seen": sorted(modes_seen)}))
    if not out:
        return [no_evidence(requirement, "live capture recorded no displayed texts to judge",
                            "dữ liệu chụp trực tiếp không ghi lại văn bản hiển thị để đánh giá")]
    return out


@check("DISPLAY-001", scope="package")
def live_display_document_number(ctx: PackageView) -> list[Observation]:
    """Live capture: displayed document number is the exact mask in default mode and whole in full mode."""
    return _masking(ctx, "DISPLAY-001")


@check("DISPLAY-002", scope="package")
def live_display_date_of_birth(ctx: PackageView) -> list[Observation]:
    """Live capture: displayed date of birth has day and month '*' in default mode and is whole in full mode."""
    return _masking(ctx, "DISPLAY-002")


def _capture_log(ctx: PackageView, requirement: str) -> tuple[Mapping[str, Any] | None, list[Observation]]:
    if ctx.capture_log_error is not None:
        en, vi = ctx.capture_log_error
        return None, [unusable(requirement, en, vi, evidence=ctx.capture_log_file)]
    if ctx.capture_log is None:
        return None, [_not_live(requirement)]
    return ctx.capture_log, []


@check("DISPLAY-003", scope="package", needs=("capture_log",))
def live_toggle_quick(ctx: PackageView) -> list[Observation]:
    """Live capture: one toggle action switches the display within profile display.toggle_max_seconds."""
    log, early = _capture_log(ctx, "DISPLAY-003")
    if log is None:
        return early
    limit_s = ctx.thresholds.toggle_max_seconds
    toggles = [t for t in log.get("toggles") or [] if isinstance(t, dict)]
    subjects = log.get("subjects") or sorted({str(t.get("subject")) for t in toggles if t.get("subject")})
    ev = ctx.capture_log_file
    out: list[Observation] = []
    for sid in subjects:
        entries = [t for t in toggles if t.get("subject") == sid]
        if not entries:
            out.append(no_evidence("DISPLAY-003", f"subject {sid}: no toggle attempt was recorded (see capture errors)",
                                   f"người dùng {sid}: không ghi nhận lần chuyển chế độ nào (xem lỗi khi chụp)",
                                   evidence=ev, measured={"subject": sid}))
            continue
        t = entries[-1]
        measured = {"subject": sid, "source": t.get("source"), "action": t.get("action"), "toggle_ms": t.get("ms"),
                    "limit_ms": round(limit_s * 1000), "mode_before": t.get("mode_before"),
                    "mode_after": t.get("mode_after")}
        if t.get("answered") is False:
            # The candidate did not answer the toggle action usably (transport error, timeout, cap, garbage): the
            # suite saw nothing of the toggle, so nothing is judged.
            why = t.get("error_en") or "no usable answer to the toggle action"
            out.append(unusable("DISPLAY-003", f"subject {sid}: the candidate did not answer the toggle action: {why}",
                                f"người dùng {sid}: ứng dụng không phản hồi thao tác chuyển chế độ: "
                                f"{t.get('error_vi') or why}", evidence=ev, measured=measured))
        elif not t.get("ok"):
            why = t.get("error_en") or "the toggle action failed"
            out.append(not_met("DISPLAY-003", f"subject {sid}: no working toggle: {why}",
                               f"người dùng {sid}: không có chức năng chuyển chế độ hoạt động: {t.get('error_vi') or why}",
                               evidence=ev, measured=measured))
        elif not t.get("changed"):
            out.append(not_met("DISPLAY-003",
                               f"subject {sid}: the display did not change after one toggle action ({t.get('action')})",
                               f"người dùng {sid}: màn hình không thay đổi sau một lần bấm chuyển chế độ "
                               f"({t.get('action')})", evidence=ev, measured=measured))
        elif t.get("ms") is None or float(t["ms"]) > limit_s * 1000:
            out.append(not_met("DISPLAY-003",
                               f"subject {sid}: switching took {t.get('ms')} ms, more than {limit_s:g} s",
                               f"người dùng {sid}: chuyển chế độ mất {t.get('ms')} ms, quá {limit_s:g} giây",
                               evidence=ev, expected=f"<= {round(limit_s * 1000)} ms", found=f"{t.get('ms')} ms",
                               measured=measured))
        else:
            out.append(met("DISPLAY-003",
                           f"subject {sid}: one action switched {t.get('mode_before')} -> {t.get('mode_after')} "
                           f"in {t['ms']} ms (limit {limit_s:g} s)",
                           f"người dùng {sid}: một thao tác chuyển từ chế độ {mode_vi(t.get('mode_before'))} sang "
                           f"{mode_vi(t.get('mode_after'))} trong {t['ms']} ms (giới hạn {limit_s:g} giây)",
                           evidence=ev, measured=measured))
    return out or [no_evidence("DISPLAY-003", "live capture drove no subject", "không người dùng nào được chụp trực tiếp")]


@check("DISPLAY-004", scope="package")
def live_masked_mode_first(ctx: PackageView) -> list[Observation]:
    """Live capture: the first screen after opening shows the default (masked) mode."""
    groups = _by_subject_step(ctx)
    if not groups:
        return [_not_live("DISPLAY-004")]
    out: list[Observation] = []
    for sid, steps in groups.items():
        e = steps.get("initial")
        if e is None:
            out.append(no_evidence("DISPLAY-004", f"subject {sid}: the initial screen was not captured",
                                   f"người dùng {sid}: không chụp được màn hình ban đầu", measured={"subject": sid}))
            continue
        shown = e.extra.get("displayed") or {}
        record = dict(ctx.subjects.get(sid) or {})
        seen = masking.displayed_mode(shown.get("so_giay_to"), shown.get("ngay_sinh"), record) if shown else None
        basis, basis_vi = "displayed text", "văn bản hiển thị"
        if seen is None and e.extra.get("source") == "http":
            seen, basis, basis_vi = e.mode, "mode reported by the interface", "chế độ do giao diện báo"
        measured = {"subject": sid, "source": e.extra.get("source"), "shown_mode": seen, "basis": basis}
        if seen == "default":
            out.append(met("DISPLAY-004", f"subject {sid}: the app opens in the masked (default) mode",
                           f"người dùng {sid}: ứng dụng mở ở chế độ mặc định (đã che)", evidence=e.file,
                           measured=measured))
        elif seen == "full":
            out.append(not_met("DISPLAY-004",
                               f"subject {sid}: the app opens showing full values (by {basis}); the masked mode should "
                               "come first",
                               f"người dùng {sid}: ứng dụng mở với thông tin đầy đủ (theo {basis_vi}); nên hiển thị chế "
                               "độ che trước", evidence=e.file, measured=measured))
        else:
            out.append(unsure("DISPLAY-004",
                              f"subject {sid}: cannot tell the initial mode from the displayed text; check the screenshot",
                              f"người dùng {sid}: không xác định được chế độ ban đầu từ văn bản hiển thị; hãy xem ảnh "
                              "chụp", evidence=e.file, measured=measured))
    return out
