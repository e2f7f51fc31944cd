"""GEN-*: one unified code per person, carrying the registered record (specs/SOURCES.md, general clauses)."""
from __future__ import annotations

from conformance.checks._common import no_payload
from conformance.checks.context import EvidenceView, SubjectView
from conformance.checks.registry import check
from conformance.model import Observation, from_violation, met, no_evidence, not_applicable, not_met, unusable
from conformance.payload import compare_to_record, parse_payload
from conformance.rules.fields import FIELD_NAMES, field_requirement

# The masking rule judges the form of the two masked fields as well as their PAYLOAD-* rule.
_MASKED_FIELD_RULES = {"so_giay_to": "DISPLAY-001", "ngay_sinh": "DISPLAY-002"}
_RECORD_KEYS = FIELD_NAMES[:5] + tuple(f"ext.{k}" for k in ("proxy_qid", "gender", "bhyt", "phone", "signature"))


def form_rules(record_key: str) -> set[str]:
    """The rules that judge the form of a record field: a malformed field is reported by them, not again as a
    mismatch with the record (one defect, one failed requirement)."""
    rules = {r for r in (field_requirement(record_key), _MASKED_FIELD_RULES.get(record_key)) if r}
    if record_key.startswith("ext."):
        rules.add("PAYLOAD-007")
    return rules


@check("GEN-002", needs=("payload",))
def payload_matches_record(ev: EvidenceView) -> list[Observation]:
    """Decoded fields equal the subject's registered record (masked positions excepted)."""
    report = ev.payload
    if report is None:
        return [no_payload(ev, "GEN-002")]
    if ev.record is None:
        return [unusable("GEN-002", "the evidence names no known subject",
                         "bằng chứng không gắn với người dùng đã khai báo")]
    violated = {v.requirement for v in report.violations}
    if "PAYLOAD-001" in violated:
        return [no_evidence("GEN-002", "fields cannot be compared with the record: the payload structure is invalid "
                            "(see PAYLOAD-001)", "không so sánh được với dữ liệu đăng ký: cấu trúc nội dung mã không "
                            "hợp lệ (xem PAYLOAD-001)")]
    malformed = sorted(k for k in _RECORD_KEYS if form_rules(k) & violated)
    diffs = [v for v in compare_to_record(report.parsed, dict(ev.record)) if v.field not in malformed]
    if diffs:
        return [from_violation(v) for v in diffs]
    note_en = f" ({', '.join(malformed)} not compared: malformed, see the format rules)" if malformed else ""
    note_vi = f" (không so sánh {', '.join(malformed)}: sai định dạng, xem các quy tắc định dạng)" if malformed else ""
    return [met("GEN-002", f"all decoded fields match the registered record{note_en}",
                f"mọi trường giải mã trùng với dữ liệu đăng ký{note_vi}", measured={"not_compared": malformed})]


MODE_VI = {"default": "mặc định", "full": "đầy đủ"}


@check("GEN-001", scope="subject", needs=("payload",))
def one_code_per_person(sub: SubjectView) -> list[Observation]:
    """Every capture of a subject in one display mode carries the same payload, and one QID throughout."""
    decoded = [(e, e.payload_text) for e in sub.items if e.error is None and e.payload_text is not None]
    if not decoded:
        return [no_evidence("GEN-001", f"subject {sub.subject_id}: no decoded capture to compare",
                            f"người dùng {sub.subject_id}: không có ảnh/nội dung giải mã được để so sánh")]
    out: list[Observation] = []
    for mode in ("default", "full"):
        texts = {t for e, t in decoded if e.mode == mode}
        files = [e.file for e, _ in decoded if e.mode == mode]
        if len(texts) > 1:
            out.append(not_met("GEN-001",
                               f"subject {sub.subject_id}, {mode} mode: {len(texts)} different payloads across "
                               f"{len(files)} captures",
                               f"người dùng {sub.subject_id}, chế độ {MODE_VI[mode]}: {len(texts)} nội dung khác nhau "
                               f"trên {len(files)} lần chụp",
                               measured={"mode": mode, "captures": files, "distinct_payloads": len(texts)}))
    qids = {p.qid for p in (parse_payload(t) for _, t in decoded) if p.field_count == 6}
    if len(qids) > 1:
        out.append(not_met("GEN-001", f"subject {sub.subject_id}: captures carry {len(qids)} different QIDs",
                           f"người dùng {sub.subject_id}: các lần chụp mang {len(qids)} QID khác nhau",
                           measured={"distinct_qids": len(qids)}))
    if out:
        return out
    counts = {m: sum(1 for e, _ in decoded if e.mode == m) for m in ("default", "full")}
    return [met("GEN-001",
                f"subject {sub.subject_id}: one payload per mode ({counts['default']} default, {counts['full']} full "
                "captures)",
                f"người dùng {sub.subject_id}: mỗi chế độ một nội dung ({counts['default']} ảnh mặc định, "
                f"{counts['full']} ảnh đầy đủ)", measured=counts)]


@check("GEN-001", scope="subject", needs=("payload",))
def recording_one_code_per_mode(sub: SubjectView) -> list[Observation]:
    """Screen recording: every frame read in one display mode shows the same payload."""
    recs = {v.index: v for v in sub.items if v.kind == "recording" and v.error is None and "recording" in v.detail}
    if not recs:
        return [not_applicable("GEN-001", f"subject {sub.subject_id}: no usable screen recording",
                               f"người dùng {sub.subject_id}: không có video quay màn hình dùng được")]
    out: list[Observation] = []
    for v in recs.values():
        modes = v.detail["recording"]["payloads"]["modes"]
        for mode in ("default", "full"):
            info = modes.get(mode) or {}
            if info.get("count", 0) > 1:
                frames = [(p["frame"], p["time"]) for p in info["payloads"]]
                out.append(not_met("GEN-001", f"subject {sub.subject_id}, {mode} mode: the recording shows "
                                   f"{info['count']} different payloads (first seen at frames "
                                   f"{', '.join(f'{f} ({t} s)' for f, t in frames)})",
                                   f"người dùng {sub.subject_id}, chế độ {MODE_VI[mode]}: video có {info['count']} "
                                   "nội dung mã khác nhau (lần đầu ở các khung hình "
                                   f"{', '.join(f'{f} (giây {t})' for f, t in frames)})",
                                   evidence=v.file, measured={"mode": mode, "frames": [f for f, _ in frames]}))
        if not any(o.evidence == v.file for o in out):
            counts = {m: (modes.get(m) or {}).get("count", 0) for m in ("default", "full")}
            out.append(met("GEN-001", f"subject {sub.subject_id}: the recording shows one payload per mode read "
                           f"({counts['default']} in default, {counts['full']} in full mode)",
                           f"người dùng {sub.subject_id}: video có một nội dung mã cho mỗi chế độ đọc được "
                           f"({counts['default']} ở chế độ mặc định, {counts['full']} ở chế độ đầy đủ)",
                           evidence=v.file, measured=counts))
    return out
