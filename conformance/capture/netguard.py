"""Network guard and personal-data helpers for live capture.

* `host_allowed(url, allowed_hosts)`: the capturers never contact a host outside the assessor's list.
* `pii_values(subjects)`: the personal values of the assessor's test accounts, in every written form
  (document number, date of birth in many formats, phone, BHYT number, name).
* `find_pii(text, values)`: which personal fields occur in a text (URL, body excerpt).
* `mask_pii(text, values)`: the same text with every personal value replaced by `[field]`.

Lowest layer: imports nothing from the rest of the suite.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Any, Iterable
from urllib.parse import unquote_plus, urlsplit

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}

# Fields whose presence in a URL is a PRIV-001 finding (the name is personal data in a body, but a
# URL carrying only a subject id or opaque token is the point of the check, so the name is reported too).
URL_FIELDS = ("so_giay_to", "ngay_sinh", "phone", "bhyt")
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "', "Exception in thread", "at java.", "\tat ")


def url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def host_allowed(url: str, allowed_hosts: Iterable[str]) -> bool:
    """True when the URL's host is one of allowed_hosts (exact, case-insensitive; "host:port" entries
    also restrict the port). data:, blob: and about: URLs carry no network traffic and are allowed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme in ("data", "blob", "about"):
        return True
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return False
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return False
    for entry in allowed_hosts:
        entry = str(entry).strip().lower()
        if not entry:
            continue
        if entry.startswith("[") or entry.count(":") != 1:
            if host == entry.strip("[]"):
                return True
            continue
        h, _, p = entry.partition(":")
        if host == h and (port == int(p) if p.isdigit() else False):
            return True
    return False


def is_loopback(url: str) -> bool:
    host = url_host(url)
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _strip_accents(s: str) -> str:
    s = s.replace("Đ", "D").replace("đ", "d")
    s = unicodedata.normalize("NFD", s)
    return "".join(ch for ch in s if unicodedata.category(ch) != "Mn")


def date_forms(iso: str) -> set[str]:
    """Written forms of a YYYY-MM-DD date: ISO, DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY, unpadded, compact, MM/DD/YYYY."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso.strip())
    if not m:
        return {iso} if len(iso) >= 6 else set()
    y, mo, d = m.groups()
    forms = {iso, f"{y}{mo}{d}", f"{d}{mo}{y}"}
    for sep in ("/", "-", ".", " "):
        for dd, mm in ((d, mo), (str(int(d)), str(int(mo)))):
            forms.add(f"{dd}{sep}{mm}{sep}{y}")
            forms.add(f"{y}{sep}{mm}{sep}{dd}")
            forms.add(f"{mm}{sep}{dd}{sep}{y}")
    return forms


def phone_forms(phone: str) -> set[str]:
    p = re.sub(r"\D", "", phone or "")
    if len(p) < 8:
        return set()
    forms = {p}
    if p.startswith("0"):
        forms |= {"84" + p[1:], "+84" + p[1:]}
    return forms


def pii_values(subjects: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """(field, value) pairs of every personal value of the given subject records, longest first."""
    out: set[tuple[str, str]] = set()
    for rec in subjects:
        if not isinstance(rec, dict):
            continue
        doc = str(rec.get("so_giay_to") or "").strip()
        if len(doc) >= 6:
            out.add(("so_giay_to", doc))
        dob = str(rec.get("ngay_sinh") or "").strip()
        for f in date_forms(dob):
            out.add(("ngay_sinh", f))
        ext = rec.get("ext") or {}
        if isinstance(ext, dict):
            for f in phone_forms(str(ext.get("phone") or "")):
                out.add(("phone", f))
            bhyt = str(ext.get("bhyt") or "").strip()
            if len(bhyt) >= 6:
                out.add(("bhyt", bhyt))
        name = " ".join(str(rec.get("ho_ten") or "").split())
        if len(name) >= 4:
            out.add(("ho_ten", name))
            out.add(("ho_ten", _strip_accents(name).upper()))
            out.add(("ho_ten", name.upper()))
    return sorted(out, key=lambda fv: (-len(fv[1]), fv))


def _variants(text: str) -> list[str]:
    """The text, its URL-decoded form(s) and an accent-stripped upper-case form (for names)."""
    seen = [text]
    cur = text
    for _ in range(2):
        try:
            nxt = unquote_plus(cur)
        except Exception:  # noqa: BLE001 - never fail on odd input
            break
        if nxt == cur:
            break
        seen.append(nxt)
        cur = nxt
    return seen


def _pattern(value: str) -> re.Pattern[str]:
    # A value counts only as a whole token: not glued to further digits (so "1987" inside a longer
    # number is not a date, and a phone is not found inside a QID).
    esc = re.escape(value)
    if value[:1].isdigit():
        esc = r"(?<![0-9])" + esc
    if value[-1:].isdigit():
        esc = esc + r"(?![0-9])"
    return re.compile(esc, re.IGNORECASE if not value[:1].isdigit() else 0)


def find_pii(text: str | None, values: list[tuple[str, str]], fields: Iterable[str] | None = None) -> list[str]:
    """Sorted personal fields found in text (also after URL-decoding; names also without accents)."""
    if not text:
        return []
    wanted = set(fields) if fields is not None else None
    variants = _variants(text)
    variants += [_strip_accents(v).upper() for v in variants]
    found: set[str] = set()
    for field, value in values:
        if wanted is not None and field not in wanted:
            continue
        if field in found:
            continue
        pat = _pattern(value)
        if any(pat.search(v) for v in variants):
            found.add(field)
    return sorted(found)


def mask_pii(text: str | None, values: list[tuple[str, str]]) -> str | None:
    """Replace every personal value (also URL-encoded ones, by decoding first when needed) with [field]."""
    if text is None:
        return None
    out = text
    if find_pii(out, values) and out != unquote_plus(out):
        # encoded personal value: mask the decoded text (the log is for humans, not for replay)
        decoded = _variants(out)[-1]
        if find_pii(decoded, values):
            out = decoded
    for field, value in values:
        out = _pattern(value).sub(f"[{field}]", out)
    return out


def has_traceback(text: str | None) -> list[str]:
    """Markers of a stack trace / debug page found in text."""
    if not text:
        return []
    return [m for m in TRACEBACK_MARKERS if m in text]


def mask_id(value: str, keep: int = 2) -> str:
    """Short masked form of a secret for logs ('abcdef' -> 'ab****')."""
    value = value or ""
    return value[:keep] + "*" * max(0, len(value) - keep)
