"""Fictitious test accounts of the reference app (never real people): s1 self-declared, s2 declared by proxy."""
from __future__ import annotations

import copy
from typing import Any

# Invented values: not copied from any real or published person or document.
RECORDS: list[dict[str, Any]] = [
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


def load_records() -> list[dict[str, Any]]:
    """The two test accounts as candidate.json `subjects[]` records (ids s1, s2)."""
    return copy.deepcopy(RECORDS)
