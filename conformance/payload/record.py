"""The subject's registered record (candidate.json `subjects[]`) and the payload it should produce.

Used by the checks (GEN-002) and by the fixture generator; the validator lives in validate.py.
"""
from __future__ import annotations

import unicodedata
from typing import Any

MASK_CHAR = "*"
DOC_MASK_LEN = 6  # DISPLAY-001: first 6 characters replaced by '*'


def ascii_name(name: str) -> str:
    """Vietnamese name -> payload form: upper case, no diacritics, Đ->D, single spaces, trimmed."""
    s = name.replace("Đ", "D").replace("đ", "d")
    s = unicodedata.normalize("NFD", s)
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return " ".join(s.upper().split())


def mask_document_number(value: str) -> str:
    """DISPLAY-001 default mode: '001093029317' -> '******029317'."""
    n = min(DOC_MASK_LEN, len(value))
    return MASK_CHAR * n + value[n:]


def mask_date_of_birth(value: str) -> str:
    """DISPLAY-002 default mode: '1987-01-18' -> '1987-**-**' (hyphens kept)."""
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        return value[:4] + "-**-**"
    return value


def ext_items(record: dict[str, Any]) -> list[str]:
    """EXT items in spec order (proxy QID, gender, BHYT, phone, signature), trailing empties dropped."""
    ext = record.get("ext") or {}
    items = [
        str(ext.get("proxy_qid", "") or ""),
        "" if ext.get("gender") is None else str(ext.get("gender")),
        str(ext.get("bhyt", "") or ""),
        str(ext.get("phone", "") or ""),
        str(ext.get("signature", "") or ""),
    ]
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
    items = ext_items(record)
    ext = "<".join(items)
    fields = [doc, ascii_name(record["ho_ten"]), dob, str(record["loai_dinh_danh"]), str(record["qid"]), ext]
    return "|".join(fields)


# ---------------------------------------------------------------------------------------------- GEN-002

_EXT_RECORD_KEYS = (("proxy_qid", 1, "EXT item 1 (proxy QID)", "giá trị EXT thứ 1 (QID người khai hộ)"),
                    ("gender", 2, "EXT item 2 (gender)", "giá trị EXT thứ 2 (giới tính)"),
                    ("bhyt", 3, "EXT item 3 (BHYT)", "giá trị EXT thứ 3 (BHYT)"),
                    ("phone", 4, "EXT item 4 (phone)", "giá trị EXT thứ 4 (số điện thoại)"))


def _rec_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return str(value).strip()


def compare_to_record(parsed: Any, record: dict[str, Any]) -> list:
    """GEN-002: one Violation per payload field that differs from the subject's registered record.

    Keys missing from `record` (or None) are not compared. HoTen is compared with ascii_name(record ho_ten).
    Masked positions are excepted: a masked SoGiayTo must match the record on its visible suffix (and length),
    a masked NgaySinh on its year. Never raises.
    """
    from conformance.model import Violation

    out: list[Violation] = []

    def add(fld: str, label_en: str, label_vi: str, expected: str, found: str | None, pos: int | None,
            note_en: str = "", note_vi: str = "") -> None:
        out.append(Violation(
            requirement="GEN-002",
            message_en=f"{label_en} in the payload ({found!r}) differs from the registered record "
                       f"({expected!r}){note_en}.",
            message_vi=f"{label_vi} trong mã ({found!r}) khác với dữ liệu đăng ký ({expected!r}){note_vi}.",
            field=fld, position=pos, expected=expected, found=found))

    try:
        if not isinstance(record, dict):
            return [Violation("GEN-002", f"The registered record is not a mapping ({type(record).__name__}); "
                              "nothing could be compared.",
                              f"Dữ liệu đăng ký không phải dạng từ điển ({type(record).__name__}); "
                              "không so sánh được.")]
        fo = getattr(parsed, "field_offset", lambda name: None)

        def got(name: str) -> str | None:
            return getattr(parsed, name, None)

        # SoGiayTo
        if record.get("so_giay_to") is not None:
            exp = _rec_str(record["so_giay_to"])
            found = got("so_giay_to")
            if found is not None and MASK_CHAR in found:
                n = min(DOC_MASK_LEN, len(found))
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
    except Exception as e:  # pragma: no cover - never raises
        out.append(Violation("GEN-002", f"Comparison with the registered record failed: {type(e).__name__}: {e}",
                             f"Không so sánh được với dữ liệu đăng ký: {type(e).__name__}: {e}"))
        return out
