"""Read the text of an app screenshot with Tesseract (vie+eng; engine.py: tesserocr kept loaded, or pytesseract).

Geometry first (glyphs.py, no OCR): the code's boxes are blanked, the screen is turned into a polarity-free text
image (|grey - local background|, dark ink on white) and its text lines are found from the ink and classified glyph
by glyph (stars, tall glyphs, separators).

Strategy "auto" (the default): only the lines that may hold a value are read.
A. Value lines (`_value_lines`): lines with stars and a run of >= 6 star/digit-like glyphs, runs of >= 7 tall
   glyphs and separators (a number, a date), or mostly tall glyphs / spaced groups of them (capitals, a spaced or
   decorated number), anywhere on the screen, the nearest to the code first (at most FAST_MAX_LINES with stars,
   numbers or dates and FAST_MAX_PLAIN of the others, an unbroken run of tall glyphs first). Each is
   cropped (with a margin), scaled so the line is ~64 px high (lines with stars) or ~40 px (the others) and read
   as one line (mode 7).
   A line with stars whose reading holds another number of mask glyphs than the geometry counts is read once more
   at 36 px (a second reading of the line, `alt`).
B. Geometry (pass 3 below) on the same lines.
C. When the readings show something like a document number (>= 8 digits / mask glyphs) and something like a date
   (day, month, 4-character year), that is the reading; else the whole screen is read as in strategy "page".
Strategy "page" (and the fallback of "auto"), three passes, all real Tesseract:
1. The whole screen once, page segmentation mode 11 (sparse text), upscaled x2 when the screen is narrower than
   800 px (small text).
2. Every line of pass 1 that could hold a document number or a date (it has digits, mask glyphs or a label word) or
   that Tesseract read with low confidence is cropped (with a margin), scaled so the line is ~64 px high, and read
   again as one line (mode 6, all crops stacked in one image). The second reading is kept beside the first
   (`line["alt"]`); the matcher looks at both and treats a disagreement between them as "review", never as a pass.
3. Geometry: in every line found from the ink (a line Tesseract missed is still found), stars, digits and
   separators are told apart by shape and place, and the stars counted. Every span that looks like a masked value
   (stars next to digits: ``******DDDDDD``, ``**/**/DDDD``, ``DDDD-**-**``) whose star count is sure has its digit
   runs read by Tesseract with a digit whitelist (one call for all runs: each run at 24 and 32 px and once with
   white put between its glyphs, voted — two agreeing readings of the right length and no equal rival; a run
   without a winner is read again as one word, mode 8, at 32 and 48 px); when each run gives exactly as many digits
   as the geometry saw, the reading ``******314511`` is added to the Tesseract line it overlaps (`alt` entry with
   ``"source": "geometry"``), or as a line of its own. The matcher treats it as one more reading of that line: a
   disagreement with Tesseract's own reading is "review", never a pass.
Then, in both strategies (unread.py): system UI is marked (status bar, home indicator, keyboard: `reading.system`,
lines there with system-like text get ``"system": true`` and are never evidence), and text-like regions near the
code or the values that were not read (turned 90°, faint, small, outlined lettering) are read again on their own;
what stays unread is listed in `reading.unread` (match.py: a pass in default mode becomes review).

CPU: `timings_ms["cpu"]` is this process's CPU time for the reading plus that of Tesseract child processes
(pytesseract); the engines are started once per process (engine.py), not per screenshot.

`read_screen` never raises: an unreadable input or a Tesseract failure is reported in `ScreenReading.error`.
"""
from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

try:  # pragma: no cover - import guard only
    import pytesseract
except Exception:  # noqa: BLE001
    pytesseract = None  # type: ignore[assignment]

UPSCALE_BELOW_WIDTH = 800  # screens narrower than this are read at x2
LINE_TARGET_HEIGHT = 64  # pass-2 crops are scaled so the line box is about this tall
LOW_CONF = 70.0  # pass-1 lines below this mean word confidence are read again
MAX_RESCANS = 24  # bound on pass-2 work per screen
_RESCAN_HINT = re.compile(r"[0-9*xX%+#¥×]|cccd|cmnd|sinh|dob|\bns\b|gi[aấ]y|chi[eế]u|\bid\b", re.IGNORECASE)


@dataclass
class ScreenReading:
    """What Tesseract read on one screenshot.

    lines: [{"text", "box": [x0, y0, x1, y1] (original image pixels), "conf" (0-100, mean of words),
             "words": [{"text", "box", "conf"}], "alt": [{"text", "conf", "box"}] (pass-2 readings)}]
    """

    lines: list[dict[str, Any]] = field(default_factory=list)
    # timings_ms: preprocess, ocr_page, ocr_lines (wall clock), rescanned_lines (count), total, tesseract_cpu
    text: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    error_vi: str | None = None
    source: str | None = None
    size: list[int] | None = None  # [width, height] of the input
    inverted: bool = False
    # "lines" (value lines read first) or "page" (whole screen read)
    strategy: str | None = None
    # boxes of value-like lines that were tried and gave no text (input of the unread-text check)
    attempted: list[list[int]] = field(default_factory=list)
    # text-like regions near the code or the values that OCR could not read: [{"box", "kind", "text"}]
    unread: list[dict[str, Any]] = field(default_factory=list)
    # system UI found on the screen (status bar, home indicator, keyboard...): [{"box", "kind"}]
    system: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "size": self.size,
            "inverted": self.inverted,
            "strategy": self.strategy,
            "text": self.text,
            "lines": [
                {k: v for k, v in ln.items() if k in ("text", "box", "conf", "alt", "source", "system")}
                for ln in self.lines
            ],
            "unread": [dict(u) for u in self.unread],
            "system": [dict(u) for u in self.system],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "error": self.error,
            "error_vi": self.error_vi,
        }



def _stack(crops: list[np.ndarray], gap: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Stack crops vertically on white, `gap` px apart, so that one Tesseract call reads them all; returns the
    canvas and each crop's (top, bottom) rows in it."""
    width = max(c.shape[1] for c in crops) + 2 * gap
    height = sum(c.shape[0] + gap for c in crops) + gap
    canvas = np.full((height, width), 255, np.uint8)
    spans = []
    y = gap
    for c in crops:
        canvas[y : y + c.shape[0], gap : gap + c.shape[1]] = c
        spans.append((y, y + c.shape[0]))
        y += c.shape[0] + gap
    return canvas, spans

def _to_gray(src: Any) -> tuple[np.ndarray | None, str | None, str | None]:
    """Accept a path, PIL image or numpy array; return (uint8 grey array, source name, error)."""
    name = None
    try:
        from PIL import Image

        if isinstance(src, (str, Path)):
            name = str(src)
            with Image.open(src) as im:
                im.load()
                img = im.convert("L")
            return np.asarray(img, dtype=np.uint8).copy(), name, None
        if isinstance(src, Image.Image):
            return np.asarray(src.convert("L"), dtype=np.uint8).copy(), None, None
        arr = np.asarray(src)
        if arr.ndim == 3 and arr.shape[2] in (3, 4):
            # assume RGB(A) order (PIL / imageio convention); BGR would only alter the grey weights slightly
            rgb = arr[..., :3].astype(np.float32)
            arr = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
        if arr.ndim != 2 or arr.size == 0:
            return None, name, f"unsupported image array shape {getattr(src, 'shape', None)}"
        if arr.dtype != np.uint8:
            a = arr.astype(np.float64)
            if a.max() <= 1.0:
                a = a * 255.0
            arr = np.clip(a, 0, 255)
        return np.ascontiguousarray(arr.astype(np.uint8)), name, None
    except Exception as exc:  # noqa: BLE001
        return None, name, f"cannot read image{' ' + name if name else ''}: {exc}"


def _normalise(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """Dark text on light background: invert when the background (median) is dark."""
    dark = float(np.median(gray[::4, ::4])) < 128.0
    return (255 - gray if dark else gray), dark


def _local_contrast(gray: np.ndarray, bg: np.ndarray | None = None) -> np.ndarray:
    """Polarity-free text image: |grey - local background| stretched, as dark ink on white.

    The background is a median over ~15 px of a 1/4-size copy (~60 px at full size), so light text on a coloured
    card, dark text on white and white text on a dark theme all come out as dark text on white. The stretch divides
    by the 99.7th percentile of the difference (at least 24 grey levels). All in 8-bit arithmetic (a histogram for
    the percentile, a lookup table for the stretch).
    """
    return _stretch(_abs_diff(gray, bg))


def _background(gray: np.ndarray) -> np.ndarray:
    """Local background grey: median over ~15 px of a 1/4-size copy, scaled back to full size."""
    import cv2

    h, w = gray.shape
    small = cv2.resize(gray, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    k = 15 if min(small.shape) > 15 else (min(small.shape) // 2) * 2 - 1
    bg_small = cv2.medianBlur(small, max(1, k))
    return cv2.resize(bg_small, (w, h), interpolation=cv2.INTER_LINEAR)


def _abs_diff(gray: np.ndarray, bg: np.ndarray | None = None) -> np.ndarray:
    import cv2

    return cv2.absdiff(gray, _background(gray) if bg is None else bg)


def _resize(gray: np.ndarray, factor: float) -> np.ndarray:
    if abs(factor - 1.0) < 1e-3:
        return gray
    import cv2

    h, w = gray.shape
    interp = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return cv2.resize(gray, (max(1, int(round(w * factor))), max(1, int(round(h * factor)))), interpolation=interp)


def _children_cpu_ms() -> float:
    try:
        import resource

        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (ru.ru_utime + ru.ru_stime) * 1000.0
    except Exception:  # noqa: BLE001
        return 0.0


def _tess_data(gray: np.ndarray, lang: str, psm: int, whitelist: str | None = None) -> dict[str, list]:
    from . import engine

    return engine.data(gray, lang, psm, whitelist)


def _group_lines(data: dict[str, list], scale: float, dx: int = 0, dy: int = 0) -> list[dict[str, Any]]:
    """Group Tesseract words into lines; boxes mapped back to original image pixels."""
    lines: dict[tuple, dict[str, Any]] = {}
    order: list[tuple] = []
    n = len(data.get("text", []))
    for i in range(n):
        txt = (data["text"][i] or "").strip()
        try:
            conf = float(data["conf"][i])
        except (TypeError, ValueError):
            conf = -1.0
        if not txt or conf < 0:
            continue
        x0 = int(data["left"][i] / scale) + dx
        y0 = int(data["top"][i] / scale) + dy
        x1 = int((data["left"][i] + data["width"][i]) / scale) + dx
        y1 = int((data["top"][i] + data["height"][i]) / scale) + dy
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        if key not in lines:
            lines[key] = {"words": []}
            order.append(key)
        lines[key]["words"].append({"text": txt, "box": [x0, y0, x1, y1], "conf": round(conf, 1)})
    out = []
    for key in order:
        words = lines[key]["words"]
        box = [
            min(w["box"][0] for w in words),
            min(w["box"][1] for w in words),
            max(w["box"][2] for w in words),
            max(w["box"][3] for w in words),
        ]
        out.append(
            {
                "text": " ".join(w["text"] for w in words),
                "box": box,
                "conf": round(sum(w["conf"] for w in words) / len(words), 1),
                "words": words,
            }
        )
    out.sort(key=lambda ln: (ln["box"][1], ln["box"][0]))
    return out


def read_screen(
    gray_or_image: Any,
    *,
    exclude_boxes: Sequence[Sequence[int]] = (),
    lang: str = "vie+eng",
    rescan: bool = True,
    strategy: str = "auto",
    find_unread: bool = True,
) -> ScreenReading:
    """OCR one screenshot (path, PIL image or numpy array). Never raises; see ScreenReading.error.

    strategy "auto": the value lines found by the geometry are read first (see the module doc) and the whole screen
    only when they do not show both a number and a date; "page": always the whole screen (passes 1-3).
    find_unread: look for system UI and for text that was not read (unread.py); off only to measure the reading
    as it was before that check (conformance.ocr.bench --compare)."""
    reading = ScreenReading()
    t_all = time.perf_counter()
    cpu0 = _children_cpu_ms()
    pcpu0 = time.process_time()
    try:
        gray, name, err = _to_gray(gray_or_image)
        reading.source = name
        if err or gray is None:
            reading.error = err or "no image"
            reading.error_vi = f"không đọc được ảnh{' ' + name if name else ''}: {err or 'không có ảnh'}"
            return reading
        h, w = gray.shape
        reading.size = [int(w), int(h)]
        if h < 8 or w < 8:
            reading.error = f"image too small to read text ({w}x{h}){' in ' + name if name else ''}"
            reading.error_vi = f"ảnh quá nhỏ để đọc chữ ({w}x{h})"
            return reading
        from . import engine, glyphs

        if engine.backend() == "pytesseract" and pytesseract is None:
            reading.error = "neither tesserocr nor pytesseract is installed"
            reading.error_vi = "chưa cài tesserocr hay pytesseract"
            return reading
        reading.timings_ms["engine_tesserocr"] = 1.0 if engine.backend() == "tesserocr" else 0.0

        t0 = time.perf_counter()
        work = gray.copy()
        bg = int(np.median(gray[::4, ::4]))  # the screen's background grey (a sample is enough)
        qr: list[list[int]] = []
        for b in exclude_boxes or ():
            try:
                x0, y0, x1, y1 = (int(v) for v in list(b)[:4])
            except Exception:  # noqa: BLE001
                continue
            x0, x1 = sorted((max(0, x0), min(w, x1)))
            y0, y1 = sorted((max(0, y0), min(h, y1)))
            pad = max(2, (x1 - x0) // 50)
            work[max(0, y0 - pad) : min(h, y1 + pad), max(0, x0 - pad) : min(w, x1 + pad)] = bg
            if x1 > x0 and y1 > y0:
                qr.append([x0, y0, x1, y1])
        _, dark = _normalise(work)
        reading.inverted = dark
        diff = _abs_diff(work)
        norm = _stretch(diff)
        ink = glyphs.binarise(norm)
        comps = glyphs.components(ink)
        geo = _line_geometry(ink, comps)
        reading.timings_ms["preprocess"] = (time.perf_counter() - t0) * 1000

        done = False
        if strategy == "auto" and rescan:
            t0 = time.perf_counter()
            try:
                done = _fast_read(reading, norm, ink, geo, lang, qr)
            except engine.TesseractFailure as exc:
                _fail(reading, name, exc)
                return reading
            reading.timings_ms["ocr_lines"] = (time.perf_counter() - t0) * 1000
        reading.strategy = "lines" if done else "page"
        if not done:
            reading.lines = []
            reading.attempted = []
            scale = 2.0 if w < UPSCALE_BELOW_WIDTH else 1.0
            big = _resize(norm, scale)
            t0 = time.perf_counter()
            try:
                data = _tess_data(big, lang, 11)
            except Exception as exc:  # noqa: BLE001  (TesseractNotFoundError, TesseractError, ...)
                _fail(reading, name, exc)
                return reading
            reading.timings_ms["ocr_page"] = (time.perf_counter() - t0) * 1000
            reading.lines = _group_lines(data, scale)
            reading.text = "\n".join(ln["text"] for ln in reading.lines)

            if rescan:
                t0 = time.perf_counter()
                todo = [ln for ln in reading.lines if ln["conf"] < LOW_CONF or _RESCAN_HINT.search(ln["text"])]
                for ln, alt in zip(todo[:MAX_RESCANS],
                                   _rescan_lines(norm, [ln["box"] for ln in todo[:MAX_RESCANS]], lang)):
                    if alt:
                        ln["alt"] = alt
                reading.timings_ms["ocr_lines"] = (time.perf_counter() - t0) * 1000
                reading.timings_ms["rescanned_lines"] = float(min(len(todo), MAX_RESCANS))
                t0 = time.perf_counter()
                n_geo = _geometric_readings(reading, norm, lang, ink=ink,
                                            lines=[ln for _, ln in geo if ln is not None])
                reading.timings_ms["geometry"] = (time.perf_counter() - t0) * 1000
                reading.timings_ms["geometric_values"] = float(n_geo)
                # value-like lines of the geometry that Tesseract's page pass left out: tried, not read
                reading.attempted = [box for score, box, _ in _value_lines(geo, (h, w), qr) if score >= 2]
        if rescan and find_unread:
            t0 = time.perf_counter()
            from . import unread

            try:
                unread.find(reading, work, diff, norm, ink, geo, qr, lang, comps)
            except engine.TesseractFailure as exc:
                _fail(reading, name, exc)
                return reading
            reading.timings_ms["unread"] = (time.perf_counter() - t0) * 1000
        reading.lines.sort(key=lambda ln: (ln["box"][1], ln["box"][0]))
        reading.text = "\n".join(ln["text"] for ln in reading.lines if not ln.get("system"))
    except Exception as exc:  # noqa: BLE001  - library code never lets an exception escape
        reading.error = f"OCR failed{' on ' + reading.source if reading.source else ''}: {type(exc).__name__}: {exc}"
        reading.error_vi = f"OCR lỗi: {type(exc).__name__}: {exc}"
    finally:
        reading.timings_ms["total"] = (time.perf_counter() - t_all) * 1000
        # CPU time of Tesseract child processes (pytesseract back end) and of this process (tesserocr runs in it):
        # the figures that do not depend on machine load
        reading.timings_ms["tesseract_cpu"] = max(0.0, _children_cpu_ms() - cpu0)
        reading.timings_ms["cpu"] = reading.timings_ms["tesseract_cpu"] + (time.process_time() - pcpu0) * 1000
    return reading


def _fail(reading: ScreenReading, name: str | None, exc: BaseException) -> None:
    reading.lines = []
    reading.text = ""
    reading.error = f"Tesseract failed{' on ' + name if name else ''}: {type(exc).__name__}: {exc}"
    reading.error_vi = f"Tesseract lỗi{' với ' + name if name else ''}: {type(exc).__name__}: {exc}"


def _stretch(diff: np.ndarray) -> np.ndarray:
    """|grey - background| (8-bit) -> dark ink on white, stretched by the 99.7th percentile (at least 24 levels)."""
    import cv2

    hist = cv2.calcHist([diff], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist)
    s = max(float(np.searchsorted(cum, 0.997 * cum[-1])), 24.0)
    lut = (255.0 - np.clip(np.arange(256, dtype=np.float64) * (255.0 / s), 0, 255)).astype(np.uint8)
    return cv2.LUT(diff, lut)


def _line_geometry(ink: np.ndarray, comps: np.ndarray | None = None) -> list[tuple[list[int], Any]]:
    """(box, glyphs.Line or None) of every text line of the ink mask (glyphs.text_lines / classify_line)."""
    from . import glyphs

    out: list[tuple[list[int], Any]] = []
    try:
        for box in glyphs.text_lines(ink, comps=comps):
            # a group of a line already classified (a label and its value far apart grow into one line): the same
            same = next((ln for _, ln in out if ln is not None and ln.box[0] <= box[0] and box[2] <= ln.box[2]
                         and min(ln.box[3], box[3]) - max(ln.box[1], box[1]) >= 0.8 * (box[3] - box[1])
                         and (box[3] - box[1]) >= 0.8 * (ln.box[3] - ln.box[1])), None)
            out.append((box, same if same is not None else glyphs.classify_line(ink, box, comps)))
    except Exception:  # noqa: BLE001  - geometry is an extra: it never breaks the reading
        return []
    return out


# ---------------------------------------------------------------------------------------------- value lines first
FAST_MAX_LINES = 5  # value-like lines (stars, numbers, dates) read in the first (fast) pass
FAST_MAX_PLAIN = 2  # ... and lines of tall glyphs / spaced groups (one unbroken run first, then the nearest)
FAST_LINE_HEIGHT = 64  # their crops are scaled so the line is about this tall (lines with stars)
FAST_PLAIN_HEIGHT = 40  # lines without stars (numbers, dates, capitals) are read at this height
ALT_LINE_HEIGHT = 36  # a star line whose star count disagrees with the geometry is read again at this height
# (about the height Tesseract's line recogniser scales a line to)
_RUN = re.compile(r"[D*/.\-]+")
_SPACED = re.compile(r"[D*]{2,}(?: [D*/.\-]{2,}){2,}")


def _value_lines(geo: list[tuple[list[int], Any]], shape: tuple[int, int],
                 qr: list[list[int]]) -> list[tuple[int, list[int], Any]]:
    """Lines that may hold a document number or a date, by glyph shape alone: (score, box, Line), best first.

    3: stars and a run of >= 6 star/digit-like glyphs (a masked value); 2: a run of >= 7 tall glyphs and separators
    (a number or a date); 1: three or more groups of tall glyphs apart by spaces (a spaced number, or capitals).
    Ties go to the line nearest to the code."""
    out = []
    for box, line in geo:
        if line is None:
            continue
        pat = line.pattern
        if (line.box[3] - line.box[1]) > 3 * line.cap:
            continue  # not one line of text (a picture, or glyphs of several lines glued)
        run = max((len(m.group(0)) for m in _RUN.finditer(pat)), default=0)
        if pat.count("*") >= 2 and run >= 6:
            score = 3
        elif run >= 7:
            score = 2
        elif (_SPACED.search(pat) and sum(c in "D*" for c in pat) >= 8) or tall_count(line) >= 8:
            score = 1  # spaced groups of tall glyphs, or a line of mostly tall glyphs (capitals, decorated figures)
        else:
            continue
        b = [min(box[0], line.box[0]), min(box[1], line.box[1]), max(box[2], line.box[2]), max(box[3], line.box[3])]
        # two text_lines groups of one line (a label and its value far apart) grow into the same line: keep one
        dup = next((k for k, o in enumerate(out) if _iou(o[1], b) >= 0.6), None)
        if dup is not None:
            if score > out[dup][0] or (score == out[dup][0] and _area(b) > _area(out[dup][1])):
                out[dup] = (score, b, line)
            continue
        out.append((score, b, line))
    out.sort(key=lambda t: (-t[0], _dist_to(t[1], qr, shape)))
    return out


def tall_count(line: Any) -> int:
    """About how many characters the tall glyphs of a line hold (glyphs that touch count by their width), when
    they are at least 3/4 of the line's glyphs; else 0."""
    n_tall = 0
    n_all = 0
    for g in line.glyphs:
        k = max(1, int(round(g.w / max(1.0, 0.62 * line.cap)))) if g.w > 1.2 * line.cap else 1
        n_all += k
        if g.cls in "DS":
            n_tall += k if g.cls == "D" else max(1, g.stars)
    return n_tall if n_tall >= 0.75 * n_all else 0


def _area(b: list[int]) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _iou(a: list[int], b: list[int]) -> float:
    i = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    u = _area(a) + _area(b) - i
    return i / u if u else 0.0


def _dist_to(box: list[int], targets: list[list[int]], shape: tuple[int, int]) -> float:
    if not targets:
        return float(box[1])  # no code known: top of the screen first
    best = float("inf")
    for t in targets:
        dx = max(0, t[0] - box[2], box[0] - t[2])
        dy = max(0, t[1] - box[3], box[1] - t[3])
        best = min(best, float(np.hypot(dx, dy)))
    return best


def _read_lines(img: np.ndarray, boxes: list[list[int]], lang: str,
                target: int | list[int] = LINE_TARGET_HEIGHT) -> list[list[dict[str, Any]]]:
    """Each box read as one text line (mode 7) from a crop scaled to ~`target` px line height; Tesseract lines with
    words in original pixels, per box. With the command-line back end, the crops go in one stacked call
    (`_rescan_lines`)."""
    from . import engine

    if engine.backend() != "tesserocr":
        return _rescan_lines(img, boxes, lang)
    h, w = img.shape
    out = []
    targets = target if isinstance(target, list) else [target] * len(boxes)
    for (x0, y0, x1, y1), tgt in zip(boxes, targets):
        lh = max(1, y1 - y0)
        mx, my = int(lh * 0.6) + 3, int(lh * 0.3) + 2
        cx0, cy0, cx1, cy1 = max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
        crop = img[cy0:cy1, cx0:cx1]
        if not crop.size:
            out.append([])
            continue
        f = min(4.0, max(0.5, tgt / lh))
        d = engine.data(_resize(crop, f), lang, 7)
        lines = _group_lines(d, f, cx0, cy0)
        out.append([{"text": ln["text"], "conf": ln["conf"], "box": ln["box"], "words": ln["words"]} for ln in lines])
    return out


def _merge(box: list[int], found: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One screen line from the Tesseract line(s) read in its crop."""
    words = [wd for ln in found for wd in ln["words"]]
    if not words:
        return None
    words.sort(key=lambda wd: wd["box"][0])
    return {"text": " ".join(wd["text"] for wd in words),
            "box": [min(wd["box"][0] for wd in words), min(wd["box"][1] for wd in words),
                    max(wd["box"][2] for wd in words), max(wd["box"][3] for wd in words)],
            "conf": round(sum(wd["conf"] for wd in words) / len(words), 1), "words": words, "alt": [],
            "source": "line"}


def _fast_read(reading: ScreenReading, norm: np.ndarray, ink: np.ndarray, geo: list, lang: str,
               qr: list[list[int]]) -> bool:
    """The value-like lines (see `_value_lines`) read one by one, then the geometric reading of their masks.
    True when the readings show something like a document number and something like a date (else the caller reads
    the whole screen)."""
    ranked = _value_lines(geo, norm.shape, qr)
    plain = sorted((c for c in ranked if c[0] == 1), key=lambda c: " " in c[2].pattern)  # one long run first
    cands = [c for c in ranked if c[0] >= 2][:FAST_MAX_LINES] + plain[:FAST_MAX_PLAIN]
    if not cands:
        return False
    boxes = [b for _, b, _ in cands]
    read = _read_lines(norm, boxes, lang, [FAST_LINE_HEIGHT if sc >= 3 else FAST_PLAIN_HEIGHT for sc, _, _ in cands])
    reading.lines, reading.attempted = [], []
    for box, found in zip(boxes, read):
        ln = _merge(box, found)
        if ln is None or not any(ch.isalnum() or ch == "*" for ch in ln["text"]):
            reading.attempted.append(box)  # tried and nothing read: the unread-text check looks at it
            continue
        reading.lines.append(ln)
    # a line with stars whose reading counts other stars than the geometry: read once more at another height (the
    # matcher takes both; a weak reading beside a definite one of the same line does not hold the judgement back)
    again = [(b, ln) for (sc, b, gl), ln in zip(cands, [_host_line(reading.lines, b) for b in boxes])
             if sc >= 3 and ln is not None and _stars_read(ln["text"]) != gl.pattern.count("*")]
    if again:
        for (b, ln), found in zip(again, _read_lines(norm, [b for b, _ in again], lang, ALT_LINE_HEIGHT)):
            alt = _merge(b, found)
            if alt is not None:
                ln["alt"].append({k: alt[k] for k in ("text", "conf", "box", "words")})
    n_geo = _geometric_readings(reading, norm, lang, ink=ink, lines=[ln for _, _, ln in cands])
    reading.timings_ms["geometric_values"] = float(n_geo)
    reading.timings_ms["fast_lines"] = float(len(boxes))
    reading.text = "\n".join(ln["text"] for ln in reading.lines)
    return _shows_values(reading)


def _stars_read(text: str) -> int:
    """Mask glyphs in the words of a reading that hold digits or mask glyphs (labels left out)."""
    from .match import canon

    return sum(canon(w).count("*") for w in text.split() if re.search(r"[0-9]", w) or len(w) >= 4 and
               canon(w).count("*") >= len(w) // 2)


def _shows_values(reading: ScreenReading) -> bool:
    """Record-free test: some reading holds a number-like run (>= 8 digits / mask glyphs, up to 3 words joined)
    and some reading holds a date-like run (day, month and a 4-character year, any separator)."""
    from .match import _DMY, _YMD, canon

    doc = date = False
    for ln in reading.lines:
        for rd in [ln] + ln.get("alt", []):
            text = rd["text"]
            if not date and (any(len(m.group(3)) == 4 for m in _DMY.finditer(text))
                             or any(len(m.group(1)) == 4 for m in _YMD.finditer(text))):
                date = True
            if not doc:
                parts = [canon(p.strip(":;,.()")) for p in re.split(r"[\s:]+", text)]
                doc = any(re.fullmatch(r"[0-9*]{8,}|[A-Z][0-9]{7,}", "".join(parts[i : i + k]))
                          for i in range(len(parts)) for k in (1, 2, 3))
    return doc and date


def _rescan_lines(norm: np.ndarray, boxes: list[list[int]], lang: str) -> list[list[dict[str, Any]]]:
    """Pass 2: every line crop scaled to ~LINE_TARGET_HEIGHT px, stacked in one image, read in one Tesseract call
    (mode 6, one text line per crop); words are mapped back to their crop and to original pixels."""
    if not boxes:
        return []
    h, w = norm.shape
    crops, metas = [], []
    for x0, y0, x1, y1 in boxes:
        lh = max(1, y1 - y0)
        mx, my = int(lh * 0.6) + 3, int(lh * 0.3) + 2
        cx0, cy0, cx1, cy1 = max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
        crop = norm[cy0:cy1, cx0:cx1]
        f = min(4.0, max(0.5, LINE_TARGET_HEIGHT / lh))
        crops.append(_resize(crop, f) if crop.size else np.full((8, 8), 255, np.uint8))
        metas.append((cx0, cy0, f))
    gap = LINE_TARGET_HEIGHT
    canvas, spans = _stack(crops, gap)
    try:
        data = _tess_data(canvas, lang, 6)
    except Exception:  # noqa: BLE001
        return [[] for _ in boxes]
    per: list[dict] = [{k: [] for k in data} for _ in boxes]
    for i in range(len(data.get("text", []))):
        cy = data["top"][i] + data["height"][i] / 2
        for j, (a, b) in enumerate(spans):
            if a - gap / 2 <= cy < b + gap / 2:
                for k in data:
                    per[j][k].append(data[k][i])
                break
    out = []
    for j, (cx0, cy0, f) in enumerate(metas):
        d = per[j]
        d["left"] = [v - gap for v in d["left"]]
        d["top"] = [v - spans[j][0] for v in d["top"]]
        d["block_num"] = [0] * len(d["top"])
        d["par_num"] = [0] * len(d["top"])
        d["line_num"] = [0] * len(d["top"])  # one crop = one line
        lines = _group_lines(d, f, cx0, cy0)
        out.append([{"text": ln["text"], "conf": ln["conf"], "box": ln["box"], "words": ln["words"]} for ln in lines])
    return out


GEO_DIGIT_CONF = 60.0  # minimum mean Tesseract confidence of the whitelisted digit reading of a geometric span


def _geometric_readings(reading: ScreenReading, norm: np.ndarray, lang: str, *, ink: np.ndarray | None = None,
                        lines: list[Any] | None = None) -> int:
    """Pass 3 (see module doc). Adds geometric readings to `reading.lines`; returns how many were added.
    `ink` and the classified `lines` may be given (else computed from `norm`)."""
    from . import glyphs

    try:
        if ink is None:
            ink = glyphs.binarise(norm)
        if lines is None:
            lines = [glyphs.classify_line(ink, box) for box in glyphs.text_lines(ink)]
        spans: list[dict[str, Any]] = []
        seen: set[tuple] = set()
        for line in lines:
            if line is None:
                continue
            for sp in glyphs.value_spans(line):
                key = (sp["pattern"], tuple(sp["box"]))
                if key in seen or not sp["sure"]:
                    continue
                seen.add(key)
                spans.append(sp)
    except Exception:  # noqa: BLE001  - geometry is an extra: it never breaks the reading
        return 0
    if not spans:
        return 0
    runs = [(i, j, rb) for i, sp in enumerate(spans) for j, rb in enumerate(sp["digit_runs"])]
    counts = [spans[i]["digit_counts"][j] for i, j, _ in runs]
    texts = _read_digit_runs(norm, ink, [rb for _, _, rb in runs], counts)
    digits: dict[tuple[int, int], tuple[str, float]] = {}
    for (i, j, _), (txt, conf) in zip(runs, texts):
        digits[(i, j)] = (txt, conf)
    added = 0
    for i, sp in enumerate(spans):
        out, confs, ok = [], [], True
        j = 0
        pat = sp["pattern"]
        k = 0
        while k < len(pat):
            if pat[k] == "D":
                n = sp["digit_counts"][j]
                d, c = digits.get((i, j), ("", 0.0))
                if len(d) != n:
                    ok = False
                    break
                out.append(d)
                confs.append(c)
                k += n
                j += 1
            else:
                out.append(pat[k])
                k += 1
        if not ok or not confs or min(confs) < GEO_DIGIT_CONF:
            continue
        text = "".join(out)
        conf = round(min(confs), 1)
        alt = {"text": text, "conf": conf, "box": sp["box"], "source": "geometry",
               "words": [{"text": text, "box": sp["box"], "conf": conf}]}
        host = _host_line(reading.lines, sp["box"])
        if host is not None:
            host.setdefault("alt", []).append(alt)
        else:
            reading.lines.append({"text": text, "box": sp["box"], "conf": conf, "source": "geometry",
                                  "words": alt["words"], "alt": []})
        added += 1
    reading.lines.sort(key=lambda ln: (ln["box"][1], ln["box"][0]))
    return added


DIGIT_HEIGHTS = (24, 32)  # run heights (px) of the stacked whitelisted readings; plus a spaced copy at 32 px
MAX_WORD_READS = 4  # bound on the single-word (mode 8) tie-break reads per screen


def _spaced(crop: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The run with white gaps (1/3 of its height) put between its ink columns: glyphs that sit close are read
    apart (Tesseract reads '733111' as '7331' in a tight run, or '554411' as '994411' in a bold serif)."""
    cols = ink.any(axis=0)
    h = crop.shape[0]
    gap = np.full((h, max(3, h // 3)), 255, np.uint8)
    pieces, i, n = [], 0, len(cols)
    while i < n:
        if cols[i]:
            j = i
            while j < n and cols[j]:
                j += 1
            pieces += [crop[:, i:j], gap]
            i = j
        else:
            i += 1
    return np.hstack([gap] + pieces) if pieces else crop


def _digit_variants(norm: np.ndarray, ink: np.ndarray, box: list[int]) -> list[np.ndarray]:
    h, w = norm.shape
    x0, y0, x1, y1 = box
    lh = max(1, y1 - y0)
    crop = norm[max(0, y0 - 1) : min(h, y1 + 1), max(0, x0 - 1) : min(w, x1 + 1)]
    if not crop.size:
        return []
    out = [_resize(crop, max(0.3, min(4.0, t / lh))) for t in DIGIT_HEIGHTS]
    sub_ink = ink[max(0, y0 - 1) : min(h, y1 + 1), max(0, x0 - 1) : min(w, x1 + 1)]
    out.append(_resize(_spaced(crop, sub_ink), max(0.3, min(4.0, 32.0 / lh))))
    return out


def _vote(readings: list[tuple[str, float]], n: int) -> tuple[str, float] | None:
    """Plurality of the readings with the geometric digit count: the winner needs >= 2 votes and more than any
    other string; its confidence is the best of its votes."""
    good = [(d, c) for d, c in readings if len(d) == n]
    tally: dict[str, int] = {}
    for d, _ in good:
        tally[d] = tally.get(d, 0) + 1
    if not tally:
        return None
    ranked = sorted(tally.items(), key=lambda kv: -kv[1])
    best, k = ranked[0]
    if k < 2 or (len(ranked) > 1 and ranked[1][1] == k):
        return None
    return best, max(c for d, c in good if d == best)


def _read_digit_runs(norm: np.ndarray, ink: np.ndarray, boxes: list[list[int]],
                     counts: list[int]) -> list[tuple[str, float]]:
    """Digits of every run, read several ways and voted (see `_vote`): the run at two heights, then (when those
    two do not settle it) spaced apart, each set in one stacked Tesseract call (digit whitelist, mode 6); runs still
    without a winner are read again as single words (mode 8, 32 and 48 px), which adds two votes. ("", 0.0) for a
    run without a winner."""
    cfg = "0123456789"  # whitelist
    per_run = [_digit_variants(norm, ink, b) for b in boxes]
    # first the run at 24 and 32 px; the spaced copy only for the runs these two do not settle (two agreeing
    # readings of the right length, one at least GEO_DIGIT_CONF sure): a third reading could not change them
    texts = _read_stacked([c for vs in per_run for c in vs[:2]], cfg)
    votes: list[list[tuple[str, float]]] = []
    k = 0
    for vs in per_run:
        n2 = len(vs[:2])
        votes.append([("".join(ch for ch in t if ch.isdigit()), c) for t, c in texts[k : k + n2]])
        k += n2
    again = [i for i, (vs, vt, n) in enumerate(zip(per_run, votes, counts)) if len(vs) > 2 and not (
        len(vt) == 2 and vt[0][0] == vt[1][0] and len(vt[0][0]) == n and max(vt[0][1], vt[1][1]) >= GEO_DIGIT_CONF)]
    if again:
        more = _read_stacked([c for i in again for c in per_run[i][2:]], cfg)
        k = 0
        for i in again:
            m = len(per_run[i][2:])
            votes[i] += [("".join(ch for ch in t if ch.isdigit()), c) for t, c in more[k : k + m]]
            k += m
    out: list[tuple[str, float]] = []
    word_reads = 0
    for box, n, vt in zip(boxes, counts, votes):
        res = _vote(vt, n)
        if res is None and word_reads < MAX_WORD_READS and any(len(d) == n for d, _ in vt):
            word_reads += 1
            lh = max(1, box[3] - box[1])
            for t in (32.0, 48.0):
                crop = norm[max(0, box[1] - 1) : box[3] + 1, max(0, box[0] - 1) : box[2] + 1]
                if crop.size:
                    txt, c = _read_word(_resize(crop, max(0.3, min(4.0, t / lh))), cfg)
                    vt.append(("".join(ch for ch in txt if ch.isdigit()), c))
            res = _vote(vt, n)
        out.append(res or ("", 0.0))
    return out


def _pad(crop: np.ndarray) -> np.ndarray:
    m = int(0.4 * crop.shape[0]) + 4
    pad = np.full((crop.shape[0] + 2 * m, crop.shape[1] + 2 * m), 255, np.uint8)
    pad[m : m + crop.shape[0], m : m + crop.shape[1]] = crop
    return pad


def _read_word(crop: np.ndarray, config: str) -> tuple[str, float]:
    """One crop read as a single word (mode 8); (text, mean conf)."""
    try:
        data = _tess_data(_pad(crop), "eng", 8, config)
    except Exception:  # noqa: BLE001
        return "", 0.0
    words = [(t.strip(), float(c)) for t, c in zip(data.get("text", []), data.get("conf", []))
             if (t or "").strip() and _num(c) >= 0]
    return "".join(t for t, _ in words), (sum(c for _, c in words) / len(words)) if words else 0.0


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return -1.0


def _host_line(lines: list[dict[str, Any]], box: list[int]) -> dict[str, Any] | None:
    """The Tesseract line that overlaps a span box most (vertically >= 50 % of the span height, and horizontally)."""
    best, best_ov = None, 0.0
    x0, y0, x1, y1 = box
    for ln in lines:
        a0, b0, a1, b1 = ln["box"]
        ovy = min(y1, b1) - max(y0, b0)
        ovx = min(x1, a1) - max(x0, a0)
        if ovy >= 0.5 * (y1 - y0) and ovx > 0 and ovx * ovy > best_ov:
            best, best_ov = ln, float(ovx * ovy)
    return best


def _read_stacked(crops: list[np.ndarray], config: str) -> list[tuple[str, float]]:
    """Crops (already scaled) padded, stacked and read in one Tesseract call (mode 6); (text, mean conf) each."""
    if not crops:
        return []
    crops = [_pad(c) if c.size else np.full((8, 8), 255, np.uint8) for c in crops]
    gap = 48
    canvas, spans = _stack(crops, gap)
    try:
        data = _tess_data(canvas, "eng", 6, config)
    except Exception:  # noqa: BLE001
        return [("", 0.0) for _ in crops]
    texts: list[list[str]] = [[] for _ in crops]
    confs: list[list[float]] = [[] for _ in crops]
    for i in range(len(data.get("text", []))):
        t = (data["text"][i] or "").strip()
        try:
            c = float(data["conf"][i])
        except (TypeError, ValueError):
            c = -1.0
        if not t or c < 0:
            continue
        cy = data["top"][i] + data["height"][i] / 2
        for j, (a, b) in enumerate(spans):
            if a - gap / 2 <= cy < b + gap / 2:
                texts[j].append(t)
                confs[j].append(c)
                break
    return [("".join(t), (sum(c) / len(c)) if c else 0.0) for t, c in zip(texts, confs)]
