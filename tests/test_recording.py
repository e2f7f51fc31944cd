"""Screen recordings as evidence (conformance/recording): real PyAV decoding of the committed test recordings
(fixtures/recordings/: the reference app in headless Chromium and rendered phone screens), real QR decoding and
Tesseract on the distinct frames, the pure judgements, bounded and bilingual errors for bad files."""
from __future__ import annotations

import json
import pickle
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from conformance.recording import (
    DEFAULT_LIMITS,
    FrameInfo,
    Timeline,
    analyse_recording,
    judge_all,
    judge_first_mode,
    judge_payloads,
    judge_toggle,
    mode_from_display,
    open_recording,
    representative_frames,
)
from conformance.recording import sampling as S
from conformance.recording.bench import check
from conformance.specs import SPECS_DIR, SpecError, load_profile

ROOT = Path(__file__).resolve().parent.parent
REC = ROOT / "fixtures" / "recordings"
FILES = sorted(p.name for p in REC.iterdir() if p.suffix in (".mp4", ".webm", ".mov"))
_CACHE: dict[str, tuple[Timeline, dict]] = {}


def sidecar(name: str) -> dict:
    return json.loads((REC / (name + ".expected.json")).read_text(encoding="utf-8"))


def analysed(name: str) -> tuple[Timeline, dict]:
    if name not in _CACHE:
        side = sidecar(name)
        _CACHE[name] = (analyse_recording(REC / name, side["subject"]), side)
    return _CACHE[name]


def encode(path: Path, frames: list[np.ndarray], fps: int = 15, codec: str = "libx264") -> Path:
    from fixtures.recordings.generate import encode as enc

    h, w = frames[0].shape[:2]
    enc(path, [(f, i / fps) for i, f in enumerate(frames)], codec=codec, size=(w, h), fps=fps, crf=28)
    return path


# ------------------------------------------------------------------------------------------ committed recordings
def test_the_test_recordings_are_there_and_small():
    assert len(FILES) >= 9
    kinds = {(Path(f).suffix, f.split("-")[0]) for f in FILES}
    assert {(".webm", "refapp"), (".mp4", "refapp"), (".mp4", "synth"), (".mov", "synth")} <= kinds
    for stem in ("refapp-conformant", "refapp-slow-toggle", "refapp-no-toggle"):
        assert f"{stem}.webm" in FILES and f"{stem}.mp4" in FILES
    assert sum((REC / f).stat().st_size for f in FILES) < 5_000_000
    for f in FILES:
        assert (REC / (f + ".expected.json")).is_file()


@pytest.mark.parametrize("name", FILES)
def test_recording_is_judged_as_its_sidecar_says(name):
    tl, side = analysed(name)
    assert tl.ok, tl.error
    assert check(side, judge_all(tl, side.get("tap_at_seconds")), len(tl.touches)) == []
    # decoded frames vs kept: only the frames that change are distinct, and the first frame is one of them
    assert tl.frames[0].index == 0 and tl.frames[0].time == 0.0
    assert len(tl.frames) <= tl.frames_decoded
    assert all(a.index < b.index and a.time < b.time for a, b in zip(tl.frames, tl.frames[1:]))
    assert tl.frames[-1].end_index == tl.frames_decoded - 1  # the last frame belongs to the last look
    assert tl.frames[-1].analysed_index == tl.frames_decoded - 1  # and is the one read for it
    json.dumps(tl.to_dict())
    json.dumps(judge_all(tl, side.get("tap_at_seconds")))


@pytest.mark.parametrize("name", FILES)
def test_representative_frame_of_each_mode_is_a_usable_screenshot(name):
    from conformance.symbol import analyse_image

    tl, side = analysed(name)
    reps = representative_frames(tl)
    assert sorted(reps) == sorted(side["expected"]["modes"])
    pays = judge_payloads(tl)["modes"]
    for mode, rep in reps.items():
        assert rep.gray.dtype == np.uint8 and rep.gray.shape == (tl.height, tl.width)
        assert rep.rgb.shape == (tl.height, tl.width, 3)
        look = next(f for f in tl.frames if f.index == rep.look_index)
        assert look.mode == mode and look.index <= rep.index <= look.end_index and rep.time >= look.time
        # the longest look of its mode
        assert rep.look_seconds == max(f.duration for f in tl.frames if f.mode == mode)
        ia = analyse_image(rep.gray, name=f"{name} {mode}")
        assert [s.text for s in ia.symbols][:1] in ([p["text"]] for p in pays[mode]["payloads"])


def test_touch_indicator_is_the_action_and_both_modes_may_carry_one_payload():
    tl, side = analysed("synth-30fps-touch.mp4")
    assert [(t["index"], t["time"]) for t in tl.touches] == [(30, 1.0), (75, 2.5)]
    tog = judge_toggle(tl)
    assert [c["basis"] for c in tog["changes"]] == ["touch_indicator", "touch_indicator"]
    assert [(c["action_frame"], c["frame"]) for c in tog["changes"]] == [(30, 39), (75, 81)]
    # the mode is read from the shown text: the payload is the same in both modes
    pay = judge_payloads(tl)
    assert pay["same_payload_both_modes"] is True and pay["one_payload_per_mode"] == {"default": True, "full": True}
    # a declared tap before the first change wins over the touch spot for that change only
    tog2 = judge_toggle(tl, tap_at_seconds=0.9)
    assert [c["basis"] for c in tog2["changes"]] == ["tap_at_seconds", "touch_indicator"]
    assert tog2["changes"][0]["seconds"] == pytest.approx(0.4, abs=0.01)


def test_declared_tap_and_cross_fade_and_last_old_frame():
    tl, side = analysed("synth-60fps-tap.mp4")
    tog = judge_toggle(tl, side["tap_at_seconds"])
    first, second = tog["changes"]
    assert first["basis"] == "tap_at_seconds" and first["action_time"] == 0.8
    assert 132 <= first["frame"] <= 138  # inside the 6-frame cross-fade
    assert first["frames_not_read_between"] == 0  # bisection read the frames up to the first full one
    assert tog["tap"]["followed_by_change"] is True and tog["tap"]["change_index"] == 0
    assert second["basis"] == "last_old_mode_frame" and second["lower_bound"] is True
    assert (second["old_frame"], second["frame"]) == (215, 216)
    assert second["seconds"] == pytest.approx(1 / 60, abs=1e-3)
    # without the declared tap, the first change is timed from its last old frame too
    assert judge_toggle(tl)["changes"][0]["basis"] == "last_old_mode_frame"
    assert judge_payloads(tl)["same_payload_both_modes"] is False  # masked payload in default mode


def test_full_mode_first_and_two_payloads_in_one_mode():
    tl, _ = analysed("synth-30fps-defects.mov")
    assert tl.container == "mov" and tl.codec == "h264"
    fm = judge_first_mode(tl)
    assert (fm["frame"], fm["mode"], fm["masked"]) == (15, "full", False)
    assert tl.frames[0].mode == "unknown" and not tl.frames[0].codes  # the loading screen
    pay = judge_payloads(tl)
    assert pay["one_payload_per_mode"] == {"default": False, "full": True}
    assert [p["frame"] for p in pay["modes"]["default"]["payloads"]] == [54, 84]


def test_no_toggle_reports_a_tap_without_a_change():
    for name in ("refapp-no-toggle.mp4", "refapp-no-toggle.webm"):
        tl, side = analysed(name)
        tog = judge_toggle(tl, side["tap_at_seconds"])
        assert tog["changes"] == [] and tog["modes_seen"] == ["default"]
        assert tog["tap"]["inside_recording"] and tog["tap"]["followed_by_change"] is False
        assert tog["tap"]["seconds_to_end"] > 1.0


def test_slow_toggle_is_measured_from_the_declared_tap():
    for name in ("refapp-slow-toggle.mp4", "refapp-slow-toggle.webm"):
        tl, side = analysed(name)
        c = judge_toggle(tl, side["tap_at_seconds"])["changes"][0]
        assert c["basis"] == "tap_at_seconds" and 2.25 <= c["seconds"] <= 2.9
        ok = judge_toggle(*analysed(name.replace("slow-toggle", "conformant"))[:1],
                          analysed(name.replace("slow-toggle", "conformant"))[1]["tap_at_seconds"])
        assert ok["changes"][0]["seconds"] < 0.4


def test_timeline_is_picklable_and_serialisable():
    tl, _ = analysed("synth-30fps-touch.mp4")
    back = pickle.loads(pickle.dumps(tl))
    assert back.to_dict() == tl.to_dict()
    assert np.array_equal(back.representatives["full"].gray, tl.representatives["full"].gray)
    d = tl.to_dict()
    assert "gray" not in json.dumps(d) and d["frames_decoded"] == 120 and d["frames_distinct"] == len(tl.frames)


# ----------------------------------------------------------------------------------- a recording made here, now
@pytest.mark.parametrize("seed,codec,suffix", [(5, "libx264", ".mp4"), (11, "libvpx-vp9", ".webm")])
def test_unseen_rendering_and_codec(tmp_path, seed, codec, suffix):
    """Another phone size, theme, layout and font than the committed recordings; a switch at frame 12."""
    from conformance.payload.record import build_payload
    from fixtures.synth.people import make_people
    from fixtures.synth.screens import random_style, render_screen

    rec = next(p for p in make_people(seed, 8) if p["so_giay_to"])
    style = random_style(seed, extra_qr=False, qr_module_px=None)
    w, h = style.width // 2 * 2, style.height // 2 * 2
    d = np.asarray(render_screen(rec, build_payload(rec), mode="default", style=style))[:h, :w]
    f = np.asarray(render_screen(rec, build_payload(rec), mode="full", style=style))[:h, :w]
    path = encode(tmp_path / f"s{seed}{suffix}", [d] * 12 + [f] * 10, fps=15, codec=codec)
    tl = analyse_recording(path, rec)
    assert tl.ok, tl.error
    tog = judge_toggle(tl)
    assert [(c["from"], c["to"], c["frame"]) for c in tog["changes"]] == [("default", "full", 12)]
    assert tog["changes"][0]["time"] == pytest.approx(12 / 15, abs=1e-3)
    assert judge_first_mode(tl)["mode"] == "default"


def test_a_screen_that_never_stops_moving_is_bounded(tmp_path):
    """Every frame differs (a bar sweeping across): sampling still ends, analyses stop at max_analysed."""
    frames = []
    for i in range(45):
        img = np.full((320, 160, 3), 240, np.uint8)
        img[:, (i * 7) % 150:(i * 7) % 150 + 10] = 20
        frames.append(img)
    path = encode(tmp_path / "moving.mp4", frames, fps=30)
    tl = analyse_recording(path, {"so_giay_to": "012345678901", "ngay_sinh": "1990-01-02"}, max_analysed=3)
    assert tl.ok and tl.frames_decoded == 45
    assert len(tl.frames) > 20 and tl.analysed <= 3
    assert tl.analysed + tl.reused + tl.skipped == len(tl.frames)
    assert any("3" in n["en"] and n["vi"] for n in tl.notes)
    assert judge_first_mode(tl)["frame"] is None  # no code anywhere


def test_display_rotation_of_the_container_is_applied(tmp_path):
    """A phone MOV/MP4 may store landscape frames with a display matrix saying "turn 90 degrees clockwise"."""
    import struct

    img = np.zeros((32, 64, 3), np.uint8)
    img[:, :16] = 255  # a white band on the left of the stored frame
    path = encode(tmp_path / "stored.mp4", [img] * 3, fps=10)
    data = bytearray(path.read_bytes())
    at = data.index(b"tkhd") + 4 + 40  # the track header's 3x3 matrix (ISO/IEC 14496-12 8.3.2)
    data[at:at + 16] = b"".join(struct.pack(">i", v * 65536) for v in (0, 1, 0, -1))
    (tmp_path / "rotated.mp4").write_bytes(bytes(data))
    src = open_recording(tmp_path / "rotated.mp4")
    fr = next(iter(src.frames()))
    src.close()
    assert fr.rotation == 270  # counter-clockwise degrees: 90 clockwise
    g = fr.gray()
    assert g.shape == (64, 32) and g[:12].min() > 200 and g[20:].max() < 60  # the band is now at the top
    assert fr.small_gray(240).shape == (64, 32)


# ----------------------------------------------------------------------------------------------- bad recordings
def _bad(tl: Timeline, name: str, code: str) -> None:
    assert not tl.ok and tl.error_code == code, (tl.error_code, tl.error)
    assert name in tl.error and name in tl.error_vi and tl.error != tl.error_vi
    assert tl.frames == [] and tl.representatives == {}
    json.dumps(tl.to_dict())
    assert judge_toggle(tl)["changes"] == [] and judge_first_mode(tl)["frame"] is None


def test_missing_empty_and_not_a_video(tmp_path):
    _bad(analyse_recording(tmp_path / "nope.mp4", None), "nope.mp4", "missing")
    (tmp_path / "empty.mp4").write_bytes(b"")
    _bad(analyse_recording(tmp_path / "empty.mp4", None), "empty.mp4", "empty")
    shutil.copy(ROOT / "fixtures" / "candidates" / "example" / "candidate.json", tmp_path / "json.webm")
    _bad(analyse_recording(tmp_path / "json.webm", None), "json.webm", "unsupported")
    png = next((ROOT / "fixtures" / "candidates" / "example").rglob("*.png"))
    shutil.copy(png, tmp_path / "shot.mov")
    _bad(analyse_recording(tmp_path / "shot.mov", None), "shot.mov", "unsupported")
    (tmp_path / "dir.mp4").mkdir()
    _bad(analyse_recording(tmp_path / "dir.mp4", None), "dir.mp4", "missing")


def test_broken_and_truncated(tmp_path):
    data = (REC / "synth-30fps-touch.mp4").read_bytes()
    # an MP4 header followed by garbage
    (tmp_path / "garbage.mp4").write_bytes(data[:32] + bytes(range(256)) * 40)
    _bad(analyse_recording(tmp_path / "garbage.mp4", None), "garbage.mp4", "broken")
    # the index (moov) is at the end of these files: cutting the end loses every frame
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    _bad(analyse_recording(tmp_path / "cut.mp4", None), "cut.mp4", "broken")
    # a WebM cut in the middle keeps the frames before the cut and says so
    web = (REC / "refapp-slow-toggle.webm").read_bytes()
    (tmp_path / "cut.webm").write_bytes(web[: int(len(web) * 0.6)])
    side = sidecar("refapp-slow-toggle.webm")
    tl = analyse_recording(tmp_path / "cut.webm", side["subject"], max_analysed=1)
    assert tl.ok and 0 < tl.frames_decoded < side["frames"]
    # corrupt bytes inside a stream never escape as an exception
    bad = bytearray(web)
    for i in range(len(bad) // 3, len(bad) // 3 + 4000, 7):
        bad[i] ^= 0x5A
    (tmp_path / "flipped.webm").write_bytes(bytes(bad))
    tl = analyse_recording(tmp_path / "flipped.webm", side["subject"], max_analysed=1)
    assert tl.ok or tl.error_code == "broken"


def test_audio_only_file_has_no_video_stream(tmp_path):
    import av

    p = tmp_path / "voice.mp4"
    with av.open(str(p), "w") as out:
        st = out.add_stream("aac", rate=16000)
        st.layout = "mono"
        for i in range(10):
            fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            fr.sample_rate, fr.pts, fr.time_base = 16000, i * 1024, Fraction(1, 16000)
            for pkt in st.encode(fr):
                out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)
    _bad(analyse_recording(p, None), "voice.mp4", "unsupported")


@pytest.mark.parametrize("key,value", [("max_recording_bytes", 10_000), ("max_recording_seconds", 1.5),
                                       ("max_recording_frames", 50), ("max_recording_pixels", 500_000)])
def test_oversized_recordings_are_refused_by_each_limit(key, value):
    name = "synth-30fps-touch.mp4"  # 46 KB, 4 s, 120 frames of 720x1600
    prof = load_profile()
    prof["limits"][key] = value
    tl = analyse_recording(REC / name, sidecar(name)["subject"], limits=prof)
    _bad(tl, name, "oversized")
    assert key in tl.error and key in tl.error_vi


def test_frame_limits_hold_even_when_the_container_does_not_declare_them(tmp_path):
    # the screencast WebM declares neither its frame count nor a per-stream duration: the bound holds per frame
    name = "refapp-slow-toggle.webm"
    src = open_recording(REC / name, {"max_recording_frames": 20})
    assert src.declared_frames is None
    src.close()
    tl = analyse_recording(REC / name, None, limits={"max_recording_frames": 20})
    _bad(tl, name, "oversized")
    tl = analyse_recording(REC / name, None, limits={"max_recording_seconds": 2})
    _bad(tl, name, "oversized")


def test_profile_declares_the_recording_limits_with_rationale(tmp_path):
    prof = load_profile()
    text = (SPECS_DIR / "profile.default.yaml").read_text(encoding="utf-8")
    for key, default in DEFAULT_LIMITS.items():
        assert prof["limits"][key] == default
        assert text.split(key, 1)[1].splitlines()[1].strip().startswith("#"), key
    bad = yaml.safe_load(text)
    bad["limits"]["max_recording_seconds"] = 0
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_profile(p)
    assert e.value.json_path == "$.limits.max_recording_seconds"


# ------------------------------------------------------------------------------------------------ sampling parts
def _disc(img: np.ndarray, cx: int, cy: int, r: int, colour: float, alpha: float) -> np.ndarray:
    yy, xx = np.ogrid[: img.shape[0], : img.shape[1]]
    m = ((xx - cx) ** 2 + (yy - cy) ** 2) <= r * r
    out = img.astype(np.float32)
    out[m] = out[m] * (1 - alpha) + colour * alpha
    return out.round().astype(np.uint8)


def test_touch_spot_appears_and_goes_and_other_changes_are_not_touches():
    rng = np.random.default_rng(3)
    base = np.full((480, 240), 245, np.uint8)
    base[200:230, 40:200] = 30  # a dark button with light text
    base[210:220, 60:180:6] = 250
    spot = _disc(base, 120, 215, 13, 128, 0.45)
    tr = S.TouchTracker()
    new = tr.update(base, spot)
    assert len(new) == 1 and abs(new[0]["x"] - 120) < 3 and abs(new[0]["diameter"] - 27) < 5
    assert tr.update(spot, base) == []  # going away is not a touch
    assert tr.active == []
    # a rectangle of new text, a square, a big disc, noise: none is a touch
    text = base.copy()
    text[100:118, 30:200] = rng.integers(0, 255, (18, 170), dtype=np.uint8)
    assert S.TouchTracker().update(base, text) == []
    square = base.copy()
    square[300:330, 100:130] = 90
    assert S.TouchTracker().update(base, square) == []
    big = _disc(base, 120, 300, 70, 128, 0.45)
    assert S.TouchTracker().update(base, big) == []
    noisy = np.clip(base.astype(int) + rng.integers(-4, 5, base.shape), 0, 255).astype(np.uint8)
    assert S.TouchTracker().update(base, noisy) == []
    # on a dark theme the spot lightens
    dark = np.full((480, 240), 18, np.uint8)
    assert len(S.TouchTracker().update(dark, _disc(dark, 60, 400, 12, 150, 0.5))) == 1


def test_block_difference_sees_one_changed_line_and_ignores_noise():
    rng = np.random.default_rng(1)
    a = np.full((480, 240), 250, np.uint8)
    a[100:110, 20:120] = 40
    noisy = np.clip(a.astype(int) + rng.integers(-3, 4, a.shape), 0, 255).astype(np.uint8)
    assert S.block_difference(a, noisy) < S.DISTINCT_THRESHOLD
    b = a.copy()
    b[100:110, 60:70] = 250  # one glyph-sized change
    assert S.block_difference(a, b) >= S.DISTINCT_THRESHOLD
    assert S.block_difference(a, b, ignore=[[56, 96, 74, 114]]) < S.DISTINCT_THRESHOLD


def test_mode_comes_from_the_displayed_values():
    def judged(doc, dob):
        return {"DISPLAY-001": {"candidates": [{"class": c} for c in doc]},
                "DISPLAY-002": {"candidates": [{"class": c} for c in dob]}}

    assert mode_from_display(judged(["EXACT"], ["EXACT"]))[0] == "default"
    assert mode_from_display(judged(["FULL"], ["FULL"]))[0] == "full"
    assert mode_from_display(judged(["WRONG"], []))[0] == "default"  # masked wrongly is still the masked mode
    m, ev = mode_from_display(judged(["EXACT"], ["FULL"]))
    assert m == "default" and ev["mixed"] is True
    assert mode_from_display(judged(["NEAR", "COUNT"], ["CONFLICT"]))[0] == "unknown"
    assert mode_from_display({})[0] == "unknown"


# ------------------------------------------------------------------------------------ judgements on hand-made data
def _tl(frames: list[tuple], touches=(), duration=None, interval=0.1) -> Timeline:
    """frames: (index, time, mode, payload, status)."""
    tl = Timeline(file="x.mp4", name="x.mp4", frame_interval=interval)
    infos = []
    for idx, t, mode, pay, status in frames:
        infos.append(FrameInfo(index=idx, time=t, mode=mode, payload=pay, codes=[pay] if pay else [],
                               status=status))
    for a, b in zip(infos, infos[1:]):
        a.end_index, a.end_time, a.duration = b.index - 1, b.time - interval, b.time - a.time
    last = infos[-1]
    tl.duration = duration or last.time + 1.0
    last.end_index, last.end_time = last.index + 9, tl.duration - interval
    last.duration = tl.duration - last.time
    tl.frames, tl.touches, tl.frames_decoded = infos, list(touches), last.end_index + 1
    return tl


def test_judge_toggle_bases_and_unread_frames():
    tl = _tl([(0, 0.0, "default", "P", "analysed"), (10, 1.0, "unknown", None, "skipped"),
              (12, 1.2, "full", "P", "analysed"), (30, 3.0, "default", "P", "reused")],
             touches=[{"index": 5, "time": 0.5, "x": 1, "y": 1, "diameter": 9},
                      {"index": 8, "time": 0.8, "x": 1, "y": 1, "diameter": 9}])
    t = judge_toggle(tl)
    a, b = t["changes"]
    assert (a["basis"], a["action_frame"], a["seconds"], a["frames_not_read_between"]) == \
        ("touch_indicator", 5, 0.7, 1)
    assert len(a["touches"]) == 2  # both touches since the start; the first is the action
    assert (b["basis"], b["old_frame"], b["frame"], b["lower_bound"]) == ("last_old_mode_frame", 29, 30, True)
    assert b["seconds"] == pytest.approx(0.1)
    # a declared tap after the first change applies to the second one only
    t2 = judge_toggle(tl, tap_at_seconds=2.0)
    assert [c["basis"] for c in t2["changes"]] == ["touch_indicator", "tap_at_seconds"]
    assert t2["changes"][1]["seconds"] == pytest.approx(1.0) and t2["tap"]["change_index"] == 1
    # a declared tap outside the recording is reported, never used
    t3 = judge_toggle(tl, tap_at_seconds=99.0)
    assert t3["tap"]["inside_recording"] is False and t3["changes"][0]["basis"] == "touch_indicator"
    # unknown frames do not make a change; the same mode again is no change
    tl4 = _tl([(0, 0.0, "default", "P", "analysed"), (5, 0.5, "unknown", "P", "analysed"),
               (9, 0.9, "default", "P", "reused")])
    assert judge_toggle(tl4)["changes"] == [] and judge_toggle(tl4)["modes_seen"] == ["default"]


def test_judge_first_mode_and_payloads():
    tl = _tl([(0, 0.0, "unknown", None, "analysed"), (3, 0.3, "unknown", "P1", "analysed"),
              (6, 0.6, "full", "P1", "analysed"), (9, 0.9, "default", "P2", "analysed"),
              (12, 1.2, "default", "P3", "analysed"), (15, 1.5, "default", None, "analysed")])
    fm = judge_first_mode(tl)
    assert (fm["frame"], fm["mode"], fm["masked"]) == (3, "unknown", None)
    assert fm["first_known"] == {"frame": 6, "time": 0.6, "mode": "full"}
    p = judge_payloads(tl)
    assert p["modes"]["default"]["count"] == 2 and p["modes"]["default"]["frames_without_code"] == [15]
    assert p["one_payload_per_mode"] == {"default": False, "full": True}
    assert p["modes"]["unknown"]["payloads"][0]["text"] == "P1" and p["same_payload_both_modes"] is None
    assert [x["frame"] for x in p["modes"]["default"]["payloads"]] == [9, 12]


# ------------------------------------------------------------------------------------------ a live browser capture
@pytest.mark.browser
def test_generator_records_the_reference_app_in_chromium(tmp_path, monkeypatch):
    """The screencast capture and encoding of fixtures/recordings/generate.py, end to end on a fresh capture."""
    import asyncio

    from fixtures.recordings import generate as G

    cap = asyncio.run(G._capture_refapp([], taps=1, hold_s=0.6, scale=1.5))
    frames = cap["frames"]
    assert len(frames) >= 2 and all(b[:2] == b"\xff\xd8" for b, _ in frames)
    t0 = frames[0][1]
    imgs = [(G._decode_jpeg(b), ts - t0) for b, ts in frames]
    h, w = (d - d % 2 for d in imgs[0][0].shape[:2])
    path = tmp_path / "live.webm"
    G.encode(path, [(im[:h, :w], t) for im, t in imgs] + [(imgs[-1][0][:h, :w], imgs[-1][1] + 0.5)],
             codec="libvpx-vp9", size=(w, h), crf=34)
    tl = analyse_recording(path, cap["record"])
    tap = cap["taps"][0] - t0
    tog = judge_toggle(tl, tap)
    assert [(c["from"], c["to"], c["basis"]) for c in tog["changes"]] == [("default", "full", "tap_at_seconds")]
    assert 0 <= tog["changes"][0]["seconds"] < 1.0


def test_findings_on_a_recording_name_the_frame_they_judged():
    """Every per-screenshot judgement of a recording was made on a mode's representative frame: its findings name
    that frame's index and time, the same frame the evidence entry lists (and the report shows)."""
    from conformance.engine import assess

    pkg = Path(__file__).resolve().parent.parent / "fixtures" / "candidates" / "recording-conformant"
    a = assess(pkg, today="2026-11-27", workers=1, cache=False)
    doc = a.to_dict()
    recs = {e["index"]: e for e in doc["evidence"] if e["kind"] == "recording"}
    assert recs
    listed = {i: {(f["index"], f["time"]) for f in a.detail_of(i).get("frames") or []} for i in recs}
    per_frame = [f for r in doc["requirements"] if r["id"].startswith("SYMBOL-") for f in r["findings"]
                 if f.get("item") in recs]
    assert per_frame and all(f.get("frame") for f in per_frame), per_frame[:3]
    for f in per_frame:
        assert (f["frame"]["index"], f["frame"]["time"]) in listed[f["item"]], (f, listed)
