"""Screen recordings as evidence (kind "recording"): decode, sample the frames that change, read each, judge.

    analyse_recording(path, record, *, limits=None, name=None, max_analysed=32) -> Timeline   (never raises)
    judge_toggle(timeline, tap_at_seconds=None) -> dict        DISPLAY-003 facts
    judge_first_mode(timeline) -> dict                         DISPLAY-004 facts
    judge_payloads(timeline) -> dict                           GEN-001 facts
    representative_frames(timeline) -> {mode: Representative}  per-screenshot checks run on these
    judge_all(timeline, tap_at_seconds=None) -> dict           the four above, JSON-ready

See timeline.py for the analysis, judge.py for what each judgement reports, decode.py for the bounds.
"""
from .decode import DEFAULT_LIMITS, RecordingError, open_recording, recording_limits
from .judge import judge_all, judge_first_mode, judge_payloads, judge_toggle, representative_frames
from .timeline import FrameInfo, Representative, Timeline, analyse_recording, mode_from_display

__all__ = ["analyse_recording", "Timeline", "FrameInfo", "Representative", "mode_from_display", "judge_toggle",
           "judge_first_mode", "judge_payloads", "representative_frames", "judge_all", "RecordingError",
           "open_recording", "recording_limits", "DEFAULT_LIMITS"]
