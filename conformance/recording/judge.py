"""Pure judgements over a Timeline: what the recording shows, with the frame index and time each rests on.

No status words here: the engine maps these facts to statuses (e.g. DISPLAY-003 compares `seconds` with the
profile's display.toggle_max_seconds). Only frames whose mode was read (status analysed or reused, mode default or
full) take part; frames that were not analysed are counted where they could change the answer.

judge_toggle(tl, tap_at_seconds=None)   DISPLAY-003: every change of display mode and the time from the action
judge_first_mode(tl)                    DISPLAY-004: the mode of the first frame that shows the code
judge_payloads(tl)                      GEN-001: the payloads seen in each mode
representative_frames(tl)               the frame standing for each mode (arrays for the per-screenshot checks)
"""
from __future__ import annotations

from typing import Any

from .timeline import MODES, FrameInfo, Representative, Timeline

BASIS_TAP = "tap_at_seconds"  # the evidence item's declared tap time
BASIS_TOUCH = "touch_indicator"  # the first touch spot seen since the previous change
BASIS_LAST_OLD = "last_old_mode_frame"  # the last frame still showing the old mode: a lower bound


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def _read(tl: Timeline) -> list[FrameInfo]:
    return [f for f in tl.frames if f.status in ("analysed", "reused")]


def _known(tl: Timeline) -> list[FrameInfo]:
    return [f for f in _read(tl) if f.mode in MODES]


def _frame_at_time(tl: Timeline, t: float) -> int | None:
    """Index of the first decoded frame at or after time t. Within a look the frames are not kept, so their
    indices are estimated from the look's first frame and the median frame interval."""
    look = None
    for f in tl.frames:
        if f.time <= t + 1e-9:
            look = f
        else:
            nxt = f
            break
    else:
        nxt = None
    if look is None:
        return tl.frames[0].index if tl.frames else None
    if t <= look.time + 1e-9:
        return look.index
    if look.end_time >= t - 1e-9 and tl.frame_interval:
        est = look.index + int(-(-(t - look.time - 1e-9) // tl.frame_interval))
        return min(est, look.end_index)
    return nxt.index if nxt is not None else None


def judge_toggle(tl: Timeline, tap_at_seconds: float | None = None) -> dict[str, Any]:
    """Every change between the two display modes, with the action it is timed from.

    Returns {
      "changes": [{"from", "to",
                   "frame", "time": the first frame read showing the new mode,
                   "old_frame", "old_time": the last frame read showing the old mode,
                   "basis": "tap_at_seconds" | "touch_indicator" | "last_old_mode_frame",
                   "action_frame", "action_time": the action's frame (None for a declared tap between frames) and
                   time, "seconds": time - action_time,
                   "lower_bound": True when timed from the last old frame (only the visible switch is measured),
                   "touches": touch spots seen since the previous change (index, time, x, y, diameter),
                   "frames_not_read_between": distinct frames not analysed between the last frame read before
                   the new mode and its first frame read (when > 0 the new mode may have shown earlier:
                   `seconds` is then an upper bound),
                   "resolution": the frame interval (times are exact to one frame)}],
      "modes_seen": modes in order of first appearance,
      "tap": None or {"at_seconds", "frame", "inside_recording", "followed_by_change", "change_index",
                      "seconds_to_end"},
      "frame_interval", "recording_seconds"}."""
    known = _known(tl)
    changes: list[dict[str, Any]] = []
    tap_used = False
    prev_change_time = float("-inf")
    tap = None
    if tap_at_seconds is not None:
        t = float(tap_at_seconds)
        inside = 0.0 <= t <= tl.duration
        tap = {"at_seconds": _r(t), "frame": _frame_at_time(tl, t) if inside else None, "inside_recording": inside,
               "followed_by_change": False, "change_index": None, "seconds_to_end": _r(max(0.0, tl.duration - t))}
    for a, b in zip(known, known[1:]):
        if a.mode == b.mode:
            continue
        last_read = max((f.index for f in _read(tl) if a.index <= f.index < b.index), default=a.index)
        between = [f for f in tl.frames if last_read < f.index < b.index and f.status not in ("analysed", "reused")]
        touches = [t for t in tl.touches if prev_change_time < t["time"] <= b.time + 1e-9]
        ch: dict[str, Any] = {
            "from": a.mode, "to": b.mode, "frame": b.index, "time": _r(b.time),
            "old_frame": a.end_index, "old_time": _r(a.end_time), "touches": touches,
            "frames_not_read_between": len(between), "resolution": _r(tl.frame_interval, 5)}
        if tap is not None and not tap_used and tap["inside_recording"] and b.time >= tap_at_seconds - 1e-9:
            tap_used = True
            tap["followed_by_change"], tap["change_index"] = True, len(changes)
            ch.update(basis=BASIS_TAP, action_frame=tap["frame"], action_time=_r(tap_at_seconds),
                      seconds=_r(b.time - tap_at_seconds), lower_bound=False)
        elif touches:
            t0 = touches[0]
            ch.update(basis=BASIS_TOUCH, action_frame=t0["index"], action_time=_r(t0["time"]),
                      seconds=_r(b.time - t0["time"]), lower_bound=False)
        else:
            ch.update(basis=BASIS_LAST_OLD, action_frame=a.end_index, action_time=_r(a.end_time),
                      seconds=_r(b.time - a.end_time), lower_bound=True)
        changes.append(ch)
        prev_change_time = b.time
    return {"changes": changes, "modes_seen": tl.modes_seen(), "tap": tap,
            "frame_interval": _r(tl.frame_interval, 5), "recording_seconds": _r(tl.duration)}


def judge_first_mode(tl: Timeline) -> dict[str, Any]:
    """The first frame that shows a code, and the mode it shows.

    Returns {"frame", "time": the first distinct frame read with a decoded code (None when no frame shows one),
             "analysed_frame": the frame actually read for it, "mode": "default" | "full" | "unknown",
             "masked": True / False / None (unknown),
             "first_known": None or {"frame", "time", "mode"}: the first frame with a code and a readable mode,
             "frames_not_read_before": distinct frames before it that were not analysed (when > 0 an earlier
             frame may have shown the code)}."""
    read = [f for f in _read(tl) if f.codes]
    if not read:
        return {"frame": None, "time": None, "analysed_frame": None, "mode": None, "masked": None,
                "first_known": None, "frames_not_read_before": sum(1 for f in tl.frames if f.status == "skipped")}
    f = read[0]
    fk = next((g for g in read if g.mode in MODES), None)
    return {"frame": f.index, "time": _r(f.time), "analysed_frame": f.analysed_index, "mode": f.mode,
            "masked": None if f.mode not in MODES else f.mode == "default",
            "first_known": None if fk is None else {"frame": fk.index, "time": _r(fk.time), "mode": fk.mode},
            "frames_not_read_before": sum(1 for g in tl.frames if g.index < f.index and g.status == "skipped")}


def judge_payloads(tl: Timeline) -> dict[str, Any]:
    """The personal payloads seen in each mode, across all frames read.

    Returns {"modes": {mode: {"payloads": [{"text", "frame", "time" (first seen), "frames": [distinct frame
             indices showing it], "seconds": how long it is shown in total}], "frames_without_code": [indices],
             "count": number of different payloads}} for "default", "full" and "unknown" (frames whose mode could
             not be read),
             "one_payload_per_mode": {mode: count == 1} for the modes read with a code,
             "same_payload_both_modes": True / False / None (when a mode has no payload or several)}."""
    out: dict[str, Any] = {}
    for mode in (*MODES, "unknown"):
        frames = [f for f in _read(tl) if (f.mode if f.mode in MODES else "unknown") == mode]
        payloads: dict[str, dict[str, Any]] = {}
        for f in frames:
            if f.payload is None:
                continue
            p = payloads.setdefault(f.payload, {"text": f.payload, "frame": f.index, "time": _r(f.time),
                                                "frames": [], "seconds": 0.0})
            p["frames"].append(f.index)
            p["seconds"] = _r(p["seconds"] + f.duration)
        if frames or mode in MODES:
            out[mode] = {"payloads": list(payloads.values()), "count": len(payloads),
                         "frames_without_code": [f.index for f in frames if f.payload is None]}
    one = {m: out[m]["count"] == 1 for m in MODES if out.get(m, {}).get("count")}
    same = None
    if out["default"]["count"] == 1 and out["full"]["count"] == 1:
        same = out["default"]["payloads"][0]["text"] == out["full"]["payloads"][0]["text"]
    return {"modes": out, "one_payload_per_mode": one, "same_payload_both_modes": same}


def representative_frames(tl: Timeline) -> dict[str, Representative]:
    """{mode: Representative} for each mode read: the settled frame of the mode's longest-lasting look, with
    `gray` (uint8 HxW) and `rgb` (uint8 HxWx3) arrays, `index` and `time`."""
    return dict(tl.representatives)


def judge_all(tl: Timeline, tap_at_seconds: float | None = None) -> dict[str, Any]:
    """The four judgements, JSON-ready (representatives without their arrays)."""
    return {"toggle": judge_toggle(tl, tap_at_seconds), "first_mode": judge_first_mode(tl),
            "payloads": judge_payloads(tl),
            "representatives": {m: r.to_dict() for m, r in representative_frames(tl).items()}}
