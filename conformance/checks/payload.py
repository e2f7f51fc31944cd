"""PAYLOAD-*: the decoded string's structure and fields (spec-v1.1 §2.3, §3). Thin: the rules live in
conformance.payload.validate; each check here judges one requirement on one evidence item."""
from __future__ import annotations

from conformance.checks._common import no_payload
from conformance.checks.registry import check, finding, from_violation
from conformance.model import Finding

FIELD_OF = {
    "PAYLOAD-001": ("structure", "cấu trúc"), "PAYLOAD-002": ("SoGiayTo", "SoGiayTo"), "PAYLOAD-003": ("HoTen", "HoTen"),
    "PAYLOAD-004": ("NgaySinh", "NgaySinh"), "PAYLOAD-005": ("LoaiDinhDanh", "LoaiDinhDanh"), "PAYLOAD-006": ("QID", "QID"),
    "PAYLOAD-007": ("EXT", "EXT"), "PAYLOAD-008": ("EXT item 1 (proxy QID)", "EXT mục 1 (QID người khai hộ)"),
    "PAYLOAD-009": ("EXT item 2 (gender)", "EXT mục 2 (giới tính)"), "PAYLOAD-010": ("EXT item 3 (BHYT)", "EXT mục 3 (BHYT)"),
    "PAYLOAD-011": ("EXT item 4 (phone)", "EXT mục 4 (số điện thoại)"),
}


def structure_broken(report) -> bool:
    return any(v.requirement == "PAYLOAD-001" for v in report.violations)


def structure_skip(requirement: str) -> Finding:
    return finding("skip", requirement, "field not judged: the payload does not split into six fields (see PAYLOAD-001)",
                   "không đánh giá trường này: nội dung mã không tách được thành sáu trường (xem PAYLOAD-001)")


def judge_rule(ev, requirement: str) -> list[Finding]:
    """Findings for one payload rule: each violation of it, or one pass."""
    report = ev.payload_report
    if report is None:
        return [no_payload(ev, requirement)]
    if requirement != "PAYLOAD-001" and structure_broken(report):
        return [structure_skip(requirement)]
    out = [from_violation(v) for v in report.violations if v.requirement == requirement]
    # SHOULD-strength remarks inside a MUST rule (e.g. proxy QID missing when LoaiDinhDanh=1) are warnings.
    out += [from_violation(v, status="warn") for v in report.review if v.requirement == requirement]
    if out:
        return out
    en, vi = FIELD_OF[requirement]
    return [finding("pass", requirement, f"{en}: conforms", f"{vi}: đạt yêu cầu")]


@check("PAYLOAD-001")
def payload_six_fields(ev):
    """Exactly six '|'-separated fields."""
    return judge_rule(ev, "PAYLOAD-001")


@check("PAYLOAD-002")
def payload_document_number(ev):
    """SoGiayTo is a CCCD/CMND/passport number, present when self-declared."""
    return judge_rule(ev, "PAYLOAD-002")


@check("PAYLOAD-003")
def payload_name_format(ev):
    """HoTen upper case ASCII, single spaces."""
    return judge_rule(ev, "PAYLOAD-003")


@check("PAYLOAD-004")
def payload_date_of_birth(ev):
    """NgaySinh YYYY-MM-DD, real, not in the future."""
    return judge_rule(ev, "PAYLOAD-004")


@check("PAYLOAD-005")
def payload_identification_type(ev):
    """LoaiDinhDanh is 0 or 1."""
    return judge_rule(ev, "PAYLOAD-005")


@check("PAYLOAD-006")
def payload_qid(ev):
    """QID non-empty, no separators."""
    return judge_rule(ev, "PAYLOAD-006")


@check("PAYLOAD-007")
def payload_ext_structure(ev):
    """EXT items separated by '<'."""
    return judge_rule(ev, "PAYLOAD-007")


@check("PAYLOAD-008")
def payload_ext_proxy_qid(ev):
    """EXT item 1 agrees with LoaiDinhDanh."""
    return judge_rule(ev, "PAYLOAD-008")


@check("PAYLOAD-009")
def payload_ext_gender(ev):
    """EXT item 2 is 0, 1 or 2."""
    return judge_rule(ev, "PAYLOAD-009")


@check("PAYLOAD-010")
def payload_ext_insurance_number(ev):
    """EXT item 3 is a well-formed BHYT number (derived format)."""
    return judge_rule(ev, "PAYLOAD-010")


@check("PAYLOAD-011")
def payload_ext_phone(ev):
    """EXT item 4 is exactly 10 digits."""
    return judge_rule(ev, "PAYLOAD-011")


@check("PAYLOAD-012")
def payload_ext_signature(ev):
    """EXT item 5 (electronic signature) is shown for human review, never failed."""
    report = ev.payload_report
    if report is None:
        return no_payload(ev, "PAYLOAD-012")
    if structure_broken(report):
        return structure_skip("PAYLOAD-012")
    items = [v for v in report.review + report.violations if v.requirement == "PAYLOAD-012"]
    if items:
        return [from_violation(v, status="review") for v in items]
    return finding("not_applicable", "PAYLOAD-012", "no electronic signature item (EXT item 5) in this payload",
                   "nội dung mã không có chữ ký điện tử (EXT mục 5)")
