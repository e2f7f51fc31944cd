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
