"""Judge a decoded personal-QR payload against 1405 v1.1 §2.3/§2.4 (PAYLOAD-001..012, DISPLAY-001/002).

Every violation names the requirement, the field and `position`, the 0-based character offset in the whole payload
(machine field); messages name 1-based character positions inside the field ("character 3 of HoTen"). A crash here
is a suite bug and propagates (the engine reports it as `error`, never as a failed requirement).

Decisions where v1.1 is silent (specs/SOURCES.md, open questions), chosen to avoid failing a conformant app:
- A payload that does not split into exactly 6 fields gets PAYLOAD-001 only: field boundaries are then unknown,
  so no per-field judgement is made.
- SoGiayTo: digits only = exactly 12 (CCCD) or 9 (CMND) digits; with a letter = a passport number as ICAO 9303
  writes it: at most 9 characters (6 to 9), A-Z and 0-9, at least one letter (Vietnamese passports: one letter and 7
  digits). So ``07920300451O`` (a CCCD with the letter O) is not a document number.
- A masked SoGiayTo follows the masking rule (conformance/rules/masking.py): the first 6 characters '*', the
  visible suffix '*'-free; the whole is the mask of a CCCD/CMND (9 or 12 characters, digit suffix) or of a passport
  number (at most 9 characters). A masked NgaySinh is exactly ``YYYY-**-**`` (hyphens kept) with a year not in the
  future. A value with '*' elsewhere is a wrong mask: DISPLAY-001/002, not PAYLOAD-002/004 as well.
- PAYLOAD-007 is violated by: control/format characters or line breaks in EXT (e.g. a trailing CR/LF), whitespace
  padding around an item, an HTML/percent-escaped separator (``&lt;``, ``&#60;``, ``%3C``), or EXT holding one
  of ',' ';' '>' and no '<' (another separator used instead of '<'). In the last two cases items are not judged.
  Item values are judged after stripping padding, so padding is reported once, under PAYLOAD-007.
- EXT items 3/4 containing '*' outside full mode cannot be judged (apps were seen masking them; v1.1 says
  nothing): `unsure`, for review, not failed. In full mode they are failed under PAYLOAD-010/011.
- `unsure` (a person must look): electronic signature present (PAYLOAD-012, no format in v1.1), masked EXT items.
- A violation with a `remark`: the proxy QID missing when LoaiDinhDanh=1 (PAYLOAD-008 remark `proxy-qid-missing`,
  whose level the catalogue gives: SHOULD).
- `notes` (information on a pass): EXT items 6+ ("các thông tin khác theo nhu cầu thực tiễn" — allowed by v1.1).
- Input over `max_bytes`: PAYLOAD-001 violation, only the first `max_bytes` bytes are parsed, nothing judged.
- Unknown `mode` values are treated as None, unknown `masking` values as "allowed".
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.model import Violation
from conformance.rules import masking
from conformance.rules.fields import EXT_SEP, FIELD_NAMES, SPEC_FIELD_NAMES

from .parse import ParsedPayload, parse_payload

MASK_CHAR = masking.MASK_CHAR

MODES = ("default", "full", None)
MASKINGS = ("allowed", "required", "forbidden")

CCCD_RE = re.compile(r"[0-9]{12}")
CMND_RE = re.compile(r"[0-9]{9}")
PASSPORT_RE = re.compile(r"(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,9}")
DOC_SUFFIX_RE = re.compile(r"[A-Z0-9]*")
NAME_RE = re.compile(r"[A-Z]+(?: [A-Z]+)*")
DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
BHYT_RE = re.compile(r"[A-Z]{2}[1-5][0-9]{2}[0-9]{10}")
BHXH_RE = re.compile(r"[0-9]{10}")
PHONE_RE = re.compile(r"[0-9]{10}")
GENDERS = ("0", "1", "2")
PROXY_QID_MISSING = "proxy-qid-missing"  # PAYLOAD-008 remark; its level is in specs/requirements.yaml
WRONG_EXT_SEPARATORS = (",", ";", ">")
ESCAPED_LT = ("&lt;", "&#60;", "&#x3c;", "%3c")
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_FOUND_MAX = 80


def _show(value: Any) -> str:
    s = repr(value) if isinstance(value, str) else str(value)
    return s if len(s) <= _FOUND_MAX else s[: _FOUND_MAX - 3] + "..."


def _bad_char(ch: str) -> bool:
    """Control, format, unassigned, line/paragraph separator, or the U+FFFD left by a decoding error."""
    return ch == "\ufffd" or unicodedata.category(ch) in _BAD_CATEGORIES


def _is_diacritic(ch: str) -> bool:
    """A Vietnamese letter with diacritics (or Đ/đ) or a combining mark."""
    if ch in "Đđ" or unicodedata.category(ch) == "Mn":
        return True
    base = unicodedata.normalize("NFD", ch)
    return len(base) > 1 and base[0].isascii() and base[0].isalpha()


def _first(s: str, pred: Callable[[str], bool]) -> int | None:
    for i, ch in enumerate(s):
        if pred(ch):
            return i
    return None


@dataclass
class PayloadReport:
    parsed: ParsedPayload
    violations: list[Violation] = field(default_factory=list)
    review: list[Violation] = field(default_factory=list)  # unsure: a person must look
    mode: str | None = None
    masking: str = "allowed"
    notes: list[Violation] = field(default_factory=list)  # information on a pass

    @property
    def ok(self) -> bool:
        return not self.violations

    def requirements_violated(self) -> set[str]:
        return {v.requirement for v in self.violations}

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "mode": self.mode,
            "masking": self.masking,
            "parsed": self.parsed.to_dict(),
            "violations": [v.to_dict() for v in self.violations],
            "review": [v.to_dict() for v in self.review],
            "notes": [v.to_dict() for v in self.notes],
        }


class _Ctx:
    def __init__(self, p: ParsedPayload, mode: str | None, masking: str, today: _dt.date):
        self.p = p
        self.mode = mode
        self.masking = masking
        self.today = today
        self.violations: list[Violation] = []
        self.review: list[Violation] = []
        self.notes: list[Violation] = []

    def add(self, req: str, en: str, vi: str, fld: str | None = None, pos: int | None = None,
            expected: str | None = None, found: Any = None, review: bool = False, note: bool = False,
            remark: str | None = None) -> None:
        v = Violation(requirement=req, message_en=en, message_vi=vi, field=fld, position=pos,
                      expected=expected, found=None if found is None else _show(found), remark=remark)
        (self.notes if note else self.review if review else self.violations).append(v)

    def off(self, name: str, within: int = 0) -> int | None:
        o = self.p.field_offset(name)
        return None if o is None else o + within


# ---------------------------------------------------------------------------------------------- fields


def _check_structure(c: _Ctx) -> bool:
    p = c.p
    n = p.field_count
    if n == 6:
        return True
    if n == 0:
        c.add("PAYLOAD-001", "The payload is empty: expected six fields SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT.",
              "Nội dung mã rỗng: cần sáu trường SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT.",
              None, 0, "6 fields", "")
        return False
    if n > 6:
        pos = p.field_offsets[6] - 1  # the 6th '|' separator
        en = (f"The payload has {n} fields separated by '|' (expected exactly 6); the extra separator is character "
              f"{pos + 1} of the payload. A '|' inside a field is not allowed, so fields cannot be identified.")
        vi = (f"Nội dung mã có {n} trường phân cách bởi '|' (cần đúng 6); dấu phân cách thừa là ký tự thứ {pos + 1} "
              f"của nội dung mã. Không được có dấu '|' trong một trường nên không xác định được các trường.")
        found = f"{n} fields"
    else:
        pos = len(p.raw)
        en = (f"The payload has only {n} field(s) separated by '|' (expected exactly 6: "
              f"SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT; EXT may be empty but its '|' must be present).")
        vi = (f"Nội dung mã chỉ có {n} trường phân cách bởi '|' (cần đúng 6: "
              f"SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT; EXT có thể rỗng nhưng vẫn phải có dấu '|').")
        found = f"{n} field(s)"
    c.add("PAYLOAD-001", en, vi, None, pos, "6 fields", found)
    return False


def _doc_value_problem(v: str) -> tuple[str, str, int] | None:
    """Problem with an unmasked SoGiayTo value -> (en, vi, offset within value) or None."""
    if CCCD_RE.fullmatch(v) or CMND_RE.fullmatch(v) or PASSPORT_RE.fullmatch(v):
        return None
    if v.isascii() and v.isdigit():
        return (f"SoGiayTo has {len(v)} digits: a CCCD number has 12 digits and a CMND number 9.",
                f"SoGiayTo có {len(v)} chữ số: số CCCD gồm 12 chữ số, số CMND gồm 9 chữ số.", 0)
    bad = _first(v, lambda ch: not ("A" <= ch <= "Z" or "0" <= ch <= "9"))
    if bad is not None:
        return (f"SoGiayTo contains {v[bad]!r} at character {bad + 1}: a document number holds only digits "
                f"(CCCD/CMND) or upper-case letters and digits (passport).",
                f"SoGiayTo chứa ký tự {v[bad]!r} ở ký tự thứ {bad + 1}: số giấy tờ chỉ gồm chữ số (CCCD/CMND) "
                f"hoặc chữ in hoa và chữ số (hộ chiếu).", bad)
    if len(v) > 9:
        return (f"SoGiayTo {v!r} has {len(v)} characters with a letter: a CCCD/CMND number is digits only (12 or 9) "
                f"and a passport number (ICAO 9303) has at most 9 characters.",
                f"SoGiayTo {v!r} có {len(v)} ký tự, trong đó có chữ cái: số CCCD/CMND chỉ gồm chữ số (12 hoặc 9) "
                f"còn số hộ chiếu (ICAO 9303) có tối đa 9 ký tự.", 0)
    return (f"SoGiayTo {v!r} is neither a CCCD (12 digits), a CMND (9 digits) nor a passport number "
            f"(6-9 upper-case letters/digits with at least one letter).",
            f"SoGiayTo {v!r} không phải số CCCD (12 chữ số), CMND (9 chữ số) hay số hộ chiếu "
            f"(6-9 chữ in hoa/chữ số, có ít nhất một chữ cái).", 0)


def _doc_mask_problem(v: str) -> tuple[str, str, int] | None:
    """Wrong placement of '*' in a masked SoGiayTo -> (en, vi, offset) or None when it follows the masking rule."""
    prob = masking.document_mask_problem(v)
    if prob is None:
        return None
    i, why = prob
    n = masking.doc_mask_length(len(v))
    if why == "missing":
        return (f"Masked SoGiayTo {v!r}: default mode replaces exactly the first {n} characters with '*' "
                f"(e.g. ******029317); character {i + 1} is not '*'.",
                f"SoGiayTo bị che {v!r}: chế độ mặc định thay đúng {n} ký tự đầu bằng '*' "
                f"(ví dụ ******029317); ký tự thứ {i + 1} không phải '*'.", i)
    return (f"Masked SoGiayTo {v!r}: only the first {n} characters may be '*'; character {i + 1} is '*'.",
            f"SoGiayTo bị che {v!r}: chỉ {n} ký tự đầu được thay bằng '*'; ký tự thứ {i + 1} lại là '*'.", i)


def _check_so_giay_to(c: _Ctx) -> None:
    v = c.p.so_giay_to or ""
    loai = c.p.loai_dinh_danh
    f = "so_giay_to"
    if v == "":
        if loai == "0":
            c.add("PAYLOAD-002", "SoGiayTo is empty but is required when LoaiDinhDanh is 0 (self-declared).",
                  "SoGiayTo bị để trống nhưng là bắt buộc khi LoaiDinhDanh là 0 (người dùng tự khai).",
                  f, c.off(f), "[0-9]{12} | [0-9]{9} | [A-Z0-9]{6,9}", v)
        return
    if MASK_CHAR in v:
        mask_problem = _doc_mask_problem(v)
        value_problem = None
        if mask_problem is None:
            m = masking.doc_mask_length(len(v))
            suffix = v[m:]
            digits = suffix.isascii() and suffix.isdigit()
            if not ((digits and len(v) in (9, 12)) or (6 <= len(v) <= 9 and DOC_SUFFIX_RE.fullmatch(suffix))):
                value_problem = (f"Masked SoGiayTo {v!r} cannot be the mask of a CCCD (12), CMND (9) or passport "
                                 f"number (6-9 upper-case letters/digits).",
                                 f"SoGiayTo bị che {v!r} không thể là dạng che của số CCCD (12), CMND (9) hay "
                                 f"hộ chiếu (6-9 chữ in hoa/chữ số).", m)
        if c.mode == "full":
            en = "Full display mode shows the whole document number, but SoGiayTo contains '*'."
            vi = "Chế độ hiển thị đầy đủ phải hiện toàn bộ số giấy tờ, nhưng SoGiayTo có dấu '*'."
            c.add("DISPLAY-001", en, vi, f, c.off(f, v.index(MASK_CHAR)), "[0-9A-Z]+ (không có '*' / no '*')", v)
        elif c.mode == "default" and c.masking == "forbidden":
            en = "The profile forbids masking in the payload, but SoGiayTo contains '*'."
            vi = "Hồ sơ đánh giá không cho phép che trong nội dung mã, nhưng SoGiayTo có dấu '*'."
            c.add("DISPLAY-001", en, vi, f, c.off(f, v.index(MASK_CHAR)), "[0-9A-Z]+ (không có '*' / no '*')", v)
        elif mask_problem is not None:
            c.add("DISPLAY-001", mask_problem[0], mask_problem[1], f, c.off(f, mask_problem[2]),
                  "******[0-9A-Z]+", v)
        if value_problem is not None:
            c.add("PAYLOAD-002", value_problem[0], value_problem[1], f, c.off(f, value_problem[2]),
                  "[0-9]{12} | [0-9]{9} | [A-Z0-9]{6,9}", v)
        return
    prob = _doc_value_problem(v)
    if prob is not None:
        c.add("PAYLOAD-002", prob[0], prob[1], f, c.off(f, prob[2]),
              "[0-9]{12} | [0-9]{9} | [A-Z0-9]{6,9}", v)
    if c.mode == "default" and c.masking == "required":
        c.add("DISPLAY-001", "Default display mode: the first 6 characters of SoGiayTo must be replaced by '*'.",
              "Chế độ hiển thị mặc định: 6 ký tự đầu của SoGiayTo phải được thay bằng '*'.",
              f, c.off(f), "******[0-9A-Z]+", v)


def _check_ho_ten(c: _Ctx) -> None:
    v = c.p.ho_ten or ""
    f = "ho_ten"
    exp = "[A-Z]+( [A-Z]+)*"  # language-neutral: shown under both the Vietnamese and English text
    if v == "":
        c.add("PAYLOAD-003", "HoTen is empty but is required.", "HoTen bị để trống nhưng là bắt buộc.",
              f, c.off(f), exp, v)
        return
    if NAME_RE.fullmatch(v):
        return
    if v[0] == " ":
        en, vi, i = "HoTen starts with a space.", "HoTen bắt đầu bằng khoảng trắng.", 0
    elif v[-1] == " ":
        en, vi, i = "HoTen ends with a space.", "HoTen kết thúc bằng khoảng trắng.", len(v) - 1
    elif "  " in v:
        i = v.index("  ")
        en = f"HoTen has more than one space between words at character {i + 1}."
        vi = f"HoTen có nhiều hơn một khoảng trắng giữa các từ ở ký tự thứ {i + 1}."
    else:
        found = _first(v, _is_diacritic)
        if found is None:
            found = _first(v, lambda ch: not ("A" <= ch <= "Z" or ch == " "))
        i = found if found is not None else 0
        ch = v[i]
        if _is_diacritic(ch):
            en = f"HoTen contains the Vietnamese letter or diacritic {ch!r} at character {i + 1}: write it " \
                 f"without diacritics (Đ as D)."
            vi = f"HoTen chứa ký tự có dấu {ch!r} ở ký tự thứ {i + 1}: phải viết không dấu (Đ viết thành D)."
        elif ch.isalpha() and ch.islower():
            en = f"HoTen contains the lower-case letter {ch!r} at character {i + 1}: it must be upper case."
            vi = f"HoTen chứa chữ thường {ch!r} ở ký tự thứ {i + 1}: phải viết hoa."
        elif ch.isspace():
            en = f"HoTen contains the whitespace {ch!r} at character {i + 1}: words are separated by one " \
                 f"ordinary space."
            vi = f"HoTen chứa ký tự trắng {ch!r} ở ký tự thứ {i + 1}: các từ cách nhau bởi một khoảng trắng thường."
        else:
            en = f"HoTen contains {ch!r} at character {i + 1}: only upper-case letters A-Z and single spaces are " \
                 f"allowed."
            vi = f"HoTen chứa ký tự {ch!r} ở ký tự thứ {i + 1}: chỉ được dùng chữ in hoa A-Z và một khoảng trắng " \
                 f"giữa các từ."
    c.add("PAYLOAD-003", en, vi, f, c.off(f, i), exp, v)


def _date_value_problem(v: str, today: _dt.date) -> tuple[str, str, int] | None:
    m = DATE_RE.fullmatch(v)
    if not m:
        hint_en = hint_vi = ""
        if re.fullmatch(r"[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{4}", v):
            hint_en, hint_vi = " (looks like DD-MM-YYYY)", " (có vẻ theo dạng DD-MM-YYYY)"
        elif re.fullmatch(r"[0-9]{4}[/.][0-9]{1,2}[/.][0-9]{1,2}", v):
            hint_en, hint_vi = " (wrong separator: use '-')", " (sai dấu phân cách: phải dùng '-')"
        return (f"NgaySinh {v!r} is not in the form YYYY-MM-DD{hint_en}.",
                f"NgaySinh {v!r} không theo định dạng YYYY-MM-DD{hint_vi}.", 0)
    try:
        d = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return (f"NgaySinh {v!r} is not a real calendar date.", f"NgaySinh {v!r} không phải ngày có thật.", 0)
    if d > today:
        return (f"NgaySinh {v!r} is in the future (today is {today.isoformat()}).",
                f"NgaySinh {v!r} ở tương lai (hôm nay là {today.isoformat()}).", 0)
    return None


def _date_mask_problem(v: str) -> tuple[str, str, int] | None:
    prob = masking.date_mask_problem(v)
    if prob is None:
        return None
    i, why = prob
    if why == "year":
        return (f"Masked NgaySinh {v!r}: default mode hides only day and month (YYYY-**-**); the year is masked.",
                f"NgaySinh bị che {v!r}: chế độ mặc định chỉ che ngày và tháng (YYYY-**-**); năm đã bị che.", i)
    return (f"Masked NgaySinh {v!r}: default mode replaces the day and month with '*' keeping the hyphens "
            f"(YYYY-**-**); character {i + 1} does not match.",
            f"NgaySinh bị che {v!r}: chế độ mặc định thay ngày và tháng bằng '*' và giữ dấu gạch ngang "
            f"(YYYY-**-**); ký tự thứ {i + 1} không khớp.", i)


def _check_ngay_sinh(c: _Ctx) -> None:
    v = c.p.ngay_sinh or ""
    f = "ngay_sinh"
    if v == "":
        c.add("PAYLOAD-004", "NgaySinh is empty but is required.", "NgaySinh bị để trống nhưng là bắt buộc.",
              f, c.off(f), "YYYY-MM-DD", v)
        return
    if MASK_CHAR in v:
        mask_problem = _date_mask_problem(v)
        value_problem = None
        if mask_problem is None:
            year = int(v[:4])
            if year < 1 or year > c.today.year:
                value_problem = (f"Masked NgaySinh {v!r}: year {v[:4]} is not a possible year of birth "
                                 f"(today is {c.today.isoformat()}).",
                                 f"NgaySinh bị che {v!r}: năm {v[:4]} không thể là năm sinh "
                                 f"(hôm nay là {c.today.isoformat()}).", 0)
        if c.mode == "full":
            c.add("DISPLAY-002", "Full display mode shows the whole date of birth, but NgaySinh contains '*'.",
                  "Chế độ hiển thị đầy đủ phải hiện toàn bộ ngày sinh, nhưng NgaySinh có dấu '*'.",
                  f, c.off(f, v.index(MASK_CHAR)), "YYYY-MM-DD", v)
        elif c.mode == "default" and c.masking == "forbidden":
            c.add("DISPLAY-002", "The profile forbids masking in the payload, but NgaySinh contains '*'.",
                  "Hồ sơ đánh giá không cho phép che trong nội dung mã, nhưng NgaySinh có dấu '*'.",
                  f, c.off(f, v.index(MASK_CHAR)), "YYYY-MM-DD", v)
        elif mask_problem is not None:
            c.add("DISPLAY-002", mask_problem[0], mask_problem[1], f, c.off(f, mask_problem[2]), "YYYY-**-**", v)
        if value_problem is not None:
            c.add("PAYLOAD-004", value_problem[0], value_problem[1], f, c.off(f, value_problem[2]),
                  "YYYY-**-**", v)
        return
    prob = _date_value_problem(v, c.today)
    if prob is not None:
        c.add("PAYLOAD-004", prob[0], prob[1], f, c.off(f, prob[2]), "YYYY-MM-DD", v)
    if c.mode == "default" and c.masking == "required":
        c.add("DISPLAY-002", "Default display mode: the day and month of NgaySinh must be replaced by '*' (YYYY-**-**).",
              "Chế độ hiển thị mặc định: ngày và tháng của NgaySinh phải được thay bằng '*' (YYYY-**-**).",
              f, c.off(f, 5), "YYYY-**-**", v)


def _check_loai(c: _Ctx) -> None:
    v = c.p.loai_dinh_danh or ""
    if v in ("0", "1"):
        return
    c.add("PAYLOAD-005", f"LoaiDinhDanh is {v!r}: it must be '0' (self-declared) or '1' (declared by proxy).",
          f"LoaiDinhDanh là {v!r}: phải là '0' (người dùng tự khai) hoặc '1' (người dùng được khai hộ).",
          "loai_dinh_danh", c.off("loai_dinh_danh"), "0 | 1", v)


def _qid_problem(v: str, label: str) -> tuple[str, str, int] | None:
    if v == "":
        return (f"{label} is empty.", f"{label} bị để trống.", 0)
    i = _first(v, lambda ch: ch in "<|" or ch.isspace() or _bad_char(ch))
    if i is None:
        return None
    ch = v[i]
    if ch in "<|":
        return (f"{label} contains the separator {ch!r} at character {i + 1}.",
                f"{label} chứa dấu phân cách {ch!r} ở ký tự thứ {i + 1}.", i)
    if ch == "\ufffd":
        return (f"{label} contains an undecodable byte (U+FFFD) at character {i + 1}.",
                f"{label} chứa byte không giải mã được (U+FFFD) ở ký tự thứ {i + 1}.", i)
    what_en = "whitespace" if ch.isspace() else "a control character"
    what_vi = "ký tự trắng" if ch.isspace() else "ký tự điều khiển"
    return (f"{label} contains {what_en} {ch!r} at character {i + 1}.",
            f"{label} chứa {what_vi} {ch!r} ở ký tự thứ {i + 1}.", i)


def _check_qid(c: _Ctx) -> None:
    v = c.p.qid or ""
    prob = _qid_problem(v, "QID")
    if prob is not None:
        c.add("PAYLOAD-006", prob[0] + " QID is a non-empty QRQG user code without '|', '<', spaces or control "
              "characters.", prob[1] + " QID là mã người dùng QRQG, không rỗng, không chứa '|', '<', khoảng trắng "
              "hay ký tự điều khiển.", "qid", c.off("qid", prob[2]), "[^|<]+", v)


def _check_ext(c: _Ctx) -> None:
    p = c.p
    ext = p.ext or ""
    base = p.field_offset("ext") or 0
    loai = p.loai_dinh_danh
    if ext == "":
        if loai == "1":
            c.add("PAYLOAD-008", "LoaiDinhDanh is 1 (declared by proxy) but EXT item 1, the proxy declarant's QID, "
                  "is absent (SHOULD be present).", "LoaiDinhDanh là 1 (khai hộ) nhưng thiếu giá trị EXT thứ 1 "
                  "(QID của người khai hộ), giá trị này nên có.", "ext.proxy_qid", base, "proxy QID", "",
                  remark=PROXY_QID_MISSING)
        return
    # 1. characters that no item may hold
    i = _first(ext, _bad_char)
    bad_positions: set[int] = set()
    if i is not None:
        ch = ext[i]
        c.add("PAYLOAD-007", f"EXT contains the control/format character {ch!r} at character {i + 1} of EXT "
              f"(e.g. a stray line break): items are plain text separated by '<'.",
              f"EXT chứa ký tự điều khiển/định dạng {ch!r} ở ký tự thứ {i + 1} của EXT (ví dụ xuống dòng thừa): "
              f"các giá trị là văn bản thường phân cách bởi '<'.", "ext", base + i, "items separated by '<'", ext)
        bad_positions = {k for k, ch2 in enumerate(ext) if _bad_char(ch2)}
    # 2. escaped or substituted separators: items cannot be identified
    low = ext.lower()
    for esc in ESCAPED_LT:
        if esc in low:
            k = low.index(esc)
            c.add("PAYLOAD-007", f"EXT contains the escaped separator {ext[k:k + len(esc)]!r} at character "
                  f"{k + 1} of EXT: items must be separated by a literal '<'.",
                  f"EXT chứa dấu phân cách bị mã hoá {ext[k:k + len(esc)]!r} ở ký tự thứ {k + 1} của EXT: "
                  f"các giá trị phải phân cách bằng ký tự '<'.", "ext", base + k, "'<'", ext)
            return
    if EXT_SEP not in ext:
        for sep in WRONG_EXT_SEPARATORS:
            if sep in ext:
                k = ext.index(sep)
                c.add("PAYLOAD-007", f"EXT uses {sep!r} (character {k + 1} of EXT) and no '<': EXT items must be "
                      f"separated by '<'.", f"EXT dùng {sep!r} (ký tự thứ {k + 1} của EXT) mà không có '<': các giá trị "
                      f"EXT phải phân cách bởi dấu '<'.", "ext", base + k, "items separated by '<'", ext)
                return
    # 3. padding around items
    # Item values are judged without padding and without the bad characters already reported above, so one
    # defect gives one violation.
    items: list[str] = []
    for n, (item, off) in enumerate(zip(p.ext_items, p.ext_offsets), start=1):
        rel = off - base
        has_bad = any(rel <= k < rel + len(item) for k in bad_positions) if bad_positions else False
        stripped = "".join(ch for ch in item if not _bad_char(ch)).strip() if has_bad else item.strip()
        if stripped != item and not has_bad:
            k = 0 if item[:1].isspace() else len(item) - 1
            c.add("PAYLOAD-007", f"EXT item {n} {item!r} has whitespace padding.",
                  f"Giá trị EXT thứ {n} {item!r} có khoảng trắng thừa ở đầu hoặc cuối.",
                  f"ext[{n}]", off + k, stripped, item)
        items.append(stripped)
    offs = p.ext_offsets

    # item 1: proxy declarant QID
    if items:
        v1 = items[0]
        if loai == "0" and v1 != "":
            c.add("PAYLOAD-008", f"EXT item 1 {v1!r} must be empty when LoaiDinhDanh is 0 (self-declared); it holds "
                  f"the proxy declarant's QID.", f"Giá trị EXT thứ 1 {v1!r} phải để trống khi LoaiDinhDanh là 0 "
                  f"(tự khai); đây là QID của người khai hộ.", "ext.proxy_qid", offs[0], "", v1)
        elif loai == "1":
            if v1 == "":
                c.add("PAYLOAD-008", "LoaiDinhDanh is 1 (declared by proxy) but EXT item 1, the proxy declarant's "
                      "QID, is empty (SHOULD be present).", "LoaiDinhDanh là 1 (khai hộ) nhưng giá trị EXT thứ 1 "
                      "(QID của người khai hộ) để trống, giá trị này nên có.", "ext.proxy_qid", offs[0],
                      "proxy QID", "", remark=PROXY_QID_MISSING)
            else:
                prob = _qid_problem(v1, "EXT item 1 (proxy QID)")
                if prob is not None:
                    c.add("PAYLOAD-008", prob[0], prob[1], "ext.proxy_qid", offs[0] + prob[2], "proxy QID", v1)
    # item 2: gender
    if len(items) >= 2 and items[1] not in ("",) + GENDERS:
        c.add("PAYLOAD-009", f"EXT item 2 (gender) is {items[1]!r}: it must be 0 (unknown), 1 (male) or 2 (female).",
              f"Giá trị EXT thứ 2 (giới tính) là {items[1]!r}: phải là 0 (chưa có thông tin), 1 (nam) hoặc 2 (nữ).",
              "ext.gender", offs[1], "0, 1 or 2", items[1])
    # item 3: BHYT
    if len(items) >= 3 and items[2] != "":
        v3 = items[2]
        if not (BHYT_RE.fullmatch(v3) or BHXH_RE.fullmatch(v3)):
            if c.mode != "full" and MASK_CHAR in v3 and re.fullmatch(r"[A-Z0-9*]+", v3):
                c.add("PAYLOAD-010", f"EXT item 3 (BHYT) {v3!r} is masked; v1.1 does not describe masking it, so it "
                      f"cannot be checked.", f"Giá trị EXT thứ 3 (BHYT) {v3!r} bị che; phiên bản 1.1 không quy định "
                      f"việc che giá trị này nên không kiểm tra được.", "ext.bhyt", offs[2], None, v3, review=True)
            else:
                c.add("PAYLOAD-010", f"EXT item 3 (BHYT card number) {v3!r} is not a 15-character card number "
                      f"(2 letters, benefit level 1-5, 2-digit province, 10-digit social-insurance number, e.g. "
                      f"HS4010120878821) nor a 10-digit social-insurance number.",
                      f"Giá trị EXT thứ 3 (mã thẻ BHYT) {v3!r} không phải mã thẻ 15 ký tự (2 chữ cái, mức hưởng "
                      f"1-5, 2 số mã tỉnh, 10 số mã BHXH, ví dụ HS4010120878821) cũng không phải mã BHXH 10 chữ số.",
                      "ext.bhyt", offs[2], "^[A-Z]{2}[1-5][0-9]{2}[0-9]{10}$ or 10 digits", v3)
    # item 4: phone
    if len(items) >= 4 and items[3] != "":
        v4 = items[3]
        if not PHONE_RE.fullmatch(v4):
            if c.mode != "full" and MASK_CHAR in v4 and re.fullmatch(r"[0-9*]{10}", v4):
                c.add("PAYLOAD-011", f"EXT item 4 (phone) {v4!r} is masked; v1.1 does not describe masking it, so it "
                      f"cannot be checked.", f"Giá trị EXT thứ 4 (số điện thoại) {v4!r} bị che; phiên bản 1.1 không "
                      f"quy định việc che giá trị này nên không kiểm tra được.", "ext.phone", offs[3], None, v4,
                      review=True)
            else:
                c.add("PAYLOAD-011", f"EXT item 4 (phone) {v4!r} is not exactly 10 digits.",
                      f"Giá trị EXT thứ 4 (số điện thoại) {v4!r} không gồm đúng 10 chữ số.",
                      "ext.phone", offs[3], "10 digits", v4)
    # item 5: signature -> review
    if len(items) >= 5 and items[4] != "":
        c.add("PAYLOAD-012", f"EXT item 5 holds an electronic signature ({len(items[4])} characters); v1.1 specifies "
              f"no format, so it is reported for review.", f"Giá trị EXT thứ 5 là chữ ký điện tử ({len(items[4])} ký "
              f"tự); phiên bản 1.1 không quy định định dạng nên chỉ chuyển để xem xét.", "ext.signature", offs[4],
              None, items[4], review=True)
    # items 6+: other information, allowed by v1.1 -> a note on the pass
    extra = [(n, v) for n, v in enumerate(items[5:], start=6) if v != ""]
    if extra:
        n0 = extra[0][0]
        c.add("PAYLOAD-007", f"EXT holds {len(extra)} non-empty item(s) beyond item 5 (first: item {n0}): 'other "
              f"information', which v1.1 allows.", f"EXT có {len(extra)} giá trị khác rỗng sau giá trị thứ 5 (đầu "
              f"tiên: thứ {n0}): 'các thông tin khác', được phiên bản 1.1 cho phép.",
              f"ext[{n0}]", offs[n0 - 1], None, extra[0][1], note=True)


# ---------------------------------------------------------------------------------------------- entry point


def _truncate(data: Any, max_bytes: int) -> Any:
    if isinstance(data, (bytes, bytearray, memoryview)):
        b = bytes(data)[:max_bytes]
        for cut in range(0, 4):  # do not split a UTF-8 sequence at the cut
            try:
                (b[: len(b) - cut] if cut else b).decode("utf-8")
                return b[: len(b) - cut] if cut else b
            except UnicodeDecodeError:
                continue
        return b
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")[:max_bytes].decode("utf-8", "ignore")
    return data


def _size(data: Any) -> int:
    if isinstance(data, memoryview):
        return data.nbytes
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    if isinstance(data, str):
        return len(data) if data.isascii() else len(data.encode("utf-8", "surrogatepass"))
    return 0


def validate_payload(data: bytes | str, *, mode: str | None = None, masking: str = "allowed",
                     today: _dt.date | None = None, max_bytes: int = 65536) -> PayloadReport:
    """Validate one decoded payload; see the module docstring for the decisions taken. Any bytes or text are
    accepted (invalid UTF-8, huge input, control characters): they are judged, never raised on."""
    if mode not in MODES:
        mode = None
    if masking not in MASKINGS:
        masking = "allowed"
    if isinstance(today, _dt.datetime):
        today = today.date()
    elif not isinstance(today, _dt.date):
        from conformance.clock import today as vietnam_today

        today = vietnam_today()
    max_bytes = int(max_bytes)
    size = _size(data)
    if max_bytes >= 0 and size > max_bytes:
        p = parse_payload(_truncate(data, max_bytes))
        c = _Ctx(p, mode, masking, today)
        c.add("PAYLOAD-001", f"The payload is {size} bytes, over the limit of {max_bytes} bytes; only the first "
              f"{max_bytes} bytes were parsed and nothing was judged.", f"Nội dung mã dài {size} byte, vượt giới "
              f"hạn {max_bytes} byte; chỉ phân tích {max_bytes} byte đầu và không đánh giá gì thêm.",
              None, None, f"at most {max_bytes} bytes", f"{size} bytes")
        return PayloadReport(p, c.violations, c.review, mode, masking, c.notes)
    p = parse_payload(data)
    c = _Ctx(p, mode, masking, today)
    if _check_structure(c):
        _check_loai(c)
        _check_so_giay_to(c)
        _check_ho_ten(c)
        _check_ngay_sinh(c)
        _check_qid(c)
        _check_ext(c)
        c.violations.sort(key=lambda v: (v.position if v.position is not None else -1))
    return PayloadReport(p, c.violations, c.review, mode, masking, c.notes)


__all__ = ["PayloadReport", "validate_payload", "MODES", "MASKINGS", "FIELD_NAMES", "SPEC_FIELD_NAMES"]
