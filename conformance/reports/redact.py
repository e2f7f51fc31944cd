"""Mask personal data in everything the suite writes (results.json, report.html, JUnit, Allure, the pytest log,
the terminal) unless --show-pii.

Masks keep the shape of what the app wrote (format-preserving), so a masked report still shows the defect:

    upper-case letter -> X      lower-case letter -> x      digit -> 9
    accented letter   -> Ẍ / ẍ  (a decomposed letter keeps its form: x + U+0308 per combining mark)
    everything else (spaces, '-', '/', '.', '<', '|', and the app's own '*') is kept

    026154314511|BÙI BÍCH DIỆU THỦY|1954-04-03|0|163291091174399387|<2<DN3542077163751<0583697909
 -> 999999999511|BẌX BẌXX DXẌX TXẌX|9999-99-99|0|999999999999999387|<2<XX9999999999751<9999999909

What stays visible, by decision:
  - the first letter of each word of a name ('Bẍx Bẍxx Dxẍx Txẍx'): tells the subjects apart and keeps the
    case/diacritic finding readable, without the name;
  - the last 3 characters of document numbers, QIDs (and the proxy declarant's QID), BHYT and phone numbers and of
    any other long digit run: 3 digits of a 9-18 digit identifier do not identify anyone, and they let an assessor
    match an item to a subject; dates of birth keep no digit at all (their separators only);
  - the app's own '*': '******029317' -> '******999317', so "the app hid the first 6" stays visible and distinct
    from what the report hides (X, x, 9, Ẍ, ẍ). LEGEND_EN / LEGEND_VI say so for the reports.

How values are found (each string is read through a decoded view: URL percent-encoding incl. UTF-8 ('+' counts
as a separator), JSON/Python '\\uXXXX' and '\\xXX' escapes (also escaped twice, as repr() writes them), HTML
entities, all decoded twice, so double encodings are read too; then case and diacritics folded, zero-width characters
dropped; every match is masked in the original text, encoded characters included):
  1. the subjects' values (candidate.json subjects: so_giay_to, ho_ten, ngay_sinh, qid, ext.proxy_qid, ext.bhyt,
     ext.phone) in every written form: digits with any separators (spaces, '.', '-', '_', '/', '+', ',', brackets),
     OCR look-alikes (O/0, l/1, S/5, B/8), phone with +84/84, suffixes and prefixes left visible by an app's own
     masking, dates in every order and separator (d/m/yyyy, yyyy-mm-dd, ddmmyyyy, dd.mm.yy, '3 tháng 4 năm 1954',
     'April 3, 1954'), names in any case, with or without diacritics, with any separators or none
     ('nguyen-van-an', 'NguyenVanAn'), in parts of two or more words, given name first;
  2. values learned from fields known to hold personal data (payloads and decoded texts, screen text read by OCR,
     displayed values, found/expected values, URLs and bodies of capture logs): the HoTen field of every
     payload-shaped string, names after a name label ('Họ tên:', 'Xin chào,'), three or more capitalised words
     led by a Vietnamese family name, digit runs of 6 or more digits (also with spaces); what is learned is then
     masked in every other string too (messages quote it). Known numbers are looked for in the string's
     alphanumeric skeleton (str.find), so the cost stays linear however long a hostile payload is;
  3. a pattern pass on every other string: payload-shaped strings field by field, quoted values after a field
     name (SoGiayTo '...', HoTen '...'), digit runs of 8 or more digits (joined by '.', '-', '_', '/'), runs with
     the app's '*', dates, passport/BHYT-shaped identifiers, base64 and hex blobs whose decoded text holds any of
     the above (the blob is masked whole).
Not masked (not personal data): numbers (JSON numbers are never touched), counts followed by a unit (bytes, px,
%, ms, mm, modules...), versions, IP addresses, hashes and UUIDs, requirement IDs, statuses, run timestamps, dates
next to a time of day or after a label such as 'updated'/'cập nhật', 'expires'/'hết hạn', 'today'/'hôm nay'
(the app's "updated" date, waiver expiry dates; such a date read alone elsewhere, as an OCR word, stays too).
Evidence file names keep their folder and extension and are masked like text ('screens/026154314511.png' ->
'screens/999999999511.png'; two names that would become equal get ' [n]' with the item's 1-based index).
Not found (documented limits): a name of someone who is not a subject, written in lower case with no label in
screen text; a number of someone who is not a subject, shorter than 8 digits in free text.
"""
from __future__ import annotations

import base64
import binascii
import copy
import datetime as _dt
import html as _html
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from conformance.payload.parse import parse_payload
from conformance.rules.fields import EXT_SEP, FIELD_SEP, SPEC_FIELD_NAMES

APP_MASK = "*"
MASK_UPPER, MASK_LOWER, MASK_DIGIT = "X", "x", "9"
MASK_UPPER_MARKED, MASK_LOWER_MARKED = "\u1e8c", "\u1e8d"  # Ẍ ẍ: "a letter with a diacritic was here"
COMBINING_MARK = "\u0308"
KEEP_LAST = 3
MASK_CHARS = frozenset((MASK_UPPER, MASK_LOWER, MASK_DIGIT, MASK_UPPER_MARKED, MASK_LOWER_MARKED))
LEGEND_EN = ("Personal data is masked keeping its shape: X upper-case letter, x lower-case letter, 9 digit, "
             "Ẍ/ẍ a letter with a diacritic; the first letter of each name word and the last 3 characters of "
             "numbers stay visible; * is what the app itself hid.")
LEGEND_VI = ("Dữ liệu cá nhân được che nhưng giữ nguyên dạng: X chữ in hoa, x chữ thường, 9 chữ số, Ẍ/ẍ chữ có "
             "dấu; giữ chữ cái đầu của mỗi từ trong họ tên và 3 ký tự cuối của các số; * là ký tự do chính ứng dụng "
             "che.")

# -- keys of a results document ---------------------------------------------------------------------------------
# String values under these keys are identifiers, statuses, measurements or run metadata, never personal data.
PROTECTED_KEYS = frozenset({
    "id", "requirement", "requirements", "status", "level", "origin", "grade", "verdict", "sha256",
    "manifest_sha256", "check", "kind", "mode", "format_version", "suite_version", "spec_version",
    "catalogue_version", "profile_version", "generated_at", "platform", "python", "field", "must_failed",
    "must_open", "title_en", "title_vi", "ecc", "ec_level", "grid_ecc", "polarity", "content_type",
    "symbology_identifier", "decoder", "format", "role", "validation_date", "metadata_source", "checks_selected",
    "step", "expires", "ticket", "started_at", "finished_at", "timestamp", "method", "resource_type", "class",
    "classes", "basis", "shown_mode", "action", "ci_outcome", "unwaived", "adapter", "modes", "modes_seen",
    "decoders_read", "not_read", "different", "part", "fields", "pii_in_url", "personal_data", "packages",
    "not_compared", "method_en", "overall_grade", "sc_grade", "mod_grade", "fpd_grade", "uec_grade", "version",
    "os_version", "app_version", "build",
})
# Evidence file names and other names of things: masked as names (folder and extension kept).
FILE_KEYS = frozenset({"file", "evidence", "source", "path", "subject", "captures", "files", "image_file"})
# Subtrees that hold personal data (what the app encoded or showed, what OCR read, what was captured).
PERSONAL_KEYS = frozenset({
    "payload", "payloads", "text", "raw_text", "screen_text", "displayed", "displayed_before", "displayed_after",
    "decoders", "found", "expected", "ocr_text", "evidence_text", "lines", "words", "alt", "candidates", "url",
    "urls", "body_excerpt", "body", "headers", "subjects", "query", "location", "shown", "value", "values",
    "reading", "readings",
})
# Keys that name one field of the subject record: the whole value is masked as that field.
FIELD_KEYS = {"so_giay_to": "id", "qid": "id", "proxy_qid": "id", "bhyt": "id", "phone": "id", "signature": "id",
              "ho_ten": "name", "ngay_sinh": "date"}
# Values under these keys hold the raw bytes of a decoded symbol (hex string or list of ints) or their base64.
RAW_BYTE_KEYS = frozenset({"bytes", "raw", "raw_bytes", "bytes_hex", "raw_hex", "data_hex"})
B64_KEYS = frozenset({"raw_bytes_b64", "bytes_b64", "raw_b64", "data_b64"})

# -- character classes -----------------------------------------------------------------------------------------
_UP, _LO, _DIG, _ACC, _LET = 1, 2, 4, 8, 16
_INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad\u034f\u180e")


@lru_cache(maxsize=8192)
def _fold_info(ch: str) -> tuple[str, int]:
    """(folded lower-case base character, class flags) of one character."""
    flags = 0
    if ch in "đĐ":
        return "d", _LET | _ACC | (_UP if ch == "Đ" else _LO)
    d = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in d if not unicodedata.combining(c))
    if len(base) != len(d):
        flags |= _ACC
    if len(base) != 1:
        base = ch
        flags &= ~_ACC
    if base.isdigit() and base.isascii():
        return base, _DIG
    if ch.isalpha():
        flags |= _LET | (_UP if ch.isupper() else _LO)
    elif unicodedata.category(ch) == "Cs":  # a byte that was not UTF-8 (surrogateescape): treated as a letter
        return "\ufffd", _LET | _LO
    low = base.lower()
    return (low if len(low) == 1 else base), flags


def _mask_char(ch: str, marks: int = 0) -> str:
    base, fl = _fold_info(ch)
    if fl & _DIG:
        return MASK_DIGIT
    if fl & _LET:
        up = bool(fl & _UP)
        if fl & _ACC or marks:
            if marks:
                return (MASK_UPPER if up else MASK_LOWER) + COMBINING_MARK * marks
            return MASK_UPPER_MARKED if up else MASK_LOWER_MARKED
        return MASK_UPPER if up else MASK_LOWER
    return ch


def mask_shape(value: str, keep_last: int = 0) -> str:
    """Format-preserving mask of a plain value: every letter/digit masked except the last `keep_last` ones."""
    view = _View(value, decode=False)
    keep = set(i for i in view.alnum_indices()[-keep_last:]) if keep_last else set()
    dec = [0] * len(view)
    for i in view.alnum_indices():
        dec[i] = 1 if i in keep else 2
    return view.render(dec)


def keep_last(value: str, n: int = KEEP_LAST) -> str:
    """'001093029317' -> '999999999317'; the app's own '*' stay: '******029317' -> '******999317'."""
    return mask_shape(value, n)


def mask_digits(value: str) -> str:
    """Dates: every digit and letter hidden, separators and the app's '*' kept ('1987-**-**' -> '9999-**-**')."""
    return mask_shape(value, 0)


def mask_name(value: str) -> str:
    """'Bùi Bích Diệu Thủy' -> 'Bẍx Bẍxx Dxẍx Txẍx' (first letter of each word kept)."""
    view = _View(value, decode=False)
    return view.render(_name_decisions(view, 0, len(view), [0] * len(view)))


# -- the decoded view -------------------------------------------------------------------------------------------
_ENC = re.compile(r"(?:%[0-9A-Fa-f]{2})+|(?:\\+u[0-9A-Fa-f]{4})+|\\+x[0-9A-Fa-f]{2}"
                  r"|&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")


def _decode_units(units: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    text = "".join(u[0] for u in units)
    if not _ENC.search(text):
        return units
    out: list[tuple[str, int, int]] = []
    pos = 0
    for m in _ENC.finditer(text):
        out.extend(units[pos:m.start()])
        tok = m.group(0)
        a = m.start()
        if tok[0] == "%":
            bs = bytes(int(tok[k + 1:k + 3], 16) for k in range(0, len(tok), 3))
            j = 0
            while j < len(bs):
                b0 = bs[j]
                n = 1 if b0 < 0x80 else 2 if 0xC2 <= b0 <= 0xDF else 3 if 0xE0 <= b0 <= 0xEF else \
                    4 if 0xF0 <= b0 <= 0xF4 else 1
                try:
                    ch = bs[j:j + n].decode("utf-8") if n > 1 else chr(b0)
                    if len(ch) != 1:
                        raise UnicodeDecodeError("utf-8", b"", 0, 1, "")
                except UnicodeDecodeError:
                    ch, n = chr(b0), 1
                out.append((ch, units[a + 3 * j][1], units[a + 3 * (j + n) - 1][2]))
                j += n
        elif tok[0] == "\\" and tok.lstrip("\\")[0] == "u":  # JSON / Python escapes, also escaped again (repr)
            esc = [(e.start(), e.end(), int(e.group(1), 16)) for e in re.finditer(r"\\+u([0-9A-Fa-f]{4})", tok)]
            j = 0
            while j < len(esc):
                c, n = esc[j][2], 1
                if 0xD800 <= c <= 0xDBFF and j + 1 < len(esc) and 0xDC00 <= esc[j + 1][2] <= 0xDFFF:
                    c, n = 0x10000 + ((c - 0xD800) << 10) + (esc[j + 1][2] - 0xDC00), 2
                out.append((chr(c), units[a + esc[j][0]][1], units[a + esc[j + n - 1][1] - 1][2]))
                j += n
        elif tok[0] == "\\":
            out.append((chr(int(tok[-2:], 16)), units[a][1], units[m.end() - 1][2]))
        else:
            dec = _html.unescape(tok)
            if dec == tok or not dec:
                out.extend(units[a:m.end()])
            else:
                for ch in dec:
                    out.append((ch, units[a][1], units[m.end() - 1][2]))
        pos = m.end()
    out.extend(units[pos:])
    return out


class _View:
    """A string read through its encodings, folded (lower case, no diacritics), with each folded character mapped
    back to its span in the original string."""

    __slots__ = ("s", "text", "starts", "ends", "chars", "marks")

    def __init__(self, s: str, decode: bool = True):
        self.s = s
        if s.isascii() and not (decode and ("%" in s or "\\" in s or "&" in s)):
            n = len(s)
            self.text = s.lower()
            self.starts = list(range(n))
            self.ends = list(range(1, n + 1))
            self.chars = s
            self.marks = None
            return
        units = [(c, i, i + 1) for i, c in enumerate(s)]
        if decode:
            units = _decode_units(_decode_units(units))
        text, starts, ends, chars, marks = [], [], [], [], []
        for ch, a, b in units:
            if ch in _INVISIBLE or unicodedata.combining(ch):
                if text:
                    ends[-1] = b
                    if unicodedata.combining(ch) and _fold_info(chars[-1])[1] & _LET:
                        marks[-1] += 1
                continue
            text.append(_fold_info(ch)[0])
            starts.append(a)
            ends.append(b)
            chars.append(ch)
            marks.append(0)
        self.text = "".join(text)
        self.starts, self.ends, self.chars, self.marks = starts, ends, chars, marks

    def __len__(self) -> int:
        return len(self.text)

    def flags(self, i: int) -> int:
        return _fold_info(self.chars[i])[1]

    def is_alnum(self, i: int) -> bool:
        return bool(self.flags(i) & (_LET | _DIG))

    def alnum_indices(self, a: int = 0, b: int | None = None) -> list[int]:
        b = len(self) if b is None else b
        return [i for i in range(a, b) if self.is_alnum(i)]

    def render(self, dec: list[int]) -> str:
        """The original string with every unit whose decision is 2 replaced by its mask."""
        out, pos = [], 0
        s = self.s
        for i, d in enumerate(dec):
            if d == 2:
                out.append(s[pos:self.starts[i]])
                out.append(_mask_char(self.chars[i], self.marks[i] if self.marks else 0))
                pos = self.ends[i]
        out.append(s[pos:])
        return "".join(out)


def _name_decisions(view: _View, a: int, b: int, dec: list[int]) -> list[int]:
    """Mask a name in view[a:b]: every letter/digit except the first letter of each word."""
    start_of_word = True
    for i in range(a, b):
        fl = view.flags(i)
        if fl & (_LET | _DIG):
            if start_of_word and fl & _LET and view.chars[i] not in MASK_CHARS:
                dec[i] = max(dec[i], 1)
            else:
                dec[i] = 2
            start_of_word = False
        elif view.chars[i] not in "'’":
            start_of_word = True
    return dec


_MONTH_WORD = re.compile(r"(?<![a-z])(?:" + "|".join([
    "jan(?:uary)?", "feb(?:ruary)?", "mar(?:ch)?", "apr(?:il)?", "may", "june?", "july?", "aug(?:ust)?",
    "sep(?:t(?:ember)?)?", "oct(?:ober)?", "nov(?:ember)?", "dec(?:ember)?"]) + r")(?![a-z])")


def _date_decisions(view: _View, a: int, b: int, dec: list[int]) -> None:
    """Mask a date in view[a:b]: its digits and month names; words such as 'tháng', 'năm' stay."""
    for i in range(a, b):
        if view.flags(i) & _DIG:
            dec[i] = 2
    for m in _MONTH_WORD.finditer(view.text, a, b):
        for i in range(m.start(), m.end()):
            dec[i] = 2


def _keep_decisions(view: _View, a: int, b: int, dec: list[int], keep: int) -> None:
    idx = view.alnum_indices(a, b)
    kept = set(idx[-keep:]) if keep else set()
    for i in idx:
        if i in kept:
            dec[i] = max(dec[i], 1)
        else:
            dec[i] = 2


# -- value patterns ---------------------------------------------------------------------------------------------
_SEP_N = r"[\s._\-+,/·'\"]"  # between the words of a known name
_SEP_RUN = re.compile(_SEP_N + "+")
_SEP_CHARS = frozenset(" \t\n\r\u00a0\u2009\u202f._/-+·,()[]'\"")  # between the digits of a known number
_LOOK = str.maketrans({"o": "0", "l": "1", "i": "1", "s": "5", "b": "8"})  # OCR look-alikes
_MONTHS = ["jan(?:uary)?", "feb(?:ruary)?", "mar(?:ch)?", "apr(?:il)?", "may", "june?", "july?", "aug(?:ust)?",
           "sep(?:t(?:ember)?)?", "oct(?:ober)?", "nov(?:ember)?", "dec(?:ember)?"]
# place names and UI phrases that are also name-shaped (never masked as parts of a name on their own)
_NOT_NAME_PARTS = frozenset({
    "ho chi minh", "ha noi", "da nang", "hai phong", "can tho", "viet nam", "ha nam", "quang nam", "nam dinh",
    "thai binh", "an giang", "bac ninh", "quang ninh", "ninh binh", "ha giang", "lang son", "ha tinh",
    "ho so", "thong tin", "ca nhan", "ma qr", "trang chu", "khai bao", "suc khoe", "tiem chung", "xet nghiem",
    "cap nhat", "dia chi", "gioi tinh", "ngay sinh", "so dien thoai", "dien thoai", "ho ten", "ho va ten",
    "an bot", "hien day", "day du", "cong dan", "can cuoc", "giay to", "ma so", "bao hiem", "y te", "phu hop",
    "kiem tra", "can bo", "dua ma", "mat khau", "dang nhap", "xin chao", "tai khoan", "bo y te",
})


class _Skeleton:
    """The letters and digits of a folded view, in order, with where each sits; a known number is found in it
    with str.find, then accepted when only separators (at most 3 characters) stand between its characters."""

    def __init__(self, t: str):
        self.pos = [i for i, c in enumerate(t) if c.isalnum()]
        self.plain = "".join(t[i] for i in self.pos)
        self.look = self.plain.translate(_LOOK)
        self.t = t
        n = len(self.pos)
        # joined[j]: skeleton characters j-1 and j are written together (only separators between them)
        self.joined = [False] * n
        for j in range(1, n):
            a, b = self.pos[j - 1], self.pos[j]
            gap = t[a + 1:b]
            self.joined[j] = len(gap) <= 3 and all(c in _SEP_CHARS for c in gap)

    def find(self, v: str, how: str) -> list[tuple[int, int]]:
        out = []
        hay = self.look if how == "full" and v.isdigit() else self.plain
        k = hay.find(v)
        while k >= 0:
            span = self.accept(v, how, k)
            if span is not None:
                out.append(span)
            k = hay.find(v, k + 1)
        return out

    def accept(self, v: str, how: str, k: int) -> tuple[int, int] | None:
        """The span in the folded text of the occurrence of `v` at skeleton position k, if it is one."""
        n = len(v)
        ok = all(self.joined[j] for j in range(k + 1, k + n))
        if ok and how == "full" and v.isdigit():
            real = sum(self.plain[j].isdigit() for j in range(k, k + n))
            ok = real >= n - 2 and self.plain[k].isdigit() or real == n
        if ok and how in ("suffix", "prefix"):  # a piece of a number: not glued to more digits
            before = k > 0 and self.joined[k] and self.plain[k - 1].isdigit()
            after = k + n < len(self.plain) and self.joined[k + n] and self.plain[k + n].isdigit()
            ok = not before and not after
        return (self.pos[k], self.pos[k + n - 1] + 1) if ok else None


def _date_patterns(y: int, m: int, d: int) -> list[str]:
    """Every written form of one date (folded view: lower case, no diacritics)."""
    y4, y2 = f"{y:04d}", f"{y % 100:02d}"
    dd = f"0?{d}" if d < 10 else f"{d:02d}"
    mm = f"0?{m}" if m < 10 else f"{m:02d}"
    sep = r"(?:\s*[./\-_,\\]\s*|\s+)"
    out = []
    for a, b, c in ((dd, mm, y4), (y4, mm, dd), (mm, dd, y4), (dd, mm, y2), (y4, dd, mm)):
        out.append(a + sep + b + sep + c)
    d2, m2 = f"{d:02d}", f"{m:02d}"
    for a, b, c in ((d2, m2, y4), (y4, m2, d2), (m2, d2, y4)):
        out.append(a + b + c)
    mon = _MONTHS[m - 1]
    dnum = f"0?{d}" if d < 10 else f"{d}"
    out += [
        rf"{dnum}\s*(?:thang|th\.?)\s*{mm}\s*(?:,?\s*nam)?\s*{y4}",
        rf"(?:ngay\s*)?{dnum}\s*[/\-.]?\s*{mon}\.?\s*[/\-.,]?\s*{y4}",
        rf"{mon}\.?\s*{dnum}(?:st|nd|rd|th)?,?\s*{y4}",
        rf"{y4}\s*[/\-.]?\s*{mon}\s*[/\-.]?\s*{dnum}",
    ]
    return out


def _date_digit_forms(y: int, m: int, d: int) -> set[str]:
    """The digits (read together, separators and words left out) of every form _date_patterns writes."""
    y4, y2 = f"{y:04d}", f"{y % 100:02d}"
    ds = {str(d), f"{d:02d}"}
    ms = {str(m), f"{m:02d}"}
    out: set[str] = set()
    for a in ds:
        for b in ms:
            out |= {a + b + y4, y4 + b + a, b + a + y4, a + b + y2, y4 + a + b}
        out |= {a + y4, y4 + a}  # with the month's name
    return out


_DIGIT_RUN = re.compile(r"[0-9]+")


def _parse_date(value: str) -> tuple[int, int, int] | None:
    """A date of birth as a record holds it: YYYY-MM-DD (also DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY)."""
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", value or "")
    n = re.fullmatch(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*", value or "")
    if not (m or n):
        return None
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m else (n.group(3), n.group(2), n.group(1))
    try:
        day = _dt.date(int(y), int(mo), int(d))
    except ValueError:
        return None
    return day.year, day.month, day.day


def _name_words(name: str) -> list[str]:
    v = _View(unicodedata.normalize("NFC", name), decode=True)
    return [w for w in re.split(r"[^a-z\ufffd]+", v.text) if w]


def _name_patterns(words: list[str], *, parts: bool = True) -> list[str]:
    """The whole name (any separators, or none when long enough), given name first, and runs of 2+ words."""
    if not words:
        return []
    out = []
    full = "".join(words)
    joined_any = (_SEP_N + "*").join(map(re.escape, words))
    out.append(joined_any if len(full) >= 8 and len(words) >= 2 else (_SEP_N + "+").join(map(re.escape, words)))
    if len(words) >= 2 and parts:
        rot = [words[-1]] + words[:-1]
        out.append((_SEP_N + "+").join(map(re.escape, rot)))
        if len(words[-1] + words[0]) >= 6:
            out.append((_SEP_N + "+").join(map(re.escape, [words[-1], words[0]])))
        for k in range(2, len(words)):
            for i in range(0, len(words) - k + 1):
                sub = words[i:i + k]
                if " ".join(sub) in _NOT_NAME_PARTS or len("".join(sub)) < 6:
                    continue
                out.append((_SEP_N + "+").join(map(re.escape, sub)))
    return out


# -- pattern pass ------------------------------------------------------------------------------------------------
_UNIT = re.compile(r"\s?(?:px|pixels?|bytes?|b|kb|kib|mb|mib|gb|ms|s|sec|seconds?|%|mm|cm|dpi|ppi|modules?|"
                   r"mo-dun|diem anh|ky tu|chars?|characters?|giay|lines?|dong)(?![a-z0-9])|\s?x\s?\d")
_EXEMPT_DATE_LABELS = re.compile(
    r"(?<![a-z])(cap nhat|updated?|last update|expire[sd]?|expiry|het han|hieu luc|generated|today|hom nay|"
    r"validation|ngay danh gia|kiem tra luc|created|tao luc|as of|waiver|mien tru)(?![a-z])[^\n]{0,32}$")
_QUANTITY_LABEL = re.compile(r"(?<![a-z])(limit(?: of)?|gioi han|max(?:imum)?|at most|toi da|exceed(?:s|ing)?|more than|"
                             r"over|under|size|count|total|tong|kich thuoc)\W{0,3}$")
_VERSION_LABEL = re.compile(r"(?<![a-z])(version|ver|v|phien ban|release|build)\.?\s*$")
_BIRTH_LABEL = re.compile(r"(sinh|birth|dob|d\.o\.b|ns)\W{0,3}$")
_NUM_RUN_FREE = re.compile(r"(?<![0-9])[0-9*•●](?:[._/\-]?[0-9*•●])*")
_NUM_RUN_PERSONAL = re.compile(r"(?<![0-9])[0-9*•●](?:(?:[._/\-]|[ \u00a0](?=[0-9*]))?[0-9*•●])*")
_DATE_NUM = re.compile(r"(?<![0-9*])([0-9*]{1,4})(\s?[./\-_]\s?| )([0-9*]{1,2})\2([0-9*]{2,4})(?![0-9*])")
_DATE_WORDS = re.compile(
    r"(?<![0-9])(?:ngay\s*)?[0-9]{1,2}\s*(?:thang|th\.?)\s*[0-9]{1,2}\s*(?:,?\s*nam)?\s*[0-9]{4}(?![0-9])"
    r"|(?<![0-9])[0-9]{1,2}\s*[/\-.]?\s*(?:" + "|".join(_MONTHS) + r")\.?\s*[/\-.,]?\s*[0-9]{4}(?![0-9])"
    r"|(?<![a-z])(?:" + "|".join(_MONTHS) + r")\.?\s*[0-9]{1,2}(?:st|nd|rd|th)?,?\s*[0-9]{4}(?![0-9])")
_IP = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![0-9])")
_DIGIT_AFTER = re.compile(r"\.?[0-9]")
_BLOB_HEX = re.compile(r"(?<![0-9a-z])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{16,}(?![0-9a-z])")
_BLOB_B64 = re.compile(r"(?<![A-Za-z0-9+/_\-])(?=[A-Za-z0-9+/_\-]*[a-z])(?=[A-Za-z0-9+/_\-]*[A-Z0-9+/])"
                       r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_QUOTED = re.compile(r"(['\"‘“])([^'\"’”\n]{1,200})(['\"’”])")
_FIELD_LABELS = [
    (re.compile(r"(?<![a-z])(sogiayto|so giay to|cccd|cmnd|document number|so dinh danh|passport|ho chieu|qid|"
                r"bhyt|so the|phone|dien thoai|sdt|insurance)(?![a-z])[^'\"\n]{0,24}$"), "id"),
    (re.compile(r"(?<![a-z])(?<!file )(hoten|ho ten|ho va ten|name|ten)(?![a-z])[^'\"\n]{0,24}$"), "name"),
    (re.compile(r"(?<![a-z])(ngaysinh|ngay sinh|date of birth|birth|dob)(?![a-z])[^'\"\n]{0,24}$"), "date"),
]
_NAME_LABEL = re.compile(r"(?<![a-z_])(?:ho\s*(?:va\s*)?ten|ho_ten|hoten|full[\s_]?name|name|ten|xin chao|chao|"
                         r"nguoi (?:khai|dung|duoc khai)(?: ho)?)[\"']?\s*[:=,\-]\s*[\"']?")
_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?")
_SURNAMES = frozenset("""
nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh trinh doan luong truong ta mac khong cao
chu chau dao la lam lai luu mai quach thai to ton trieu tang vuong ha kieu khuc lu nong phung quan son thach tieu
tong uong ung vi diep giang han hua kha kim lac lo mach ninh nghiem ong phi phuong sam tan than thieu tiet trac tu
au bach banh cam can cu cung dam dieu gia hau hinh hong lang lanh lieu luc ma man manh nham thang thuy yen huu
""".split())


def _plausible_date(parts: list[str]) -> bool:
    """parts: three components (digits or '*'), in any of the usual orders."""
    def ok(v: str, lo: int, hi: int) -> bool:
        return "*" in v or (v.isdigit() and lo <= int(v) <= hi)
    a, b, c = parts
    if len(a) == 4:
        return ok(a, 1900, 2100) and ok(b, 1, 12) and ok(c, 1, 31) and len(c) <= 2
    if len(c) == 4:
        return ok(c, 1900, 2100) and ((ok(a, 1, 31) and ok(b, 1, 12)) or (ok(a, 1, 12) and ok(b, 1, 31)))
    if len(c) == 2 and len(a) <= 2:
        return ok(a, 1, 31) and ok(b, 1, 12) and any(ch.isdigit() for ch in a + b + c)
    return False


def _compact_date(d: str) -> bool:
    for y, m, dd in ((d[4:], d[2:4], d[:2]), (d[:4], d[4:6], d[6:]), (d[4:], d[:2], d[2:4])):
        try:
            if 1900 <= int(y) <= 2100:
                _dt.date(int(y), int(m), int(dd))
                return True
        except ValueError:
            continue
    return False


MEMO_SIZE = 50_000


class Redactor:
    """Masks strings given the subjects' records and what was learned from fields known to hold personal data."""

    def __init__(self, subjects: Iterable[dict] = (), names: Iterable[str] = ()):
        self._names: set[tuple[str, ...]] = set()
        self._ids: set[str] = set()  # digit (or alphanumeric) strings, folded
        self._dates: set[tuple[int, int, int]] = set()
        self._public_dates: set[str] = set()  # dates seen in a non-birth context (the app's "updated" date)
        # indexes kept up to date as values are learned, so that a string's cost does not grow with how many are
        # known: every written form of the numbers by (haystack, length) -> {form: {(how, keep)}}; the names, each
        # with its regex (compiled when first needed) and by word; the dates with their regexes
        self._num_forms: dict[tuple[str, int], dict[str, set[tuple[str, int]]]] = {}
        self._name_list: list[list[Any]] = []  # [words, regex or None]
        self._by_word: dict[str, list[int]] = {}  # word -> positions in _name_list, once per occurrence
        # two words written together (separators removed) -> names whose every pattern holds one of these pairs
        self._by_pair: dict[str, set[int]] = {}
        self._single: dict[str, list[int]] = {}  # one-word names
        self._date_list: list[tuple[str, re.Pattern[str]]] = []
        self._date_digits: dict[str, list[int]] = {}  # the digits a written form of a date holds -> dates
        # masked strings, while nothing new is learned (a document repeats many: a payload under every decoder,
        # the same message on every item)
        self._memo: dict[tuple[str, bool, str | None, int], str] = {}
        self._learned: set[tuple[str, bool, str | None, int, int]] = set()  # strings already learned from
        self.files: dict[str, str] = {}
        for rec in subjects:
            self.add_subject(rec)
        for n in names:
            self.add_name(n)

    # -- learning ---------------------------------------------------------------------------------------------
    def add_subject(self, rec: Any) -> None:
        if not isinstance(rec, dict):
            return
        if rec.get("ho_ten"):
            self.add_name(str(rec["ho_ten"]))
        for k in ("so_giay_to", "qid"):
            self.add_value(str(rec.get(k) or ""), kind="id")
        self.add_value(str(rec.get("ngay_sinh") or ""), kind="date")
        ext = rec.get("ext") if isinstance(rec.get("ext"), dict) else {}
        for k in ("proxy_qid", "bhyt", "phone"):
            self.add_value(str(ext.get(k) or ""), kind="id")

    def add_name(self, name: str) -> None:
        words = tuple(_name_words(str(name)))
        if not words or len("".join(words)) < 3:
            return
        if len(words) == 1 and len(words[0]) < 5:
            return  # a lone short word would mask ordinary words everywhere
        if words not in self._names:
            self._names.add(words)
            self._memo.clear()
            self._name_list.append([words, None])
            i = len(self._name_list) - 1
            for w in words:
                self._by_word.setdefault(w, []).append(i)
            if len(words) == 1:
                self._single.setdefault(words[0], []).append(i)
            else:  # _name_patterns: runs of consecutive words, and the given name before the family name
                for a, b in [*zip(words, words[1:]), (words[-1], words[0])]:
                    self._by_pair.setdefault(a + b, set()).add(i)

    def add_value(self, value: str, kind: str | None = None) -> None:
        value = str(value or "").strip()
        if not value:
            return
        ymd = _parse_date(value)
        if kind == "date" or (kind is None and ymd):
            if ymd and ymd not in self._dates:
                self._dates.add(ymd)
                self._memo.clear()
                pats = _date_patterns(*ymd)
                self._date_list.append((f"{ymd[0] % 100:02d}", re.compile(
                    r"(?<![0-9])(?:" + "|".join(sorted(set(pats), key=len, reverse=True)) + r")(?![0-9])")))
                for digits in _date_digit_forms(*ymd):
                    self._date_digits.setdefault(digits, []).append(len(self._date_list) - 1)
            return
        folded = re.sub(r"[^0-9a-z]", "", _View(value).text)
        if sum(c.isdigit() for c in folded) < 5 or len(folded) < 6:
            return
        if folded not in self._ids:
            self._ids.add(folded)
            self._memo.clear()
            self._index_number(folded)

    def _index_number(self, v: str) -> None:
        """Every form of a known number to look for in a string's skeleton (_Skeleton.accept judges a find):
        the whole value (lookalike letters read as digits when it is all digits), a phone's +84 form, and the
        suffixes and prefixes an app's own masking leaves visible."""
        forms: list[tuple[str, str, int]] = [(v, "full", KEEP_LAST)]
        if v.isdigit() and v.startswith("0") and len(v) == 10:  # phone: +84 / 84 forms
            forms.append(("84" + v[1:], "full", KEEP_LAST))
        if v.isdigit() and len(v) >= 8:
            forms += [(v[-k:], "suffix", KEEP_LAST) for k in range(5, len(v))]
            forms += [(v[:k], "prefix", 0) for k in range(6, len(v))]
        for form, how, keep in forms:
            hay = "look" if how == "full" and form.isdigit() else "plain"
            self._num_forms.setdefault((hay, len(form)), {}).setdefault(form, set()).add((how, keep))

    def _name_rx(self, i: int) -> re.Pattern[str]:
        entry = self._name_list[i]
        if entry[1] is None:
            pats = _name_patterns(list(entry[0]))
            entry[1] = re.compile(r"(?<![a-z\ufffd])(?:" + "|".join(sorted(set(pats), key=len, reverse=True))
                                  + r")(?![a-z\ufffd])")
        rx: re.Pattern[str] = entry[1]
        return rx

    def _value_pass(self, view: _View, t: str, dec: list[int]) -> None:
        """Mask every known value in every written form. (Decisions only ever grow - _keep_decisions,
        _name_decisions, _date_decisions take the maximum - so the order in which values are applied does not
        matter.)"""
        if self._num_forms and any(c.isdigit() for c in t):
            sk = _Skeleton(t)
            for (hay_name, n), forms in self._num_forms.items():
                hay = sk.look if hay_name == "look" else sk.plain
                for k in range(len(hay) - n + 1):
                    found = forms.get(hay[k:k + n])
                    if found is None:
                        continue
                    for how, keep in found:
                        span = sk.accept(hay[k:k + n], how, k)
                        if span is not None:
                            _keep_decisions(view, span[0], span[1], dec, keep)
        if self._date_list and any(c.isdigit() for c in t):
            # a date's regex can only match where the digits of one to three consecutive digit runs are, read
            # together, the digits of one of its written forms (_date_digit_forms): only those dates are tried
            runs = _DIGIT_RUN.findall(t)
            tried: set[int] = set()
            for i in range(len(runs)):
                for j in range(i + 1, min(i + 3, len(runs)) + 1):
                    tried.update(self._date_digits.get("".join(runs[i:j]), ()))
            for k in sorted(tried):
                ymd_tail, rx = self._date_list[k]
                if ymd_tail in t:
                    for m in rx.finditer(t):
                        _date_decisions(view, m.start(), m.end(), dec)
        if self._name_list:
            # a name's regex can only match where two of its consecutive words stand together (separators
            # aside), or, for a one-word name, where the word is: only those names are tried (the same result
            # as trying every name that has at least two of its words in the string)
            present = [w for w in self._by_word if w in t]
            candidates: set[int] = set()
            for w in present:
                candidates.update(self._single.get(w, ()))
            if present:
                joined = _SEP_RUN.sub("", t)
                for a in present:
                    for b in present:
                        names = self._by_pair.get(a + b)
                        if names and a + b in joined:
                            candidates.update(names)
            seen = set(present)
            for i in sorted(candidates):
                words = self._name_list[i][0]
                if sum(w in seen for w in words) >= min(2, len(words)):
                    for m in self._name_rx(i).finditer(t):
                        _name_decisions(view, m.start(), m.end(), dec)

    # -- core -------------------------------------------------------------------------------------------------
    def _decide(self, s: str, *, personal: bool = False, field: str | None = None, learn: bool = False,
                depth: int = 0) -> str:
        if not s:
            return s
        if learn:
            # What learning a string adds depends only on the string and on the dates known to be public (every
            # other step is fixed): learning it again adds nothing, and what it returns is not used.
            lkey = (s, personal, field, depth, len(self._public_dates))
            if lkey in self._learned:
                return s
            if len(self._learned) >= MEMO_SIZE:
                self._learned.clear()
            self._learned.add(lkey)
            return self._decide_now(s, personal=personal, field=field, learn=True, depth=depth)
        key = (s, personal, field, depth)
        got = self._memo.get(key)
        if got is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            got = self._memo[key] = self._decide_now(s, personal=personal, field=field, depth=depth)
        return got

    def _decide_now(self, s: str, *, personal: bool = False, field: str | None = None, learn: bool = False,
                    depth: int = 0) -> str:
        view = _View(s)
        n = len(view)
        dec = [0] * n
        t = view.text
        claimed = [False] * n  # positions already judged by a pattern (exempt dates, blobs, payload fields)

        def claim(a: int, b: int) -> None:
            for i in range(a, b):
                claimed[i] = True

        # 0. whole-field values (a key that names one field of the record)
        if field == "name":
            if learn:
                self.add_name(s)
            _name_decisions(view, 0, n, dec)
            return view.render(dec)
        if field == "id":
            _keep_decisions(view, 0, n, dec, KEEP_LAST)
            return view.render(dec)
        if field == "date":
            _keep_decisions(view, 0, n, dec, 0)
            return view.render(dec)

        # 1. known values in every form (not while learning: what is learned is masked afterwards)
        if not learn:
            self._value_pass(view, t, dec)

        # 2. encoded blobs: judged by their decoded content, masked whole when it holds personal data
        if depth < 2:
            for rx in (_BLOB_HEX, _BLOB_B64):
                for m in rx.finditer(s if rx is _BLOB_B64 else t):
                    a, b = (m.start(), m.end())
                    if rx is _BLOB_B64:  # spans of the original string -> view indices
                        a, b = _orig_to_view(view, a, b)
                    if a >= b or any(claimed[a:b]) or _UUID.fullmatch(t[a:b]):
                        continue
                    decoded = _try_blob(m.group(0), hex_=rx is _BLOB_HEX)
                    if decoded is not None and self._decide(decoded, personal=True, depth=depth + 1) != decoded:
                        _keep_decisions(view, a, b, dec, 0)
                        claim(a, b)
                    elif decoded is not None or (rx is _BLOB_HEX and b - a in (32, 40, 56, 64, 96, 128)):
                        claim(a, b)  # a real blob (text without personal data, or a hash): digit runs inside it
                        # are not identifiers

        # 3. payload-shaped strings: field by field
        for a, b, kind in _payload_fields(t, whole=field == "payload"):
            if any(claimed[a:b]):
                continue
            if kind == "name":
                if learn:
                    self.add_name(view.s[view.starts[a]:view.ends[b - 1]] if b > a else "")
                _name_decisions(view, a, b, dec)
            elif kind == "date":
                _keep_decisions(view, a, b, dec, 0)
            elif kind == "id":
                if learn:
                    self.add_value(s[view.starts[a]:view.ends[b - 1]], kind="id")
                _keep_decisions(view, a, b, dec, KEEP_LAST)
            claim(a, b)

        # 4. quoted values after a field name (messages quote what they judged)
        for m in _QUOTED.finditer(t):
            a, b = m.start(2), m.end(2)
            before = t[max(0, m.start() - 40):m.start()]
            for rx, kind in _FIELD_LABELS:
                if rx.search(before):
                    inner = t[a:b]
                    if kind == "name" and len(inner) <= 60 and not re.search(r"[0-9]", inner):
                        if len(inner.split()) <= 6 and sum(c.isalpha() for c in inner) >= 3 \
                                and inner.strip().lower() not in _SPEC_WORDS:
                            if learn:
                                self.add_name(s[view.starts[a]:view.ends[b - 1]])
                            _name_decisions(view, a, b, dec)
                    elif kind == "date" and re.search(r"[0-9]", inner) and len(inner) <= 24:
                        _keep_decisions(view, a, b, dec, 0)
                        claim(a, b)
                    elif kind == "id" and re.search(r"[0-9]", inner) and len(inner) <= 40:
                        _keep_decisions(view, a, b, dec, KEEP_LAST)
                        claim(a, b)
                    break

        # 5. dates (numeric and written); exempt next to a time of day or after a non-birth label
        for rx in (_DATE_NUM, _DATE_WORDS):
            for m in rx.finditer(t):
                a, b = m.start(), m.end()
                if any(claimed[a:b]):
                    continue
                if rx is _DATE_NUM:
                    parts = [m.group(1), m.group(3), m.group(4)]
                    if m.group(2) == " " and not personal:
                        continue
                    if not _plausible_date(parts) or not re.search(r"[0-9]", m.group(0)):
                        continue
                    if len(parts[0]) < 4 and len(parts[2]) < 4 and not personal:
                        continue  # d.m.yy outside personal fields: more often a version number
                    if _VERSION_LABEL.search(t[max(0, a - 12):a]):
                        continue
                key = re.sub(r"\D", "-", m.group(0))
                if self._date_exempt(t, a, b):
                    if learn and "*" not in m.group(0):
                        self._public_dates.add(key)
                        self._memo.clear()
                    claim(a, b)
                    continue
                if key in self._public_dates:  # the same date elsewhere without its label (an OCR word alone)
                    claim(a, b)
                    continue
                _date_decisions(view, a, b, dec)
                claim(a, b)

        for m in _IP.finditer(t):  # addresses are not identifiers of people
            if not (m.start() > 0 and t[m.start() - 1] in "0123456789.") and not _DIGIT_AFTER.match(t, m.end()):
                claim(m.start(), m.end())

        # 6. digit runs (with the app's '*'): ids, phones, compact dates
        run_rx = _NUM_RUN_PERSONAL if personal else _NUM_RUN_FREE
        min_digits = 6 if personal else 8
        runs = []
        for m in run_rx.finditer(t):
            a = m.start()
            for i in range(m.start(), m.end() + 1):  # split where a date or blob was already judged
                if i == m.end() or claimed[i]:
                    if i > a:
                        runs.append((a, i))
                    a = i + 1
        for a, b in runs:
            while a < b and not (t[a].isdigit() or t[a] in "*•●"):
                a += 1
            while b > a and not (t[b - 1].isdigit() or t[b - 1] in "*•●"):
                b -= 1
            seg = t[a:b]
            digits = sum(c.isdigit() for c in seg)
            stars = sum(c in "*•●" for c in seg)
            if digits == 0:
                continue
            if not (digits >= min_digits or (stars and digits >= 4 and len(seg) >= 8)
                    or (stars and personal and digits >= 3 and len(seg) >= 6)):
                continue
            if _UNIT.match(t, b) or _IP.fullmatch(seg) or self._date_exempt(t, a, b) \
                    or (not stars and _QUANTITY_LABEL.search(t, max(0, a - 24), a)):
                continue
            pure = re.sub(r"\D", "", seg)
            if len(pure) == 8 and not stars and _compact_date(pure):
                _keep_decisions(view, a, b, dec, 0)
            else:
                if learn and digits >= 6 and not stars:
                    self.add_value(pure, kind="id")
                _keep_decisions(view, a, b, dec, KEEP_LAST)

        # 7. identifiers with letters: BHYT (2 letters + 13 digits), passport (1-2 letters + 7-8 digits)
        for m in re.finditer(r"(?<![0-9a-z])([a-z]{2}[0-9]{13}|[a-z]{1,2}[0-9]{7,8})(?![0-9a-z])", t):
            a, b = m.span()
            if any(claimed[a:b]):
                continue
            if not personal and not (view.flags(a) & _UP):
                continue
            if learn:
                self.add_value(m.group(0), kind="id")
            _keep_decisions(view, a, b, dec, KEEP_LAST)

        # 8. names in personal fields: after a name label, or capitalised words led by a family name
        if personal:
            for a, b in _personal_names(view):
                if learn and len(t[a:b].split()) >= 3:
                    self.add_name(s[view.starts[a]:view.ends[b - 1]])
                _name_decisions(view, a, b, dec)
        return view.render(dec)

    def _date_exempt(self, t: str, a: int, b: int) -> bool:
        """A date that is not a birth date: next to a time of day, or after an 'updated'/'expires'/... label."""
        line_start = t.rfind("\n", max(0, a - 80), a) + 1
        before = t[max(line_start, a - 80):a]
        after = t[b:b + 12]
        if re.match(r"(?:t|\s{1,3}|,\s?|\s?-\s?|\s?@\s?|\s?lúc\s?|\s?luc\s?)\d{1,2}:\d{2}", after):
            return True
        if re.search(r"\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]m)?(?:,\s?|\s{1,3}|\s?-\s?)$", before):
            return True
        if _BIRTH_LABEL.search(before[-12:]):
            return False
        return bool(_EXEMPT_DATE_LABELS.search(before[-40:]))

    # -- public string API --------------------------------------------------------------------------------------
    def mask_text(self, s: str) -> str:
        """Mask every personal value in free text (messages, reasons, anything without a known role)."""
        return self._decide(s) if isinstance(s, str) else s

    def mask_string(self, s: str) -> str:
        """Mask a string of unknown role (same rules as mask_text; payload-shaped parts are masked field by field)."""
        return self._decide(s) if isinstance(s, str) else s

    def mask_personal(self, s: str, *, learn: bool = False) -> str:
        """Mask a string known to hold personal data (screen text, payloads, displayed values, URLs)."""
        return self._decide(s, personal=True, learn=learn) if isinstance(s, str) else s

    def mask_payload(self, s: str) -> str:
        """SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT, field by field (robust to wrong field counts)."""
        return self._decide(s, personal=True, field="payload") if isinstance(s, str) else s

    def mask_field(self, s: str, field: str) -> str:
        """One value of a subject record: field in FIELD_KEYS ('so_giay_to', 'ho_ten', ...) or 'id'/'name'/'date'."""
        kind = FIELD_KEYS.get(field, field)
        return self._decide(s, personal=True, field=kind) if isinstance(s, str) else s

    def mask_filename(self, name: str) -> str:
        """An evidence file name or path: the personal part masked, folder names, separators and extension kept."""
        if not isinstance(name, str) or not name:
            return name
        if name in self.files:
            return self.files[name]
        m = re.match(r"^(.*?)((?:\.[A-Za-z0-9]{1,5})?)$", name)
        stem, ext = (m.group(1), m.group(2)) if m else (name, "")
        return self._decide(stem, personal=True) + ext

    def mask_raw(self, value: Any) -> Any:
        """Raw symbol bytes (hex string or list of ints): decode, mask, re-encode."""
        try:
            if isinstance(value, str):
                data = binascii.unhexlify(re.sub(r"\s", "", value))
                return self._mask_bytes(data).hex()
            if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
                return list(self._mask_bytes(bytes(value)))
        except (ValueError, binascii.Error):
            pass
        return "[masked]" if isinstance(value, str) else self.walk(value, personal=True)

    def mask_b64(self, value: Any) -> Any:
        """Base64 raw bytes: decode, mask, re-encode (an unreadable value is replaced)."""
        if not isinstance(value, str):
            return self.walk(value, personal=True)
        try:
            data = base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            return "[masked]"
        return base64.b64encode(self._mask_bytes(data)).decode("ascii")

    def _mask_bytes(self, data: bytes) -> bytes:
        text = data.decode("utf-8", errors="surrogateescape")
        return self._decide(text, personal=True, field="payload").encode("utf-8", errors="surrogateescape")

    # -- documents --------------------------------------------------------------------------------------------
    def walk(self, obj: Any, key: str | None = None, *, personal: bool = False, learn: bool = False) -> Any:
        """A masked copy of a JSON-like document. Keys decide the rule: PROTECTED_KEYS untouched, FILE_KEYS as
        file names, FIELD_KEYS as that field, PERSONAL_KEYS (and everything below them) as personal data."""
        if isinstance(obj, str):
            if key in FIELD_KEYS:
                return self._decide(obj, personal=True, field=FIELD_KEYS[key], learn=learn)
            if key in PROTECTED_KEYS:
                return obj
            if key in FILE_KEYS:
                return self.mask_filename(obj)
            return self._decide(obj, personal=personal or key in PERSONAL_KEYS, learn=learn)
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if k in RAW_BYTE_KEYS:
                    out[k] = self.mask_raw(v)
                elif k in B64_KEYS:
                    out[k] = self.mask_b64(v)
                else:
                    out[k] = self.walk(v, k, personal=personal or k in PERSONAL_KEYS, learn=learn)
            return out
        if isinstance(obj, (list, tuple)):
            return [self.walk(v, key, personal=personal, learn=learn) for v in obj]
        return obj

    def learn(self, obj: Any) -> None:
        """Learn personal values from the fields of a document known to hold them (before masking it)."""
        self.walk(obj, learn=True)


def _orig_to_view(view: _View, a: int, b: int) -> tuple[int, int]:
    import bisect

    i = bisect.bisect_left(view.starts, a)
    j = bisect.bisect_left(view.starts, b)
    return i, j


def _try_blob(tok: str, *, hex_: bool) -> str | None:
    try:
        if hex_:
            if len(tok) % 2:
                return None
            data = bytes.fromhex(tok)
        else:
            t = tok.replace("-", "+").replace("_", "/").rstrip("=")
            data = base64.b64decode(t + "=" * (-len(t) % 4), validate=True)
    except (ValueError, binascii.Error):
        return None
    text = data.decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() for ch in text)
    if not text or printable < 0.85 * len(text):
        return None
    return text


_FIELD0 = re.compile(r"(?:[0-9*•●](?:[ ._\-]?[0-9*•●])*|[a-z0-9*•●\ufffd]+)$")
_LASTF = re.compile(r"^[^\s'\"&)\]}>,;]*")


def _payload_fields(t: str, *, whole: bool) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the personal fields of every payload-shaped part of a folded view."""
    out = []
    line_a = 0
    for line in t.split("\n"):
        seg_a, seg = line_a, line
        line_a += len(line) + 1
        if seg.count(FIELD_SEP) < 4:
            continue
        seg_end = seg_a + len(seg)
        parsed = parse_payload(seg)  # the one splitter: fields and their offsets
        bounds = [(seg_a + off, seg_a + off + len(part)) for part, off in zip(parsed.fields, parsed.field_offsets)]
        if not (whole or (seg_a == 0 and seg_end == len(t))):
            f0 = _FIELD0.search(t, max(bounds[0][0], bounds[0][1] - 64), bounds[0][1])
            if f0 is not None:
                bounds[0] = (f0.start(), bounds[0][1])
            la, lb = bounds[-1]
            lm = _LASTF.match(t, la, lb)
            bounds[-1] = (la, lm.end() if lm else la)
        for i, (a, b) in enumerate(bounds):
            if a >= b or t[a:b].strip() in _SPEC_WORDS:
                continue
            if i != 1 and not re.search(r"[0-9*•●]", t[a:b]) and re.search(r"[a-z]{2}", t[a:b]):
                out.append((a, b, "name"))  # letters where a number belongs (fields in the wrong order)
                continue
            if i == 0:
                out.append((a, b, "id"))
            elif i == 1:
                out.append((a, b, "name"))
            elif i == 2:
                out.append((a, b, "date"))
            elif i == 3:
                if b - a > 2:  # LoaiDinhDanh is one digit; anything longer is judged as a value
                    out.append((a, b, "id"))
            elif i == 4:
                out.append((a, b, "id"))
            elif i == 5 and len(bounds) == 6:
                # EXT: proxy QID < gender < BHYT < phone < signature
                ipos = a
                for j, item in enumerate(t[a:b].split(EXT_SEP)):
                    ia, ib = ipos, ipos + len(item)
                    if ia < ib and (j != 1 or ib - ia > 2):
                        out.append((ia, ib, "id"))
                    ipos = ib + 1
            else:
                out.append((a, b, "id"))
    return out


_SPEC_WORDS = frozenset(w.lower() for w in SPEC_FIELD_NAMES)


def _personal_names(view: _View) -> list[tuple[int, int]]:
    """Spans of names in a personal field: after a name label, or 2-6 capitalised Vietnamese syllables led by a
    family name."""
    t = view.text
    out = []
    for m in _NAME_LABEL.finditer(t):
        a = m.end()
        w = re.match(r"[a-z\ufffd]+(?:[ \-_.+]{1,2}[a-z\ufffd]+){0,5}", t[a:a + 200])
        if w:
            words = w.group(0).split()
            if words and " ".join(words[:2]) not in _NOT_NAME_PARTS:
                out.append((a, a + w.end()))
    for m in re.finditer(r"(?<![a-z0-9\ufffd])[a-z]+(?:[ \u00a0]{1,2}[a-z]+){1,5}(?![a-z0-9\ufffd])", t):
        words = m.group(0).split()
        spans, pos = [], m.start()
        for w in words:
            i = t.index(w, pos)
            spans.append((i, i + len(w)))
            pos = i + len(w)
        # the longest run, from a family name, of capitalised syllables
        k = 0
        while k < len(words):
            if words[k] in _SURNAMES and view.flags(spans[k][0]) & _UP:
                j = k
                while j < len(words) and len(words[j]) <= 7 and _SYLLABLE.fullmatch(words[j]) \
                        and view.flags(spans[j][0]) & _UP:
                    j += 1
                run = words[k:j]
                if len(run) >= 2 and not any(" ".join(run[x:x + 2]) in _NOT_NAME_PARTS for x in range(len(run) - 1)):
                    out.append((spans[k][0], spans[j - 1][1]))
                    k = j
                    continue
            k += 1
    return out


def _subject_records(results: dict) -> list[dict]:
    subs = results.get("subjects") if isinstance(results, dict) else None
    if isinstance(subs, dict):
        subs = [dict(v, id=k) if isinstance(v, dict) else {} for k, v in subs.items()]
    return [s for s in (subs or []) if isinstance(s, dict)]


def build_redactor(results: dict, also: Iterable[Any] = ()) -> Redactor:
    """A Redactor for one results document (or any dict with 'subjects'): the subjects' values, then what the
    document's personal fields hold (payload names and numbers, screen text) and what the documents in `also`
    hold (the per-item detail files the reports write beside it), then its evidence file names."""
    red = Redactor(subjects=_subject_records(results))
    if isinstance(results, dict):
        red.learn({k: v for k, v in results.items() if k != "subjects"})
    for extra in also:
        red.learn(extra)
    if isinstance(results, dict):
        used: dict[str, str] = {}
        evidence = results.get("evidence") if isinstance(results.get("evidence"), list) else []
        for i, e in enumerate(evidence):
            f = e.get("file") if isinstance(e, dict) else None
            if not isinstance(f, str) or f in red.files:
                continue
            masked = red.mask_filename(f)
            if masked in used and used[masked] != f:
                masked = f"{masked} [{i + 1}]"
            used[masked] = f
            red.files[f] = masked
    return red


def redact_results(results: dict) -> dict:
    """Deep copy of a results document with personal data masked everywhere; sets pii_masked = True."""
    red = build_redactor(results)
    out = red.walk(copy.deepcopy(results))
    out["pii_masked"] = True
    return out
