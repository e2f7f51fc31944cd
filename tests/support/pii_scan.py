"""Find personal values in text, files and pictures: the tests' own reader, independent of the masker's rules.

    secrets_of(person) -> [Secret]                every value of a candidate.json subject record
    text_leaks(text, secrets) -> [(label, how)]   disguised forms found in a text (after decoding it every way)
    image_leaks(image, secrets) -> [(label, how)] values Tesseract reads on a picture, and QR codes that decode
    scan_tree(folder, secrets) -> {file: [...]}   every file under a folder (text, embedded pictures, images)

A text is read raw, HTML-unescaped, URL-unquoted, with JSON escapes resolved (and combinations), plus every base64
run of 16 or more characters and every hex run of 16 or more digits decoded. Then case and diacritics are folded and
each value is looked for by its skeleton: the digits of a number with any separators between them, the letters of a
name with anything between its words, every written form of a date. What a masker may leave by design (the last 3
characters of a number, the first letter of a name word) is not a leak.
"""
from __future__ import annotations

import base64
import binascii
import html
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


@dataclass(frozen=True)
class Secret:
    label: str
    kind: str  # digits | alnum | date | name
    value: str


def fold(s: str) -> str:
    s = s.replace("đ", "d").replace("Đ", "D")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return "".join(c for c in s if c not in "\u200b\u200c\u200d\u2060\ufeff\u00ad").lower()


def secrets_of(person: dict, who: str = "") -> list[Secret]:
    out: list[Secret] = []
    who = who or str(person.get("id", "?"))
    ext = person.get("ext") or {}
    for key, val in (("so_giay_to", person.get("so_giay_to")), ("qid", person.get("qid")),
                     ("proxy_qid", ext.get("proxy_qid")), ("bhyt", ext.get("bhyt")), ("phone", ext.get("phone"))):
        val = str(val or "")
        if not val:
            continue
        kind = "digits" if val.isdigit() else "alnum"
        out.append(Secret(f"{who}.{key}", kind, fold(val)))
    if person.get("ngay_sinh"):
        out.append(Secret(f"{who}.ngay_sinh", "date", person["ngay_sinh"]))
    if person.get("ho_ten"):
        out.append(Secret(f"{who}.ho_ten", "name", person["ho_ten"]))
    return out


# -- views of a text -------------------------------------------------------------------------------------------
def _json_unescape(s: str) -> str:
    def one(m: re.Match) -> str:
        return m.group(0).encode("ascii").decode("unicode_escape")

    s = re.sub(r"(?:\\u[0-9a-fA-F]{4})+", lambda m: _utf16(m.group(0)), s)
    return re.sub(r"\\x[0-9a-fA-F]{2}", one, s)


def _utf16(run: str) -> str:
    codes = [int(run[i + 2:i + 6], 16) for i in range(0, len(run), 6)]
    return b"".join(c.to_bytes(2, "big") for c in codes).decode("utf-16-be", errors="replace")


_B64 = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{16,}(?![0-9A-Fa-f])")


def _decoded_blobs(text: str) -> Iterable[tuple[str, bytes]]:
    for m in _B64.finditer(text):
        tok = m.group(0).rstrip("=")
        for alt in (tok, tok.replace("-", "+").replace("_", "/")):
            try:
                yield "base64", base64.b64decode(alt + "=" * (-len(alt) % 4), validate=True)
                break
            except (binascii.Error, ValueError):
                continue
    for m in _HEX.finditer(text):
        tok = m.group(0)
        if len(tok) % 2 == 0:
            yield "hex", bytes.fromhex(tok)


def views(text: str, depth: int = 0) -> Iterable[tuple[str, str]]:
    seen = set()
    base = [("raw", text), ("html", html.unescape(text)), ("url", unquote_plus(text)),
            ("json", _json_unescape(text))]
    base += [("html+url", unquote_plus(html.unescape(text))), ("url+json", _json_unescape(unquote_plus(text))),
             ("json+html", html.unescape(_json_unescape(text))), ("url+url", unquote_plus(unquote_plus(text)))]
    for how, v in base:
        if v not in seen:
            seen.add(v)
            yield how, v
    if depth < 2:
        for how, data in _decoded_blobs(text):
            if any(data.startswith(m) for m in IMAGE_MAGIC):
                continue
            t = data.decode("utf-8", errors="replace")
            if sum(c.isprintable() for c in t) < 0.6 * max(1, len(t)):
                continue
            for h2, v in views(t, depth + 1):
                yield f"{how}>{h2}", v


# -- matching ----------------------------------------------------------------------------------------------------
_DIGIT_RUN = re.compile(r"\d(?:[\s._/\-+,()'\"]{0,3}\d)*")
_STAR_RUN = re.compile(r"[*•●]+[\s.\-]*((?:\d[\s.\-]?){4,})")
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]


def date_forms(iso: str) -> list[str]:
    y, m, d = iso.split("-")
    yy = y[2:]
    out = {f"{y}{m}{d}", f"{d}{m}{y}", f"{m}{d}{y}"}
    for sep in ("/", "-", ".", "_", " ", " / ", " - ", ", "):
        for dd, mm in ((d, m), (str(int(d)), str(int(m)))):
            out |= {f"{dd}{sep}{mm}{sep}{y}", f"{y}{sep}{mm}{sep}{dd}", f"{mm}{sep}{dd}{sep}{y}"}
            if sep.strip() in ("/", ".", "-"):
                out.add(f"{dd}{sep}{mm}{sep}{yy}")
    mon = _MONTHS[int(m) - 1]
    for dd in (d, str(int(d))):
        out |= {f"{dd} thang {m} nam {y}", f"{dd} thang {int(m)} nam {y}", f"{dd} {mon} {y}", f"{mon} {dd}, {y}",
                f"{dd} {mon[:3]} {y}", f"{dd}-{mon[:3]}-{y}", f"{mon[:3]} {dd}, {y}"}
    return sorted(out, key=len, reverse=True)


def _name_parts(name: str) -> list[str]:
    words = [w for w in re.split(r"[^a-z]+", fold(name)) if w]
    parts = []
    if len("".join(words)) >= 7:
        parts.append("".join(words))
    for k in range(2, len(words)):
        for i in range(len(words) - k + 1):
            p = "".join(words[i:i + k])
            if len(p) >= 8:
                parts.append(p)
    if len(words) >= 2 and len("".join(words)) >= 7:
        parts.append(words[-1] + "".join(words[:-1]))
    return parts


def _digit_leak(text_folded: str, secret: str) -> bool:
    for m in _DIGIT_RUN.finditer(text_folded):
        run = re.sub(r"\D", "", m.group(0))
        if len(run) < 4:
            continue
        if secret in run:
            return True
        if secret.startswith("0") and len(secret) == 10 and "84" + secret[1:] in run:
            return True
        # the end of the number: more than what may stay visible (3), and not the masker's 9s
        for k in range(6, len(secret)):
            if run.endswith(secret[-k:]) and len(run) == k and secret[-k:-3] != "9" * (k - 3):
                return True
    for m in _STAR_RUN.finditer(text_folded):
        run = re.sub(r"\D", "", m.group(1))
        if len(run) >= 4 and secret.endswith(run) and run[:-3] != "9" * (len(run) - 3):
            return True
    return False


def _alnum_leak(text_folded: str, secret: str) -> bool:
    skel = re.sub(r"[\s._/\-+,()'\"]", "", text_folded)
    if secret in skel:
        return True
    digits = re.sub(r"\D", "", secret)
    return len(digits) >= 9 and _digit_leak(text_folded, digits)


@lru_cache(maxsize=256)
def _date_re(iso: str) -> re.Pattern:
    return re.compile(r"(?<![0-9])(?:" + "|".join(map(re.escape, date_forms(iso))) + r")(?![0-9])")


def _date_leak(text_folded: str, iso: str) -> bool:
    return bool(_date_re(iso).search(re.sub(r"\s+", " ", text_folded)))


def _name_leak(text_folded: str, name: str) -> bool:
    skel = re.sub(r"[^a-z]", "", text_folded)
    return any(p in skel for p in _name_parts(name))


def text_leaks(text: str, secrets: list[Secret]) -> list[tuple[str, str]]:
    """(secret label, how the text was read) for every value found."""
    found: dict[str, str] = {}
    for how, v in views(text):
        f = fold(v)
        for s in secrets:
            if s.label in found:
                continue
            hit = {"digits": _digit_leak, "alnum": _alnum_leak, "date": _date_leak, "name": _name_leak}[s.kind](
                f, s.value)
            if hit:
                found[s.label] = how
    return sorted(found.items())


# -- pictures ----------------------------------------------------------------------------------------------------
def qr_texts(img: Any) -> list[str]:
    """Every QR text zxing-cpp, ZBar or OpenCV reads on the picture (full and half size)."""
    import cv2
    import numpy as np
    import zxingcpp
    from PIL import Image
    from pyzbar import pyzbar

    pil = img if isinstance(img, Image.Image) else Image.fromarray(np.asarray(img))
    gray = pil.convert("L")
    out = []
    for g in (gray, gray.resize((max(1, gray.width // 2), max(1, gray.height // 2)))):
        out += [r.text for r in zxingcpp.read_barcodes(g, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=True,
                                                        try_invert=True)]
        out += [r.data.decode("utf-8", "replace") for r in pyzbar.decode(g, symbols=[pyzbar.ZBarSymbol.QRCODE])]
        try:
            ok, texts, _, _ = cv2.QRCodeDetector().detectAndDecodeMulti(np.asarray(g))
            out += [t for t in (texts or []) if ok and t]
        except cv2.error:
            pass
    return out


def ocr_text(img: Any, scales: tuple[int, ...] = (2,), rotations: tuple[int, ...] = (0, 90, 270)) -> str:
    import pytesseract
    from PIL import Image

    g = img.convert("L") if isinstance(img, Image.Image) else Image.fromarray(img).convert("L")
    out = []
    for rot in rotations:
        r = g.rotate(rot, expand=True) if rot else g
        for f in scales:
            rr = r.resize((r.width * f, r.height * f), Image.Resampling.LANCZOS) if f != 1 else r
            out.append(pytesseract.image_to_string(rr, lang="vie+eng", config="--psm 11", timeout=60))
    return "\n".join(out)


def ocr_leaks(text: str, secrets: list[Secret]) -> list[tuple[str, str]]:
    """What OCR read that belongs to a subject: any 6+ digit piece of a number or date, any 2 name words."""
    f = fold(text)
    runs = [re.sub(r"\D", "", m.group(0)) for m in re.finditer(r"\d(?:[\s.\-/]?\d)*", f)]
    words = set(re.split(r"[^a-z]+", f))
    found = []
    for s in secrets:
        if s.kind in ("digits", "alnum", "date"):
            nums = [re.sub(r"\D", "", s.value)] if s.kind != "date" else [re.sub(r"\D", "", x) for x in
                                                                          date_forms(s.value) if x[0].isdigit()]
            if any(len(r) >= 6 and any(r in n or n in r for n in nums if len(n) >= 6) for r in runs):
                found.append((s.label, "ocr"))
        elif s.kind == "name":
            ws = [w for w in re.split(r"[^a-z]+", fold(s.value)) if len(w) >= 3]
            if sum(w in words for w in set(ws)) >= 2:
                found.append((s.label, "ocr"))
    return found


def image_leaks(img: Any, secrets: list[Secret], rotations: tuple[int, ...] = (0, 90, 270)) -> list[tuple[str, str]]:
    out = ocr_leaks(ocr_text(img, rotations=rotations), secrets)
    out += [("qr", t[:40]) for t in qr_texts(img)]
    return out


# -- folders -----------------------------------------------------------------------------------------------------
_DATA_URI = re.compile(r"data:image/(?:png|jpeg);base64,([A-Za-z0-9+/=]+)")


def scan_tree(folder: Path, secrets: list[Secret], *, pictures: bool = True,
              rotations: tuple[int, ...] = (0, 90, 270)) -> dict[str, list]:
    """Every file under `folder`: text leaks; with `pictures`, OCR and QR leaks of every image (files and
    data: URIs), each distinct picture read once."""
    from PIL import Image

    leaks: dict[str, list] = {}
    seen_pics: set[bytes] = set()

    def pic(name: str, data: bytes) -> None:
        import hashlib

        h = hashlib.sha256(data).digest()
        if not pictures or h in seen_pics:
            return
        seen_pics.add(h)
        hits = image_leaks(Image.open(io.BytesIO(data)), secrets, rotations)
        if hits:
            leaks.setdefault(name, []).extend(hits)

    for p in sorted(Path(folder).rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        name = str(p.relative_to(folder))
        if any(data.startswith(m) for m in IMAGE_MAGIC):
            pic(name, data)
            continue
        text = data.decode("utf-8", errors="replace")
        for m in _DATA_URI.finditer(text):  # embedded pictures are read as pictures
            pic(f"{name}#img", base64.b64decode(m.group(1)))
        hits = text_leaks(_DATA_URI.sub("data:image/;base64,", text), secrets)
        if hits:
            leaks.setdefault(name, []).extend(hits)
        if p.suffix == ".json":
            try:
                json.loads(text)
            except ValueError:
                leaks.setdefault(name, []).append(("not JSON", ""))
    return leaks
