"""GEN-*: one unified code per person, carrying the registered record (spec-v1.1 §2.1)."""
from __future__ import annotations

from conformance.checks._common import no_payload
from conformance.checks.registry import check, finding
from conformance.checks.registry import from_violation


# A field that breaks its own format rule is reported by that rule, not again as a mismatch with the record:
# one defect, one failed requirement. Record field -> the rules that judge its form.
FORM_RULES = {
    "so_giay_to": {"PAYLOAD-002", "DISPLAY-001"}, "ho_ten": {"PAYLOAD-003"},
    "ngay_sinh": {"PAYLOAD-004", "DISPLAY-002"}, "loai_dinh_danh": {"PAYLOAD-005"}, "qid": {"PAYLOAD-006"},
    "ext.proxy_qid": {"PAYLOAD-007", "PAYLOAD-008"}, "ext.gender": {"PAYLOAD-007", "PAYLOAD-009"},
    "ext.bhyt": {"PAYLOAD-007", "PAYLOAD-010"}, "ext.phone": {"PAYLOAD-007", "PAYLOAD-011"},
    "ext.signature": {"PAYLOAD-007", "PAYLOAD-012"},
}


@check("GEN-002")
def payload_matches_record(ev):
    """Decoded fields equal the subject's registered record (masked positions excepted)."""
    report = ev.payload_report
    if report is None:
        return no_payload(ev, "GEN-002")
    if ev.subject is None:
        return finding("error", "GEN-002", "the evidence names no known subject", "bằng chứng không gắn với người dùng đã khai báo")
    violated = {v.requirement for v in report.violations}
    if "PAYLOAD-001" in violated:
        return finding("skip", "GEN-002", "fields cannot be compared with the record: the payload structure is "
                       "invalid (see PAYLOAD-001)", "không so sánh được với dữ liệu đăng ký: cấu trúc nội dung mã "
                       "không hợp lệ (xem PAYLOAD-001)")
    from conformance.payload import compare_to_record

    malformed = sorted(f for f, rules in FORM_RULES.items() if rules & violated)
    diffs = [v for v in compare_to_record(report.parsed, ev.subject) if v.field not in malformed]
    if diffs:
        return [from_violation(v) for v in diffs]
    note_en = f" ({', '.join(malformed)} not compared: malformed, see the format rules)" if malformed else ""
    note_vi = f" (không so sánh {', '.join(malformed)}: sai định dạng, xem các quy tắc định dạng)" if malformed else ""
    return finding("pass", "GEN-002", f"all decoded fields match the registered record{note_en}",
                   f"mọi trường giải mã trùng với dữ liệu đăng ký{note_vi}", measured={"not_compared": malformed})


@check("GEN-001", scope="subject")
def one_code_per_person(sub):
    """Every capture of a subject in one display mode carries the same payload, and one QID throughout."""
    decoded = [(e, e.payload_text) for e in sub.evidence if not e.error and e.payload_text is not None]
    if not decoded:
        return finding("skip", "GEN-001", f"subject {sub.subject_id}: no decoded capture to compare",
                       f"người dùng {sub.subject_id}: không có ảnh/nội dung giải mã được để so sánh")
    out = []
    for mode in ("default", "full"):
        texts = {t for e, t in decoded if e.mode == mode}
        files = [e.item.file for e, _ in decoded if e.mode == mode]
        if len(texts) > 1:
            out.append(finding("fail", "GEN-001",
                               f"subject {sub.subject_id}, {mode} mode: {len(texts)} different payloads across {len(files)} captures",
                               f"người dùng {sub.subject_id}, chế độ {mode}: {len(texts)} nội dung khác nhau trên {len(files)} lần chụp",
                               measured={"mode": mode, "captures": files, "distinct_payloads": len(texts)}))
    qids = set()
    for _, t in decoded:
        parts = t.split("|")
        if len(parts) == 6:
            qids.add(parts[4])
    if len(qids) > 1:
        out.append(finding("fail", "GEN-001", f"subject {sub.subject_id}: captures carry {len(qids)} different QIDs",
                           f"người dùng {sub.subject_id}: các lần chụp mang {len(qids)} QID khác nhau",
                           measured={"distinct_qids": len(qids)}))
    if out:
        return out
    counts = {m: sum(1 for e, _ in decoded if e.mode == m) for m in ("default", "full")}
    return finding("pass", "GEN-001",
                   f"subject {sub.subject_id}: one payload per mode ({counts['default']} default, {counts['full']} full captures)",
                   f"người dùng {sub.subject_id}: mỗi chế độ một nội dung ({counts['default']} ảnh mặc định, {counts['full']} ảnh đầy đủ)",
                   measured=counts)
