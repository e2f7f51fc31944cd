"""Geometric reading of masked values: count the '*' glyphs by their shape and place, independently of Tesseract.

Tesseract misreads runs of asterisks (``******314511`` -> ``*e+*+++344511``), above all in bold fonts where the stars
touch, in serif fonts and at small sizes. The mask has a shape that needs no recognition:

* an asterisk sits in the upper part of the line: its top is near the cap height of the digits beside it and its
  bottom is well above their baseline (>= 25 % of the cap height); it is about as wide as it is tall;
* a digit spans the baseline to the cap height; a hyphen is a short flat bar at mid height; a slash spans the line
  and leans right.

This module works on the polarity-free text image of the reader (dark ink on white):

1. `text_lines(ink)`: connected components of the ink, linked into text lines (vertical overlap, small gap);
2. `classify_line(...)`: every glyph of a line is classed S (star), D (tall glyph: digit or capital), '-', '/', '.',
   'o' (other), and gaps wider than a word space become ' '. Baseline and cap height come from the line's tall glyphs.
3. Stars that touch one another form one component. Each asterisk has exactly one topmost arm tip (its top arm, or
   the apex of its upper arms), so the number of stars in a star blob is the number of separate ink runs in a thin
   slice at the blob's top. That count is cross-checked against the blob width (k stars are k star-widths wide,
   measured on the isolated stars of the same line or, failing that, on the blob height); any disagreement makes
   the line "unsure" and no geometric reading is produced.

The caller (reader.py) reads the digit runs of a value line with Tesseract (digits only) and builds a text such as
``******314511`` from the glyph classes; match.py treats it as one more reading of the line.
Nothing here raises on odd input: empty or degenerate crops give no lines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_COMPONENTS = 4000  # a screen with more ink blobs than this is not a text screen; skip the geometry


@dataclass
class Glyph:
    x0: int
    y0: int
    x1: int
    y1: int
    cls: str = "o"
    stars: int = 0  # number of stars in an S glyph
    sure: bool = True

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0


@dataclass
class Line:
    box: list[int]
    glyphs: list[Glyph] = field(default_factory=list)
    cap: float = 0.0
    base: float = 0.0
    pattern: str = ""  # one char per star / glyph: '*', 'D', '-', '/', '.', 'o', ' '
    slots: list[tuple[str, list[int]]] = field(default_factory=list)  # (char, box) per pattern char
    sure: bool = True


def binarise(norm: np.ndarray) -> np.ndarray:
    """Ink mask (bool) of a dark-ink-on-white image: Otsu threshold, never above 200 (keep faint anti-aliasing out)."""
    import cv2

    if norm.size == 0:
        return np.zeros(norm.shape, bool)
    t, _ = cv2.threshold(norm, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    t = min(float(t), 200.0)
    return norm < t


def _components(ink: np.ndarray) -> np.ndarray:
    import cv2

    img = ink.view(np.uint8) if ink.dtype == np.bool_ else ink.astype(np.uint8)  # no copy for a bool mask
    n, _lab, stats, _ = cv2.connectedComponentsWithStats(img, connectivity=8)
    if n <= 1:
        return np.zeros((0, 5), np.int64)
    s = stats[1:]
    return np.stack([s[:, 0], s[:, 1], s[:, 0] + s[:, 2], s[:, 1] + s[:, 3], s[:, 4]], axis=1).astype(np.int64)


def components(ink: np.ndarray) -> np.ndarray:
    """Connected components of an ink mask: rows [x0, y0, x1, y1, area]."""
    return _components(ink)


def text_lines(ink: np.ndarray, min_h: int = 6, max_h_frac: float = 0.12,
               comps: np.ndarray | None = None) -> list[list[int]]:
    """Boxes [x0, y0, x1, y1] of text lines (groups of >= 3 linked components) in an ink mask (its components may
    be given, from `components`)."""
    H, W = ink.shape
    c = _components(ink) if comps is None else comps
    if len(c) == 0:
        return []
    h = c[:, 3] - c[:, 1]
    w = c[:, 2] - c[:, 0]
    keep = (c[:, 4] >= 4) & (h <= max(120, max_h_frac * H)) & (w <= 0.6 * W) & ((h >= min_h) | (w >= min_h // 2))
    c = c[keep]
    if len(c) < 3 or len(c) > MAX_COMPONENTS:
        return []
    x0, y0, x1, y1 = c[:, 0], c[:, 1], c[:, 2], c[:, 3]
    hh = (y1 - y0).astype(np.float64)
    big = np.maximum(hh[:, None], hh[None, :])
    small = np.minimum(hh[:, None], hh[None, :])
    ov = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
    gap = np.maximum(x0[None, :] - x1[:, None], x0[:, None] - x1[None, :])
    link = (gap <= 0.7 * big) & (ov >= 0.6 * small) & (small >= 0.08 * big)
    np.fill_diagonal(link, False)
    parent = list(range(len(c)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    ii, jj = np.nonzero(np.triu(link))
    for a, b in zip(ii.tolist(), jj.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    groups: dict[int, list[int]] = {}
    for i in range(len(c)):
        groups.setdefault(find(i), []).append(i)
    out = []
    for idx in groups.values():
        if len(idx) < 3:
            continue
        g = c[idx]
        out.append([int(g[:, 0].min()), int(g[:, 1].min()), int(g[:, 2].max()), int(g[:, 3].max())])
    out.sort(key=lambda b: (b[1], b[0]))
    return out


def _top_runs(ink: np.ndarray, g: Glyph, frac: float = 0.16) -> int:
    """Separate ink runs in a thin slice at the top of a glyph (one per asterisk)."""
    rows = max(1, int(round(g.h * frac)))
    band = ink[g.y0 : g.y0 + rows, g.x0 : g.x1].any(axis=0)
    if band.size == 0:
        return 0
    # bridge 1-px holes (anti-aliasing / JPEG), count runs at least 1 px wide
    b = band.copy()
    for i in range(1, len(b) - 1):
        if not b[i] and b[i - 1] and b[i + 1]:
            b[i] = True
    return int(np.count_nonzero(b[1:] & ~b[:-1]) + (1 if b[0] else 0))


def classify_line(ink: np.ndarray, box: list[int], comps: np.ndarray | None = None) -> Line | None:
    """Glyph classes of one text line (ink mask of the whole image, line box in its pixels). `comps`: the image's
    components (`components`), when already known (then no labelling of the band is needed)."""
    H, W = ink.shape
    x0, y0, x1, y1 = box
    lh = max(1, y1 - y0)
    cx0, cy0, cx1, cy1 = 0, max(0, y0 - lh // 4), W, min(H, y1 + lh // 4)  # the whole band: lines grow sideways
    if comps is None:
        sub = ink[cy0:cy1, cx0:cx1]
        comps = _components(sub)
    else:  # the image's components in the band (what a labelling of the band alone gives, but for a shape that
        # is taller than 1.5 lines — a card outline — which is left out here instead of being cut into pieces)
        c = comps[(comps[:, 3] > cy0) & (comps[:, 1] < cy1) & (comps[:, 3] - comps[:, 1] <= 1.5 * lh)]
        comps = np.stack([c[:, 0], np.maximum(c[:, 1], cy0) - cy0, c[:, 2], np.minimum(c[:, 3], cy1) - cy0, c[:, 4]],
                         axis=1) if len(c) else np.zeros((0, 5), np.int64)
    if len(comps) < 2:
        return None
    # keep the components that belong to this line: vertical centre inside its span, not taller than 1.5 lines
    cy = (comps[:, 1] + comps[:, 3]) / 2
    comps = comps[(cy > y0 - cy0) & (cy < y1 - cy0) & (comps[:, 4] >= 3) & (comps[:, 3] - comps[:, 1] <= 1.5 * lh)]
    if len(comps) < 2:
        return None
    order = np.argsort(comps[:, 0])
    comps = comps[order]
    # grow from the line box sideways while the gap to the next component stays below a word space or so
    inside = (comps[:, 2] > x0 - cx0) & (comps[:, 0] < x1 - cx0)
    if not inside.any():
        return None
    lo_i, hi_i = int(np.nonzero(inside)[0].min()), int(np.nonzero(inside)[0].max())
    right = int(comps[lo_i : hi_i + 1, 2].max())
    while hi_i + 1 < len(comps) and comps[hi_i + 1, 0] - right <= 0.7 * lh:
        hi_i += 1
        right = max(right, int(comps[hi_i, 2]))
    left = int(comps[lo_i : hi_i + 1, 0].min())
    while lo_i - 1 >= 0 and left - comps[lo_i - 1, 2] <= 0.7 * lh:
        lo_i -= 1
        left = min(left, int(comps[lo_i, 0]))
    comps = comps[lo_i : hi_i + 1]
    order = np.arange(len(comps))
    glyphs: list[Glyph] = []
    for a, b, c, d, _area in comps[order].tolist():
        g = Glyph(a + cx0, b + cy0, c + cx0, d + cy0)
        # components stacked in one column (':' dots, 'i' dot, diacritics) form one glyph
        if glyphs:
            p = glyphs[-1]
            ov = min(p.x1, g.x1) - max(p.x0, g.x0)
            ovy = min(p.y1, g.y1) - max(p.y0, g.y0)
            inner = g.x0 >= p.x0 and g.x1 <= p.x1 and g.y0 >= p.y0 and g.y1 <= p.y1  # the dot of a dotted zero
            if inner or (ov >= 0.6 * min(p.w, g.w) and ovy <= 0.2 * min(p.h, g.h)):
                p.x0, p.y0, p.x1, p.y1 = min(p.x0, g.x0), min(p.y0, g.y0), max(p.x1, g.x1), max(p.y1, g.y1)
                continue
        glyphs.append(g)
    hs = np.array([g.h for g in glyphs], float)
    ref = float(np.percentile(hs, 90))
    tall = [g for g in glyphs if g.h >= 0.72 * ref]
    if len(tall) < 2:
        return None
    base = float(np.median([g.y1 for g in tall]))
    top = float(np.median([g.y0 for g in tall]))
    cap = base - top
    if cap < 5:
        return None
    line = Line(box=[min(g.x0 for g in glyphs), min(g.y0 for g in glyphs), max(g.x1 for g in glyphs),
                     max(g.y1 for g in glyphs)], glyphs=glyphs, cap=cap, base=base)
    for g in glyphs:
        rt = (g.y0 - top) / cap  # 0 = at cap height, > 0 lower
        rb = (base - g.y1) / cap  # 0 = on the baseline, > 0 above it
        rh = g.h / cap
        if -0.2 <= rt <= 0.3 and rb >= 0.25 and 0.22 <= rh <= 0.75:
            g.cls = "S"
        elif rh <= 0.26 and 0.15 <= rb <= 0.75 and g.w >= 1.2 * g.h:
            g.cls = "-"
        elif rh <= 0.3 and rb <= 0.12 and 0.4 <= g.w / max(1, g.h) <= 2.5:
            g.cls = "."
        elif rt <= 0.15 and rb <= 0.12 and rh >= 0.8:
            g.cls = "/" if _leans_right(ink, g) else "D"
        else:
            g.cls = "o"
    # a sliver of a digit cut off by anti-aliasing / JPEG (it overlaps its neighbour's columns) joins that digit
    # (a speck where two digits nearly touch joins them when it touches their columns)
    merged: list[Glyph] = []
    for g in glyphs:
        p = merged[-1] if merged else None
        speck = (p.cls == "o" and p.h <= 0.35 * cap and p.w <= 0.35 * cap) if p is not None else False
        if p is not None and min(p.x1, g.x1) - max(p.x0, g.x0) > (-1 if speck else 0) and {p.cls, g.cls} == {"D", "o"}:
            p.x0, p.y0, p.x1, p.y1, p.cls = min(p.x0, g.x0), min(p.y0, g.y0), max(p.x1, g.x1), max(p.y1, g.y1), "D"
            continue
        merged.append(g)
    glyphs[:] = merged
    _count_stars(ink, line)
    # digits that touch (bold, JPEG) form one tall glyph k digit-widths wide: it stands for k digits
    dw = [g.w for g in glyphs if g.cls == "D"]
    if len(dw) >= 3:
        med = float(np.median(dw))
        for g in glyphs:
            if g.cls == "D" and g.w > 1.6 * med:
                k = int(round(g.w / med))
                if abs(g.w / med - k) <= 0.3:
                    g.stars = k  # for a D glyph: how many digits it holds
    # a tall glyph much wider than the others is two glyphs that touch (a star or a slash glued to a digit):
    # the geometry cannot tell where one ends, so the line is unsure
    ds = [g.w for g in glyphs if g.cls == "D"]
    if ds and any(g.cls in "S" for g in glyphs):
        med = float(np.median(ds))
        for i, g in enumerate(glyphs):
            near = [glyphs[k].cls for k in (i - 1, i + 1) if 0 <= k < len(glyphs)]
            if g.cls == "D" and g.w > 1.45 * med and any(c in "S/-" for c in near):
                line.sure = False
    _pattern(line)
    return line


def _leans_right(ink: np.ndarray, g: Glyph) -> bool:
    """A slash: narrow, and the ink of its top quarter lies clearly right of the ink of its bottom quarter."""
    if g.w > 0.75 * g.h:
        return False
    sub = ink[g.y0 : g.y1, g.x0 : g.x1]
    q = max(1, g.h // 4)
    top_cols = np.nonzero(sub[:q].any(axis=0))[0]
    bot_cols = np.nonzero(sub[-q:].any(axis=0))[0]
    if top_cols.size == 0 or bot_cols.size == 0:
        return False
    return float(top_cols.mean() - bot_cols.mean()) > 0.3 * g.w and top_cols.min() > bot_cols.min()


def _count_stars(ink: np.ndarray, line: Line) -> None:
    """Stars per S glyph. An isolated star (about as wide as tall) is one star. A wider blob is touching stars:
    its count is the number of top-arm runs (divided by the runs one isolated star of this line shows, t), and it
    must agree with its width (k stars are ~k pitches wide); otherwise the line is unsure."""
    stars = [g for g in line.glyphs if g.cls == "S"]
    if not stars:
        return
    singles = [g for g in stars if 0.5 <= g.w / max(1, g.h) <= 1.6]
    for g in singles:
        g.stars, g.sure = 1, True
    blobs = [g for g in stars if g.w / max(1, g.h) > 1.6]
    for g in stars:
        if g.w / max(1, g.h) < 0.5:  # too narrow for an asterisk
            g.stars, g.sure = 1, False
    if blobs:
        if singles:
            unit = float(np.median([g.w for g in singles]))
            pitch = _pitch(singles)
            rs = [_top_runs(ink, g) for g in singles]
            t = max(set(rs), key=rs.count)
            t_sure = rs.count(t) >= max(2, 0.75 * len(rs))
        else:
            unit, pitch, t, t_sure = float(np.median([g.h for g in blobs])), None, 1, False
        for g in blobs:
            r = _top_runs(ink, g)
            if pitch:
                k_w = (g.w - unit) / pitch + 1.0
            else:
                k_w = g.w / max(1.0, unit)  # asterisks are about as wide as tall (0.8 .. 1.3)
            if t_sure and r % t == 0 and r > 0:
                k = r // t
                ok = abs(k_w - k) <= 0.35 if pitch else 0.7 * k <= k_w <= 1.35 * k
            elif not singles and r > 0:
                k = r
                ok = 0.7 * k <= k_w <= 1.35 * k
            else:
                k = max(1, int(round(k_w)))
                ok = bool(pitch) and abs(k_w - k) <= 0.2 and r == k
            g.stars, g.sure = max(1, k), ok
    line.sure = all(g.sure for g in stars)


def _pitch(singles: list[Glyph]) -> float | None:
    xs = sorted((g.x0 + g.x1) / 2 for g in singles)
    d = [b - a for a, b in zip(xs, xs[1:])]
    unit = float(np.median([g.w for g in singles]))
    d = [v for v in d if v <= 1.8 * unit]  # neighbours only
    return float(np.median(d)) if d else None


def _pattern(line: Line) -> None:
    """One char per star / glyph, ' ' for gaps wider than a word space."""
    pat: list[str] = []
    slots: list[tuple[str, list[int]]] = []
    prev = None
    for g in line.glyphs:
        if prev is not None and g.x0 - prev.x1 > 0.38 * line.cap:
            pat.append(" ")
            slots.append((" ", [prev.x1, g.y0, g.x0, g.y1]))
        if g.cls == "S":
            k = max(1, g.stars)
            for i in range(k):
                a = g.x0 + (g.w * i) // k
                b = g.x0 + (g.w * (i + 1)) // k
                pat.append("*")
                slots.append(("*", [a, g.y0, b, g.y1]))
        elif g.cls == "D" and g.stars > 1:
            for i in range(g.stars):
                pat.append("D")
                slots.append(("D", [g.x0 + (g.w * i) // g.stars, g.y0, g.x0 + (g.w * (i + 1)) // g.stars, g.y1]))
        else:
            pat.append(g.cls)
            slots.append((g.cls, [g.x0, g.y0, g.x1, g.y1]))
        prev = g
    line.pattern = "".join(pat)
    line.slots = slots


def value_spans(line: Line) -> list[dict[str, Any]]:
    """Spans of a line that look like a masked value: stars next to digits, or a date with star groups.

    Each span: {"pattern": e.g. '******DDDDDD' / 'DDDD-**-**' / '**/**/DDDD', "box", "digit_runs": [box, ...],
    "digit_counts": [n, ...], "sure": bool, "cap": float}. Word gaps between two digits are ignored (a tabular
    '1' leaves a gap as wide as a space); a span that starts with tall glyphs right before the stars (a label
    without a colon: 'CCCD ******314511') is also given from its first star.
    """
    import re

    slots = line.slots
    chars = "".join(c for c, _ in slots)
    out: list[dict[str, Any]] = []

    def emit(idx: list[int]) -> None:
        pat = "".join(chars[i] for i in idx)
        if "*" not in pat or "D" not in pat:
            return
        boxes = [slots[i][1] for i in idx]
        runs, counts = [], []
        for rm in re.finditer(r"D+", pat):
            rb = boxes[rm.start() : rm.end()]
            runs.append([min(x[0] for x in rb), min(x[1] for x in rb), max(x[2] for x in rb),
                         max(x[3] for x in rb)])
            counts.append(len(rm.group(0)))
        out.append({"pattern": pat, "box": [min(x[0] for x in boxes), min(x[1] for x in boxes),
                                            max(x[2] for x in boxes), max(x[3] for x in boxes)],
                    "digit_runs": runs, "digit_counts": counts, "sure": line.sure, "cap": line.cap})

    for mt in re.finditer(r"[*D/.\- ]+", chars):
        idx = list(range(mt.start(), mt.end()))
        # drop gaps between two digits; strip separators and gaps at the ends
        # (and gaps inside a star run or between stars and digits, no wider than ~ a glyph: a monospace font
        # draws its narrow asterisks in wide cells)
        idx = [i for k, i in enumerate(idx) if not (chars[i] == " " and 0 < k < len(idx) - 1 and (
            (chars[idx[k - 1]] == "D" and chars[idx[k + 1]] == "D")
            or (chars[idx[k - 1]] == "*" and chars[idx[k + 1]] in "*D"
                and slots[i][1][2] - slots[i][1][0] <= 0.6 * line.cap)))]
        while idx and chars[idx[0]] in " /.-":
            idx.pop(0)
        while idx and chars[idx[-1]] in " /.-":
            idx.pop()
        if not idx:
            continue
        emit(idx)
        pat = "".join(chars[i] for i in idx)
        lead = re.match(r"D+ ?(?=\*)", pat)
        if lead:
            emit(idx[lead.end():])
    return out
