"""The payload's field table (PAYLOAD-001, PAYLOAD-007..012): the one place field names and labels are written.

``SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT``, EXT being ordered items separated by '<' (specs/SOURCES.md).
"""
from __future__ import annotations

from dataclasses import dataclass

FIELD_SEP = "|"
EXT_SEP = "<"


@dataclass(frozen=True)
class Field:
    key: str  # name in candidate.json records and in code
    spec: str  # name in the decision's field table
    requirement: str  # the PAYLOAD-* rule that judges its form
    label_en: str
    label_vi: str


FIELDS: tuple[Field, ...] = (
    Field("so_giay_to", "SoGiayTo", "PAYLOAD-002", "document number", "số giấy tờ"),
    Field("ho_ten", "HoTen", "PAYLOAD-003", "full name", "họ và tên"),
    Field("ngay_sinh", "NgaySinh", "PAYLOAD-004", "date of birth", "ngày sinh"),
    Field("loai_dinh_danh", "LoaiDinhDanh", "PAYLOAD-005", "identification type", "loại định danh"),
    Field("qid", "QID", "PAYLOAD-006", "QRQG user code", "mã người dùng QRQG"),
    Field("ext", "EXT", "PAYLOAD-007", "extension values", "giá trị mở rộng"),
)

# EXT items in their fixed order (1-based position = index + 1). Items after the fifth are "other information".
EXT_ITEMS: tuple[Field, ...] = (
    Field("proxy_qid", "EXT 1", "PAYLOAD-008", "proxy declarant's QID", "QID người khai hộ"),
    Field("gender", "EXT 2", "PAYLOAD-009", "gender", "giới tính"),
    Field("bhyt", "EXT 3", "PAYLOAD-010", "health-insurance (BHYT) number", "mã thẻ BHYT"),
    Field("phone", "EXT 4", "PAYLOAD-011", "phone number", "số điện thoại"),
    Field("signature", "EXT 5", "PAYLOAD-012", "electronic signature", "chữ ký điện tử"),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.key for f in FIELDS)
SPEC_FIELD_NAMES: tuple[str, ...] = tuple(f.spec for f in FIELDS)
EXT_ITEM_NAMES: tuple[str, ...] = tuple(f.key for f in EXT_ITEMS)
BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
EXT_BY_KEY: dict[str, Field] = {f.key: f for f in EXT_ITEMS}

# Record fields that hold personal identifiers (masked in reports; candidate.json `subjects[]` keys).
PERSONAL_KEYS: tuple[str, ...] = ("so_giay_to", "ho_ten", "ngay_sinh", "qid")
PERSONAL_EXT_KEYS: tuple[str, ...] = ("proxy_qid", "bhyt", "phone")
# Identifiers that must never travel in a URL (PRIV-001): a URL carrying only a subject id or an opaque token is fine.
URL_FORBIDDEN_KEYS: tuple[str, ...] = ("so_giay_to", "ngay_sinh", "phone", "bhyt")


def ext_label(position: int) -> tuple[str, str]:
    """(en, vi) label of the EXT item at 1-based `position`."""
    if 1 <= position <= len(EXT_ITEMS):
        f = EXT_ITEMS[position - 1]
        return f"EXT item {position} ({f.label_en})", f"giá trị EXT thứ {position} ({f.label_vi})"
    return f"EXT item {position} (other information)", f"giá trị EXT thứ {position} (thông tin khác)"


def field_requirement(record_key: str) -> str | None:
    """The PAYLOAD-* rule that judges the form of a record field (`ext.bhyt` style keys for EXT items)."""
    if record_key.startswith("ext."):
        f = EXT_BY_KEY.get(record_key[4:])
        return f.requirement if f else "PAYLOAD-007"
    f = BY_KEY.get(record_key)
    return f.requirement if f else None
