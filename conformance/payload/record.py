"""The subject's registered record (candidate.json `subjects[]`) and the payload it should produce.

Used by the checks (GEN-002) and by the fixture generator; the validator lives in validate.py.
"""
from __future__ import annotations

import unicodedata
from typing import Any

from conformance.model import Violation
from conformance.rules.fields import EXT_ITEMS, EXT_SEP, FIELD_SEP, ext_label
from conformance.rules.masking import MASK_CHAR, doc_mask_length, mask_date_of_birth, mask_document_number


def ascii_name(name: str) -> str:
    """Vietnamese name -> payload form: upper case, no diacritics, Đ->D, single spaces, trimmed."""
    s = name.replace("Đ", "D").replace("đ", "d")
    s = unicodedata.normalize("NFD", s)
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return " ".join(s.upper().split())


def ext_items(record: dict[str, Any]) -> list[str]:
    """EXT items in spec order (proxy QID, gender, BHYT, phone, signature), trailing empties dropped."""
    ext = record.get("ext") or {}
    items = ["" if ext.get(f.key) is None else str(ext.get(f.key)) for f in EXT_ITEMS]
    while items and items[-1] == "":
        items.pop()
    return items


def build_payload(record: dict[str, Any], masked: bool = False) -> str:
    """The v1.1 payload string for a registered record; `masked` applies DISPLAY-001/002 to it."""
    doc = str(record.get("so_giay_to", "") or "")
    dob = str(record["ngay_sinh"])
    if masked:
        doc = mask_document_number(doc) if doc else doc
        dob = mask_date_of_birth(dob)
    ext = EXT_SEP.join(ext_items(record))
    fields = [doc, ascii_name(record["ho_ten"]), dob, str(record["loai_dinh_danh"]), str(record["qid"]), ext]
    return FIELD_SEP.join(fields)


# ---------------------------------------------------------------------------------------------- GEN-002

# EXT items compared with the record (the signature is not registered data).
_EXT_RECORD_KEYS = tuple((f.key, i, *ext_label(i)) for i, f in enumerate(EXT_ITEMS[:4], start=1))


def _rec_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return str(value).strip()


def compare_to_record(parsed: Any, record: dict[str, Any]) -> list[Violation]:
    """GEN-002: one Violation per payload field that differs from the subject's registered record.

    Keys missing from `record` (or None) are not compared. HoTen is compared with ascii_name(record ho_ten).
    Masked positions are excepted (the masking rule, conformance/rules/masking.py): a masked SoGiayTo must match the
    record on its visible suffix (and length), a masked NgaySinh on its year.
    """
    out: list[Violation] = []

    def add(fld: str, label_en: str, label_vi: str, expected: str, found: str | None, pos: int | None,
            note_en: str = "", note_vi: str = "") -> None:
        out.append(Violation(
            requirement="GEN-002",
            message_en=f"{label_en} in the payload ({found!r}) differs from the registered record "
                       f"({expected!r}){note_en}.",
            message_vi=f"{label_vi} trong mã ({found!r}) khác với dữ liệu đăng ký ({expected!r}){note_vi}.",
            field=fld, position=pos, expected=expected, found=found))

    fo = getattr(parsed, "field_offset", lambda name: None)

    def got(name: str) -> str | None:
        return getattr(parsed, name, None)

    # SoGiayTo
    if record.get("so_giay_to") is not None:
        exp = _rec_str(record["so_giay_to"])
        found = got("so_giay_to")
        if found is not None and MASK_CHAR in found:
            n = doc_mask_length(len(found))
            ok = len(found) == len(exp) and found[n:] == exp[n:]
            if not ok:
                add("so_giay_to", "SoGiayTo (masked; visible part compared)",
                    "SoGiayTo (bị che; so phần hiển thị)", exp, found, fo("so_giay_to"),
                    f"; expected mask {mask_document_number(exp)!r}",
                    f"; dạng che đúng là {mask_document_number(exp)!r}")
        elif found != exp:
            add("so_giay_to", "SoGiayTo", "SoGiayTo", exp, found, fo("so_giay_to"))
    # HoTen
    if record.get("ho_ten") is not None:
        exp = ascii_name(_rec_str(record["ho_ten"]))
        found = got("ho_ten")
        if found != exp:
            add("ho_ten", "HoTen", "HoTen", exp, found, fo("ho_ten"))
    # NgaySinh
    if record.get("ngay_sinh") is not None:
        exp = _rec_str(record["ngay_sinh"])
        found = got("ngay_sinh")
        if found is not None and MASK_CHAR in found:
            if found[:4] != exp[:4] or len(found) != len(exp):
                add("ngay_sinh", "NgaySinh (masked; year compared)", "NgaySinh (bị che; so năm)", exp, found,
                    fo("ngay_sinh"), f"; expected mask {mask_date_of_birth(exp)!r}",
                    f"; dạng che đúng là {mask_date_of_birth(exp)!r}")
        elif found != exp:
            add("ngay_sinh", "NgaySinh", "NgaySinh", exp, found, fo("ngay_sinh"))
    # LoaiDinhDanh, QID
    for key, label in (("loai_dinh_danh", "LoaiDinhDanh"), ("qid", "QID")):
        if record.get(key) is not None:
            exp = _rec_str(record[key])
            found = got(key)
            if found != exp:
                add(key, label, label, exp, found, fo(key))
    # EXT items
    ext = record.get("ext")
    if isinstance(ext, dict):
        items = list(getattr(parsed, "ext_items", None) or [])
        offs = list(getattr(parsed, "ext_offsets", None) or [])
        for key, idx, label_en, label_vi in _EXT_RECORD_KEYS:
            if ext.get(key) is None:
                continue
            exp = _rec_str(ext[key])
            found = items[idx - 1] if idx <= len(items) else ""
            if found != exp:
                pos = offs[idx - 1] if idx <= len(offs) else fo("ext")
                add(f"ext.{key}", label_en, label_vi, exp, found, pos)
    return out
