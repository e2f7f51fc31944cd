"""Independent QR module-grid reader (ISO/IEC 18004: format and version information, data placement).

Given a decoder's four outer corners, it estimates the module count from the timing patterns, samples the module
grid through a homography, orients it by the finder patterns, reads both BCH-protected format-information copies
(ISO/IEC 18004 §7.9) and, when asked, unmasks the data region and parses the data segments' mode indicators.
It also measures module size, quiet zone, polarity and contrast from the same homography.

Nothing here trusts a decoder's metadata: the ECC level, mask and version come from the pixels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from segno import consts as _sc

ECC_BITS = {"L": 0b01, "M": 0b00, "Q": 0b11, "H": 0b10}
_BITS_ECC = {v: k for k, v in ECC_BITS.items()}
_ECC_CONST = {"L": _sc.ERROR_LEVEL_L, "M": _sc.ERROR_LEVEL_M, "Q": _sc.ERROR_LEVEL_Q, "H": _sc.ERROR_LEVEL_H}
FORMAT_XOR = 0x5412
FORMAT_GEN = 0x537
QUIET_ZONE_CAP = 10


def _bch_format(data5: int) -> int:
    v = data5 << 10
    for i in range(14, 9, -1):
        if v & (1 << i):
            v ^= FORMAT_GEN << (i - 10)
    return ((data5 << 10) | v) ^ FORMAT_XOR


# (codeword, ecc, mask) for the 32 valid format-information words
FORMAT_WORDS: list[tuple[int, str, int]] = [
    (_bch_format((ECC_BITS[e] << 3) | m), e, m) for e in "LMQH" for m in range(8)
]


def decode_format_word(bits: int) -> tuple[str, int, int]:
    """Nearest valid format word -> (ecc, mask, hamming distance)."""
    best = min(FORMAT_WORDS, key=lambda w: bin(w[0] ^ bits).count("1"))
    return best[1], best[2], bin(best[0] ^ bits).count("1")


def format_bits(grid: np.ndarray) -> tuple[int, int]:
    """The two raw 15-bit format copies (MSB first) from an upright grid (True = dark), zxing reading order."""
    n = grid.shape[0]

    def g(x: int, y: int) -> int:  # x = column, y = row
        return 1 if grid[y, x] else 0

    b1 = 0
    for x in list(range(6)) + [7, 8]:
        b1 = (b1 << 1) | g(x, 8)
    b1 = (b1 << 1) | g(8, 7)
    for y in range(5, -1, -1):
        b1 = (b1 << 1) | g(8, y)
    b2 = 0
    for y in range(n - 1, n - 8, -1):
        b2 = (b2 << 1) | g(8, y)
    for x in range(n - 8, n):
        b2 = (b2 << 1) | g(x, 8)
    return b1, b2


def _bch_version(v: int) -> int:
    r = v << 12
    for i in range(17, 11, -1):
        if r & (1 << i):
            r ^= 0x1F25 << (i - 12)
    return (v << 12) | r


VERSION_WORDS: list[tuple[int, int]] = [(_bch_version(v), v) for v in range(7, 41)]


def read_version_info(grid: np.ndarray) -> dict[str, Any] | None:
    """Both 18-bit version-information blocks (versions 7+, ISO/IEC 18004 §7.10); None below 45 modules."""
    n = grid.shape[0]
    if n < 45:
        return None
    b1 = 0
    for y in range(5, -1, -1):  # top-right block, 3 wide x 6 tall
        for x in range(n - 9, n - 12, -1):
            b1 = (b1 << 1) | int(grid[y, x])
    b2 = 0
    for x in range(5, -1, -1):  # bottom-left block, 6 wide x 3 tall
        for y in range(n - 9, n - 12, -1):
            b2 = (b2 << 1) | int(grid[y, x])
    out = []
    for b in (b1, b2):
        w, v = min(VERSION_WORDS, key=lambda wv: bin(wv[0] ^ b).count("1"))
        out.append((v, bin(w ^ b).count("1")))
    v = out[0][0] if out[0][1] <= out[1][1] else out[1][0]
    return {"version": v, "hamming": [out[0][1], out[1][1]],
            "confident": out[0][0] == out[1][0] and min(out[0][1], out[1][1]) <= 3}


def read_format(grid: np.ndarray) -> dict[str, Any]:
    """ECC level, mask and version from an upright module grid; `confident` per the Appendix A rule."""
    n = int(grid.shape[0])
    b1, b2 = format_bits(grid)
    e1, m1, h1 = decode_format_word(b1)
    e2, m2, h2 = decode_format_word(b2)
    if h1 <= h2:
        ecc, mask = e1, m1
    else:
        ecc, mask = e2, m2
    version = (n - 17) // 4 if (n - 17) % 4 == 0 and 21 <= n <= 177 else None
    confident = (e1, m1) == (e2, m2) and min(h1, h2) <= 1 and version is not None
    out = {"ecc": ecc, "mask": mask, "version": version, "confident": bool(confident), "hamming": [h1, h2]}
    vi = read_version_info(grid)
    if vi is not None:
        out["version_info"] = vi
    return out


# ---------------------------------------------------------------------------------------------------------------
# Function patterns, data placement, segment parsing
# ---------------------------------------------------------------------------------------------------------------

_FINDER = np.ones((7, 7), bool)
_FINDER[1:6, 1:6] = False
_FINDER[2:5, 2:5] = True


def function_mask(version: int) -> np.ndarray:
    n = 17 + 4 * version
    f = np.zeros((n, n), bool)
    f[:9, :9] = True
    f[:9, n - 8:] = True
    f[n - 8:, :9] = True
    f[6, :] = True
    f[:, 6] = True
    if version >= 2:
        pos = _sc.ALIGNMENT_POS[version - 2]
        for r in pos:
            for c in pos:
                if (r, c) in ((pos[0], pos[0]), (pos[0], pos[-1]), (pos[-1], pos[0])):
                    continue
                f[r - 2:r + 3, c - 2:c + 3] = True
    if version >= 7:
        f[:6, n - 11:n - 8] = True
        f[n - 11:n - 8, :6] = True
    return f


_MASKS = [
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
]


_PLACEMENT_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def placement_order(version: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the data modules in bit-placement order (ISO/IEC 18004 §7.7.3), cached per version."""
    if version not in _PLACEMENT_CACHE:
        n = 17 + 4 * version
        func = function_mask(version)
        rows, cols = [], []
        for right in range(n - 1, 0, -2):
            if right <= 6:
                right -= 1
            upwards0 = (right & 2) == 0
            for vertical in range(n):
                for z in (0, 1):
                    j = right - z
                    upwards = upwards0 ^ (j < 6)
                    i = (n - 1 - vertical) if upwards else vertical
                    if not func[i, j]:
                        rows.append(i)
                        cols.append(j)
        _PLACEMENT_CACHE[version] = (np.array(rows), np.array(cols))
    return _PLACEMENT_CACHE[version]


def read_codewords(grid: np.ndarray, mask: int) -> list[int]:
    """All codewords (interleaved order) from an upright grid, unmasked with `mask`."""
    n = grid.shape[0]
    version = (n - 17) // 4
    rows, cols = placement_order(version)
    bits = (grid[rows, cols] ^ _MASKS[mask](rows, cols)).astype(np.uint8)
    nbytes = bits.size // 8
    return np.packbits(bits[: nbytes * 8]).tolist()


def data_codewords(codewords: list[int], version: int, ecc: str) -> list[int]:
    """De-interleave the data codewords (ISO/IEC 18004 §7.6) for this version and ECC level."""
    sizes: list[int] = []
    table: Any = _sc.ECC  # segno's table of (blocks, data codewords) per version and level
    blocks_spec: Any = table[version][_ECC_CONST[ecc]]
    for ec in blocks_spec:
        sizes += [ec.num_data] * ec.num_blocks
    blocks: list[list[int]] = [[] for _ in sizes]
    k = 0
    for i in range(max(sizes)):
        for b, size in enumerate(sizes):
            if i < size:
                blocks[b].append(codewords[k])
                k += 1
    return [c for b in blocks for c in b]


_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_MODE_NAMES = {0x1: "numeric", 0x2: "alphanumeric", 0x4: "byte", 0x8: "kanji", 0xD: "hanzi"}
_CC_BITS = {0x1: (10, 12, 14), 0x2: (9, 11, 13), 0x4: (8, 16, 16), 0x8: (8, 10, 12), 0xD: (8, 10, 12)}


class _Bits:
    def __init__(self, data: list[int]):
        self.data = data
        self.pos = 0
        self.total = len(data) * 8

    def left(self) -> int:
        return self.total - self.pos

    def read(self, n: int) -> int:
        if n > self.left():
            raise ValueError("bit stream ended inside a segment")
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v


def parse_segments(data: list[int], version: int) -> dict[str, Any]:
    """Parse the data bit stream into segments: [{mode, count, payload(bytes)}], plus eci designators."""
    vr = 0 if version <= 9 else (1 if version <= 26 else 2)
    bs = _Bits(data)
    segments: list[dict[str, Any]] = []
    ecis: list[int] = []
    while bs.left() >= 4:
        mode = bs.read(4)
        if mode == 0:
            break
        if mode == 0x7:  # ECI
            first = bs.read(8)
            if first & 0x80 == 0:
                ecis.append(first)
            elif first & 0xC0 == 0x80:
                ecis.append(((first & 0x3F) << 8) | bs.read(8))
            elif first & 0xE0 == 0xC0:
                ecis.append(((first & 0x1F) << 16) | bs.read(16))
            else:
                raise ValueError("invalid ECI designator")
            continue
        if mode == 0x3:  # structured append
            bs.read(16)
            segments.append({"mode": "structured-append", "count": 0, "payload": b""})
            continue
        if mode == 0x5:
            segments.append({"mode": "fnc1", "count": 0, "payload": b""})
            continue
        if mode == 0x9:
            bs.read(8)
            segments.append({"mode": "fnc1", "count": 0, "payload": b""})
            continue
        if mode not in _MODE_NAMES:
            raise ValueError(f"invalid mode indicator {mode:04b}")
        if mode == 0xD:
            bs.read(4)  # GB 2312 subset indicator
        count = bs.read(_CC_BITS[mode][vr])
        out = bytearray()
        if mode == 0x1:
            c = count
            while c >= 3:
                v = bs.read(10)
                if v > 999:
                    raise ValueError("invalid numeric group")
                out += f"{v:03d}".encode()
                c -= 3
            if c == 2:
                v = bs.read(7)
                if v > 99:
                    raise ValueError("invalid numeric group")
                out += f"{v:02d}".encode()
            elif c == 1:
                v = bs.read(4)
                if v > 9:
                    raise ValueError("invalid numeric group")
                out += f"{v:d}".encode()
        elif mode == 0x2:
            c = count
            while c >= 2:
                v = bs.read(11)
                if v >= 45 * 45:
                    raise ValueError("invalid alphanumeric pair")
                out += (_ALNUM[v // 45] + _ALNUM[v % 45]).encode()
                c -= 2
            if c == 1:
                v = bs.read(6)
                if v >= 45:
                    raise ValueError("invalid alphanumeric character")
                out += _ALNUM[v].encode()
        elif mode == 0x4:
            for _ in range(count):
                out.append(bs.read(8))
        else:  # kanji / hanzi: 13 bits per character (payload kept as the 13-bit values, big-endian pairs)
            for _ in range(count):
                v = bs.read(13)
                out += v.to_bytes(2, "big")
        segments.append({"mode": _MODE_NAMES[mode], "count": count, "payload": bytes(out)})
    return {"segments": segments, "ecis": ecis}


def summarise_modes(segments: list[dict[str, Any]]) -> str | None:
    modes = {s["mode"] for s in segments if s["mode"] in _MODE_NAMES.values()}
    if not modes:
        return None
    return modes.pop() if len(modes) == 1 else "mixed"


def read_modes(grid: np.ndarray, ecc: str, mask: int, raw: bytes | None = None) -> dict[str, Any] | None:
    """Mode(s) and ECI use of the data segments, or None when the grid cannot be parsed consistently.

    When the decoder's raw bytes are known, the parse is only accepted if the numeric/alphanumeric/byte segments
    reproduce them exactly (no error correction is attempted here).
    """
    try:
        n = grid.shape[0]
        version = (n - 17) // 4
        cws = read_codewords(grid, mask)
        data = data_codewords(cws, version, ecc)
        parsed = parse_segments(data, version)
    except Exception:  # noqa: BLE001 - a garbled grid is an expected outcome, not an error
        return None
    segs = parsed["segments"]
    if not segs:
        return None
    if raw is not None and all(s["mode"] in ("numeric", "alphanumeric", "byte", "fnc1", "structured-append")
                               for s in segs):
        if b"".join(s["payload"] for s in segs) != raw:
            return None
    return {
        "mode": summarise_modes(segs),
        "eci": bool(parsed["ecis"]),
        "eci_designators": parsed["ecis"],
        "segments": [{"mode": s["mode"], "count": s["count"]} for s in segs],
    }


# ---------------------------------------------------------------------------------------------------------------
# Sampling from an image
# ---------------------------------------------------------------------------------------------------------------

def _otsu(values: np.ndarray) -> float:
    v = np.clip(values, 0, 255).astype(np.uint8).reshape(1, -1)
    if v.size == 0:
        return 127.0
    t, _ = cv2.threshold(v, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(t)


def _homography(corners: np.ndarray, n: float) -> np.ndarray:
    src = np.array([[0, 0], [n, 0], [n, n], [0, n]], np.float32)
    return cv2.getPerspectiveTransform(src, corners.astype(np.float32))


def _project(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Module coordinates (x=col, y=row) -> pixel-centre image coordinates."""
    p = cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)
    return p - 0.5  # corners are pixel-edge coordinates; remap samples at pixel centres


def _sample(img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear samples (float32) at image points; NaN outside the image."""
    n = xy.shape[0]
    if n == 0:
        return np.zeros(0, np.float32)
    out = np.empty(n, np.float32)
    hgt, wid = img.shape[:2]
    inside = (xy[:, 0] >= -0.5) & (xy[:, 0] <= wid - 0.5) & (xy[:, 1] >= -0.5) & (xy[:, 1] <= hgt - 0.5)
    step = 30000
    for s in range(0, n, step):
        chunk = xy[s:s + step].astype(np.float32)
        mx = np.ascontiguousarray(chunk[:, 0].reshape(1, -1))
        my = np.ascontiguousarray(chunk[:, 1].reshape(1, -1))
        out[s:s + step] = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(-1)
    out[~inside] = np.nan
    return out


@dataclass
class GridRead:
    n: int
    grid: np.ndarray  # upright logical grid, True = dark module (symbol sense)
    corners: np.ndarray  # 4x2 outer corners in symbol order TL, TR, BR, BL (pixel-edge coordinates)
    homography: np.ndarray
    luma: np.ndarray  # unblurred luma at module centres, upright order
    inverted: bool  # light-on-dark
    mirrored: bool
    timing_score: float
    finder_score: float
    format: dict[str, Any] = field(default_factory=dict)


_CANDIDATES = np.arange(21, 178, 4)


_TIMING_CACHE: list[tuple[np.ndarray, list[int], np.ndarray, np.ndarray]] = []


def _timing_points() -> tuple[np.ndarray, list[int], np.ndarray, np.ndarray]:
    """Timing-pattern module centres (row 6 then column 6, modules 8..N-9) for every candidate N, scaled to 0..1.

    Also: start index of each candidate's block, and a mask of the adjacent pairs that lie within one line.
    """
    if not _TIMING_CACHE:
        pts, spans, starts, valid = [], [], [], []
        pos = 0
        for n in _CANDIDATES:
            idx = np.arange(8, n - 8) + 0.5
            row = np.stack([idx, np.full_like(idx, 6.5)], 1)
            col = np.stack([np.full_like(idx, 6.5), idx], 1)
            pts.append(np.concatenate([row, col]) / n)
            ln = len(idx)
            spans.append(ln)
            starts.append(pos)
            v = np.ones(2 * ln, bool)
            v[ln - 1] = False  # last of the row vs first of the column
            v[2 * ln - 1] = False  # last of the column vs the next candidate
            valid.append(v)
            pos += 2 * ln
        _TIMING_CACHE.append((np.concatenate(pts), spans, np.array(starts), np.concatenate(valid)))
    return _TIMING_CACHE[0]


def estimate_modules(blur: np.ndarray, corners: np.ndarray, hint: int | None = None,
                     force: int | None = None) -> tuple[int, int, float]:
    """Best (module count N, corner rotation k, timing alternation score) from the timing patterns."""
    # global threshold from a dense sampling of the quad
    uv = (np.stack(np.meshgrid(np.linspace(0.02, 0.98, 48), np.linspace(0.02, 0.98, 48)), -1).reshape(-1, 2))
    best = (0, 0, -1.0)
    for k in range(4):
        c = np.roll(corners, -k, axis=0)
        h1 = _homography(c, 1.0)
        t = _otsu(_sample(blur, _project(h1, uv)))
        allpts, spans, starts, valid_pairs = _timing_points()
        vals = _sample(blur, _project(h1, allpts))
        d = vals <= t
        change = np.concatenate([d[1:] != d[:-1], [False]]) & valid_pairs
        alts = np.add.reduceat(change, starts)
        nan_any = np.add.reduceat(np.isnan(vals), starts) > 0
        for n, ln, alt, bad in zip(_CANDIDATES, spans, alts, nan_any):
            if (force is not None and n != force) or bad:
                continue
            score = float(alt) / (2 * (ln - 1))
            if score > best[2] + 1e-9 or (hint is not None and n == hint and score >= best[2] - 1e-9):
                best = (int(n), k, score)
    return best


def _dihedral(g: np.ndarray, t: int) -> np.ndarray:
    out = np.rot90(g, t % 4)
    return out.T if t >= 4 else out


def _finder_score(g: np.ndarray) -> float:
    n = g.shape[0]
    s = (np.count_nonzero(g[:7, :7] == _FINDER) + np.count_nonzero(g[:7, n - 7:] == _FINDER)
         + np.count_nonzero(g[n - 7:, :7] == _FINDER))
    sep = np.concatenate([g[7, :8], g[:8, 7], g[7, n - 8:], g[:8, n - 8], g[n - 8, :8], g[n - 8:, 7]])
    s += np.count_nonzero(~sep)
    return s / (3 * 49 + sep.size)


BLUR_MIN_MODULE_PX = 3.0  # below this, a 3x3 box blur turns isolated dark modules light: sample the raw pixels
FINDER_MIN_SCORE = 0.8  # without a decoded version confirming N, the finder patterns must match this well


def read_grid(gray: np.ndarray, corners: Any, hint_modules: int | None = None,
              force_modules: int | None = None) -> GridRead | None:
    """Sample the module grid inside `corners` (any order of the 4 outer corners) and read its format info.

    The module count is estimated from the timing patterns (`hint_modules` only breaks ties) unless
    `force_modules` fixes it (used when the estimate disagrees with the decoded version). Samples are taken on a
    3x3-blurred crop when modules are at least BLUR_MIN_MODULE_PX wide; below that the raw pixels are read first
    (a 3x3 blur over a 2-pixel module averages it with its neighbours) and the blurred crop only when the raw read
    is not confident (a blurry photo of small modules). A read is `confident` when both format copies agree
    (Appendix A rule), a confident version-information read (versions 7+) agrees with the module count, and the
    module count is either the decoded version's (hint or force) or confirmed by the finder patterns sitting where
    the grid puts them (a wrong count can read the same finder-region bits as both format copies).
    """
    corners = np.asarray(corners, np.float64).reshape(4, 2)
    side = float(np.mean([np.linalg.norm(corners[i] - corners[(i + 1) % 4]) for i in range(4)]))
    if not np.isfinite(side) or side < 10:
        return None
    hgt, wid = gray.shape[:2]
    # work on a crop around the quad (plus margin for the quiet zone)
    m = side * 0.6 + 4
    x0 = int(max(0, np.floor(corners[:, 0].min() - m)))
    y0 = int(max(0, np.floor(corners[:, 1].min() - m)))
    x1 = int(min(wid, np.ceil(corners[:, 0].max() + m)))
    y1 = int(min(hgt, np.ceil(corners[:, 1].max() + m)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    crop = np.ascontiguousarray(gray[y0:y1, x0:x1])
    local = corners - np.array([x0, y0], np.float64)
    origin = np.array([x0, y0], np.float64)
    known = force_modules or hint_modules
    blurred: list[np.ndarray] = []

    def blur() -> np.ndarray:
        if not blurred:
            blurred.append(cv2.blur(crop, (3, 3)))
        return blurred[0]

    if known and side / known < BLUR_MIN_MODULE_PX:
        src = crop
        n, k, tscore = estimate_modules(src, local, hint_modules, force_modules)
    else:
        src = blur()
        n, k, tscore = estimate_modules(src, local, hint_modules, force_modules)
        if not known and (tscore < 0.95 or (n and side / n < BLUR_MIN_MODULE_PX)):
            # no decoded version to go by: small modules may only show their timing patterns on the raw pixels
            n2, k2, s2 = estimate_modules(crop, local)
            if n2 and s2 > tscore + 1e-9:
                src, n, k, tscore = crop, n2, k2, s2
    if n == 0:
        return None
    confirmed = known is not None and n == known
    gr = _sample_grid(src, crop, local, origin, n, k, tscore, confirmed)
    if src is crop and (gr is None or not gr.format["confident"]):
        alt = _sample_grid(blur(), crop, local, origin, n, k, tscore, confirmed)
        if alt is not None and (gr is None or alt.format["confident"]
                                or sum(alt.format["hamming"]) < sum(gr.format["hamming"])):
            gr = alt
    return gr


def _sample_grid(src: np.ndarray, crop: np.ndarray, local: np.ndarray, origin: np.ndarray, n: int, k: int,
                 tscore: float, confirmed: bool) -> GridRead | None:
    """Sample an n x n grid from `src` (the crop, raw or blurred) and orient it by its finders and format info."""
    c = np.roll(local, -k, axis=0)
    h = _homography(c, float(n))
    centres = (np.stack(np.meshgrid(np.arange(n), np.arange(n)), -1).reshape(-1, 2) + 0.5)
    pts = _project(h, centres)
    vb = _sample(src, pts)
    if np.isnan(vb).any():
        return None
    vb = vb.reshape(n, n)
    luma = vb if src is crop else _sample(crop, pts).reshape(n, n)
    t = _otsu(vb)
    dark = vb <= t
    best = (-1.0, 0, False)
    for tr in range(8):
        for inv in (False, True):
            g = _dihedral(dark ^ inv, tr)
            s = _finder_score(g)
            if s > best[0] + 1e-9:
                best = (s, tr, inv)
    fscore, tr, inv = best
    # finders are symmetric under transposition: a mirror image is told apart by the format information
    tr = tr % 4
    f0 = read_format(_dihedral(dark ^ inv, tr))
    f1 = read_format(_dihedral(dark ^ inv, tr + 4))
    if (not f0["confident"] and f1["confident"]) or (f0["confident"] == f1["confident"]
                                                    and sum(f1["hamming"]) < sum(f0["hamming"])):
        tr += 4
    grid = _dihedral(dark ^ inv, tr)
    luma_u = _dihedral(luma, tr)
    # corners in symbol order: transform the module-space corners the same way the grid was transformed
    idx = np.arange(n * n).reshape(n, n)
    t_idx = _dihedral(idx, tr)
    src_of = {"TL": t_idx[0, 0], "TR": t_idx[0, -1], "BR": t_idx[-1, -1], "BL": t_idx[-1, 0]}
    mod_corner = {}
    for key, flat in src_of.items():
        r, cc = divmod(int(flat), n)
        mod_corner[key] = (float(cc + (1 if cc == n - 1 else 0)), float(r + (1 if r == n - 1 else 0)))
    sym = np.array([mod_corner[kk] for kk in ("TL", "TR", "BR", "BL")], np.float64)
    img_c = cv2.perspectiveTransform(sym.reshape(-1, 1, 2), h).reshape(-1, 2) + origin
    fmt = read_format(grid)
    fmt["finder_score"] = round(float(fscore), 3)
    if fmt["confident"] and not confirmed and fscore < FINDER_MIN_SCORE:
        fmt["confident"] = False
        fmt["not_confident_because"] = "finder patterns not found where the module grid puts them"
    vi = fmt.get("version_info")
    if fmt["confident"] and vi and vi.get("confident") and vi["version"] != fmt["version"]:
        fmt["confident"] = False
        fmt["not_confident_because"] = (f"version information says {vi['version']}, the module count "
                                        f"{n} says {fmt['version']}")
    hfull = _homography(img_c, float(n))
    # mirrored: TL -> TR -> BR turns counter-clockwise on screen (y down), whatever order the corners came in
    e1, e2 = img_c[1] - img_c[0], img_c[2] - img_c[1]
    mirrored = bool(e1[0] * e2[1] - e1[1] * e2[0] < 0)
    return GridRead(n=n, grid=grid, corners=img_c, homography=hfull, luma=luma_u, inverted=bool(inv),
                    mirrored=mirrored, timing_score=tscore, finder_score=fscore, format=fmt)


def _lin(v: float) -> float:
    c = max(0.0, min(1.0, v / 255.0))
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def measure(gray: np.ndarray, gr: GridRead, cap: int = QUIET_ZONE_CAP) -> dict[str, Any]:
    """Module size, quiet zone (fractional modules), polarity and contrast measured through the grid's homography."""
    n = gr.n
    c = gr.corners
    sides = [float(np.linalg.norm(c[i] - c[(i + 1) % 4])) for i in range(4)]
    module_px = float(np.mean(sides)) / n
    dark_vals = gr.luma[gr.grid]
    light_vals = gr.luma[~gr.grid]
    dl = float(np.median(dark_vals)) if dark_vals.size else float("nan")
    ll = float(np.median(light_vals)) if light_vals.size else float("nan")
    polarity = "dark-on-light" if dl <= ll else "light-on-dark"
    lo, hi = min(dl, ll), max(dl, ll)
    llo, lhi = _lin(lo), _lin(hi)
    sc = lhi - llo
    wcag = (lhi + 0.05) / (llo + 0.05)
    qz, clipped, qz_module_px = quiet_zone(gray, gr.homography, n, module_px, (lo + hi) / 2.0,
                                           polarity == "light-on-dark", cap)
    return {
        "module_px": module_px,
        "size_px": float(np.mean(sides)),
        "quiet_zone_modules": qz,
        "quiet_zone_clipped": clipped,
        "quiet_zone_module_px": qz_module_px,  # module size along the symbol's edges as located in the image
        "polarity": polarity,
        "dark_luma": lo,
        "light_luma": hi,
        "symbol_contrast": float(sc),
        "wcag_contrast": float(wcag),
    }


QUIET_ZONE_SHORT_FRACTION = 0.02  # at most 2 % of the sampled lines may be shorter than the reported quiet zone


def _crossing(v: np.ndarray, d: np.ndarray, k: np.ndarray, level: np.ndarray | float) -> np.ndarray:
    """Where each profile crosses `level` between samples k-1 and k (linear interpolation), in module units."""
    r = np.arange(v.shape[0])
    a, b = v[r, k - 1], v[r, k]
    den = np.where(np.abs(b - a) > 1e-6, b - a, 1.0)
    f = np.clip((level - a) / den, 0.0, 1.0)
    return d[k - 1] + f * (d[k] - d[k - 1])


def _profiles(gray: np.ndarray, hom: np.ndarray, n: int, d: np.ndarray, inverted: bool,
              exact: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Luma along one outward line per edge module and side (0 top, 1 bottom, 2 left, 3 right): (v, out, xy).

    v is (4n, len(d)), light = high whatever the polarity; out marks samples outside the image; xy the pixel-centre
    coordinates of every sample. d is the distance outward from the symbol's edge, in modules. exact=False samples
    with cv2.remap (positions on a 1/32-pixel grid), for finding where things are before placing them exactly.
    """
    a = np.arange(n) + 0.5
    zero, one = np.zeros(n), np.ones(n)
    # each line is P0 + d * u in module space; through the homography, h0 + d * hu in homogeneous image space
    p0 = np.concatenate([np.stack([a, zero, one], 1), np.stack([a, zero + n, one], 1),
                         np.stack([zero, a, one], 1), np.stack([zero + n, a, one], 1)])
    u = np.concatenate([np.tile([0.0, -1.0, 0.0], (n, 1)), np.tile([0.0, 1.0, 0.0], (n, 1)),
                        np.tile([-1.0, 0.0, 0.0], (n, 1)), np.tile([1.0, 0.0, 0.0], (n, 1))])
    h0, hu = p0 @ hom.T, u @ hom.T
    w = h0[:, 2:3] + hu[:, 2:3] * d[None, :]
    x = (h0[:, 0:1] + hu[:, 0:1] * d[None, :]) / w - 0.5  # pixel-edge -> pixel-centre coordinates
    y = (h0[:, 1:2] + hu[:, 1:2] * d[None, :]) / w - 0.5
    hgt, wid = gray.shape[:2]
    out = ~((x >= -0.5) & (x <= wid - 0.5) & (y >= -0.5) & (y <= hgt - 0.5))
    xy = np.stack([x, y], -1)
    if exact:
        v = _bilinear(gray, xy.reshape(-1, 2)).reshape(x.shape)
    else:
        v = cv2.remap(gray, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE).astype(np.float64)
        v[out] = np.nan
    if inverted:
        v = 255.0 - v
    return v, out, xy


def _bilinear(img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear samples in float64 at pixel-centre coordinates (exact positions, unlike cv2.remap's 1/32-pixel
    grid: an edge is placed to far better than a hundredth of a module); NaN outside the image."""
    hgt, wid = img.shape[:2]
    x, y = xy[:, 0], xy[:, 1]
    inside = (x >= -0.5) & (x <= wid - 0.5) & (y >= -0.5) & (y <= hgt - 0.5) & np.isfinite(x) & np.isfinite(y)
    xc = np.clip(np.where(inside, x, 0.0), 0.0, wid - 1.0)
    yc = np.clip(np.where(inside, y, 0.0), 0.0, hgt - 1.0)
    x0 = np.minimum(np.floor(xc).astype(np.intp), max(wid - 2, 0))
    y0 = np.minimum(np.floor(yc).astype(np.intp), max(hgt - 2, 0))
    x1, y1 = np.minimum(x0 + 1, wid - 1), np.minimum(y0 + 1, hgt - 1)
    fx, fy = xc - x0, yc - y0
    im = img.astype(np.float64, copy=False) if img.dtype != np.uint8 else img
    v00, v01 = im[y0, x0].astype(np.float64), im[y0, x1].astype(np.float64)
    v10, v11 = im[y1, x0].astype(np.float64), im[y1, x1].astype(np.float64)
    out = (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy
    out[~inside] = np.nan
    return out


def _edge_lines(v: np.ndarray, out: np.ndarray, d: np.ndarray, n: int, mid: float) -> list[tuple[float, float]]:
    """Per side, the symbol's outer edge as offset(a) = alpha + beta * a (modules outward of the nominal edge).

    Measured on every line whose edge module is dark (finder rings, dark data modules): where the profile turns
    light. A straight-line fit (the edge of a projected square is straight) with outlier rejection; (0, 0) when a
    side has too few usable lines.
    """
    nd = d.size
    a = np.arange(n) + 0.5
    i0 = int(np.searchsorted(d, -0.5))
    dark = v <= mid
    sub_dark, sub_out = dark[:, i0:], out[:, i0:]
    light_after = ~sub_dark & ~sub_out
    first = np.argmax(light_after, axis=1) + i0
    ok_all = sub_dark[:, 0] & ~sub_out[:, 0] & light_after.any(axis=1) & (d[np.minimum(first, nd - 1)] <= 0.75)
    lines = []
    for side in range(4):
        rows = np.arange(side * n, (side + 1) * n)
        ok = ok_all[rows]
        if np.count_nonzero(ok) < 3:
            lines.append((0.0, 0.0))
            continue
        e = _crossing(v[rows[ok]], d, first[rows[ok]], mid)
        x = a[ok]
        keep = np.ones(e.size, bool)
        alpha, beta = float(np.median(e)), 0.0
        for _ in range(3):
            if np.ptp(x[keep]) < 2:
                alpha, beta = float(np.median(e[keep])), 0.0
                break
            xk, ek = x[keep], e[keep]
            xm, em = float(xk.mean()), float(ek.mean())
            beta = float(((xk - xm) * (ek - em)).sum() / ((xk - xm) ** 2).sum())
            alpha = em - beta * xm
            resid = np.abs(e - (alpha + beta * x))
            new_keep = resid <= max(0.1, 3 * float(np.median(resid)))
            if np.count_nonzero(new_keep) < 3 or (new_keep == keep).all():
                break
            keep = new_keep
        lines.append((alpha, beta))
    return lines


def _refined_homography(hom: np.ndarray, n: int, lines: list[tuple[float, float]]) -> np.ndarray:
    """The homography whose module square [0, n]^2 has the measured edges (module-space lines of `hom`)."""
    (at, bt), (ab, bb), (al, bl), (ar, br) = lines
    # top: y = -(at + bt x); bottom: y = n + ab + bb x; left: x = -(al + bl y); right: x = n + ar + br y

    def meet(ty: tuple[float, float, float], tx: tuple[float, float, float]) -> tuple[float, float]:
        # y = c0 + c1 x ; x = e0 + e1 y
        c0, c1, _ = ty
        e0, e1, _ = tx
        den = 1.0 - c1 * e1
        y = (c0 + c1 * e0) / den if abs(den) > 1e-9 else c0
        return e0 + e1 * y, y

    top, bot = (-at, -bt, 0), (n + ab, bb, 0)
    left, right = (-al, -bl, 0), (n + ar, br, 0)
    corners = np.array([meet(top, left), meet(top, right), meet(bot, right), meet(bot, left)], np.float64)
    img = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), hom).reshape(-1, 2)
    if not np.isfinite(img).all():
        return hom
    return _homography(img, float(n))


def quiet_zone(gray: np.ndarray, hom: np.ndarray, n: int, module_px: float, mid: float, inverted: bool,
               cap: int = QUIET_ZONE_CAP) -> tuple[float, bool, float]:
    """Quiet zone in fractional modules (capped at `cap`), whether the image edge limited the measurement, and the
    module size in pixels those modules are counted in (the symbol's side between its edges as located, / n).

    One profile line leaves the symbol outward through the centre of every edge module on each of the four sides
    (not through the corner squares: a card's rounded corners must not shorten the quiet zone), sampled every
    half pixel or finer. First the symbol's four outer edges are located in the image (where its dark edge
    modules turn light, a straight-line fit per side), and the lines are sampled again from those edges, so that
    decoder corners a pixel off do not move the measurement. Each line's quiet zone runs from the edge to where
    the profile first turns darker than the mid-grey of the symbol's dark and light modules, located at the
    half-way level between the light before it and the darkest value just after it (a grey card edge is placed
    where it is, not where it crosses the symbol's mid-grey). The quiet zone is the longest width that at most
    QUIET_ZONE_SHORT_FRACTION of the lines fall short of. A line that runs out of the image before turning dark
    counts to the image edge and marks the result as clipped (a lower bound) when it is among the lines that
    decide it.
    """
    step = float(np.clip(0.5 / max(module_px, 1e-6), 0.02, 0.25))
    step = max(step, (cap + 1.6) / 800.0)
    d = np.arange(-1.0, cap + 0.6 + step, step)
    nd = d.size
    if inverted:
        mid = 255.0 - mid
    d_edge = d[d <= 0.75 + step]  # the symbol's edges: exact samples across them only
    ve, oute, _xy = _profiles(gray, hom, n, d_edge, inverted)
    lines = _edge_lines(ve, oute, d_edge, n, mid)
    if any(max(abs(al), abs(al + be * n)) > 0.02 for al, be in lines):  # an edge is off by more than 0.02 module
        hom = _refined_homography(hom, n, lines)
    v, out, xy = _profiles(gray, hom, n, d, inverted, exact=False)
    v = _exact_where_dark(gray, v, out, xy, d, mid, inverted)
    sq = cv2.perspectiveTransform(np.array([[[0, 0]], [[n, 0]], [[n, n]], [[0, n]]], np.float64), hom).reshape(4, 2)
    module_ref = float(np.mean([np.linalg.norm(sq[i] - sq[(i + 1) % 4]) for i in range(4)])) / n
    stop = (v <= mid) | out  # dark or outside the image
    rows = np.arange(4 * n)
    start = int(np.searchsorted(d, 0.0, side="left"))
    m1 = ~stop[:, start:] | out[:, start:]  # first light or out-of-image sample from the edge on
    k1 = np.where(m1.any(axis=1), np.argmax(m1, axis=1) + start, nd)
    k1c = np.minimum(k1, nd - 1)
    m2 = stop & (np.arange(nd)[None, :] > k1[:, None])  # then the first dark or out-of-image sample
    k2 = np.where(m2.any(axis=1), np.argmax(m2, axis=1), nd)
    k2c = np.minimum(k2, nd - 1)
    q = np.zeros(4 * n)
    clip = np.zeros(4 * n, bool)
    starts_out = (k1 < nd) & out[rows, k1c] & (d[k1c] <= 0.5)  # the image ends at (or just past) the edge
    light_run = (k1 < nd) & ~out[rows, k1c] & (d[k1c] <= 0.5)  # the light run must begin at the edge
    sel = starts_out & (k1 > 0)
    if sel.any():
        q[sel] = _exit_distance(xy[sel], d, k1[sel], gray.shape)
    clip |= starts_out
    q[light_run & (k2 >= nd)] = float(cap)
    sel = light_run & (k2 < nd) & ~out[rows, k2c]
    if sel.any():
        w = max(1, int(np.ceil(1.0 / (step * module_px))))
        vs, ks = v[sel], k2[sel]
        # place the edge on exact samples: the window around each first dark sample, plus one before it
        win = np.clip(ks[:, None] + np.arange(-w - 1, w + 1)[None, :], 0, nd - 1)
        rs = np.repeat(np.arange(vs.shape[0])[:, None], win.shape[1], 1)
        exact = _bilinear(gray, xy[sel][rs, win].reshape(-1, 2)).reshape(win.shape)
        vs[rs, win] = (255.0 - exact) if inverted else exact
        q[sel] = _dark_edge(vs, out[sel], d, ks, mid, w)
    sel = light_run & (k2 < nd) & out[rows, k2c]
    if sel.any():
        q[sel] = _exit_distance(xy[sel], d, k2[sel], gray.shape)
        clip |= sel
    q = np.clip(q, 0.0, float(cap))
    order = np.argsort(q, kind="stable")
    kth = int(np.floor(QUIET_ZONE_SHORT_FRACTION * q.size))
    qz = float(q[order[kth]])
    clipped = bool((clip & (q <= qz + 1e-9)).any())
    return qz, clipped, module_ref


def _exact_where_dark(gray: np.ndarray, v: np.ndarray, out: np.ndarray, xy: np.ndarray, d: np.ndarray, mid: float,
                      inverted: bool) -> np.ndarray:
    """Re-sample exactly every sample the fast sampler put near the mid-grey (where 1/32-pixel positions can flip
    light and dark), so that which sample is the first dark one does not depend on the sampler."""
    near = ~out & (np.abs(v - mid) <= 12.0)
    if near.any():
        ex = _bilinear(gray, xy[near])
        v = v.copy()
        v[near] = (255.0 - ex) if inverted else ex
    return v


def _dark_edge(v: np.ndarray, out: np.ndarray, d: np.ndarray, k: np.ndarray, mid: float, w: int) -> np.ndarray:
    """Edge of the dark feature first seen near sample k: where the profile first crosses, going outward, half-way
    between the lightest light sample within `w` samples (about a pixel) before k and the darkest sample within
    `w` samples after it. Samples k-w-1 .. k+w must be exact."""
    nd = d.size
    r = np.arange(v.shape[0])
    offs = np.arange(-w - 1, w + 1)
    win = np.clip(k[:, None] + offs[None, :], 0, nd - 1)
    vals = np.where(out[r[:, None], win], np.nan, v[r[:, None], win])
    before = np.where((win < k[:, None]) & (vals > mid), vals, -np.inf)
    after = np.where((win >= k[:, None]) & ~np.isnan(vals), vals, np.inf)
    light = before.max(axis=1)
    light = np.where(np.isfinite(light), light, v[r, k - 1])
    dark = after.min(axis=1)
    dark = np.where(np.isfinite(dark), dark, v[r, k])
    level = (light + dark) / 2.0
    above = vals > level[:, None]
    down = above[:, :-1] & ~above[:, 1:] & ~np.isnan(vals[:, 1:])  # sample j above, sample j+1 at or below
    j = np.where(down.any(axis=1), np.argmax(down, axis=1) + 1, w + 1)
    kk = np.maximum(win[r, j], 1)
    return _crossing(v, d, kk, level)


def _exit_distance(xy: np.ndarray, d: np.ndarray, k: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Where each line (samples xy, pixel-centre coordinates) leaves the image between samples k-1 and k."""
    hgt, wid = shape[:2]
    rows = np.arange(xy.shape[0])
    p0, p1 = xy[rows, k - 1], xy[rows, k]
    f = np.ones(xy.shape[0])
    for axis, hi in ((0, wid - 0.5), (1, hgt - 0.5)):
        a, b = p0[:, axis], p1[:, axis]
        delta = np.where(np.abs(b - a) > 1e-9, b - a, np.nan)
        for lim, crosses in ((-0.5, (a >= -0.5) & (b < -0.5)), (hi, (a <= hi) & (b > hi))):
            t = (lim - a) / delta
            t = np.where(crosses & np.isfinite(t), t, 1.0)
            f = np.minimum(f, np.clip(t, 0.0, 1.0))
    return d[k - 1] + f * (d[k] - d[k - 1])
