"""The report masker (conformance/reports/redact.py) and screenshot redaction (annotate.py) against disguised values.

Fictitious people only (fixtures/synth/people.py). Every corpus item is checked twice with the tests' own reader
(tests/support/pii_scan.py, independent of the masker): it must find the value in the disguised input (so the item
is a real disguise) and must not find it in the masked output.
"""
from __future__ import annotations

import base64
import contextlib
import copy
import html
import io
import json
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote, quote_plus

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from conformance.payload.record import build_payload
from conformance.reports import annotate_screenshot, redact_results
from conformance.reports.annotate import text_regions
from conformance.reports.redact import (
    APP_MASK,
    MASK_CHARS,
    build_redactor,
    keep_last,
    mask_digits,
    mask_name,
    mask_shape,
)
from fixtures.synth.people import make_people
from fixtures.synth.screens import ScreenStyle, render_screen
from tests.support.pii_scan import ocr_leaks, ocr_text, qr_texts, scan_tree, secrets_of, text_leaks

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _people() -> list[dict]:
    """Varied fictitious subjects: CCCD, CMND, passport, proxy-declared (with proxy QID), long and short names."""
    ps = make_people(912, 60)
    pick = []
    for want in (lambda p: len(p["so_giay_to"]) == 12 and p["loai_dinh_danh"] == 0,
                 lambda p: len(p["so_giay_to"]) == 9,
                 lambda p: p["so_giay_to"][:1].isalpha(),
                 lambda p: p["loai_dinh_danh"] == 1 and p["ext"].get("proxy_qid") and p["so_giay_to"],
                 lambda p: len(p["ho_ten"].split()) == 4,
                 lambda p: p["ho_ten"] == p["ho_ten"].lower()):
        pick.append(next(p for p in ps if want(p) and p not in pick and len(p["ho_ten"].replace(" ", "")) >= 9))
    return pick


PEOPLE = _people()


# -- disguises ---------------------------------------------------------------------------------------------------
def _groups(v: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for n in sizes:
        out.append(v[i:i + n])
        i += n
    if i < len(v):
        out.append(v[i:])
    return sep.join(x for x in out if x)


def _entities(s: str, hexa: bool = False) -> str:
    return "".join((f"&#x{ord(c):X};" if hexa else f"&#{ord(c)};") for c in s)


def _json_escaped(s: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if not c.isascii() or c.isdigit() else c for c in s)


def _ascii(s: str) -> str:
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def number_disguises(v: str) -> list[str]:
    n = len(v)
    sizes = [4, 3, 3] if n == 10 else [3] * 6 if n >= 12 else [3, 3, 3, 3, 3]
    out = [v, _groups(v, sizes, " "), _groups(v, sizes, "."), _groups(v, sizes, "_"), _groups(v, sizes, "-"),
           _groups(v, [4] * 5, " - "), _groups(v, sizes, "\u00a0"), " ".join(v), "\u200b".join(v),
           "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in v),
           quote(_groups(v, sizes, " ")), _groups(v, sizes, "+"), "".join(f"%{ord(c):02X}" for c in v),
           _json_escaped(v), _entities(v), _entities(v, hexa=True),
           f"/api/qr?doc={v}&t=1", f"found '{v}' on screen", f"({v[:3]}) {v[3:]}",
           base64.b64encode(json.dumps({"value": v}).encode()).decode(),
           v.lower() if not v.isdigit() else "******" + v[-6:] if n >= 12 else "****" + v[-5:]]
    if n == 10 and v.startswith("0"):
        out += ["+84 " + _groups(v[1:], [3, 3, 3], " "), "84" + v[1:]]
    if not v.isdigit():
        out += [v[:2] + " " + v[2:], v[:2] + "-" + _groups(v[2:], [3, 3, 3], "-")]
    return out


def date_disguises(iso: str) -> list[str]:
    y, m, d = iso.split("-")
    di, mi = str(int(d)), str(int(m))
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    return [iso, f"{d}/{m}/{y}", f"{di}/{mi}/{y}", f"{d}-{m}-{y}", f"{d}.{m}.{y}", f"{y}_{m}_{d}", f"{y}/{m}/{d}",
            f"{d}{m}{y}", f"{y}{m}{d}", f"{d} {m} {y}", f"{d} / {m} / {y}", f"{d}/{m}/{y[2:]}",
            f"ngày {di} tháng {m} năm {y}", f"{di} {months[int(m) - 1]} {y}", f"{months[int(m) - 1]} {di}, {y}",
            f"{d}%2F{m}%2F{y}", f"{d}&#47;{m}&#47;{y}", f"{m}/{d}/{y}", f"sinh ngày {d}.{m}.{y}"]


def name_disguises(name: str) -> list[str]:
    words = name.split()
    asc = _ascii(name)
    return [name, name.upper(), name.lower(), name.title(), asc, asc.upper(), asc.lower(),
            "-".join(asc.lower().split()), "_".join(asc.upper().split()), ".".join(asc.split()),
            "+".join(asc.split()), "".join(asc.split()), "".join(w.capitalize() for w in asc.lower().split()),
            quote(name), quote_plus(name), quote(quote(name)), _json_escaped(name),
            html.escape(name).encode("ascii", "xmlcharrefreplace").decode(), _entities(name, hexa=True),
            unicodedata.normalize("NFD", name), "\u200d".join(name), " ".join([words[-1]] + words[:-1]),
            f"HoTen '{name.upper()}' differs from the registered name",
            base64.b64encode(f"{asc.upper()}|x".encode()).decode()]


def corpus() -> list[tuple[dict, str, str]]:
    items = []
    for p in PEOPLE:
        ext = p["ext"]
        for field, v in (("so_giay_to", p["so_giay_to"]), ("qid", p["qid"]), ("proxy_qid", ext.get("proxy_qid")),
                         ("bhyt", ext["bhyt"]), ("phone", ext["phone"])):
            if v:
                items += [(p, field, x) for x in number_disguises(v)]
        items += [(p, "ngay_sinh", x) for x in date_disguises(p["ngay_sinh"])]
        items += [(p, "ho_ten", x) for x in name_disguises(p["ho_ten"])]
    return items


CORPUS = corpus()
_LABEL = {"so_giay_to": "so_giay_to", "qid": "qid", "proxy_qid": "proxy_qid", "bhyt": "bhyt", "phone": "phone",
          "ngay_sinh": "ngay_sinh", "ho_ten": "ho_ten"}


def _secret(p: dict, field: str):
    return [s for s in secrets_of(p, "p") if s.label == f"p.{_LABEL[field]}"]


def test_corpus_is_large_and_varied():
    assert len(PEOPLE) == 6 and len(CORPUS) >= 500
    assert {f for _, f, _ in CORPUS} == {"so_giay_to", "qid", "proxy_qid", "bhyt", "phone", "ngay_sinh", "ho_ten"}


_REDACTORS: dict[str, object] = {}


def _redactor(pid: str):
    if pid not in _REDACTORS:
        _REDACTORS[pid] = build_redactor({"subjects": [p for p in PEOPLE if p["id"] == pid]})
    return _REDACTORS[pid]


@pytest.mark.parametrize("i", range(len(CORPUS)))
def test_disguised_subject_value_is_masked(i):
    person, field, disguised = CORPUS[i]
    secret = _secret(person, field)
    # the corpus item really carries the value (our own reader finds it)
    assert text_leaks(disguised, secret), (field, disguised)
    red = _redactor(person["id"])
    outputs = {
        "mask_string": red.mask_string(disguised),
        "in a message": red.mask_string(f"Expected {disguised!r}; the screen shows ‘{disguised}’."),
        "walk/message": red.walk({"message_en": f"value {disguised} found"})["message_en"],
        "walk/screen": red.walk({"screen_text": {"lines": [{"text": disguised}]}})["screen_text"]["lines"][0]["text"],
        "walk/url": red.walk({"network": [{"url": f"http://127.0.0.1:8765/q?v={disguised}"}]})["network"][0]["url"],
    }
    for how, out in outputs.items():
        assert not text_leaks(out, secret), (how, disguised, out)


# -- other people (not subjects) ---------------------------------------------------------------------------------
OTHERS = [p for p in make_people(4404, 12)
          if len(p["so_giay_to"]) == 12 and len(p["ho_ten"].replace(" ", "")) >= 10][:4]


@pytest.mark.parametrize("other", OTHERS, ids=lambda p: p["id"])
def test_other_peoples_values_are_masked_from_payloads_and_screen_text(other):
    subject = PEOPLE[0]
    payload = build_payload(dict(subject, ho_ten=other["ho_ten"], so_giay_to=other["so_giay_to"]))
    name = other["ho_ten"]
    doc = {
        "subjects": [subject],
        "evidence": [
            {"file": "payloads/a.txt", "payload": payload},
            {"file": "screens/b.png", "screen_text": {"text": f"Họ và tên: {name.lower()}\nCCCD {other['so_giay_to']}",
                                                      "lines": [{"text": f"Xin chào,\n{_ascii(name).upper()}"},
                                                                {"text": f"{name.title()}"}]}},
        ],
        "requirements": [{"id": "GEN-002", "findings": [
            {"message_en": f"HoTen '{_ascii(name).upper()}' differs from the registered name",
             "message_vi": f"họ tên trên màn hình là {name}", "found": _ascii(name)},
            {"message_en": f"the screen greets {name.upper()} (read {_groups(other['so_giay_to'], [3] * 4, ' ')})"}]}],
    }
    secrets = [s for s in secrets_of(other, "o") if s.label in ("o.ho_ten", "o.so_giay_to")]
    assert {lab for lab, _ in text_leaks(json.dumps(doc, ensure_ascii=False), secrets)} == {"o.ho_ten", "o.so_giay_to"}
    out = json.dumps(redact_results(doc), ensure_ascii=False)
    assert not text_leaks(out, secrets), out
    # also through the JSON writer's escaping (ensure_ascii) and HTML escaping
    assert not text_leaks(json.dumps(redact_results(doc)), secrets)
    assert not text_leaks(html.escape(out), secrets)


def test_payload_shaped_strings_with_wrong_field_order_or_count():
    p, o = PEOPLE[1], OTHERS[0]
    red = build_redactor({"subjects": [p]})
    swapped = (f"{o['ho_ten'].upper()}|{o['so_giay_to']}|{o['ngay_sinh']}|0|{o['qid']}"
               f"|<1<{o['ext']['bhyt']}<{o['ext']['phone']}")
    seven = build_payload(o) + "|EXTRA"
    for s in (swapped, seven, "found '" + build_payload(o) + "' in the code"):
        out = red.mask_payload(s) if not s.startswith("found") else red.mask_string(s)
        assert not text_leaks(out, secrets_of(o, "o")), out


# -- raw bytes ---------------------------------------------------------------------------------------------------
def test_raw_bytes_hex_list_and_base64_are_masked_before_encoding():
    p = PEOPLE[3]
    payload = build_payload(p)
    raw = payload.encode("utf-8")
    doc = {"subjects": [p], "evidence": [{"symbols": [{"text": payload, "raw_bytes": raw.hex(), "bytes": list(raw),
                                                        "raw_bytes_b64": base64.b64encode(raw).decode()}]}]}
    sym = redact_results(doc)["evidence"][0]["symbols"][0]
    secrets = secrets_of(p)
    for key, data in (("raw_bytes", bytes.fromhex(sym["raw_bytes"])), ("bytes", bytes(sym["bytes"])),
                      ("raw_bytes_b64", base64.b64decode(sym["raw_bytes_b64"]))):
        text = data.decode("utf-8")
        assert not text_leaks(text, secrets), (key, text)
        assert text == sym["text"], key  # the same masked payload, re-encoded
    # an accented name keeps its diacritic marks as masked letters; non-UTF-8 bytes survive as bytes
    fields = payload.split("|")
    fields[1] = "Trần Thị Ngọc Ánh"
    accented = "|".join(fields).encode("utf-8") + b"\xff"
    red = build_redactor({"subjects": [p]})
    out = bytes.fromhex(red.mask_raw(accented.hex()))
    assert out.endswith(b"\xff") and "Txẍx Txẍ Nxẍx Áxx" in out.decode("utf-8", "replace")


# -- shape of the masks (issue 12) -------------------------------------------------------------------------------
@pytest.mark.parametrize("value,masked", [
    ("Bùi Bích Diệu Thủy", "Bẍx Bẍxx Dxẍx Txẍx"),
    ("bùi bích diệu thủy", "bẍx bẍxx dxẍx txẍx"),
    ("BUI BICH DIEU THUY", "BXX BXXX DXXX TXXX"),
    ("BÙI BÍCH DIỆU THỦY", "BẌX BẌXX DXẌX TXẌX"),
    ("Bui Bich Dieu Thuy", "Bxx Bxxx Dxxx Txxx"),
    ("ĐỖ HỮU QUANG AN", "ĐẌ HẌX QXXXX AX"),
    ("NGUYEN  VAN-AN", "NXXXXX  VXX-AX"),
])
def test_names_keep_case_diacritics_and_separators(value, masked):
    assert mask_name(value) == masked


def test_numbers_and_dates_keep_their_shape_and_the_apps_own_stars():
    assert keep_last("026154314511") == "999999999511"
    assert keep_last("******314511") == "******999511"  # the app hid the first 6: still visible
    assert keep_last("C7654321") == "X9999321"
    assert keep_last("dn3542077163751") == "xx9999999999751"
    assert mask_digits("1954-04-03") == "9999-99-99"
    assert mask_digits("1954-**-**") == "9999-**-**"
    assert mask_digits("**/**/1954") == "**/**/9999"
    assert mask_shape("0583 697 909", 3) == "9999 999 909"
    # decomposed input keeps its form (x + U+0308 per combining mark), so NFD-vs-NFC findings stay visible
    nfd = unicodedata.normalize("NFD", "Thủy")
    assert mask_name(nfd) == "Txx\u0308x"
    assert APP_MASK not in MASK_CHARS


def test_masked_report_of_a_lower_case_name_shows_lower_case():
    p = dict(PEOPLE[0], ho_ten="bùi bích diệu thủy")
    payload = build_payload(p).replace(build_payload(p).split("|")[1], p["ho_ten"])
    red = redact_results({"subjects": [p], "evidence": [{"payload": payload}],
                          "requirements": [{"findings": [{"message_en": f"HoTen '{p['ho_ten']}' is not upper case",
                                                          "found": p["ho_ten"]}]}]})
    assert red["evidence"][0]["payload"].split("|")[1] == "bẍx bẍxx dxẍx txẍx"
    f = red["requirements"][0]["findings"][0]
    assert f["found"] == "bẍx bẍxx dxẍx txẍx" and "'bẍx bẍxx dxẍx txẍx'" in f["message_en"]


def test_masking_is_idempotent():
    red = build_redactor({"subjects": PEOPLE})
    for _, _, x in CORPUS[::7]:
        once = red.mask_string(x)
        assert red.mask_string(once) == once, x


# -- what is not personal data survives --------------------------------------------------------------------------
SURVIVORS = [
    "payload of 4096 bytes", "4,096 bytes", "image 1080 x 2340 px", "1080x2340", "40000000 pixels", "2340 px",
    "module 13.0 px", "13.25 px/module", "symbol 637 px (39.56 mm)", "quiet zone 4 modules", "contrast 61 %",
    "61%", "OCR confidence 93.5 %", "version 8", "QR version 40", "suite 0.1.0", "v1.1", "version 2.10.15",
    "catalogue 1.0.0", "PAYLOAD-003", "DISPLAY-001 SYMBOL-006 GEN-002 PRIV-001", "1405/QĐ-BTTTT",
    "ISO/IEC 18004:2015", "TCVN 7322:2009", "ECC M >= M", "UEC 0.93", "SC 0.87, WCAG 19.6:1",
    "toggled in 412 ms (limit 1 s)", "took 12345678 ms", "more than the limit of 40000000; not decoded",
    "vượt giới hạn 40000000; không giải mã", "image is 6300x6300 = 39,690,000 pixels", "39.690.000 điểm ảnh", "127.0.0.1:8765", "redirect to 169.254.169.254 refused",
    "http://127.0.0.1:51234/api/subjects/s1/qr?mode=full", "Cập nhật lúc 08:15 12/10/2021",
    "Cập nhật: 12/10/2021", "updated 2021-10-12", "last updated 12.10.2021 08:15", "expires 2027-03-31",
    "waiver VENDOR-812 expired on 2025-01-31", "hết hạn 31/03/2027", "today is 2025-11-27",
    "(hôm nay là 2025-11-27)", "2025-11-27T10:45:00+07:00", "2025-11-27 10:45:00", "generated 2025-11-27T03:45:00Z",
    "09:41", "Mã QR cá nhân", "Trang chủ", "Khai báo", "Cá nhân", "Hiện đầy đủ", "Ẩn bớt thông tin",
    "Xin chào,", "Số CCCD:", "Ngày sinh:", "PC-Covid Demo", "Example Vendor", "Fixture generator (fictitious)",
    "Asia/Ho_Chi_Minh", "sha256 3352076bd08f25653640ad8c786ff7f5f02f5f20f6592e5bccaca1604c5f3c4e",
    "uuid 3048e0e1-5bec-40d1-92dd-04bd8603e63e", "HoTen contains the lower-case letter 'n' at position 2.",
    "SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT", "EXT item 4 (phone): conforms",
    "pytest conformance --candidate fixtures/candidates/example -k DISPLAY-001",
    "screens/s1-default.png", "payloads/s2-full.txt", "subject:s1", "Pixel 7", "Linux-6.1.0-13-amd64-x86_64",
]
SCREEN_SURVIVORS = ["09:41", "Mã QR cá nhân", "Cập nhật lúc 08:15 12/10/2021", "Trang chủ", "Hiện đầy đủ",
                    "Đưa mã này cho cán bộ kiểm tra", "Thông tin tiêm chủng", "Đã tiêm 2 mũi vắc xin", "85%"]


@pytest.mark.parametrize("text", SURVIVORS)
def test_non_personal_values_survive(text):
    red = build_redactor({"subjects": PEOPLE})
    assert red.mask_string(text) == text
    assert red.walk({"message_en": text}) == {"message_en": text}


@pytest.mark.parametrize("text", SCREEN_SURVIVORS)
def test_screen_ui_text_survives_in_personal_fields(text):
    red = build_redactor({"subjects": PEOPLE})
    assert red.walk({"screen_text": {"lines": [{"text": text}]}})["screen_text"]["lines"][0]["text"] == text


def test_results_metadata_waivers_numbers_and_updated_date_survive():
    p = PEOPLE[0]
    doc = {
        "generated_at": "2025-11-27T03:45:00+00:00", "validation_date": "2025-11-27", "suite_version": "0.1.0",
        "subjects": [p],
        "requirements": [{"id": "SYMBOL-003", "status": "warn",
                          "waiver": {"reason": "ECC raised to M in release 2.4", "ticket": "VENDOR-812",
                                     "expires": "2027-03-31"}}],
        "waivers": {"applied": [{"requirement": "SYMBOL-003", "reason": "ECC raised to M in release 2.4",
                                 "ticket": "VENDOR-812", "expires": "2027-03-31", "index": 0,
                                 "evidence": "screens/*-full.png"}],
                    "expired": [{"requirement": "GEN-001", "reason": "r", "ticket": "T-1", "expires": "2024-01-31"}],
                    "unused": [], "unwaived": [], "ci_outcome": "stale-waiver"},
        "evidence": [{"file": "screens/s1-full.png", "sha256": "ab" * 32, "symbols": [
            {"module_px": 13.0, "size_px": 637, "version": 8, "corners": [[221.0, 864.0], [858.0, 864.0]]}],
            "image": {"width": 1080, "height": 2340},
            "screen_text": {"text": f"Xin chào,\n{p['ho_ten']}\nCập nhật lúc 08:15 12/10/2021",
                            "lines": [{"text": "Cập nhật lúc 08:15 12/10/2021",
                                       "alt": [{"words": [{"text": "12/10/2021"}]}]}]}}],
    }
    red = redact_results(copy.deepcopy(doc))
    for k in ("generated_at", "validation_date", "suite_version"):
        assert red[k] == doc[k]
    assert red["requirements"][0]["waiver"] == doc["requirements"][0]["waiver"]
    assert red["waivers"] == doc["waivers"]
    assert red["evidence"][0]["symbols"] == doc["evidence"][0]["symbols"]
    assert red["evidence"][0]["image"] == doc["evidence"][0]["image"]
    st = red["evidence"][0]["screen_text"]
    assert st["lines"][0]["text"] == "Cập nhật lúc 08:15 12/10/2021"
    assert st["lines"][0]["alt"][0]["words"][0]["text"] == "12/10/2021"  # the same date read alone
    assert "Cập nhật lúc 08:15 12/10/2021" in st["text"] and p["ho_ten"] not in st["text"]


# -- evidence file names -------------------------------------------------------------------------------------------
def test_evidence_file_names_are_masked_consistently_and_stay_distinct():
    p, q = PEOPLE[0], PEOPLE[1]
    f1, f2 = f"screens/{p['so_giay_to']}.png", f"screens/{_ascii(p['ho_ten']).replace(' ', '_')}-full.jpg"
    d = p["so_giay_to"]
    f3 = f"screens/{d[:-4]}{(int(d[-4]) + 1) % 10}{d[-3:]}.png"  # masks like f1 but is another file
    f4 = "screens/s1-default.png"
    doc = {"subjects": [p, q],
           "evidence": [{"file": f, "status": "pass"} for f in (f1, f2, f3, f4)],
           "requirements": [{"id": "GEN-001", "findings": [{"evidence": f1, "message_en": f"{f1}: unreadable"},
                                                           {"evidence": f3}, {"evidence": "subject:s1"}]}]}
    red = redact_results(doc)
    files = [e["file"] for e in red["evidence"]]
    assert len(set(files)) == 4 and files[3] == f4
    assert files[0].startswith("screens/999999999") and files[0].endswith(".png")
    assert files[1].endswith("-full.jpg") and files[1].startswith("screens/")
    assert red["requirements"][0]["findings"][0]["evidence"] == files[0]
    assert red["requirements"][0]["findings"][1]["evidence"] == files[2]
    assert red["requirements"][0]["findings"][2]["evidence"] == "subject:s1"
    assert not text_leaks(json.dumps(red, ensure_ascii=False), secrets_of(p))


# -- screenshots -----------------------------------------------------------------------------------------------
def hostile_screen(person: dict, *, theme: str = "light", jpeg: int | None = None) -> Image.Image:
    """A full-mode app screen plus the person's values in faint light grey, tiny, rotated 90°, outlined and
    dark-on-dark text, none of which an OCR of the layout would find on its own."""
    style = ScreenStyle(theme=theme)
    img = render_screen(person, build_payload(person), mode="full", style=style)
    d = ImageDraw.Draw(img)
    doc, dob, name, phone = person["so_giay_to"], person["ngay_sinh"], person["ho_ten"], person["ext"]["phone"]
    y, m, dd = dob.split("-")
    bg = img.getpixel((5, img.height // 2))
    faint = tuple(min(255, max(0, c + (-30 if sum(bg) > 380 else 30))) for c in bg)
    d.text((40, img.height - 470), f"CCCD {doc}", font=ImageFont.truetype(FONT, 40), fill=faint)
    d.text((40, img.height - 420), f"{name} {dd}.{m}.{y}", font=ImageFont.truetype(FONT, 13),
           fill=(120, 120, 120))
    d.text((40, img.height - 380), f"SĐT {phone}", font=ImageFont.truetype(FONT_BOLD, 46), fill=bg,
           stroke_width=2, stroke_fill=(60, 60, 60))
    t = Image.new("RGBA", (1000, 60), (0, 0, 0, 0))
    ImageDraw.Draw(t).text((0, 0), f"{doc} {_ascii(name).upper()}", font=ImageFont.truetype(FONT, 36),
                           fill=(90, 90, 90, 255))
    t = t.rotate(90, expand=True)
    img.paste(t, (img.width - 62, 500), t)
    if jpeg:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=jpeg)
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


@pytest.mark.slow
@pytest.mark.parametrize("theme,jpeg", [("light", None), ("dark", 80)])
def test_every_text_region_is_illegible_and_the_qr_does_not_decode(theme, jpeg):
    person = PEOPLE[0]
    img = hostile_screen(person, theme=theme, jpeg=jpeg)
    secrets = secrets_of(person, "p")
    plain = ocr_leaks(ocr_text(img, scales=(1,), rotations=(0,)), secrets)
    # the reader does read the unredacted screen
    assert {"p.so_giay_to", "p.ho_ten"} <= {lab for lab, _ in plain}, plain
    assert qr_texts(img)
    # no OCR boxes known: the detector alone must find every text
    red = annotate_screenshot(np.asarray(img.convert("L")), [], redact=True, ocr_boxes=[])
    assert red.size == img.size
    assert ocr_leaks(ocr_text(red), secrets) == []
    assert qr_texts(red) == []
    # and the layout is still there: most of the picture is untouched (not a blanket blur)
    diff = np.abs(np.asarray(red.convert("L"), float) - np.asarray(img.convert("L"), float))
    assert (diff > 12).mean() < 0.5


def test_text_regions_find_faint_small_rotated_text_and_ignore_layout():
    img = Image.new("RGB", (1080, 1600), (250, 250, 250))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((60, 60, 1020, 700), 30, outline=(200, 200, 200), width=3)  # a card: layout only
    d.line((0, 800, 1080, 800), fill=(210, 210, 210), width=2)  # a divider
    assert text_regions(img) == [] or sum(_poly_area(r["poly"]) for r in text_regions(img)) < 0.02 * 960 * 640
    words = {"faint": ((100, 900), (232, 232, 232), 40, 0), "tiny": ((100, 1000), (110, 110, 110), 11, 0),
             "rotated": ((900, 950), (60, 60, 60), 36, 90)}
    centres = {}
    for text, (xy, col, size, rot) in words.items():
        t = Image.new("RGBA", (400, 60), (0, 0, 0, 0))
        ImageDraw.Draw(t).text((0, 0), "0583 697 909", font=ImageFont.truetype(FONT, size), fill=col + (255,))
        t = t.rotate(rot, expand=True) if rot else t
        img.paste(t, xy, t)
        x0, y0, x1, y1 = t.getbbox()
        centres[text] = (xy[0] + (x0 + x1) / 2, xy[1] + (y0 + y1) / 2)
    regs = text_regions(img)
    for name, c in centres.items():
        assert any(_inside(c, r["poly"]) for r in regs), name
    rot = [r for r in regs if _inside(centres["rotated"], r["poly"])]
    assert rot and min(r["height"] for r in rot) < 80  # the rotated line's own height, not its length


def _poly_area(poly):
    xs, ys = zip(*poly)
    return 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(poly))))


def _inside(pt, poly):
    import cv2

    return cv2.pointPolygonTest(np.asarray(poly, np.float32), pt, False) >= 0


# -- end to end: every output file of a masked run ---------------------------------------------------------------
def _e2e_people():
    ps = make_people(1405, 40)
    s1 = next(p for p in ps if len(p["so_giay_to"]) == 12 and p["loai_dinh_danh"] == 0 and len(p["ho_ten"]) >= 12)
    s2 = next(p for p in ps if p["loai_dinh_danh"] == 1 and p["so_giay_to"] and p is not s1
              and len(p["ho_ten"]) >= 12)
    other = next(p for p in ps if p not in (s1, s2) and len(p["so_giay_to"]) == 12 and len(p["ho_ten"]) >= 12)
    return dict(s1, id="s1"), dict(s2, id="s2"), dict(other, id="other")


def build_hostile_package(root: Path) -> tuple[dict, dict, dict, list[str]]:
    """Subjects whose values also appear disguised in the evidence: a screenshot named after the document number
    with faint/tiny/rotated copies of the values, another person's name and number in a payload, a payload with
    the date written with dots, the phone with spaces, the name in lower case and URL-encoded."""
    s1, s2, other = _e2e_people()
    (root / "screens").mkdir(parents=True)
    (root / "payloads").mkdir()
    doc = s1["so_giay_to"]
    full = hostile_screen(s1)
    ImageDraw.Draw(full).text((40, full.height - 330), f"Người khai hộ: {other['ho_ten']}",
                              font=ImageFont.truetype(FONT, 30), fill=(150, 150, 150))
    full.save(root / "screens" / f"{doc}.png")
    render_screen(s1, build_payload(s1, masked=True), mode="default",
                  style=ScreenStyle(layout="text_above")).save(root / "screens" / "s1-default.png")
    (root / "payloads" / "s1-full.txt").write_text(build_payload(s1) + "\n", encoding="utf-8")
    (root / "payloads" / "s1-other.txt").write_text(
        build_payload(dict(s1, ho_ten=other["ho_ten"], so_giay_to=other["so_giay_to"])) + "\n", encoding="utf-8")
    fields = build_payload(s2).split("|")
    y, m, d = s2["ngay_sinh"].split("-")
    ph = s2["ext"]["phone"]
    ext = fields[5].split("<")
    ext[3] = f"{ph[:4]} {ph[4:7]} {ph[7:]}"
    fields[1], fields[2], fields[5] = s2["ho_ten"].lower(), f"{d}.{m}.{y}", "<".join(ext)
    (root / "payloads" / "s2-full.txt").write_text("|".join(fields) + "\n", encoding="utf-8")
    fields = build_payload(s2, masked=True).split("|")
    fields[1] = quote_plus(s2["ho_ten"])
    (root / "payloads" / "s2-default.txt").write_text("|".join(fields) + "\n", encoding="utf-8")
    files = [f"screens/{doc}.png", "screens/s1-default.png", "payloads/s1-full.txt", "payloads/s1-other.txt",
             "payloads/s2-full.txt", "payloads/s2-default.txt"]
    ev = [{"file": f, "subject": "s2" if "s2" in f else "s1", "kind": "screenshot" if f.endswith(".png") else "payload",
           "mode": "default" if "default" in f else "full"} for f in files]
    manifest = {"spec_version": "1.1",
                "candidate": {"name": "Masking fixture", "vendor": "Fixture (fictitious)", "version": "0.0.1",
                              "platform": "android"},
                "device": {"model": "Phone", "ppi": 409, "dpr": 2.625, "width_px": 1080, "height_px": 2340},
                "subjects": [s1, s2], "evidence": ev}
    (root / "candidate.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    (root.parent / "waivers.yaml").write_text(
        "waivers:\n  - requirement: GEN-002\n    reason: wrong account shown, fixed in 2.4\n"
        "    ticket: VENDOR-812\n    expires: '2027-03-31'\n", encoding="utf-8")
    return s1, s2, other, files


def _assess(pkg: Path, out: Path, **kw) -> tuple[int, str]:
    from conformance.cli import run_assessment

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        rc = run_assessment(pkg, out, quiet=False, today="2025-11-27", waivers=str(pkg.parent / "waivers.yaml"), **kw)
    return rc, buf.getvalue()


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    s1, s2, other, files = build_hostile_package(root / "pkg")
    rc, terminal = _assess(root / "pkg", root / "out")
    return {"root": root, "out": root / "out", "rc": rc, "terminal": terminal, "files": files,
            "secrets": secrets_of(s1, "s1") + secrets_of(s2, "s2") + secrets_of(other, "other")}


# JUnit, Allure and the pytest log are written by pytest and the conformance plugin (conformance/plugin.py), which
# names each case after its evidence file: that one leak is tested on its own below.
PYTEST_OWNED = ("junit.xml", "pytest.log", "allure-results/")


@pytest.mark.slow
def test_masked_run_leaves_nothing_personal_in_any_file_or_the_terminal(e2e):
    out = e2e["out"]
    assert e2e["rc"] in (1, 4), e2e["terminal"]
    assert (out / "results.json").exists() and len(list(out.rglob("*"))) > 10
    raw_names = [f for f in e2e["files"] if re.search(r"\d{6}", f)]
    scrubbed = out.parent / "scrubbed"
    for p in out.rglob("*"):
        if p.is_file():
            rel = str(p.relative_to(out))
            dst = scrubbed / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            data = p.read_bytes()
            if rel.startswith(PYTEST_OWNED):
                for f in raw_names:
                    data = data.replace(f.encode(), b"<case id>")
            dst.write_bytes(data)
    leaks = scan_tree(scrubbed, e2e["secrets"])
    assert leaks == {}, leaks
    assert text_leaks(e2e["terminal"], e2e["secrets"]) == []
    for f in ("results.json", "report.html"):  # the reports layer names no raw file at all
        text = (out / f).read_text(encoding="utf-8")
        assert not any(n in text for n in raw_names), f


@pytest.mark.slow
def test_masked_run_keeps_what_is_not_personal(e2e):
    res = json.loads((e2e["out"] / "results.json").read_text(encoding="utf-8"))
    assert res["pii_masked"] is True and res["validation_date"] == "2025-11-27"
    assert res["waivers"]["applied"] and all(w["expires"] == "2027-03-31" for w in res["waivers"]["applied"])
    html_text = (e2e["out"] / "report.html").read_text(encoding="utf-8")
    assert "2027-03-31" in html_text
    files = [e["file"] for e in res["evidence"]]
    assert files[1:] == e2e["files"][1:] and files[0].startswith("screens/999999999") and files[0].endswith(".png")
    sym = res["evidence"][0]["symbols"][0]
    assert isinstance(sym["module_px"], float) and sym["version"] >= 1
    # the masked report still shows the defect's shape: the lower-case name, the dotted date, the spaced phone
    s2_full = next(e for e in res["evidence"] if e["file"] == "payloads/s2-full.txt")["payload"].split("|")
    assert s2_full[1] == s2_full[1].lower() and re.fullmatch(r"99\.99\.9999", s2_full[2])
    assert re.search(r"<9999 999 \d{3}", s2_full[5])
    # both screenshots are in the report under their masked names
    assert html_text.count('src="data:image/jpeg;base64,') == 2


@pytest.mark.slow
def test_the_scanner_finds_everything_in_an_unmasked_run(e2e):
    """Control: with --show-pii the same scan finds the values in text, OCR reads them on the pictures and the QR
    decodes, so an empty scan of the masked run means something."""
    out = e2e["root"] / "out-pii"
    _assess(e2e["root"] / "pkg", out, show_pii=True)
    leaks = scan_tree(out, e2e["secrets"], rotations=(0,))
    labels = {lab for hits in leaks.values() for lab, _ in hits}
    assert {"s1.so_giay_to", "s1.ho_ten", "s1.ngay_sinh", "s1.phone", "s1.qid", "s2.proxy_qid", "s2.ho_ten",
            "s2.phone", "s2.ngay_sinh", "other.ho_ten", "other.so_giay_to"} <= labels
    pics = {lab for f, hits in leaks.items() if f.endswith((".png", ".jpg", "#img")) for lab, how in hits}
    assert {"qr", "s1.ho_ten"} <= pics


@pytest.mark.slow
def test_case_ids_do_not_name_the_evidence_file(e2e):
    """Cases are named by the evidence item's index (item<N>-<subject>-<mode>), never by its file name."""
    raw_names = [f for f in e2e["files"] if re.search(r"\d{6}", f)]
    found = [str(p.relative_to(e2e["out"])) for p in e2e["out"].rglob("*") if p.is_file()
             and any(n.encode() in p.read_bytes() for n in raw_names)]
    assert found == []
