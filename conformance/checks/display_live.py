"""DISPLAY-001..004 judged from live capture (conformance.capture.live): the texts the app displayed (interface
"displayed" / DOM field texts) and the toggle timings in capture/log.json.

Packages without live capture get one finding per requirement from these checks (skip for DISPLAY-004, which only live capture can show; not_applicable otherwise); the
submitted-evidence judgements are in display.py.
"""
from __future__ import annotations

import re
from typing import Any

from conformance.capture.browser import infer_mode
from conformance.checks.registry import check, finding
from conformance.model import Finding

LIVE_SOURCES = ("http", "browser", "android")
WHAT = {"DISPLAY-001": ("document number", "số giấy tờ", "so_giay_to"),
        "DISPLAY-002": ("date of birth", "ngày sinh", "ngay_sinh")}
DATE_RE = re.compile(r"([0-9*]{1,4})\s*([-/.])\s*([0-9*]{1,2})\s*\2\s*([0-9*]{1,4})")


def _not_live(requirement: str) -> Finding:
    # DISPLAY-004 can only be shown by live capture: without it the evidence is missing (skip). DISPLAY-001..003
    # are also judged from submitted evidence by display.py, so this part simply does not apply.
    if requirement == "DISPLAY-004":
        return finding("skip", requirement, "which mode the app shows first is only observed by live capture; this "
                       "package has none", "chế độ ứng dụng hiển thị đầu tiên chỉ quan sát được khi chụp trực tiếp; "
                       "gói này không có dữ liệu chụp trực tiếp")
    return finding("not_applicable", requirement, "no live capture in this package (judged from submitted evidence)",
                   "gói không có dữ liệu chụp trực tiếp (đánh giá theo bằng chứng đã nộp)")


def live_items(ctx) -> list[Any]:
    """Evidence contexts captured live (source http/browser/android), in manifest order."""
    return [e for e in ctx.evidence if e.item.extra.get("source") in LIVE_SOURCES]


def _by_subject_step(ctx) -> dict[str, dict[str, Any]]:
    """{subject: {step: evidence context with displayed text (payload preferred), ...}} for live items."""
    out: dict[str, dict[str, Any]] = {}
    for e in live_items(ctx):
        step = e.item.extra.get("step")
        if step not in ("initial", "after_toggle"):
            continue
        slot = out.setdefault(e.item.subject, {})
        if step not in slot or (slot[step].item.extra.get("displayed") is None and e.item.extra.get("displayed")):
            slot[step] = e
    return out


# -- pure judges (unit-tested directly) ------------------------------------------------------------------------------

def judge_document_number(text: str | None, record_doc: str, mode: str) -> dict[str, Any]:
    """DISPLAY-001 on a displayed text: default = first 6 characters '*', full = whole number."""
    doc = (record_doc or "").strip()
    if not doc:
        return {"status": "not_applicable", "en": "the subject has no document number (proxy-declared)",
                "vi": "người dùng không có số giấy tờ (khai hộ)"}
    if text is None:
        return {"status": "skip", "en": "the document number field was not read from the display",
                "vi": "không đọc được trường số giấy tờ trên màn hình"}
    n = min(6, len(doc))
    expected = doc if mode == "full" else "*" * n + doc[n:]
    tokens = re.findall(r"[A-Za-z0-9*]+", text.replace(" ", "")) or [""]
    best = max(tokens, key=lambda t: (t == expected, doc[-3:] in t, "*" in t, len(t)))
    if expected in tokens:
        return {"status": "pass", "en": f"document number displayed as {'the whole number' if mode == 'full' else 'the exact mask'} in {mode} mode",
                "vi": f"số giấy tờ hiển thị {'đầy đủ' if mode == 'full' else 'đúng dạng che'} ở chế độ {mode}",
                "expected": expected, "found": best}
    if mode == "default" and doc in tokens:
        en = "default mode shows the whole document number; the first 6 characters must be '*'"
        vi = "chế độ mặc định hiển thị đầy đủ số giấy tờ; 6 ký tự đầu phải là '*'"
    elif mode == "full" and "*" in best:
        en = "full mode shows a masked document number; it must show the whole number"
        vi = "chế độ đầy đủ hiển thị số giấy tờ bị che; phải hiển thị toàn bộ"
    else:
        en = f"displayed document number {best!r} differs from the expected {mode}-mode form"
        vi = f"số giấy tờ hiển thị {best!r} khác dạng cần có ở chế độ {mode}"
    return {"status": "fail", "en": en, "vi": vi, "expected": expected, "found": best}


def _date_parts(text: str) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(3), m.group(4)) for m in DATE_RE.finditer(text)]


def judge_date_of_birth(text: str | None, record_dob: str, mode: str) -> dict[str, Any]:
    """DISPLAY-002 on a displayed text, any usual layout (YYYY-MM-DD, DD/MM/YYYY, DD.MM.YYYY ...):
    default = the day and month characters each '*' (2 each), year kept; full = the whole date."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", (record_dob or "").strip())
    if not m:
        return {"status": "error", "en": f"registered date of birth {record_dob!r} is not YYYY-MM-DD",
                "vi": f"ngày sinh đăng ký {record_dob!r} không ở dạng YYYY-MM-DD"}
    y, mo, d = m.groups()
    if text is None:
        return {"status": "skip", "en": "the date of birth field was not read from the display",
                "vi": "không đọc được trường ngày sinh trên màn hình"}
    dates = _date_parts(text)
    shown = text.strip()
    if not dates:
        status = "fail" if re.search(r"[0-9*]", shown) else "review"
        return {"status": status, "en": f"no date found in the displayed text {shown[:60]!r}",
                "vi": f"không thấy ngày tháng trong văn bản hiển thị {shown[:60]!r}", "found": shown[:60]}
    expected = f"**/**/{y} or {y}-**-**" if mode == "default" else f"{d}/{mo}/{y} or {y}-{mo}-{d}"
    for a, b, c in dates:
        year_first = len(a) == 4
        yy, others = (a, (b, c)) if year_first else (c, (a, b))
        if mode == "default":
            if yy == y and all(p == "**" for p in others):
                return {"status": "pass", "en": "date of birth displayed with day and month masked, year kept",
                        "vi": "ngày sinh hiển thị che ngày và tháng, giữ năm", "expected": expected,
                        "found": f"{a}{'-' if year_first else '/'}{b}{'-' if year_first else '/'}{c}"}
        else:
            if "*" in a + b + c:
                continue
            dm = (others[1], others[0]) if year_first else others  # (day, month)
            if yy == y and dm[0].isdigit() and dm[1].isdigit() and int(dm[0]) == int(d) and int(dm[1]) == int(mo):
                return {"status": "pass", "en": "date of birth displayed whole in full mode",
                        "vi": "ngày sinh hiển thị đầy đủ ở chế độ đầy đủ", "expected": expected,
                        "found": "".join(shown.split())[:20]}
    found = "".join(shown.split())[:30]
    if mode == "default" and not any("*" in "".join(p) for p in dates):
        en, vi = ("default mode shows the whole date of birth; day and month must be '*'",
                  "chế độ mặc định hiển thị đầy đủ ngày sinh; ngày và tháng phải là '*'")
    elif mode == "full" and any("*" in "".join(p) for p in dates):
        en, vi = ("full mode shows a masked date of birth; it must show the whole date",
                  "chế độ đầy đủ hiển thị ngày sinh bị che; phải hiển thị toàn bộ")
    else:
        en, vi = (f"displayed date of birth {found!r} differs from the expected {mode}-mode form",
                  f"ngày sinh hiển thị {found!r} khác dạng cần có ở chế độ {mode}")
    return {"status": "fail", "en": en, "vi": vi, "expected": expected, "found": found}


JUDGES = {"DISPLAY-001": judge_document_number, "DISPLAY-002": judge_date_of_birth}


def _masking(ctx, requirement: str) -> list[Finding]:
    groups = _by_subject_step(ctx)
    if not groups:
        return [_not_live(requirement)]
    en_what, vi_what, key = WHAT[requirement]
    out: list[Finding] = []
    for sid, steps in groups.items():
        record = ctx.package.subjects.get(sid) or {}
        modes_seen = set()
        for step in ("initial", "after_toggle"):
            e = steps.get(step)
            if e is None:
                continue
            shown = e.item.extra.get("displayed")
            if not shown:
                continue
            modes_seen.add(e.mode)
            v = JUDGES[requirement](shown.get(key), str(record.get(key) or ""), e.mode)
            measured = {"subject": sid, "step": step, "mode": e.mode, "source": e.item.extra.get("source")}
            out.append(finding(v["status"], requirement, f"subject {sid}, {step}: {v['en']}",
                               f"người dùng {sid}, {step}: {v['vi']}", evidence=e.item.file, field=key,
                               expected=v.get("expected"), found=v.get("found"), measured=measured))
        if modes_seen and "default" not in modes_seen:
            out.append(finding("fail", requirement,
                               f"subject {sid}: the default (masked) {en_what} was never displayed, neither initially "
                               "nor after the toggle",
                               f"người dùng {sid}: {vi_what} ở chế độ mặc định (đã che) không hề được hiển thị, cả lúc "
                               "đầu lẫn sau khi chuyển chế độ",
                               field=key, measured={"subject": sid, "modes_seen": sorted(modes_seen)}))
        elif modes_seen and "full" not in modes_seen:
            out.append(finding("skip", requirement,
                               f"subject {sid}: the full {en_what} was never displayed (see DISPLAY-003), so full mode "
                               "is not evidenced",
                               f"người dùng {sid}: {vi_what} đầy đủ không được hiển thị (xem DISPLAY-003), chưa có "
                               "bằng chứng cho chế độ đầy đủ",
                               field=key, measured={"subject": sid, "modes_seen": sorted(modes_seen)}))
    if not out:
        return [finding("skip", requirement, "live capture recorded no displayed texts to judge",
                        "dữ liệu chụp trực tiếp không ghi lại văn bản hiển thị để đánh giá")]
    return out


@check("DISPLAY-001", scope="package")
def live_display_document_number(ctx):
    """Live capture: displayed document number is the exact mask in default mode and whole in full mode."""
    return _masking(ctx, "DISPLAY-001")


@check("DISPLAY-002", scope="package")
def live_display_date_of_birth(ctx):
    """Live capture: displayed date of birth has day and month '*' in default mode and is whole in full mode."""
    return _masking(ctx, "DISPLAY-002")


@check("DISPLAY-003", scope="package")
def live_toggle_quick(ctx):
    """Live capture: one toggle action switches the display within profile display.toggle_max_seconds."""
    from conformance.capture.live import load_capture_log

    log, err = load_capture_log(ctx.package.root, ctx.package.manifest)
    if err:
        return finding("error", "DISPLAY-003", err[0], err[1], evidence=ctx.package.manifest.get("capture_log"))
    if log is None:
        return _not_live("DISPLAY-003")
    limit_s = float((ctx.profile.get("display") or {}).get("toggle_max_seconds", 1.0))
    subjects = log.get("subjects") or sorted({t.get("subject") for t in log["toggles"] if t.get("subject")})
    out = []
    for sid in subjects:
        entries = [t for t in log["toggles"] if t.get("subject") == sid]
        ev = log.get("capture_log_file") or ctx.package.manifest.get("capture_log")
        if not entries:
            out.append(finding("skip", "DISPLAY-003", f"subject {sid}: no toggle attempt was recorded (see capture errors)",
                               f"người dùng {sid}: không ghi nhận lần chuyển chế độ nào (xem lỗi khi chụp)",
                               evidence=ev, measured={"subject": sid}))
            continue
        t = entries[-1]
        measured = {"subject": sid, "source": t.get("source"), "action": t.get("action"), "toggle_ms": t.get("ms"),
                    "limit_ms": round(limit_s * 1000), "mode_before": t.get("mode_before"),
                    "mode_after": t.get("mode_after")}
        if not t.get("ok"):
            why = t.get("error_en") or "the toggle action failed"
            out.append(finding("fail", "DISPLAY-003", f"subject {sid}: no working toggle: {why}",
                               f"người dùng {sid}: không có chức năng chuyển chế độ hoạt động: {t.get('error_vi') or why}",
                               evidence=ev, measured=measured))
        elif not t.get("changed"):
            out.append(finding("fail", "DISPLAY-003",
                               f"subject {sid}: the display did not change after one toggle action ({t.get('action')})",
                               f"người dùng {sid}: màn hình không thay đổi sau một lần bấm chuyển chế độ ({t.get('action')})",
                               evidence=ev, measured=measured))
        elif t.get("ms") is None or float(t["ms"]) > limit_s * 1000:
            out.append(finding("fail", "DISPLAY-003",
                               f"subject {sid}: switching took {t.get('ms')} ms, more than {limit_s:g} s",
                               f"người dùng {sid}: chuyển chế độ mất {t.get('ms')} ms, quá {limit_s:g} giây",
                               evidence=ev, expected=f"<= {round(limit_s * 1000)} ms", found=f"{t.get('ms')} ms",
                               measured=measured))
        else:
            out.append(finding("pass", "DISPLAY-003",
                               f"subject {sid}: one action switched {t.get('mode_before')} -> {t.get('mode_after')} "
                               f"in {t['ms']} ms (limit {limit_s:g} s)",
                               f"người dùng {sid}: một thao tác chuyển {t.get('mode_before')} -> {t.get('mode_after')} "
                               f"trong {t['ms']} ms (giới hạn {limit_s:g} giây)", evidence=ev, measured=measured))
    return out or [finding("skip", "DISPLAY-003", "live capture drove no subject", "không người dùng nào được chụp trực tiếp")]


@check("DISPLAY-004", scope="package")
def live_masked_mode_first(ctx):
    """Live capture: the first screen after opening shows the default (masked) mode."""
    groups = _by_subject_step(ctx)
    if not groups:
        return _not_live("DISPLAY-004")
    out = []
    for sid, steps in groups.items():
        e = steps.get("initial")
        if e is None:
            out.append(finding("skip", "DISPLAY-004", f"subject {sid}: the initial screen was not captured",
                               f"người dùng {sid}: không chụp được màn hình ban đầu", measured={"subject": sid}))
            continue
        shown = e.item.extra.get("displayed")
        record = ctx.package.subjects.get(sid) or {}
        seen = infer_mode(shown, record)
        basis = "displayed text"
        if seen is None and e.item.extra.get("source") == "http":
            seen, basis = e.mode, "mode reported by the interface"
        measured = {"subject": sid, "source": e.item.extra.get("source"), "shown_mode": seen, "basis": basis}
        if seen == "default":
            out.append(finding("pass", "DISPLAY-004", f"subject {sid}: the app opens in the masked (default) mode",
                               f"người dùng {sid}: ứng dụng mở ở chế độ mặc định (đã che)", evidence=e.item.file,
                               measured=measured))
        elif seen == "full":
            out.append(finding("warn", "DISPLAY-004",
                               f"subject {sid}: the app opens showing full values (by {basis}); the masked mode should come first",
                               f"người dùng {sid}: ứng dụng mở với thông tin đầy đủ; nên hiển thị chế độ che trước",
                               evidence=e.item.file, measured=measured))
        else:
            out.append(finding("review", "DISPLAY-004",
                               f"subject {sid}: cannot tell the initial mode from the displayed text; check the screenshot",
                               f"người dùng {sid}: không xác định được chế độ ban đầu từ văn bản hiển thị; hãy xem ảnh chụp",
                               evidence=e.item.file, measured=measured))
    return out
