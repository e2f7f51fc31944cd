"""PAYLOAD-*: the decoded string's structure and fields (specs/SOURCES.md, field table). Thin: the rules live in
conformance/payload/validate.py; each check here reports one requirement on one evidence item."""
from __future__ import annotations

from conformance.checks._common import no_payload
from conformance.checks.context import EvidenceView
from conformance.checks.registry import check
from conformance.model import UNSURE, Observation, from_violation, met, no_evidence, not_applicable
from conformance.payload.validate import PayloadReport
from conformance.rules.fields import EXT_ITEMS, FIELDS, ext_label


def _subject_of(requirement: str) -> tuple[str, str]:
    """(en, vi) of what a PAYLOAD-* rule judges, from the field table."""
    if requirement == "PAYLOAD-001":
        return "structure", "cấu trúc"
    for f in FIELDS:
        if f.requirement == requirement:
            return f.spec, f.spec
    for i, f in enumerate(EXT_ITEMS, start=1):
        if f.requirement == requirement:
            return ext_label(i)
    return requirement, requirement


def structure_broken(report: PayloadReport) -> bool:
    return any(v.requirement == "PAYLOAD-001" for v in report.violations)


def structure_skip(requirement: str) -> Observation:
    return no_evidence(requirement, "field not judged: the payload does not split into six fields (see PAYLOAD-001)",
                       "không đánh giá trường này: nội dung mã không tách được thành sáu trường (xem PAYLOAD-001)")


def judge_rule(ev: EvidenceView, requirement: str) -> list[Observation]:
    """Observations for one payload rule: each violation of it, each value it could not judge, or one pass
    (with the rule's information notes)."""
    report = ev.payload
    if report is None:
        return [no_payload(ev, requirement)]
    if requirement != "PAYLOAD-001" and structure_broken(report):
        return [structure_skip(requirement)]
    out = [from_violation(v) for v in report.violations if v.requirement == requirement]
    out += [from_violation(v, seen=UNSURE) for v in report.review if v.requirement == requirement]
    if out:
        return out
    en, vi = _subject_of(requirement)
    notes = [v for v in report.notes if v.requirement == requirement]
    if notes:
        return [met(requirement, f"{en}: conforms; {notes[0].message_en}", f"{vi}: đạt yêu cầu; {notes[0].message_vi}",
                    field=notes[0].field, measured={"notes": [n.message_en for n in notes]})]
    return [met(requirement, f"{en}: conforms", f"{vi}: đạt yêu cầu")]


@check("PAYLOAD-001", needs=("payload",))
def payload_six_fields(ev: EvidenceView) -> list[Observation]:
    """Exactly six '|'-separated fields."""
    return judge_rule(ev, "PAYLOAD-001")


@check("PAYLOAD-002", needs=("payload",))
def payload_document_number(ev: EvidenceView) -> list[Observation]:
    """SoGiayTo is a CCCD/CMND/passport number, present when self-declared."""
    return judge_rule(ev, "PAYLOAD-002")


@check("PAYLOAD-003", needs=("payload",))
def payload_name_format(ev: EvidenceView) -> list[Observation]:
    """HoTen upper case ASCII, single spaces."""
    return judge_rule(ev, "PAYLOAD-003")


@check("PAYLOAD-004", needs=("payload",))
def payload_date_of_birth(ev: EvidenceView) -> list[Observation]:
    """NgaySinh YYYY-MM-DD, real, not in the future."""
    return judge_rule(ev, "PAYLOAD-004")


@check("PAYLOAD-005", needs=("payload",))
def payload_identification_type(ev: EvidenceView) -> list[Observation]:
    """LoaiDinhDanh is 0 or 1."""
    return judge_rule(ev, "PAYLOAD-005")


@check("PAYLOAD-006", needs=("payload",))
def payload_qid(ev: EvidenceView) -> list[Observation]:
    """QID non-empty, no separators."""
    return judge_rule(ev, "PAYLOAD-006")


@check("PAYLOAD-007", needs=("payload",))
def payload_ext_structure(ev: EvidenceView) -> list[Observation]:
    """EXT items separated by '<' (items after the fifth are information)."""
    return judge_rule(ev, "PAYLOAD-007")


@check("PAYLOAD-008", needs=("payload",))
def payload_ext_proxy_qid(ev: EvidenceView) -> list[Observation]:
    """EXT item 1 agrees with LoaiDinhDanh."""
    return judge_rule(ev, "PAYLOAD-008")


@check("PAYLOAD-009", needs=("payload",))
def payload_ext_gender(ev: EvidenceView) -> list[Observation]:
    """EXT item 2 is 0, 1 or 2."""
    return judge_rule(ev, "PAYLOAD-009")


@check("PAYLOAD-010", needs=("payload",))
def payload_ext_insurance_number(ev: EvidenceView) -> list[Observation]:
    """EXT item 3 is a well-formed BHYT number (derived format)."""
    return judge_rule(ev, "PAYLOAD-010")


@check("PAYLOAD-011", needs=("payload",))
def payload_ext_phone(ev: EvidenceView) -> list[Observation]:
    """EXT item 4 is exactly 10 digits."""
    return judge_rule(ev, "PAYLOAD-011")


@check("PAYLOAD-012", needs=("payload",))
def payload_ext_signature(ev: EvidenceView) -> list[Observation]:
    """EXT item 5 (electronic signature) is shown for human review, never failed."""
    report = ev.payload
    if report is None:
        return [no_payload(ev, "PAYLOAD-012")]
    if structure_broken(report):
        return [structure_skip("PAYLOAD-012")]
    items = [v for v in report.review + report.violations if v.requirement == "PAYLOAD-012"]
    if items:
        return [from_violation(v, seen=UNSURE) for v in items]
    return [not_applicable("PAYLOAD-012", "no electronic signature item (EXT item 5) in this payload",
                           "nội dung mã không có chữ ký điện tử (giá trị EXT thứ 5)")]
