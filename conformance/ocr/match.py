"""Judge what a screenshot shows against the subject's registered record (DISPLAY-001, DISPLAY-002).

Matching rules — the contract for assessors
===========================================

Input: a `ScreenReading` (every line Tesseract read, plus a second single-line reading of every line that may hold a
number or a date), the registered record (`so_giay_to`, `ho_ten`, `ngay_sinh` = YYYY-MM-DD) and the mode the
screenshot was taken in ("default" = masked, "full").

1. Confusions tolerated (and only these). Inside a run that looks numeric, OCR glyphs are mapped before comparing:
   - mask glyphs -> '*':  ``* x X × % + # ¥ ✱ ∗ ⁎ ※ ★ ☆ ✶ ✳ ⋆ ﹡ ＊``  (Tesseract reads a row of asterisks as these);
   - digits: ``O o Q D -> 0``, ``I l | ! i -> 1``, ``S s -> 5``, ``B -> 8``, ``Z z -> 2``.
   The same mapping is applied to the record, so a passport number with letters still compares. No other OCR error
   is tolerated: a value that differs from the record in one more character is *near*, which leads to "review".
2. Document number candidates: words made only of digits and mask glyphs (after step 1), and joins of up to three
   neighbouring such words on one line (OCR splits ``****** 029317``). Labels ("Số CCCD", "CCCD", "CMND",
   "Số giấy tờ", "Hộ chiếu", "ID", ...) are recognised but not required.
   Classes, for a record number of length n and mask length m = min(6, n):
   - FULL: the candidate contains the whole record number;
   - EXACT: same length n, the '*' are exactly positions 0..m-1, every visible character equals the record;
   - WRONG: same length n, every visible character equals the record, at least one '*', but the '*' are elsewhere
     or fewer/more than m (``*****3029317``, ``001093******``, ``**0930**9317``);
   - COUNT: stars then a suffix of the record, total length != n (``*****029317``): either a wrong number of
     stars or a star lost by OCR -> review, never pass, never fail;
   - NEAR: same length, one character differs from the record / from the expected mask -> review;
   - PARTIAL: a suffix (>= 4 chars) of the record without stars -> review.
3. Date candidates (any of ``/ - .`` as separator, optional spaces around it): ``dd/mm/yyyy``, ``d/m/yyyy``,
   ``dd-mm-yyyy``, ``yyyy-mm-dd``, ``mm/dd/yyyy`` (the same digits count as the full date) and masked forms.
   Labels "Ngày sinh", "NS", "DOB" or none. Classes for the record date Y-M-D:
   - FULL: year, month and day all visible and equal to the record;
   - EXACT: year visible and equal, day and month each exactly ``**`` (``**/**/1987``, ``1987-**-**``);
   - WRONG: masked but wrong parts: year masked (``18/01/****``), only one of day/month masked (``**/01/1987``);
   - COUNT: year equal, day and month masked with a number of stars other than 2 -> review;
   - NEAR: one character differs from a FULL or EXACT form -> review.
   Dates with the record's year but another visible day/month are other dates (e.g. a vaccination date): ignored.
4. Readings of the same line (whole-screen pass, single-line pass and, when the glyph geometry is sure, the
   geometric reading of reader.py pass 3: stars counted by shape, digits read by Tesseract with a digit whitelist)
   are combined. If they give different definite classes (FULL / EXACT / WRONG) for one line, that line is
   CONFLICT -> review. So a mask passes only when no reading of its line contradicts it, and a wrong count fails
   when Tesseract or the geometry reads it surely and the other reading does not contradict it.
5. Decision, mode "default":
   - FAIL if any line is FULL (the whole value appears anywhere on the screen, in any format);
   - else FAIL if any line is WRONG (masks the wrong characters);
   - else PASS only if some line is EXACT, read with Tesseract confidence >= PASS_CONF, and no other line is
     CONFLICT / COUNT / NEAR / PARTIAL;
   - else REVIEW, with the OCR text and the box where the value was looked for.
   Mode "full":
   - PASS if some line is FULL and no line is masked (EXACT / WRONG);
   - FAIL if some line is masked (EXACT / WRONG) and none is FULL;
   - else REVIEW.
   A FULL reading needs no confidence threshold: OCR cannot produce the exact record value by chance.
   Nothing is ever passed from text the suite did not read: no OCR text -> review (or the OCR error).
6. Text the suite could not read (reader.py / unread.py): text-like regions near the code or near a value or label
   line (turned 90°, faint, small or outlined lettering) are read again on their own; a confident reading there
   joins the evidence like any other line (so a whole value found there fails). Regions that stay unread are
   `reading.unread`; in default mode a PASS becomes REVIEW when there is any (the region may show the whole value:
   "no confident reading of it exists"), with the first region as `box` and all of them in ``unread_regions``. A
   FAIL stays a fail; full mode is unchanged (a FULL reading is what it needs). Every result carries
   ``unread_regions`` (empty on an ordinary screen).
7. The phone's own interface is never the displayed data: lines that unread.py marks ``system`` (status bar or
   navigation bar text such as ``09:41``, ``87%``, ``T2, 12/10``; anything on an on-screen keyboard) are skipped.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from conformance.rules import masking

from .reader import ScreenReading

PASS_CONF = 40.0  # minimum Tesseract confidence (0-100) of an EXACT mask reading for a pass

MASK_GLYPHS = "*xX×%+#¥✱∗⁎※★☆✶✳⋆﹡＊"
DIGIT_CONFUSIONS = {
    "O": "0", "o": "0", "Q": "0", "D": "0",
    "I": "1", "l": "1", "|": "1", "!": "1", "i": "1",
    "S": "5", "s": "5",
    "B": "8",
    "Z": "2", "z": "2",
}
DOC_LABELS = ("số cccd", "cccd", "cmnd", "số giấy tờ", "giấy tờ", "hộ chiếu", "passport", "id", "số định danh")
DOB_LABELS = ("ngày sinh", "ns", "dob", "date of birth", "năm sinh")

DEFINITE = ("FULL", "EXACT", "WRONG")
WEAK = ("CONFLICT", "COUNT", "NEAR", "PARTIAL")

_STRIP = ":;,()[]{}\"'“”‘’<>"
_R = "[0-9" + re.escape(MASK_GLYPHS + "".join(DIGIT_CONFUSIONS)) + "]"
_SEP = r"\s?[/\-.]\s?"
_DMY = re.compile(rf"(?<![0-9*])({_R}{{1,3}}){_SEP}({_R}{{1,3}}){_SEP}({_R}{{3,5}})(?![0-9])")
_YMD = re.compile(rf"(?<![0-9*])({_R}{{3,5}}){_SEP}({_R}{{1,3}}){_SEP}({_R}{{1,3}})(?![0-9*])")


def canon(s: str) -> str:
    """Apply the documented confusion sets (mask glyphs -> '*', look-alike letters -> digits), upper-case the rest."""
    out = []
    for ch in s:
        if ch in MASK_GLYPHS:
            out.append("*")
        elif ch in DIGIT_CONFUSIONS:
            out.append(DIGIT_CONFUSIONS[ch])
        else:
            out.append(ch.upper())
    return "".join(out)


def _union(boxes: list[list[int]]) -> list[int] | None:
    boxes = [b for b in boxes if b]
    if not boxes:
        return None
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


# ---------------------------------------------------------------- document number
def classify_doc(cand: str, record_no: str) -> str | None:
    """Class of one canonical candidate ([0-9*A-Z]) against the canonical record number (the masking rule,
    conformance/rules/masking.py); None = not this value."""
    return masking.classify_document_number(cand, record_no)


def _doc_candidates(words: list[dict[str, Any]]) -> list[tuple[str, list[int] | None, float]]:
    """(canonical candidate, box, min conf) for single numeric words and joins of up to 3 neighbours."""
    pieces: list[tuple[str, list[int] | None, float] | None] = []
    for w in words:
        for part in re.split(r"[\s:]+", w["text"]):
            p = part.strip(_STRIP + ".")
            c = canon(p)
            if c and re.fullmatch(r"[0-9A-Z*]+", c) and any(ch.isdigit() or ch == "*" for ch in c):
                pieces.append((c, w.get("box"), float(w.get("conf", 0))))
            else:
                pieces.append(None)
    out = []
    for i in range(len(pieces)):
        acc = []
        for j in range(i, min(i + 3, len(pieces))):
            if pieces[j] is None:
                break
            acc.append(pieces[j])
            out.append(("".join(a[0] for a in acc), _union([a[1] for a in acc]), min(a[2] for a in acc)))
    return out


# ---------------------------------------------------------------- date of birth
def classify_date(day: str, month: str, year: str, dob: tuple[int, int, int]) -> str | None:
    """Class of one date candidate (raw OCR groups) against the record (Y, M, D): the OCR confusions of rule 1
    mapped first, then the masking rule (conformance/rules/masking.py)."""
    return masking.classify_date(canon(day), canon(month), canon(year), dob)


def _date_candidates(text: str) -> list[tuple[str, str, str, str]]:
    """(matched text, day, month, year) for every date-like run of the line."""
    out = []
    for mt in _DMY.finditer(text):
        out.append((mt.group(0), mt.group(1), mt.group(2), mt.group(3)))
    for mt in _YMD.finditer(text):
        out.append((mt.group(0), mt.group(3), mt.group(2), mt.group(1)))
    return out


def _words_box_for(words: list[dict[str, Any]], frag: str) -> list[int] | None:
    """Box of the words that make up a fragment of the line text."""
    toks = [t for t in re.split(r"\s+", frag) if t]
    hits = [w["box"] for w in words if any(t in w["text"] or w["text"] in t for t in toks)]
    return _union(hits)


# ---------------------------------------------------------------- combination and decision
def _line_readings(line: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"text": line["text"], "conf": line.get("conf", 0.0), "box": line.get("box"), "words": line.get("words", [])}
    return [base] + [
        {"text": a["text"], "conf": a.get("conf", 0.0), "box": a.get("box"), "words": a.get("words", [])}
        for a in line.get("alt", [])
    ]


def _evidence(reading: ScreenReading, record: dict[str, Any], what: str) -> list[dict[str, Any]]:
    """One entry per screen line that holds evidence: {class, found, box, conf, text, classes}."""
    rec_no = canon(str(record.get("so_giay_to") or "").replace(" ", ""))
    dob = None
    mt = re.fullmatch(r"\s*(\d{4})-(\d{2})-(\d{2})\s*", str(record.get("ngay_sinh") or ""))
    if mt:
        dob = (int(mt.group(1)), int(mt.group(2)), int(mt.group(3)))
    lines_out = []
    for line in reading.lines:
        if line.get("system"):
            continue  # the phone's status bar / keyboard / home bar: never the displayed data (reader.py, unread.py)
        hits: list[tuple[str, str, list[int] | None, float]] = []
        for rd in _line_readings(line):
            if what == "doc":
                for cand, box, conf in _doc_candidates(rd["words"] or [{"text": rd["text"], "box": rd["box"],
                                                                        "conf": rd["conf"]}]):
                    cls = classify_doc(cand, rec_no)
                    if cls:
                        hits.append((cls, cand, box or rd["box"], conf))
            elif dob is not None:
                for frag, d, m, y in _date_candidates(rd["text"]):
                    cls = classify_date(d, m, y, dob)
                    if cls:
                        box = _words_box_for(rd["words"], frag) or rd["box"]
                        confs = [w["conf"] for w in rd["words"] if w.get("box") and box and
                                 w["box"][0] >= box[0] - 1 and w["box"][2] <= box[2] + 1]
                        hits.append((cls, canon(frag).replace(" ", ""), box, min(confs) if confs else rd["conf"]))
        if not hits:
            continue
        classes = {h[0] for h in hits}
        definite = classes & set(DEFINITE)
        if len(definite) > 1:
            cls = "CONFLICT"
        elif definite:
            cls = definite.pop()
        else:
            cls = next(c for c in ("NEAR", "COUNT", "PARTIAL") if c in classes)
        best = max((h for h in hits if h[0] == cls), key=lambda h: h[3], default=max(hits, key=lambda h: h[3]))
        lines_out.append(
            {"class": cls, "found": best[1], "box": best[2], "conf": best[3], "text": line["text"],
             "alts": [a["text"] for a in line.get("alt", [])], "classes": sorted(classes)}
        )
    return lines_out


def _label_box(reading: ScreenReading, labels: tuple[str, ...]) -> tuple[list[int] | None, str]:
    for line in reading.lines:
        if line.get("system"):
            continue
        low = unicodedata.normalize("NFC", line["text"]).lower()
        if any(re.search(rf"(?<!\w){re.escape(lb)}(?!\w)", low) for lb in labels):
            return line.get("box"), line["text"]
    return None, ""


MSG = {
    ("doc", "full_in_default"): (
        "The full document number is shown in default mode (expected {expected}).",
        "Số giấy tờ hiển thị đầy đủ ở chế độ mặc định (phải là {expected}).",
    ),
    ("doc", "wrong_mask"): (
        "The document number is masked wrongly: read {found}, expected {expected} (first 6 characters as '*').",
        "Số giấy tờ bị che sai: đọc được {found}, phải là {expected} (6 ký tự đầu là '*').",
    ),
    ("doc", "pass_default"): (
        "The document number is shown masked as required: {found}.",
        "Số giấy tờ được che đúng quy định: {found}.",
    ),
    ("doc", "pass_full"): (
        "The whole document number is shown in full mode.",
        "Số giấy tờ hiển thị đầy đủ ở chế độ đầy đủ.",
    ),
    ("doc", "masked_in_full"): (
        "The document number is masked in full mode: read {found}, expected the whole number.",
        "Số giấy tờ bị che ở chế độ đầy đủ: đọc được {found}, phải hiển thị toàn bộ.",
    ),
    ("dob", "full_in_default"): (
        "The full date of birth is shown in default mode (expected {expected}).",
        "Ngày sinh hiển thị đầy đủ ở chế độ mặc định (phải là {expected}).",
    ),
    ("dob", "wrong_mask"): (
        "The date of birth is masked wrongly: read {found}, expected day and month as '*' ({expected}).",
        "Ngày sinh bị che sai: đọc được {found}, phải che ngày và tháng bằng '*' ({expected}).",
    ),
    ("dob", "pass_default"): (
        "The date of birth is shown with day and month masked: {found}.",
        "Ngày sinh được che ngày và tháng đúng quy định: {found}.",
    ),
    ("dob", "pass_full"): (
        "The whole date of birth is shown in full mode.",
        "Ngày sinh hiển thị đầy đủ ở chế độ đầy đủ.",
    ),
    ("dob", "masked_in_full"): (
        "The date of birth is masked in full mode: read {found}, expected the whole date.",
        "Ngày sinh bị che ở chế độ đầy đủ: đọc được {found}, phải hiển thị đầy đủ.",
    ),
    ("any", "review"): (
        "The {what_en} could not be read with confidence ({why}); a person must check the screenshot.",
        "Không đọc được {what_vi} một cách chắc chắn ({why}); cần người kiểm tra ảnh chụp màn hình.",
    ),
    ("any", "unread"): (
        "Text next to the code or the values could not be read ({n} region(s), e.g. turned, faint, small or outlined "
        "lettering); it may show the whole {what_en}, so a person must check the outlined region.",
        "Có {n} vùng chữ cạnh mã hoặc cạnh các thông tin không đọc được (chữ xoay, chữ mờ, chữ nhỏ hoặc chữ viền); "
        "vùng đó có thể hiện {what_vi} đầy đủ nên cần người kiểm tra vùng được khoanh.",
    ),
    ("any", "no_text"): (
        "No text could be read on the screenshot{err}; a person must check it.",
        "Không đọc được chữ nào trên ảnh chụp màn hình{err}; cần người kiểm tra.",
    ),
}


NOT_FOUND = ("value not found in the OCR text", "không tìm thấy giá trị trong chữ nhận dạng được")
# the weak reading classes (conformance/rules/masking.py) in words
WEAK_WORDS = {"NEAR": ("near", "gần đúng"), "COUNT": ("wrong number of '*'", "sai số ký tự '*'"),
              "PARTIAL": ("partial", "chỉ một phần"), "CONFLICT": ("conflicting", "mâu thuẫn với lần đọc khác")}


def _weak_why(e: dict[str, Any]) -> tuple[str, str]:
    en, vi = WEAK_WORDS.get(e["class"], (e["class"].lower(), e["class"].lower()))
    return f"{en} reading {e['found']!r}", f"đọc được {e['found']!r}, {vi}"


def _decide(kind: str, evidence: list[dict[str, Any]], mode: str, expected: str, reading: ScreenReading,
            labels: tuple[str, ...]) -> dict[str, Any]:
    def result(status, key, ev=None, why=("", "")):
        found = ev["found"] if ev else None
        if key[0] == "any":
            what_en = "document number" if kind == "doc" else "date of birth"
            what_vi = "số giấy tờ" if kind == "doc" else "ngày sinh"
            en, vi = MSG[key]
            en = en.format(what_en=what_en, why=why[0], err="")
            vi = vi.format(what_vi=what_vi, why=why[1], err="")
        else:
            en, vi = MSG[key]
            en, vi = en.format(found=found, expected=expected), vi.format(found=found, expected=expected)
        if ev:
            box, ev_text = ev["box"], " / ".join([ev["text"]] + ev["alts"])
        else:
            box, ev_text = _label_box(reading, labels)
            ev_text = ev_text or reading.text[:500]
        return {"status": status, "message_en": en, "message_vi": vi, "found": found, "expected": expected,
                "box": box, "evidence_text": ev_text, "candidates": [
                    {k: e[k] for k in ("class", "found", "box", "conf", "text")} for e in evidence]}

    if reading.error or not reading.text.strip():
        en, vi = MSG[("any", "no_text")]
        err = f" ({reading.error})" if reading.error else ""
        return {"status": "review", "message_en": en.format(err=err), "message_vi": vi.format(err=err),
                "found": None, "expected": expected, "box": None, "evidence_text": reading.text[:500],
                "candidates": [], "unread_regions": [{"box": u["box"], "kind": u.get("kind")}
                                                     for u in getattr(reading, "unread", []) or []]}

    unread = [dict(u) for u in getattr(reading, "unread", []) or []]

    def with_unread(res: dict[str, Any]) -> dict[str, Any]:
        res["unread_regions"] = [{"box": u["box"], "kind": u.get("kind")} for u in unread]
        return res

    def unread_review() -> dict[str, Any]:
        what_en = "document number" if kind == "doc" else "date of birth"
        what_vi = "số giấy tờ" if kind == "doc" else "ngày sinh"
        en, vi = MSG[("any", "unread")]
        boxes = [u["box"] for u in unread]
        return {"status": "review", "message_en": en.format(n=len(unread), what_en=what_en),
                "message_vi": vi.format(n=len(unread), what_vi=what_vi), "found": None, "expected": expected,
                "box": boxes[0], "evidence_text": " / ".join(u.get("text") or "" for u in unread) or reading.text[:500],
                "candidates": [{k: e[k] for k in ("class", "found", "box", "conf", "text")} for e in evidence]}

    by = {c: [e for e in evidence if e["class"] == c] for c in DEFINITE + WEAK}
    weak = [e for c in WEAK for e in by[c]]
    if mode == "default":
        res = _decide_default(kind, by, weak, result)
        if res["status"] == "pass" and unread:
            return with_unread(unread_review())  # text the suite could not read may show the whole value
        return with_unread(res)
    return with_unread(_decide_full(kind, by, weak, result))


def _decide_default(kind, by, weak, result) -> dict[str, Any]:
    if by["FULL"]:
        return result("fail", (kind, "full_in_default"), by["FULL"][0])
    if by["WRONG"]:
        return result("fail", (kind, "wrong_mask"), by["WRONG"][0])
    good = [e for e in by["EXACT"] if e["conf"] >= PASS_CONF]
    if good and not weak:
        return result("pass", (kind, "pass_default"), max(good, key=lambda e: e["conf"]))
    if weak:
        e = weak[0]
        return result("review", ("any", "review"), e, why=_weak_why(e))
    if by["EXACT"]:
        e = by["EXACT"][0]
        return result("review", ("any", "review"), e, why=(f"low OCR confidence {e['conf']:.0f}",
                                                                f"độ tin cậy nhận dạng chữ thấp ({e['conf']:.0f})"))
    return result("review", ("any", "review"), None, why=NOT_FOUND)


def _decide_full(kind, by, weak, result) -> dict[str, Any]:
    masked = by["EXACT"] + by["WRONG"]
    if by["FULL"] and not masked and not by["CONFLICT"]:
        return result("pass", (kind, "pass_full"), by["FULL"][0])
    if masked and not by["FULL"]:
        return result("fail", (kind, "masked_in_full"), masked[0])
    if by["FULL"] or masked:
        e = (by["FULL"] + masked)[0]
        return result("review", ("any", "review"), e, why=("both masked and whole values were read",
                                                                "đọc được cả giá trị bị che lẫn giá trị đầy đủ"))
    if weak:
        e = weak[0]
        return result("review", ("any", "review"), e, why=_weak_why(e))
    return result("review", ("any", "review"), None, why=NOT_FOUND)


def _strip_marks(s: str) -> str:
    s = s.replace("Đ", "D").replace("đ", "d")
    s = unicodedata.normalize("NFD", s)
    return "".join(ch for ch in s if unicodedata.category(ch) != "Mn")


def _name(reading: ScreenReading, record: dict[str, Any]) -> dict[str, Any]:
    want = " ".join(unicodedata.normalize("NFC", str(record.get("ho_ten") or "")).split()).casefold()
    if not want:
        return {"found": None, "matches": False, "matches_without_diacritics": False, "box": None}
    for line in reading.lines:
        for text in [line["text"]] + [a["text"] for a in line.get("alt", [])]:
            got = " ".join(unicodedata.normalize("NFC", text).split()).casefold()
            if want in got:
                return {"found": text, "matches": True, "matches_without_diacritics": True, "box": line["box"]}
    plain = _strip_marks(want)
    for line in reading.lines:
        for text in [line["text"]] + [a["text"] for a in line.get("alt", [])]:
            if plain in _strip_marks(" ".join(unicodedata.normalize("NFC", text).split()).casefold()):
                return {"found": text, "matches": False, "matches_without_diacritics": True, "box": line["box"]}
    return {"found": None, "matches": False, "matches_without_diacritics": False, "box": None}


def expected_doc(record: dict[str, Any], mode: str) -> str:
    return masking.expected_document_number(str(record.get("so_giay_to") or ""), mode)


def expected_dob(record: dict[str, Any], mode: str) -> str:
    return masking.expected_date_of_birth(str(record.get("ngay_sinh") or ""), mode)


def judge_display(reading: ScreenReading, record: dict[str, Any], mode: str) -> dict[str, Any]:
    """Judge DISPLAY-001 (document number) and DISPLAY-002 (date of birth) for one screenshot.

    A crash here is a suite bug: it propagates, and the engine reports the requirement as `error`."""
    mode = "full" if str(mode).lower() == "full" else "default"
    out: dict[str, Any] = {}
    if not record.get("so_giay_to"):
        out["DISPLAY-001"] = {
            "status": "not_applicable", "found": None, "expected": "", "box": None, "evidence_text": "",
            "message_en": "The record has no document number (declared on someone's behalf).",
            "message_vi": "Hồ sơ không có số giấy tờ (được khai hộ).", "candidates": []}
    else:
        out["DISPLAY-001"] = _decide("doc", _evidence(reading, record, "doc"), mode,
                                     expected_doc(record, mode), reading, DOC_LABELS)
    out["DISPLAY-002"] = _decide("dob", _evidence(reading, record, "dob"), mode,
                                 expected_dob(record, mode), reading, DOB_LABELS)
    out["name"] = _name(reading, record)
    return out
