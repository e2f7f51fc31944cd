"""Text on the screen that OCR could not read, and the phone's own interface (system UI).

A screen may show a value in a way Tesseract does not read: turned 90°, in light grey on white, in small capitals,
as outlined letters. Reading nothing there is not evidence that the value is masked (match.py turns a pass into
"review" when such a region exists). `find` looks for it with cheap geometry and tries to read it:

1. Zone: what is near the code (the code's box grown by 3/4 of its side) or near a value or label line that was
   read (grown by 4 line heights up and down). Without a code box and without such a line: the whole screen.
2. System UI (`system_zones`): the status bar band at the top (time, battery, signal, notch / Dynamic Island), the
   home indicator / navigation bar band at the bottom, and an on-screen keyboard (rows of evenly spaced single
   glyphs). Nothing inside them is taken as displayed data: read lines there whose text looks like system text
   (time, percentage, date without year, short words) are marked ``system`` (the matcher skips them), and no
   unread region is reported inside them.
3. Candidates inside the zone, outside system UI:
   - faint text: text lines of a low-contrast ink mask (>= FAINT_DIFF grey levels from the local background)
     that hold almost no ink of the normal mask (glyphs.binarise);
   - turned text: text lines of the same low-contrast mask transposed (glyphs stacked vertically), outside every
     horizontal text line;
   - value-like lines (reader._value_lines) that were read and gave no text, or that Tesseract's page pass missed;
   - illegible value-like lines: no reading of the line with confidence >= LEGIBLE_CONF gives a run of digits /
     mask glyphs / separators at least 3/4 as long as the run of figure-like glyphs the geometry counts (outlined
     or decorated figures); for lines of capitals, no reading gives letters or digits for most of the glyphs.
4. Every candidate is read again (faint: contrast stretched in its own crop; turned: rotated both ways; others: at
   another height), mode 7. A reading with mean confidence >= READ_CONF and >= 3 letters, digits or '*' is added to
   the screen lines (``source`` faint / rotated / retry) for the matcher, so a whole number found there fails;
   the other candidates become `reading.unread` entries ``{"box", "kind", "text"}``.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

FAINT_DIFF = 10  # grey levels from the local background that count as (faint) ink
READ_CONF = 60.0  # mean Tesseract confidence for a candidate's reading to count as read
LEGIBLE_CONF = 50.0  # a value line's reading below this confidence does not make the line legible
MAX_TRIES = 6  # bound on re-read candidates per screen
STATUS_BAND = 0.075  # top fraction of a phone-shaped screen that may hold the status bar / notch
BOTTOM_BAND = 0.05  # bottom fraction that may hold the home indicator / navigation bar
_SYSTEM_TEXT = re.compile(
    r"^\s*(?:\d{1,2}[:.]\d{2}(?:\s?[AaPp][Mm])?|\d{1,3}\s?%|[0-9]{1,2}[/.-][0-9]{1,2}|[A-Za-zÀ-ỹ.,]{1,12})"
    r"(?:\s+(?:\d{1,2}[:.]\d{2}|\d{1,3}\s?%|[A-Za-zÀ-ỹ.,]{1,12}|[0-9]{1,2}[/.-][0-9]{1,2}))*\s*$")


def _area(b: list[int]) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _inter(a: list[int], b: list[int]) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _covered(box: list[int], others: list[list[int]]) -> float:
    """Fraction of `box` covered by the union of `others` (approximated by the sum, capped at 1)."""
    a = _area(box)
    if a == 0:
        return 1.0
    return min(1.0, sum(_inter(box, o) for o in others) / a)


def _grow(b: list[int], dx: float, dy: float, w: int, h: int) -> list[int]:
    return [max(0, int(b[0] - dx)), max(0, int(b[1] - dy)), min(w, int(b[2] + dx)), min(h, int(b[3] + dy))]


# ---------------------------------------------------------------------------------------------- system UI
def system_zones(shape: tuple[int, int], ink: np.ndarray | None = None,
                 comps: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Boxes of the phone's own interface: status bar band, bottom band and (from the ink) an on-screen keyboard."""
    h, w = shape
    out: list[dict[str, Any]] = []
    if h >= 1.4 * w:  # a phone held upright: status bar on top, home indicator / navigation bar at the bottom
        out.append({"box": [0, 0, w, int(round(STATUS_BAND * h))], "kind": "status_bar"})
        out.append({"box": [0, int(round((1 - BOTTOM_BAND) * h)), w, h], "kind": "home_indicator"})
    if ink is not None:
        kb = keyboard_box(ink, comps)
        if kb:
            out.append({"box": kb, "kind": "keyboard"})
    return out


def keyboard_box(ink: np.ndarray, comps: np.ndarray | None = None) -> list[int] | None:
    """An on-screen keyboard: in the lower half, >= 3 rows of >= 3 single glyphs (key labels) at a regular pitch
    wider than a letter gap, the rows evenly spaced. Returns the box of those rows (to the screen edges).
    `comps`: the ink's components (glyphs.components), when already known."""
    from . import glyphs

    h, w = ink.shape
    top = h // 2
    c = glyphs.components(ink) if comps is None else comps
    c = c[c[:, 1] >= top]
    # as [x, y, width, height, area], y from the top of the lower half
    s = np.stack([c[:, 0], c[:, 1] - top, c[:, 2] - c[:, 0], c[:, 3] - c[:, 1], c[:, 4]], axis=1) if len(c) else \
        np.zeros((0, 5), np.int64)
    ch = s[:, 3]
    cw = s[:, 2]
    keep = (ch >= 0.006 * h) & (ch <= 0.04 * h) & (cw <= 0.08 * w) & (s[:, 4] >= 6)
    s = s[keep]
    if len(s) < 9:
        return None
    cy = s[:, 1] + s[:, 3] / 2.0
    order = np.argsort(cy)
    s, cy = s[order], cy[order]
    rows: list[list[int]] = []
    for i in range(len(s)):
        if rows and abs(cy[i] - np.mean([cy[j] for j in rows[-1]])) <= 0.5 * s[i, 3]:
            rows[-1].append(i)
        else:
            rows.append([i])
    key_rows = []
    for r in rows:
        xs = np.sort(s[r, 0] + s[r, 2] / 2.0)
        if len(xs) < 3:
            continue
        d = np.diff(xs)
        med = float(np.median(d))
        hgt = float(np.median(s[r, 3]))
        if med >= 1.6 * hgt and med >= 0.06 * w and float(np.std(d)) <= 0.25 * med:
            key_rows.append((float(np.mean(cy[r])), r))
    if len(key_rows) < 3:
        return None
    ys = [y for y, _ in key_rows]
    gaps = np.diff(ys)
    if len(gaps) and float(np.max(gaps)) > 3.0 * float(np.median(gaps)):
        # keep the evenly spaced bottom block only
        cut = int(np.argmax(gaps)) + 1
        key_rows = key_rows[cut:]
        if len(key_rows) < 3:
            return None
    idx = [i for _, r in key_rows for i in r]
    y0 = int(s[idx, 1].min()) + top
    y1 = int((s[idx, 1] + s[idx, 3]).max()) + top
    pitch = float(np.median(np.diff([y for y, _ in key_rows]))) if len(key_rows) > 1 else 0.0
    return [0, max(0, int(y0 - 0.5 * pitch)), w, min(h, int(y1 + 0.5 * pitch))]


def _in_system(box: list[int], zones: list[dict[str, Any]]) -> bool:
    return any(_inter(box, z["box"]) >= 0.8 * max(1, _area(box)) for z in zones)


# ---------------------------------------------------------------------------------------------- candidates
def _lines_of(mask: np.ndarray, transpose: bool, comps: np.ndarray | None = None) -> list[list[int]]:
    """Text lines of a mask, or (transpose) of the mask turned on its side: columns of glyphs. `comps`: the mask's
    components, labelled once for both directions."""
    from . import glyphs

    c = glyphs.components(mask) if comps is None else comps
    if transpose:
        boxes = glyphs.text_lines(np.empty((mask.shape[1], mask.shape[0]), bool), comps=c[:, [1, 0, 3, 2, 4]])
        return [[b[1], b[0], b[3], b[2]] for b in boxes]
    return glyphs.text_lines(mask, comps=c)


def _zone(reading, qr: list[list[int]], shape: tuple[int, int]) -> list[list[int]]:
    from .match import _DMY, _YMD, DOB_LABELS, DOC_LABELS

    h, w = shape
    zones = []
    for b in qr:
        side = max(b[2] - b[0], b[3] - b[1])
        zones.append(_grow(b, 0.75 * side, 0.75 * side, w, h))
    labels = DOC_LABELS + DOB_LABELS
    for ln in reading.lines:
        text = ln["text"].lower()
        if (re.search(r"[0-9*xX%+#]{6,}", ln["text"]) or _DMY.search(ln["text"]) or _YMD.search(ln["text"])
                or any(re.search(rf"(?<!\w){re.escape(lb)}(?!\w)", text) for lb in labels)):
            lh = max(1, ln["box"][3] - ln["box"][1])
            zones.append(_grow(ln["box"], 0.5 * w, 4 * lh, w, h))
    return zones or [[0, 0, w, h]]


def _stretch_crop(gray: np.ndarray, box: list[int], margin: int) -> np.ndarray:
    """Crop with a margin, contrast stretched between its 2nd and 98th percentiles, dark text on white."""
    h, w = gray.shape
    x0, y0, x1, y1 = box
    c = gray[max(0, y0 - margin) : min(h, y1 + margin), max(0, x0 - margin) : min(w, x1 + margin)].astype(np.float32)
    if not c.size:
        return np.full((8, 8), 255, np.uint8)
    lo, hi = float(np.percentile(c, 2)), float(np.percentile(c, 98))
    med = float(np.median(c))
    if hi - lo < 1:
        return np.full(c.shape, 255, np.uint8)
    out = (c - lo) * (255.0 / (hi - lo))
    if med - lo < hi - med:  # background nearer the dark end: light text on dark, turn it over
        out = 255.0 - out
    return np.clip(out, 0, 255).astype(np.uint8)


def _read(crop: np.ndarray, line_h: int, lang: str) -> tuple[str, float, list[dict[str, Any]]]:
    from . import engine
    from .reader import _resize

    f = min(4.0, max(0.3, 64.0 / max(1, line_h)))
    d = engine.data(_resize(crop, f), lang, 7)
    words = [(t.strip(), float(c)) for t, c in zip(d.get("text", []), d.get("conf", [])) if (t or "").strip()
             and float(c) >= 0]
    if not words:
        return "", 0.0, []
    return " ".join(t for t, _ in words), sum(c for _, c in words) / len(words), words


def _system_text(text: str) -> bool:
    """Text of a status bar or navigation bar: time, date without year, battery %, signal, short words; anything
    with a run of 6 digits / mask glyphs or a date with its year is not (it may be the app's own value)."""
    from .match import _DMY, _YMD

    if _value_run(text) >= 6 or any(len(m.group(3)) == 4 for m in _DMY.finditer(text)) or any(
            len(m.group(1)) == 4 for m in _YMD.finditer(text)):
        return False
    return bool(_SYSTEM_TEXT.match(text)) or len(text.strip()) <= 24


def _wordy(text: str, run: int) -> bool:
    """A reading in words (capitals read as letters): letters for most of the glyphs, few digits."""
    letters = sum(ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    return letters >= 0.6 * run and digits <= 0.2 * letters


def _geo_run(pattern: str) -> int:
    """Longest run of digit-like glyphs, stars and separators in a glyph pattern (glyphs.Line.pattern)."""
    return max((len(m) for m in re.findall(r"[D*/.\-]+", pattern)), default=0)


def _value_run(text: str) -> int:
    """Longest run of digits, mask glyphs and separators in a reading (after match.canon)."""
    from .match import canon

    return max((len(m) for m in re.findall(r"[0-9*/.\-]+", canon(text))), default=0)


def _confident(text: str, conf: float) -> bool:
    return conf >= READ_CONF and sum(ch.isalnum() or ch == "*" for ch in text) >= 3


def find(reading, work: np.ndarray, diff: np.ndarray, norm: np.ndarray, ink: np.ndarray,
         geo: list, qr: list[list[int]], lang: str, comps: np.ndarray | None = None) -> None:
    """Fill `reading.system` and `reading.unread`; add the lines read in faint / turned text (see module doc)."""
    h, w = work.shape
    zones_sys = system_zones((h, w), ink, comps)
    reading.system = zones_sys
    kb = [z for z in zones_sys if z["kind"] == "keyboard"]
    for ln in reading.lines:
        if _in_system(ln["box"], kb) or (_in_system(ln["box"], zones_sys) and _system_text(ln["text"] or "")):
            ln["system"] = True
    zone = _zone(reading, qr, (h, w))
    zx0, zy0 = min(z[0] for z in zone), min(z[1] for z in zone)
    zx1, zy1 = max(z[2] for z in zone), max(z[3] for z in zone)
    # what is left of the low-contrast ink once the code and the horizontal text lines are taken out: faint
    # lines and turned text (sparse, so the connected components below cost little); searched at half size on
    # large screens
    f = 2 if min(h, w) >= 800 else 1
    sub_d = diff[zy0:zy1, zx0:zx1]
    if f == 2 and sub_d.size:
        import cv2

        sub_d = cv2.resize(sub_d, (max(1, sub_d.shape[1] // 2), max(1, sub_d.shape[0] // 2)),
                           interpolation=cv2.INTER_AREA)
    rest = sub_d >= FAINT_DIFF if sub_d.size else np.zeros((0, 0), bool)
    horiz = [box for box, _ in geo]

    def local(b: list[int]) -> list[int]:
        return [(b[0] - zx0) // f, (b[1] - zy0) // f, -(-(b[2] - zx0) // f), -(-(b[3] - zy0) // f)]

    def glob(b: list[int]) -> list[int]:
        return [min(w, b[0] * f + zx0), min(h, b[1] * f + zy0), min(w, b[2] * f + zx0), min(h, b[3] * f + zy0)]

    for b in list(qr) + horiz:
        lh = b[3] - b[1] if b in horiz else 0
        lb = local(_grow(b, max(4, 0.4 * lh), max(2, 0.35 * lh), w, h))  # text lines with their JPEG ringing
        if rest.size:
            rest[max(0, lb[1]) : max(0, lb[3]), max(0, lb[0]) : max(0, lb[2])] = False
    read_boxes = [ln["box"] for ln in reading.lines]
    cands: list[tuple[str, list[int]]] = []
    def glyph_like(lb: list[int], along_x: bool) -> bool:
        """>= 4 components as tall (across the line) as half the line, covering half its length: glyphs, not
        the specks that JPEG leaves along an edge."""
        from . import glyphs

        sub = rest[max(0, lb[1]) : lb[3], max(0, lb[0]) : lb[2]]
        c = glyphs.components(sub)
        if len(c) == 0:
            return False
        across = (c[:, 3] - c[:, 1]) if along_x else (c[:, 2] - c[:, 0])
        length = (c[:, 2] - c[:, 0]) if along_x else (c[:, 3] - c[:, 1])
        full = sub.shape[0] if along_x else sub.shape[1]
        span = sub.shape[1] if along_x else sub.shape[0]
        big = across >= 0.5 * full
        return int(big.sum()) >= 4 and float(length[big].sum()) >= 0.4 * span

    if rest.size and rest.any():
        from . import glyphs

        rest_comps = glyphs.components(rest)
        lows_local = _lines_of(rest, False, rest_comps)
        lows_h = [glob(b) for b in lows_local if glyph_like(b, True)]
        for b in lows_h:
            if b[3] - b[1] < 8 or (b[2] - b[0]) < 4 * (b[3] - b[1]) or _covered(b, horiz) > 0.3:
                continue  # a value is >= 8 characters: a line at least 4 heights long
            if int(ink[b[1] : b[3], b[0] : b[2]].sum()) < 0.1 * _area(b):  # no normal-contrast ink in it
                cands.append(("faint", b))
        for b in _lines_of(rest, True, rest_comps):
            if not glyph_like(b, False):
                continue
            b = glob(b)
            if (b[3] - b[1]) >= 4 * (b[2] - b[0]) and (b[2] - b[0]) >= 8 and _covered(b, horiz + lows_h) <= 0.3:
                cands.append(("rotated", b))
    for b in getattr(reading, "attempted", []) or []:
        if _covered(b, read_boxes) < 0.5:
            cands.append(("unread", b))
    # value-like lines whose every reading gives far fewer digits / stars than the geometry sees (outlined or
    # decorated figures that Tesseract turns into other signs)
    from .reader import _value_lines

    need: dict[tuple, int] = {}
    for score, b, line in _value_lines(geo, (h, w), qr):
        run = _geo_run(line.pattern)
        rds = [rd for ln in reading.lines if _inter(ln["box"], b) >= 0.5 * min(_area(ln["box"]), _area(b))
               for rd in [ln] + ln.get("alt", [])]
        if score >= 2 and run >= 8:
            if not any(float(rd.get("conf", 0)) >= LEGIBLE_CONF and (
                    _value_run(rd["text"]) >= 0.75 * run or _wordy(rd["text"], run)) for rd in rds):
                cands.append(("illegible", b))
                need[tuple(b)] = run
        elif score == 1 and rds:
            # mostly tall glyphs (capitals or figures): illegible when no reading gives letters or digits for
            # most of them with some confidence
            tall = sum(c in "D*" for c in line.pattern)  # glyphs seen (touching ones count once)
            if not any(sum(ch.isalnum() or ch == "*" for ch in rd["text"]) >= 0.6 * tall
                       and float(rd.get("conf", 0)) >= LEGIBLE_CONF for rd in rds):
                cands.append(("illegible", b))
    kept: list[tuple[str, list[int]]] = []
    for k, b in cands:
        if not any(_inter(b, z) > 0.5 * _area(b) for z in zone) or _in_system(b, zones_sys):
            continue
        if min(b[2] - b[0], b[3] - b[1]) > 0.04 * h:
            continue  # thicker than any line of text on a phone screen: a picture (e.g. a capture preview)
        if any(_inter(b, o) >= 0.6 * min(_area(b), _area(o)) for _, o in kept):
            continue  # one region, found twice
        kept.append((k, b))
    cands = kept
    cands.sort(key=lambda kb: min((abs((kb[1][1] + kb[1][3]) / 2 - (q[1] + q[3]) / 2) for q in qr), default=0))
    for kind, b in cands[:MAX_TRIES]:
        bw, bh = b[2] - b[0], b[3] - b[1]
        if kind == "rotated":
            crop = _stretch_crop(work, b, max(3, bw // 3))
            best = ("", 0.0, [])
            for k in (1, 3):  # 90° either way
                got = _read(np.ascontiguousarray(np.rot90(crop, k)), bw, lang)
                if got[1] > best[1]:
                    best = got
        elif kind == "faint":
            best = _read(_stretch_crop(work, b, max(3, bh // 3)), bh, lang)
        else:
            best = _read(_stretch_crop(work, b, max(3, bh // 3)), bh, lang)
            if not _confident(best[0], best[1]) or (tuple(b) in need and _value_run(best[0]) < 0.75 * need[tuple(b)]):
                from .reader import _resize

                alt = _read(_resize(_stretch_crop(work, b, max(3, bh // 3)), 1.0), max(1, int(bh * 1.6)), lang)
                if alt[1] > best[1]:
                    best = alt
        text, conf, words = best
        run = need.get(tuple(b))
        if _confident(text, conf) and (run is None or _value_run(text) >= 0.75 * run):
            reading.lines.append({"text": text, "box": list(b), "conf": round(conf, 1),
                                  "source": kind if kind in ("faint", "rotated") else "retry", "alt": [],
                                  "words": [{"text": t, "box": list(b), "conf": round(c, 1)} for t, c in words]})
        else:
            reading.unread.append({"box": list(b), "kind": kind, "text": text})
    for kind, b in cands[MAX_TRIES:]:
        reading.unread.append({"box": list(b), "kind": kind, "text": ""})
