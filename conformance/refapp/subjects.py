"""Fictitious test accounts of the reference app (never real people).

When fixtures.synth.people.make_people is importable, s1 is the first self-declared person with a document number
and s2 the first proxy-declared (LoaiDinhDanh=1) person with a document number from a fixed seed; otherwise (or if
that module fails in any way) two hand-written fictitious records are used.
"""
from __future__ import annotations

import copy
from typing import Any

SEED = 1405

# Invented values: not copied from any real or published person or document.
FALLBACK_RECORDS: list[dict[str, Any]] = [
    {
        "id": "s1",
        "so_giay_to": "079186004521",
        "ho_ten": "Trần Thị Ngọc Ánh",
        "ngay_sinh": "1986-07-23",
        "loai_dinh_danh": 0,
        "qid": "163104552870412233",
        "ext": {"gender": 2, "bhyt": "HC4790123456789", "phone": "0912345670"},
    },
    {
        "id": "s2",
        "so_giay_to": "001213008842",
        "ho_ten": "Đặng Văn Đức",
        "ngay_sinh": "2013-11-05",
        "loai_dinh_danh": 1,
        "qid": "163287701122334455",
        "ext": {"proxy_qid": "163104552870412233", "gender": 1, "bhyt": "TE1010987654321"},
    },
]

LABELS = {"s1": "Test account 1", "s2": "Test account 2 (declared by proxy)"}


def _from_synth() -> list[dict[str, Any]] | None:
    try:
        from fixtures.synth.people import make_people  # optional: test-data generator of this repository
    except Exception:  # noqa: BLE001 - absent or broken: use the fallback records
        return None
    try:
        people = make_people(SEED, 40)
        self_decl = next(p for p in people if p["loai_dinh_danh"] == 0 and p["so_giay_to"])
        proxy = next(p for p in people if p["loai_dinh_danh"] == 1 and p["so_giay_to"])
    except Exception:  # noqa: BLE001
        return None
    out = []
    for sid, p in (("s1", self_decl), ("s2", proxy)):
        r = copy.deepcopy(p)
        r["id"] = sid
        out.append(r)
    return out


def load_records(use_synth: bool = True) -> list[dict[str, Any]]:
    """The two test accounts as candidate.json `subjects[]` records (ids s1, s2)."""
    recs = _from_synth() if use_synth else None
    return copy.deepcopy(recs or FALLBACK_RECORDS)
