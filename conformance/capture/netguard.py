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
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus, urlsplit

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}

TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "', "Exception in thread", "at java.", "\tat ")


def url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Pattern every subject id and file-name component written by the capturer must match (no '/', '.', '..')."""


def safe_name(value: Any) -> bool:
    return isinstance(value, str) and SAFE_NAME.fullmatch(value) is not None


def parse_allowed(entry: str) -> tuple[str, int | None] | None:
    """An allowed_hosts entry -> (host, port or None for any port); None when it is not a host or host:port.

    Forms: `host`, `host:port`, `[v6]`, `[v6]:port`, a bare IPv6 address (`::1`, any port)."""
    e = str(entry).strip().lower()
    if not e or any(c in e for c in "/?#@ \t"):
        return None
    if e.startswith("["):
        m = re.fullmatch(r"\[([0-9a-f:.]+)\](?::(\d{1,5}))?", e)
        if not m:
            return None
        host, port = m.group(1), m.group(2)
    elif e.count(":") > 1:
        host, port = e, None  # bare IPv6
    else:
        host, sep, port_s = e.partition(":")
        if sep and not port_s:
            return None
        port = port_s or None
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            return None
        return host, int(port)
    return (host, None) if host else None


def hostport_allowed(host: str, port: int, allowed_hosts: Iterable[str]) -> bool:
    """True when host:port is covered by an allowed_hosts entry (`host` = any port, `host:port` = that port)."""
    host = (host or "").lower().strip("[]").rstrip(".")
    if not host:
        return False
    for entry in allowed_hosts:
        parsed = parse_allowed(entry)
        if parsed is None:
            continue
        h, p = parsed
        if host == h.strip("[]").rstrip(".") and (p is None or p == port):
            return True
    return False


DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def host_allowed(url: str, allowed_hosts: Iterable[str]) -> bool:
    """True when the URL's host (and port) is allowed by allowed_hosts (exact host, case-insensitive; "host:port"
    entries also restrict the port). data:, blob: and about: URLs carry no network traffic and are allowed as
    sub-resources; use `navigation_allowed` for what a page may navigate to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme in ("data", "blob", "about"):
        return True
    if parts.scheme not in DEFAULT_PORTS:
        return False
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return False
    return hostport_allowed(parts.hostname or "", port, allowed_hosts)


def navigation_allowed(url: str, allowed_hosts: Iterable[str]) -> bool:
    """What a page (top-level document) may be: http(s) on an allowed host:port; never file:, data:, blob: etc.
    about:blank is the empty page every browser tab starts with, and is allowed."""
    if url == "about:blank":
        return True
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        return False
    return scheme in ("http", "https") and host_allowed(url, allowed_hosts)


def is_loopback(url: str) -> bool:
    host = url_host(url)
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_MARKS = re.compile(r"[\u0300-\u036f]+")


def _strip_accents(s: str) -> str:
    """Vietnamese without diacritics ('Đ' -> 'D'); linear, in C (regex over the NFD form)."""
    s = s.replace("Đ", "D").replace("đ", "d")
    if s.isascii():
        return s
    return _MARKS.sub("", unicodedata.normalize("NFD", s))


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
    """Sorted personal fields found in text (also after URL-decoding; names also without accents).

    Linear in the text: each variant is case-folded once and every value is first looked up as a plain substring
    (a C search); only a hit is confirmed with the whole-token pattern. Callers cap what they scan
    (`live.max_scan_bytes`)."""
    if not text:
        return []
    wanted = set(fields) if fields is not None else None
    variants = _variants(text)
    variants += [a for a in (_strip_accents(v).upper() for v in variants) if a not in variants]
    folded = [v.casefold() for v in variants]
    found: set[str] = set()
    for field, value in values:
        if wanted is not None and field not in wanted:
            continue
        if field in found:
            continue
        needle = value.casefold()
        if not any(needle in f for f in folded):
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


MAX_TEXT = 2000  # characters of a candidate-controlled string kept in a log entry (URL, header, message)


def clip(text: Any, limit: int = MAX_TEXT) -> Any:
    """A candidate-controlled string cut to `limit` characters for the log (non-strings are returned as they are)."""
    if isinstance(text, str) and len(text) > limit:
        return text[:limit] + f"… [{len(text) - limit} more characters]"
    return text


def has_traceback(text: str | None) -> list[str]:
    """Markers of a stack trace / debug page found in text."""
    if not text:
        return []
    return [m for m in TRACEBACK_MARKERS if m in text]

