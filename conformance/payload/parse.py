"""Split a decoded personal-QR payload into its fields. Never raises, whatever the input.

Grammar (spec-v1.1 §3.1): ``SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT`` with EXT = '<'-separated ordered items.
Parsing is purely structural: no judgement here (see validate.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELD_SEP = "|"
EXT_SEP = "<"
MASK_CHAR = "*"
FIELD_NAMES = ("so_giay_to", "ho_ten", "ngay_sinh", "loai_dinh_danh", "qid", "ext")
SPEC_FIELD_NAMES = ("SoGiayTo", "HoTen", "NgaySinh", "LoaiDinhDanh", "QID", "EXT")
EXT_ITEM_NAMES = ("proxy_qid", "gender", "bhyt", "phone", "signature")


@dataclass
class ParsedPayload:
    """The payload as split on '|' and '<'. Named fields are None when the payload has too few fields."""

    raw: str
    fields: list[str]
    field_offsets: list[int]  # 0-based char offset of each field's first character in `raw`
    so_giay_to: str | None = None
    ho_ten: str | None = None
    ngay_sinh: str | None = None
    loai_dinh_danh: str | None = None
    qid: str | None = None
    ext: str | None = None  # None when the payload has fewer than 6 fields; "" when present but empty
    ext_items: list[str] = field(default_factory=list)
    ext_offsets: list[int] = field(default_factory=list)  # offset of each EXT item in `raw`
    masked: dict[str, bool] = field(default_factory=lambda: {"so_giay_to": False, "ngay_sinh": False})
    decode_error: str | None = None  # set when the input bytes were not valid UTF-8 (or input was not text)
    raw_bytes_length: int | None = None  # length of the input in bytes (UTF-8 length when given text)

    @property
    def field_count(self) -> int:
        return len(self.fields)

    def field_offset(self, name: str) -> int | None:
        """Offset in `raw` of the named field (so_giay_to … ext), None when absent."""
        try:
            i = FIELD_NAMES.index(name)
        except ValueError:
            return None
        return self.field_offsets[i] if i < len(self.field_offsets) else None

    def ext_item(self, index: int) -> str | None:
        """EXT item by 1-based spec position (1 = proxy QID … 5 = signature); None when absent."""
        return self.ext_items[index - 1] if 1 <= index <= len(self.ext_items) else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; validated by specs/payload.schema.json."""
        return {
            "raw": self.raw,
            "field_count": self.field_count,
            "fields": list(self.fields),
            "field_offsets": list(self.field_offsets),
            "so_giay_to": self.so_giay_to,
            "ho_ten": self.ho_ten,
            "ngay_sinh": self.ngay_sinh,
            "loai_dinh_danh": self.loai_dinh_danh,
            "qid": self.qid,
            "ext": self.ext,
            "ext_items": list(self.ext_items),
            "ext_offsets": list(self.ext_offsets),
            "masked": {"so_giay_to": bool(self.masked.get("so_giay_to")),
                       "ngay_sinh": bool(self.masked.get("ngay_sinh"))},
            "decode_error": self.decode_error,
            "raw_bytes_length": self.raw_bytes_length,
        }


def _to_text(data: Any) -> tuple[str, str | None, int | None]:
    """Input -> (text, decode_error, byte length). Invalid UTF-8 is decoded with U+FFFD replacements."""
    if data is None:
        return "", "no input (None)", 0
    if isinstance(data, str):
        try:
            n = len(data.encode("utf-8", "surrogatepass"))
        except Exception:  # pragma: no cover - defensive
            n = None
        return data, None, n
    if isinstance(data, (bytes, bytearray, memoryview)):
        b = bytes(data)
        try:
            return b.decode("utf-8"), None, len(b)
        except UnicodeDecodeError as e:
            text = b.decode("utf-8", "replace")
            return text, (f"input is not valid UTF-8: byte 0x{b[e.start]:02X} at byte offset {e.start} "
                          f"({e.reason}); undecodable bytes replaced by U+FFFD"), len(b)
    try:
        text = str(data)
    except Exception:
        return "", f"input of type {type(data).__name__} cannot be read as text", None
    return text, f"input of type {type(data).__name__} is neither bytes nor str; used str() of it", None


def parse_payload(data: bytes | str) -> ParsedPayload:
    """Split `data` into fields and EXT items. Never raises."""
    try:
        text, err, nbytes = _to_text(data)
        fields = text.split(FIELD_SEP) if text != "" else []
        offsets: list[int] = []
        pos = 0
        for f in fields:
            offsets.append(pos)
            pos += len(f) + 1
        p = ParsedPayload(raw=text, fields=fields, field_offsets=offsets, decode_error=err,
                          raw_bytes_length=nbytes)
        named = {name: (fields[i] if i < len(fields) else None) for i, name in enumerate(FIELD_NAMES)}
        for name, value in named.items():
            setattr(p, name, value)
        if p.ext is not None and p.ext != "":
            p.ext_items = p.ext.split(EXT_SEP)
            o = offsets[5]
            for item in p.ext_items:
                p.ext_offsets.append(o)
                o += len(item) + 1
        p.masked = {"so_giay_to": MASK_CHAR in (p.so_giay_to or ""),
                    "ngay_sinh": MASK_CHAR in (p.ngay_sinh or "")}
        return p
    except Exception as e:  # pragma: no cover - last-resort guard: parse_payload never raises
        return ParsedPayload(raw="", fields=[], field_offsets=[],
                             decode_error=f"internal parse error: {type(e).__name__}: {e}")
