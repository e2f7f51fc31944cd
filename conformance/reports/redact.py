"""Mask personal data in a results document (results.json and everything the HTML report shows).

Masking is structure-preserving: a payload string keeps its '|' and '<' separators and each field is masked
in place, so an assessor still sees the shape of what the app encoded:

    001093029317|NGUYEN LE KHANH HA|1987-01-18|0|162979388586171100|<1<HS4010123456821<0912345700
 -> *********317|N. L. K. H.|****-**-**|0|162979388586171100|<1<************821<*******700

Rules (applied to every string value except protected keys such as requirement IDs, statuses, file names,
hashes and timestamps; numbers are never touched):
  - document numbers (9 or 12 digits, also half-masked forms such as '******029317'), passports
    (1-2 letters + 7-8 digits), BHYT numbers (2 letters + 13 digits), phone / 10-digit numbers: keep the last 3;
  - dates YYYY-MM-DD / DD/MM/YYYY / DD-MM-YYYY (and masked forms like '1987-**-**'): all digits masked;
  - names: the subjects' names (results["subjects"]) and every HoTen field found in payload-shaped strings
    ('a|NAME|b|...') are replaced by initials ('N. L. K. H.') wherever they occur, with or without diacritics;
  - any other known value from the subjects' records (document number, phone, BHYT, date of birth) is masked
    even when its format is unusual.
"""
from __future__ import annotations

import base64
import binascii
import copy
import re
import unicodedata
from typing import Any, Iterable

# The report's own mask character differs from the apps' '*' so that an assessor can still tell, in a masked
# report, what the app hid ('*', kept as is) from what the report hides ('•'): '******029317' -> '******•••317'
# while a whole '001093029317' -> '•••••••••317'.
MASK = "•"
APP_MASK = "*"

# String values under these keys are identifiers or measurements, never personal data.
PROTECTED_KEYS = frozenset({
    "id", "requirement", "status", "level", "origin", "grade", "verdict", "file", "evidence", "sha256",
    "manifest_sha256", "check", "kind", "mode", "subject", "format_version", "suite_version", "spec_version",
    "catalogue_version", "profile_version", "generated_at", "path", "platform", "python", "field",
    "must_failed", "must_open", "title_en", "title_vi", "ecc", "ec_level", "polarity", "content_type",
    "symbology_identifier", "decoder", "format", "role", "validation_date", "metadata_source", "checks_selected",
    "source", "step", "kind",
})
# Values under these keys hold the raw bytes of a decoded symbol (hex string or list of ints).
RAW_BYTE_KEYS = frozenset({"bytes", "raw", "raw_bytes", "bytes_hex", "raw_hex", "data_hex"})
B64_KEYS = frozenset({"raw_bytes_b64", "bytes_b64", "raw_b64", "data_b64"})

_B = r"(?<![0-9A-Za-z*•])"  # token start: not glued to letters, digits or mask characters
_E = r"(?![0-9A-Za-z*•])"
_DATE_PATTERNS = [
    (re.compile(_B + r"(?=[0-9*]{4}-[0-9*]{2}-[0-9*]{2})(?=[^\s]{0,10}\d)[0-9*]{4}-[0-9*]{2}-[0-9*]{2}(?!T\d)" + _E),
     None),
    (re.compile(_B + r"(?=[^\s]{0,10}\d)[0-9*]{1,2}/[0-9*]{1,2}/[0-9*]{4}" + _E), None),
    (re.compile(_B + r"(?=[^\s]{0,10}\d)[0-9*]{2}-[0-9*]{2}-[0-9*]{4}" + _E), None),
]
# BHYT: 2 letters + 13 digits; passport: 1-2 letters + 7-8 digits; numbers of 9..12 (and 13..15) digits,
# also with leading mask characters left by the app (DISPLAY-001 half-masking).
_ID_PATTERNS = [
    re.compile(_B + r"[A-Za-z]{2}[0-9*]{13}" + _E),
    re.compile(_B + r"[A-Z]{1,2}\d{7,8}" + _E),
    re.compile(_B + r"(?=[0-9*]*\d)[0-9*]{9,12}" + _E),
    re.compile(_B + r"\d{13,15}" + _E),
]
_WS = re.compile(r"\s+")
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['.-][^\W\d_]+)*\.?$", re.UNICODE)


def keep_last(value: str, n: int = 3) -> str:
    """'001093029317' -> '•••••••••317'; the app's own '*' stay: '******029317' -> '******•••317'."""
    head, tail = (value, "") if len(value) <= n else (value[:-n], value[-n:])
    return "".join(ch if ch == APP_MASK else MASK for ch in head) + tail


def mask_digits(value: str) -> str:
    """Dates: every digit hidden, the app's '*' and the separators kept ('1987-**-**' -> '••••-**-**')."""
    return re.sub(r"\d", MASK, value)


def initials(name: str) -> str:
    """'NGUYEN LE KHANH HA' / 'Nguyễn Lê Khánh Hà' -> 'N. L. K. H.'"""
    words = [w for w in _WS.split(name.strip()) if w]
    return " ".join(_strip_marks(w[0]).upper() + "." for w in words) if words else name


def _strip_marks(s: str) -> str:
    s = s.replace("Đ", "D").replace("đ", "d")
    s = unicodedata.normalize("NFD", s)
    return unicodedata.normalize("NFC", "".join(ch for ch in s if unicodedata.category(ch) != "Mn"))


def _fold_char(ch: str) -> str:
    if ch in "Đđ":
        return "D" if ch == "Đ" else "d"
    d = unicodedata.normalize("NFD", ch)
    return d[0] if d else ch


def _fold(s: str) -> str:
    """Diacritics removed character by character: the result has exactly the length of s."""
    return "".join(_fold_char(c) for c in s)


def _is_initials(s: str) -> bool:
    return bool(re.fullmatch(r"(?:[A-Z]\.\s?)+", s.strip()))


# Words of the spec itself (field names, mode words) that appear between '|' in messages.
_NOT_NAMES = frozenset(w.lower() for w in (
    "SoGiayTo", "HoTen", "NgaySinh", "LoaiDinhDanh", "QID", "EXT", "default", "full", "masked", "empty",
    "pass", "fail", "warn", "skip", "review", "error", "android", "ios", "web", "other"))


def _looks_like_name(seg: str) -> bool:
    seg = seg.strip()
    if not seg or _is_initials(seg) or any(ch.isdigit() for ch in seg) or seg.lower() in _NOT_NAMES:
        return False
    words = _WS.split(seg)
    return all(_NAME_WORD.match(w) for w in words)


class Redactor:
    """Masks strings given what is known about the subjects (names and record values)."""

    def __init__(self, names: Iterable[str] = (), values: Iterable[tuple[str, str]] = ()) -> None:
        self.names: set[str] = set()
        for n in names:
            self.add_name(n)
        self.values: dict[str, str] = {}  # known raw value -> its mask
        for v, m in values:
            if v and len(v) >= 4:
                self.values[v] = m
        self._name_re: re.Pattern[str] | None = None

    def add_name(self, name: str) -> None:
        name = " ".join(_fold(str(name)).upper().split())
        if len(name) < 2 or _is_initials(name) or name.lower() in _NOT_NAMES:
            return
        self.names.add(name)
        self._name_re = None

    def _names_pattern(self) -> re.Pattern[str] | None:
        if self._name_re is None and self.names:
            alts = sorted(self.names, key=len, reverse=True)
            body = "|".join(r"\s+".join(re.escape(w) for w in n.split()) for n in alts)
            self._name_re = re.compile(r"(?<!\w)(?:" + body + r")(?!\w)", re.IGNORECASE | re.UNICODE)
        return self._name_re

    def _mask_names(self, s: str) -> str:
        """Known names -> initials, matched without regard to case or diacritics (OCR drops or adds marks)."""
        pat = self._names_pattern()
        if pat is None:
            return s
        folded = _fold(s)  # same length as s, so spans map back one to one
        out, last = [], 0
        for m in pat.finditer(folded):
            out.append(s[last:m.start()])
            out.append(initials(s[m.start():m.end()]))
            last = m.end()
        out.append(s[last:])
        return "".join(out)

    # -- strings ---------------------------------------------------------------------------------------
    def mask_text(self, s: str) -> str:
        """Mask every personal value in free text (messages, OCR lines, expected/found...)."""
        if not s:
            return s
        s = self._mask_names(unicodedata.normalize("NFC", s))
        for v in sorted(self.values, key=len, reverse=True):
            if v in s:
                s = s.replace(v, self.values[v])
        for rx, _ in _DATE_PATTERNS:
            s = rx.sub(lambda m: mask_digits(m.group(0)), s)
        for rx in _ID_PATTERNS:
            s = rx.sub(lambda m: keep_last(m.group(0)), s)
        return s

    def mask_string(self, s: str) -> str:
        """Mask a string; payload-shaped strings are masked field by field."""
        if "|" in s and s.count("|") >= 4 and "\n" not in s:
            return self.mask_payload(s)
        if "\n" in s:
            return "\n".join(self.mask_string(line) for line in s.split("\n"))
        return self.mask_text(s)

    def mask_payload(self, s: str) -> str:
        """SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT, field by field (robust to wrong field counts)."""
        fields = s.split("|")
        pure = " " not in fields[0].strip() and len(fields) >= 5
        out: list[str] = []
        for i, f in enumerate(fields):
            if i == 0 and pure and f:
                out.append(keep_last(f) if any(ch.isalnum() for ch in f[:-3]) or len(f) <= 3
                           else self.mask_text(f))
            elif i == 1 and f.strip() and not _is_initials(f):
                # the HoTen position: initials whatever it holds (a wrong-order payload is still masked below)
                out.append(initials(f) if _looks_like_name(f) else self.mask_text(f))
            elif i == 2 and pure and f:
                masked = self.mask_text(f)
                out.append(masked if masked != f else mask_digits(f))
            elif i == len(fields) - 1 and i >= 5 and pure:
                items = f.split("<")
                new = []
                for j, item in enumerate(items):
                    if j in (2, 3) and item and any(ch.isdigit() for ch in item):  # BHYT, phone
                        new.append(keep_last(item))
                    else:
                        new.append(self.mask_text(item))
                out.append("<".join(new))
            else:
                out.append(self.mask_text(f))
        return "|".join(out)

    def mask_raw(self, value: Any) -> Any:
        """Raw symbol bytes (hex string or list of ints): decode, mask as text, re-encode."""
        try:
            if isinstance(value, str):
                data = binascii.unhexlify(re.sub(r"\s", "", value))
                masked = self.mask_string(data.decode("latin-1")).encode("utf-8")
                return masked.hex()
            if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
                masked = self.mask_string(bytes(value).decode("latin-1")).encode("utf-8")
                return list(masked)
        except (ValueError, binascii.Error):
            pass
        return "[masked]" if isinstance(value, str) else self.walk(value)

    def mask_b64(self, value: Any) -> Any:
        """Base64 raw bytes: decode, mask as text, re-encode (unreadable values are replaced)."""
        if not isinstance(value, str):
            return self.walk(value)
        try:
            data = base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            return "[masked]"
        return base64.b64encode(self.mask_string(data.decode("latin-1")).encode("utf-8")).decode("ascii")

    # -- documents -------------------------------------------------------------------------------------
    def walk(self, obj: Any, key: str | None = None) -> Any:
        if isinstance(obj, str):
            if key in PROTECTED_KEYS:
                return obj
            return self.mask_string(obj)
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if k in RAW_BYTE_KEYS:
                    out[k] = self.mask_raw(v)
                elif k in B64_KEYS:
                    out[k] = self.mask_b64(v)
                else:
                    out[k] = self.walk(v, k)
            return out
        if isinstance(obj, (list, tuple)):
            return [self.walk(v, key) for v in obj]
        return obj


def _iter_strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _iter_strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _iter_strings(v)


def _subject_records(results: dict) -> list[dict]:
    subs = results.get("subjects")
    if isinstance(subs, dict):
        subs = [dict(v, id=k) if isinstance(v, dict) else {} for k, v in subs.items()]
    return [s for s in (subs or []) if isinstance(s, dict)]


def build_redactor(results: dict) -> Redactor:
    """Collect known names and values from results['subjects'] and from payload-shaped strings."""
    names: list[str] = []
    values: list[tuple[str, str]] = []
    for rec in _subject_records(results):
        if rec.get("ho_ten"):
            names.append(str(rec["ho_ten"]))
        doc = str(rec.get("so_giay_to") or "")
        if doc:
            values.append((doc, keep_last(doc)))
        dob = str(rec.get("ngay_sinh") or "")
        if dob:
            values.append((dob, mask_digits(dob)))
        ext = rec.get("ext") if isinstance(rec.get("ext"), dict) else {}
        for k in ("bhyt", "phone"):
            v = str(ext.get(k) or "")
            if v:
                values.append((v, keep_last(v)))
    for s in _iter_strings(results):
        if s.count("|") >= 2:
            segs = s.split("|")
            # a payload: HoTen is field 2; inside messages, any between-pipes segment that reads as a name
            cands = [segs[1]] if s.count("|") >= 4 else []
            cands += [seg for seg in segs[1:-1] if len(seg.split()) >= 2]
            for c in cands:
                if _looks_like_name(c):
                    names.append(c.strip())
    return Redactor(names, values)


def redact_results(results: dict) -> dict:
    """Deep copy of a results document with personal data masked everywhere; sets pii_masked = True."""
    red = build_redactor(results)
    out = red.walk(copy.deepcopy(results))
    out["pii_masked"] = True
    return out
