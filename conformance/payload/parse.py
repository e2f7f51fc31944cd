"""Split a decoded personal-QR payload into its fields. Never raises, whatever the input.

Grammar: ``SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT`` with EXT = '<'-separated ordered items (the field table is
conformance/rules/fields.py). This is the one payload splitter of the suite; parsing is purely structural, no
judgement here (see validate.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.rules.fields import EXT_SEP, FIELD_NAMES, FIELD_SEP
from conformance.rules.masking import MASK_CHAR


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
        return data, None, len(data.encode("utf-8", "surrogatepass"))
    if isinstance(data, (bytes, bytearray, memoryview)):
        b = bytes(data)
        try:
            return b.decode("utf-8"), None, len(b)
        except UnicodeDecodeError as e:
            text = b.decode("utf-8", "replace")
            return text, (f"input is not valid UTF-8: byte 0x{b[e.start]:02X} at byte offset {e.start} "
                          f"({e.reason}); undecodable bytes replaced by U+FFFD"), len(b)
    return str(data), f"input of type {type(data).__name__} is neither bytes nor str; used str() of it", None


def parse_payload(data: bytes | str) -> ParsedPayload:
    """Split `data` into fields and EXT items (any bytes or text; invalid UTF-8 is decoded with U+FFFD)."""
    text, err, nbytes = _to_text(data)
    fields = text.split(FIELD_SEP) if text != "" else []
    offsets: list[int] = []
    pos = 0
    for f in fields:
        offsets.append(pos)
        pos += len(f) + 1
    p = ParsedPayload(raw=text, fields=fields, field_offsets=offsets, decode_error=err, raw_bytes_length=nbytes)
    for i, name in enumerate(FIELD_NAMES):
        setattr(p, name, fields[i] if i < len(fields) else None)
    if p.ext is not None and p.ext != "":
        p.ext_items = p.ext.split(EXT_SEP)
        o = offsets[5]
        for item in p.ext_items:
            p.ext_offsets.append(o)
            o += len(item) + 1
    p.masked = {"so_giay_to": MASK_CHAR in (p.so_giay_to or ""), "ngay_sinh": MASK_CHAR in (p.ngay_sinh or "")}
    return p
