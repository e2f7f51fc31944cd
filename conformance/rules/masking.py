"""DISPLAY-001 and DISPLAY-002: the masking rule of the default display mode, written once.

Decision 1405 v1.1 (specs/SOURCES.md): in the default display mode
- the document number has its first 6 characters replaced by '*' (a number shorter than 6 is all '*');
- the date of birth has the characters of the day and of the month replaced by '*', the year kept.
The full display mode shows both whole.

For a date the suite accepts every usual display form (``1987-**-**``, ``**/**/1987``, ``**.**.1987``) and expects
exactly two '*' for the day and two for the month; in the payload the form is the payload's own (YYYY-MM-DD, so
``YYYY-**-**``, hyphens kept).

Used by the payload validator (conformance/payload/validate.py), the screen-text judge (conformance/ocr/match.py),
the live judge (conformance/checks/display_live.py), the payload builder of the fixtures and the reference app.
The classifiers take canonical text (digits, upper-case letters and '*'): readers that may confuse glyphs (OCR) map
them first.
"""
from __future__ import annotations

import re

MASK_CHAR = "*"
# The record field each masking requirement governs.
MASKED_FIELD = {"DISPLAY-001": "so_giay_to", "DISPLAY-002": "ngay_sinh"}
DOC_MASK_LEN = 6
DATE_PART_MASK = MASK_CHAR * 2

# Classes of a shown value against the registered one (see classify_document_number / classify_date).
FULL = "FULL"  # the whole value is visible
EXACT = "EXACT"  # exactly the default-mode mask of the value
WRONG = "WRONG"  # masked, but other characters than the rule's
COUNT = "COUNT"  # stars then the visible part, with another number of stars (or a star lost by a reader)
NEAR = "NEAR"  # one character away from FULL or EXACT
PARTIAL = "PARTIAL"  # an unmasked suffix of the value only


# ------------------------------------------------------------------------------------------- document number
def doc_mask_length(n: int) -> int:
    """How many leading characters of an n-character document number the default mode replaces."""
    return min(DOC_MASK_LEN, max(0, n))


def mask_document_number(value: str) -> str:
    """Default-mode form of a document number: '001093029317' -> '******029317'."""
    m = doc_mask_length(len(value))
    return MASK_CHAR * m + value[m:]


def document_mask_problem(shown: str) -> tuple[int, str] | None:
    """Where a masked document number breaks the rule, judged on its shape alone (no record).

    Returns None when the '*' are exactly the first 6 characters, else (0-based character position, "missing" when a
    position that must be '*' is not, or the value is shorter than the mask; "extra" when a '*' stands after it).
    No valid document number is shorter than 6 characters (CCCD 12, CMND 9, passport 6-9), so a shorter masked value
    is a wrong mask.
    """
    m = DOC_MASK_LEN
    if len(shown) < m:
        return len(shown), "missing"
    for i, ch in enumerate(shown):
        if i < m and ch != MASK_CHAR:
            return i, "missing"
        if i >= m and ch == MASK_CHAR:
            return i, "extra"
    return None


def classify_document_number(shown: str, record: str) -> str | None:
    """Class of one shown candidate (canonical text) against the registered number; None = not this value."""
    r, cand = record, shown
    n = len(r)
    if n == 0 or not cand:
        return None
    m = doc_mask_length(n)
    if r in cand:
        return FULL
    k = cand.count(MASK_CHAR)
    if k == 0:
        if len(cand) == n and sum(a != b for a, b in zip(cand, r)) == 1:
            return NEAR
        if 4 <= len(cand) < n and r.endswith(cand):
            return PARTIAL
        return None
    if len(cand) == n:
        visible = [(i, c) for i, c in enumerate(cand) if c != MASK_CHAR]
        if not visible:
            return WRONG if k != m else None  # nothing ties an all-star value to this record
        bad = sum(c != r[i] for i, c in visible)
        stars = {i for i, c in enumerate(cand) if c == MASK_CHAR}
        if bad == 0:
            return EXACT if stars == set(range(m)) else WRONG
        if bad == 1 and len(visible) >= 3:
            return NEAR
        return None
    mt = re.fullmatch(r"(\*+)([0-9A-Z]+)", cand)
    if mt and len(mt.group(2)) >= 3 and r.endswith(mt.group(2)):
        return COUNT
    return None


def expected_document_number(record: str, mode: str) -> str:
    return record if mode == "full" else mask_document_number(record)


# ------------------------------------------------------------------------------------------- date of birth
ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# A shown date in canonical text: day-month-year or year-month-day, separators / - . (spaces around allowed).
_SHOWN_DATE = re.compile(r"(?<![0-9*])([0-9*]{1,4})\s*([-/.])\s*([0-9*]{1,2})\s*\2\s*([0-9*]{1,4})(?![0-9*])")


def mask_date_of_birth(iso: str, form: str = "iso") -> str:
    """Default-mode form of a YYYY-MM-DD date: form "iso" -> '1987-**-**', "dmy" -> '**/**/1987'.

    A value that is not YYYY-MM-DD is returned unchanged (nothing can be said about which characters are which).
    """
    m = ISO_DATE.fullmatch(iso)
    if not m:
        return iso
    y = m.group(1)
    return f"{DATE_PART_MASK}/{DATE_PART_MASK}/{y}" if form == "dmy" else f"{y}-{DATE_PART_MASK}-{DATE_PART_MASK}"


def date_mask_problem(shown: str) -> tuple[int, str] | None:
    """Where a masked payload date (YYYY-MM-DD form) breaks the rule: None when it is ``YYYY-**-**`` with a
    visible 4-digit year, else (0-based character position, "year" when the year is masked, "shape" otherwise)."""
    if re.fullmatch(r"[0-9]{4}-\*\*-\*\*", shown):
        return None
    if MASK_CHAR in shown[:4]:
        return shown.index(MASK_CHAR), "year"
    want = "YYYY-**-**"
    for i in range(max(len(shown), len(want))):
        if i >= len(shown) or i >= len(want):
            return i, "shape"
        w, c = want[i], shown[i]
        if (w == "Y" and not c.isdigit()) or (w != "Y" and c != w):
            return i, "shape"
    return 0, "shape"


def _kind(s: str) -> str:
    if re.fullmatch(r"[0-9]+", s):
        return "digits"
    if re.fullmatch(r"\*+", s):
        return "stars"
    return "mixed"


def classify_date(day: str, month: str, year: str, dob: tuple[int, int, int]) -> str | None:
    """Class of one shown date (canonical day, month and year groups) against the record (Y, M, D).

    FULL: year, day and month visible and equal (day/month order either way); EXACT: year visible and equal, day and
    month each exactly '**'; WRONG: masked but wrong parts (the year masked, only one of day/month masked); COUNT:
    year equal, day and month masked with another number of stars; NEAR: one character off FULL or EXACT;
    None: another date (e.g. a vaccination date in the same year).
    """
    Y, M, D = dob
    ty, tm, td = _kind(year), _kind(month), _kind(day)
    y, m, d = year, month, day
    ys = f"{Y:04d}"
    if ty == "digits" and len(y) == 4 and y == ys:
        if td == "digits" and tm == "digits":
            if (int(d), int(m)) in ((D, M), (M, D)) and len(d) <= 2 and len(m) <= 2:
                return FULL
            want = f"{D:02d}{M:02d}"
            got = d.zfill(2) + m.zfill(2)
            if len(got) == 4 and sum(a != b for a, b in zip(got, want)) == 1:
                return NEAR
            return None
        if td == "stars" and tm == "stars":
            return EXACT if (d, m) == (DATE_PART_MASK, DATE_PART_MASK) else COUNT
        d_ok = td == "digits" and int(d) in (D, M)
        m_ok = tm == "digits" and int(m) in (D, M)
        if (td == "stars" and m_ok) or (tm == "stars" and d_ok):
            return WRONG
        if MASK_CHAR in d + m and (d_ok or m_ok or td == "stars" or tm == "stars"):
            return WRONG if (td != "mixed" and tm != "mixed") else NEAR
        return None
    if ty in ("stars", "mixed") and MASK_CHAR in y:
        if td == "digits" and tm == "digits" and {int(d), int(m)} == {D, M}:
            return WRONG
        if ty == "mixed" and all(c == MASK_CHAR or c == ys[i] for i, c in enumerate(y[:4])):
            return WRONG
        return None
    if ty == "digits" and len(y) == 4 and sum(a != b for a, b in zip(y, ys)) == 1:
        if (td == "stars" and tm == "stars") or (
            td == "digits" and tm == "digits" and {int(d), int(m)} == {D, M}
        ):
            return NEAR
    return None


def shown_dates(text: str) -> list[tuple[str, str, str, str]]:
    """(matched text, day, month, year) for every date in a canonical displayed text (any usual order)."""
    out = []
    for mt in _SHOWN_DATE.finditer(text):
        a, b, c = mt.group(1), mt.group(3), mt.group(4)
        if len(a) == 4 and len(c) <= 2:
            out.append((mt.group(0), c, b, a))
        elif len(c) == 4:
            out.append((mt.group(0), a, b, c))
    return out


def parse_iso(iso: str) -> tuple[int, int, int] | None:
    m = ISO_DATE.fullmatch(iso or "")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def expected_date_of_birth(iso: str, mode: str) -> str:
    """How the date is expected on screen, for messages: the whole date, or both usual masked forms."""
    if mode == "full" or not ISO_DATE.fullmatch(iso or ""):
        return iso
    return f"{mask_date_of_birth(iso, 'dmy')}; {mask_date_of_birth(iso)}"


def displayed_mode(doc_text: str | None, dob_text: str | None, record: dict[str, object] | None) -> str | None:
    """The display mode a screen shows, from its displayed document number and date of birth (both modes may carry
    the same code, so the code cannot tell): "default" when either value shows the mask character, "full" when the
    registered number or the whole date is visible, None when the texts do not tell."""
    doc, dob = "".join((doc_text or "").split()), "".join((dob_text or "").split())
    if MASK_CHAR in doc or MASK_CHAR in dob:
        return "default"
    if record:
        full_doc = str(record.get("so_giay_to") or "")
        if full_doc and full_doc in doc:
            return "full"
        ymd = parse_iso(str(record.get("ngay_sinh") or ""))
        if ymd and any(classify_date(d, m, y, ymd) == FULL for _, d, m, y in shown_dates(dob)):
            return "full"
    return None
