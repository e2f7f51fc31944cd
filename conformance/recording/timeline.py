"""Analyse a screen recording into a Timeline: the distinct frames, what each shows, and the touches seen.

One pass over the decoded frames (decode.py), nothing but small grey copies kept per frame:

1. Sampling. Every frame is reduced to a small grey frame (sampling.SMALL_WIDTH wide) and compared with the first
   frame of the current *look* (sampling.block_difference). A frame that differs by DISTINCT_THRESHOLD or more
   starts a new look: it is a *distinct* frame (`FrameInfo`, with its index and presentation time). The first frame
   is always distinct and the last frame always belongs to the last look, so both are kept. The frames of one look
   show the same picture; the last of them (the *settled* frame: the encoder has refined it longest, nothing on it
   moves any more) is the one analysed for the whole look.
2. Touches. Between consecutive frames a new round translucent spot (Android "show taps") is a touch
   (sampling.TouchTracker), recorded with its frame index and time.
3. Analysis of a look: the QR symbols (conformance.symbol.analyse_image) and the screen text (conformance.ocr
   .read_screen with the symbols blanked out). The display mode comes from the displayed document number and date
   of birth as judged by conformance.ocr.judge_display against the subject's record, never from the code (both
   modes may carry the same payload): any value shown masked -> "default"; whole values and nothing masked ->
   "full"; nothing readable -> "unknown".
4. Cost bound. A look that lasts STABLE_SECONDS or more is analysed when it ends (an *anchor*); so is a short look
   when no anchor was analysed for FORCE_ANCHOR_SECONDS (a screen that never stops moving is still sampled). Short
   looks between two anchors (animations, cross-fades) are kept in a bounded buffer and analysed only when the two
   anchors show different modes, by bisection, to find the first frame of the new mode. A look that matches one
   already analysed (touch spots left out) reuses its analysis. At most `max_analysed` looks are analysed per
   recording; the rest are "skipped" and said so in `notes`.
5. The representative frame of each mode is the settled frame of that mode's longest-lasting look (the most stable
   stretch of the recording in that mode), kept as grey and RGB arrays so every per-screenshot check can run on it.

`analyse_recording` never raises: an unusable recording gives a Timeline with `error` / `error_vi` set.
"""
from __future__ import annotations

import os
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import sampling as S
from .decode import Frame, RecordingError, open_recording, recording_limits

STABLE_SECONDS = 0.10  # a look shown this long is analysed on its own
FORCE_ANCHOR_SECONDS = 0.5  # a look is analysed at least this often, however much the screen moves
TRANSIENT_BUFFER = 24  # short looks kept (by reference) between two anchors; thinned evenly beyond this
MAX_ANALYSED = 32  # looks analysed (QR + OCR) per recording by default
MODES = ("default", "full")
UNKNOWN = "unknown"


@dataclass
class FrameInfo:
    """One distinct frame: the start of a look that lasts until the next distinct frame."""

    index: int  # frame index (0-based, presentation order) where the look starts
    time: float  # its presentation time, seconds from frame 0
    end_index: int = 0  # last frame of the look
    end_time: float = 0.0
    duration: float = 0.0  # seconds until the next distinct frame (for the last look: to the end of the recording)
    status: str = "pending"  # analysed | reused | skipped
    analysed_index: int | None = None  # the frame actually analysed (the look's settled frame)
    analysed_time: float | None = None
    reused_from: int | None = None  # index of the distinct frame whose analysis was reused (same look)
    mode: str = UNKNOWN  # default | full | unknown
    mode_evidence: dict[str, Any] = field(default_factory=dict)  # classes read for the document number and date
    codes: list[str] = field(default_factory=list)  # every decoded symbol text
    payload: str | None = None  # the personal code's text (the symbol that splits into the v1.1 fields)
    symbol_boxes: list[list[int]] = field(default_factory=list)  # [x0, y0, x1, y1] of each symbol, frame pixels
    display: dict[str, Any] | None = None  # judge_display(...) for the frame's own mode (DISPLAY-001/002 readings)
    touches: list[dict[str, Any]] = field(default_factory=list)  # touch spots appearing at this frame
    sharpness: float | None = None  # variance of the Laplacian of the analysed frame
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("time", "end_time", "duration", "analysed_time", "sharpness"):
            if d[k] is not None:
                d[k] = round(float(d[k]), 4)
        return d


@dataclass
class Representative:
    """The frame that stands for one display mode (the engine runs every per-screenshot check on it)."""

    mode: str
    index: int  # the frame (settled frame of the look)
    time: float
    look_index: int  # the distinct frame that starts its look
    look_time: float
    look_seconds: float  # how long the look lasts
    sharpness: float | None
    gray: np.ndarray = field(repr=False)
    rgb: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "index": self.index, "time": round(self.time, 4), "look_index": self.look_index,
                "look_time": round(self.look_time, 4), "look_seconds": round(self.look_seconds, 4),
                "sharpness": None if self.sharpness is None else round(self.sharpness, 1),
                "width": int(self.gray.shape[1]), "height": int(self.gray.shape[0])}


@dataclass
class Timeline:
    """What a recording shows over time. Picklable; `to_dict()` is JSON-ready (no image arrays)."""

    file: str
    name: str
    error: str | None = None
    error_vi: str | None = None
    error_code: str | None = None  # missing | empty | oversized | unsupported | broken | internal
    container: str | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    average_fps: float | None = None
    frames_decoded: int = 0
    duration: float = 0.0  # seconds from frame 0 to the end of the last frame
    frame_interval: float | None = None  # median time between frames
    truncated: bool = False
    frames: list[FrameInfo] = field(default_factory=list)  # the distinct frames, in order
    touches: list[dict[str, Any]] = field(default_factory=list)  # {"index", "time", "x", "y", "diameter"}
    representatives: dict[str, Representative] = field(default_factory=dict)
    notes: list[dict[str, str]] = field(default_factory=list)  # {"en", "vi"}
    analysed: int = 0
    reused: int = 0
    skipped: int = 0
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # decode_sample, analyse, total
    limits: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def frame_at(self, index: int) -> FrameInfo | None:
        """The distinct frame whose look contains frame `index`."""
        found = None
        for f in self.frames:
            if f.index <= index:
                found = f
            else:
                break
        return found

    def modes_seen(self) -> list[str]:
        out: list[str] = []
        for f in self.frames:
            if f.mode in MODES and f.mode not in out:
                out.append(f.mode)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "name": self.name, "error": self.error, "error_vi": self.error_vi,
            "error_code": self.error_code, "container": self.container, "codec": self.codec, "width": self.width,
            "height": self.height,
            "average_fps": None if self.average_fps is None else round(self.average_fps, 3),
            "frames_decoded": self.frames_decoded, "duration": round(self.duration, 4),
            "frame_interval": None if self.frame_interval is None else round(self.frame_interval, 5),
            "truncated": self.truncated, "frames_distinct": len(self.frames),
            "analysed": self.analysed, "reused": self.reused, "skipped": self.skipped,
            "frames": [f.to_dict() for f in self.frames], "touches": list(self.touches),
            "representatives": {m: r.to_dict() for m, r in self.representatives.items()},
            "notes": list(self.notes), "cpu_seconds": {k: round(v, 3) for k, v in self.cpu_seconds.items()},
            "limits": dict(self.limits),
        }


# ------------------------------------------------------------------------------------------------- mode of a frame
def mode_from_display(judged: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Display mode from judge_display(reading, record, "default"): ("default" | "full" | "unknown", evidence).

    Only definite readings count (conformance/ocr/match.py classes): FULL = the whole value is shown; EXACT or
    WRONG = the value is shown masked (rightly or wrongly). Any masked value -> "default" (the screen hides
    something: the masked mode, even when it masks wrongly or shows another value whole, which DISPLAY-001/002
    judge); whole values and nothing masked -> "full"; nothing definite -> "unknown"."""
    ev: dict[str, Any] = {}
    masked = whole = False
    for rid, key in (("DISPLAY-001", "doc"), ("DISPLAY-002", "dob")):
        r = judged.get(rid) or {}
        classes = sorted({c.get("class") for c in r.get("candidates") or [] if c.get("class")})
        ev[key] = classes
        masked = masked or bool({"EXACT", "WRONG"} & set(classes))
        whole = whole or "FULL" in classes
    if masked:
        mode = "default"
    elif whole:
        mode = "full"
    else:
        mode = UNKNOWN
    ev["mixed"] = bool(masked and whole)
    return mode, ev


def _cpu() -> tuple[float, float]:
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), ch.ru_utime + ch.ru_stime


def _personal(texts: list[str]) -> str | None:
    """The personal code among the decoded texts: the first that splits into the v1.1 fields, else the first."""
    if not texts:
        return None
    from conformance.payload import parse_payload

    for t in texts:
        if parse_payload(t).field_count >= 5:
            return t
    return texts[0]


# --------------------------------------------------------------------------------------------------- the analyser
@dataclass
class _Look:
    info: FrameInfo
    first_small: np.ndarray
    last_small: np.ndarray
    last: Frame


class _Analyser:
    def __init__(self, tl: Timeline, record: dict[str, Any] | None, max_analysed: int):
        self.tl = tl
        self.record = record or {}
        self.max_analysed = max_analysed
        self.cache: list[tuple[np.ndarray, FrameInfo]] = []  # (small settled frame, analysed FrameInfo)
        self.buffer: list[_Look] = []
        self.prev_anchor: _Look | None = None
        self.last_anchor_end = 0.0
        self.budget_noted = False
        self.touch_boxes: list[list[int]] = []  # small-frame boxes of every touch seen (left out when matching)

    # -- one look ---------------------------------------------------------------------------------------------
    def analyse(self, look: _Look) -> None:
        info = look.info
        if info.status != "pending":
            return
        for small, done in self.cache:
            if small.shape == look.last_small.shape and \
                    S.block_difference(small, look.last_small, ignore=self.touch_boxes) < S.DISTINCT_THRESHOLD:
                self._copy(done, info, look)
                return
        if self.tl.analysed >= self.max_analysed:
            info.status = "skipped"
            info.note = "analysis budget reached"
            self.tl.skipped += 1
            if not self.budget_noted:
                self.budget_noted = True
                self.tl.notes.append({
                    "en": f"{self.tl.name}: only {self.max_analysed} distinct frames are analysed per recording; "
                          f"later ones from frame {info.index} ({info.time:.2f} s) are not",
                    "vi": f"{self.tl.name}: mỗi bản ghi chỉ phân tích {self.max_analysed} khung hình khác nhau; "
                          f"các khung hình từ khung {info.index} ({info.time:.2f} giây) trở đi không được phân tích"})
            return
        from conformance.ocr import judge_display, read_screen
        from conformance.symbol import analyse_image, symbol_boxes

        fr = look.last
        gray = fr.gray()
        info.analysed_index, info.analysed_time = fr.index, fr.time
        ia = analyse_image(gray, ppi=None, name=f"{self.tl.name} frame {fr.index}")
        texts = [s.text for s in ia.symbols if s.text]
        info.codes = texts
        info.payload = _personal(texts)
        info.symbol_boxes = symbol_boxes(ia.symbols)
        if ia.error:
            info.note = ia.error
        reading = read_screen(gray, exclude_boxes=info.symbol_boxes)
        if self.record:
            judged = judge_display(reading, self.record, "default")
            info.mode, info.mode_evidence = mode_from_display(judged)
            info.display = judged if info.mode != "full" else judge_display(reading, self.record, "full")
        else:
            info.mode, info.mode_evidence = UNKNOWN, {"reason": "no subject record"}
        if reading.error:
            info.mode_evidence["ocr_error"] = reading.error
        info.sharpness = S.sharpness(gray)
        info.status = "analysed"
        self.tl.analysed += 1
        self.cache.append((look.last_small, info))
        self._representative(look, gray)

    def _copy(self, done: FrameInfo, info: FrameInfo, look: _Look) -> None:
        info.status = "reused"
        info.reused_from = done.index
        info.analysed_index, info.analysed_time = look.last.index, look.last.time
        for k in ("mode", "codes", "payload", "symbol_boxes", "sharpness"):
            setattr(info, k, getattr(done, k))
        info.mode_evidence = dict(done.mode_evidence)
        info.display = done.display
        self.tl.reused += 1
        self._representative(look, None)

    def _representative(self, look: _Look, gray: np.ndarray | None) -> None:
        info = look.info
        if info.mode not in MODES:
            return
        best = self.tl.representatives.get(info.mode)
        if best is not None and best.look_seconds >= info.duration:
            return
        fr = look.last
        g = gray if gray is not None else fr.gray()
        self.tl.representatives[info.mode] = Representative(
            mode=info.mode, index=fr.index, time=fr.time, look_index=info.index, look_time=info.time,
            look_seconds=info.duration, sharpness=info.sharpness if gray is not None else S.sharpness(g), gray=g,
            rgb=fr.rgb())

    # -- scheduling -------------------------------------------------------------------------------------------
    def look_ended(self, look: _Look, last: bool = False) -> None:
        info = look.info
        anchor = last or info.duration >= STABLE_SECONDS or \
            info.time - self.last_anchor_end >= FORCE_ANCHOR_SECONDS or self.prev_anchor is None
        if not anchor:
            self.buffer.append(look)
            if len(self.buffer) > TRANSIENT_BUFFER:
                keep = self.buffer[::2]
                if keep[-1] is not self.buffer[-1]:
                    keep.append(self.buffer[-1])
                for lk in self.buffer:
                    if all(lk is not k for k in keep):
                        lk.info.status, lk.info.note = "skipped", "thinned (more short looks than the buffer holds)"
                        self.tl.skipped += 1
                self.buffer = keep
            return
        self.analyse(look)
        prev = self.prev_anchor
        if prev is not None and self.buffer and look.info.mode in MODES and prev.info.mode != look.info.mode:
            self._bisect(look.info.mode)
        for lk in self.buffer:
            if lk.info.status == "pending":
                lk.info.status, lk.info.note = "skipped", "short look between two analysed looks, not needed"
                self.tl.skipped += 1
        self.buffer = []
        self.prev_anchor = look
        self.last_anchor_end = info.time + info.duration

    def _bisect(self, mode: str) -> None:
        """First buffered look showing `mode` (the buffer runs from the old mode to the new one)."""
        lo, hi = 0, len(self.buffer)  # answer in [lo, hi]; hi = the anchor itself
        while lo < hi:
            mid = (lo + hi) // 2
            lk = self.buffer[mid]
            self.analyse(lk)
            if lk.info.status == "skipped":
                return
            if lk.info.mode == mode:
                hi = mid
            else:
                lo = mid + 1


def analyse_recording(path: str | os.PathLike, record: dict[str, Any] | None, *,
                      limits: dict[str, Any] | None = None, name: str | None = None,
                      max_analysed: int = MAX_ANALYSED) -> Timeline:
    """Analyse one screen recording for the subject `record` (a candidate.json subject: so_giay_to, ngay_sinh, …).

    `limits`: the profile (or its `limits` section) for the recording bounds. Never raises."""
    p = Path(path)
    tl = Timeline(file=str(p), name=name or p.name)
    tl.limits = recording_limits(limits)
    cpu0, ch0 = _cpu()
    an = _Analyser(tl, record, max(1, int(max_analysed)))
    analyse_cpu = [0.0]
    try:
        with open_recording(p, tl.limits, name=tl.name) as src:
            tl.container, tl.codec = src.container_format, src.codec
            tl.width, tl.height, tl.average_fps = src.width, src.height, src.average_fps
            tracker = S.TouchTracker()
            cur: _Look | None = None
            prev_small: np.ndarray | None = None
            times: list[float] = []

            def end_look(look: _Look, next_time: float, last: bool = False) -> None:
                look.info.duration = max(0.0, next_time - look.info.time)
                a0, c0 = _cpu()
                an.look_ended(look, last=last)
                a1, c1 = _cpu()
                analyse_cpu[0] += (a1 - a0) + (c1 - c0)

            for fr in src.frames():
                small = fr.small_gray(S.SMALL_WIDTH)
                times.append(fr.time)
                if cur is None or small.shape != cur.first_small.shape or \
                        S.block_difference(cur.first_small, small) >= S.DISTINCT_THRESHOLD:
                    touches = tracker.update(prev_small, small) if prev_small is not None else []
                    scale = (fr.av_frame.width if fr.rotation in (0, 180) else fr.av_frame.height) / small.shape[1]
                    info = FrameInfo(index=fr.index, time=fr.time, end_index=fr.index, end_time=fr.time)
                    tl.frames.append(info)
                    for t in touches:
                        r = t["diameter"] / 2.0
                        an.touch_boxes.append([int(t["x"] - r - 2), int(t["y"] - r - 2), int(t["x"] + r + 3),
                                               int(t["y"] + r + 3)])
                        full = {"index": fr.index, "time": round(fr.time, 4), "x": round(t["x"] * scale, 1),
                                "y": round(t["y"] * scale, 1), "diameter": round(t["diameter"] * scale, 1)}
                        info.touches.append(full)
                        tl.touches.append(full)
                    if cur is not None:
                        end_look(cur, fr.time)
                    cur = _Look(info, small, small, fr)
                else:
                    if prev_small is not None and prev_small.shape == small.shape:
                        tracker.update(prev_small, small)  # keep spot state (a spot may fade out slowly)
                    cur.info.end_index, cur.info.end_time = fr.index, fr.time
                    cur.last, cur.last_small = fr, small
                prev_small = small
            tl.frames_decoded = src.decoded
            if len(times) > 1:
                tl.frame_interval = float(np.median(np.diff(times)))
            step = tl.frame_interval or (1.0 / src.average_fps if src.average_fps else 0.0)
            tl.duration = (times[-1] if times else 0.0) + step
            if src.truncated:
                tl.truncated = True
                tl.notes.append({"en": src.truncated[0], "vi": src.truncated[1]})
            if cur is not None:
                end_look(cur, tl.duration, last=True)
            for f in tl.frames:
                if f.status == "pending":
                    f.status, f.note = "skipped", f.note or "not needed"
                    tl.skipped += 1
    except RecordingError as exc:
        tl.error, tl.error_vi, tl.error_code = exc.en, exc.vi, exc.code
        tl.frames, tl.representatives = [], {}
    except Exception as exc:  # noqa: BLE001 - a suite bug is an error on this item, never an escaping exception
        tl.error = f"{tl.name}: internal error while analysing the recording: {type(exc).__name__}: {exc}"
        tl.error_vi = f"{tl.name}: lỗi nội bộ khi phân tích bản ghi màn hình: {type(exc).__name__}: {exc}"
        tl.error_code = "internal"
        tl.frames, tl.representatives = [], {}
    cpu1, ch1 = _cpu()
    total = (cpu1 - cpu0) + (ch1 - ch0)
    tl.cpu_seconds = {"total": total, "analyse": analyse_cpu[0], "decode_sample": max(0.0, total - analyse_cpu[0])}
    return tl
