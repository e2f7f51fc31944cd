"""Open and decode a screen recording (MP4/MOV with H.264 or HEVC, WebM/Matroska with VP8/VP9/AV1), bounded.

PyAV (the `av` wheel, which carries FFmpeg) does the decoding. The adversary is the file, so:

- the container is recognised from its first bytes (ISO BMFF box for MP4/MOV, EBML header for WebM/Matroska) and
  opened with that demuxer only: no other FFmpeg demuxer (playlists, concatenation lists, image sequences) ever
  sees the file, and FFmpeg may open nothing but this one local file (`protocol_whitelist=file`);
- the file size, the declared duration, every frame's size, the number of frames and every frame's time are checked
  against the profile's `limits` (`max_recording_bytes`, `max_recording_seconds`, `max_recording_frames`,
  `max_recording_pixels`) before or while decoding: an oversized recording is an error, never a truncated verdict;
- every failure is a `RecordingError` that carries an English and a Vietnamese message naming the file; nothing
  else escapes `iter_frames` (a decoding error after some frames is reported through `FrameSource.truncated`).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# Fallbacks when a profile does not carry the keys (specs/profile.default.yaml holds the rationale of each).
DEFAULT_LIMITS: dict[str, int | float] = {
    "max_recording_bytes": 300_000_000,
    "max_recording_seconds": 120,
    "max_recording_frames": 7200,
    "max_recording_pixels": 10_000_000,
}
SUPPORTED_EN = "MP4 or MOV (H.264, HEVC) or WebM (VP8, VP9, AV1)"
SUPPORTED_VI = "MP4 hoặc MOV (H.264, HEVC) hoặc WebM (VP8, VP9, AV1)"
DECODE_THREADS = 2  # the machines this runs on have two cores; more threads only add contention


class RecordingError(Exception):
    """A recording cannot be used. `en` and `vi` name the file and the problem; `code` is a short machine word."""

    def __init__(self, code: str, en: str, vi: str):
        super().__init__(en)
        self.code, self.en, self.vi = code, en, vi


def recording_limits(profile_or_limits: dict[str, Any] | None) -> dict[str, float]:
    """The four recording limits from a whole profile, its `limits` section, or None (defaults)."""
    src: dict[str, Any] = {}
    if isinstance(profile_or_limits, dict):
        src = profile_or_limits.get("limits", profile_or_limits)
        if not isinstance(src, dict):
            src = {}
    out = {}
    for k, v in DEFAULT_LIMITS.items():
        got = src.get(k, v)
        out[k] = float(got) if isinstance(got, (int, float)) and not isinstance(got, bool) and got > 0 else float(v)
    return out


def sniff_container(head: bytes) -> str | None:
    """FFmpeg demuxer name for the first bytes of a file: "mov" (MP4/MOV/3GP), "matroska" (WebM/MKV), else None."""
    if len(head) >= 4 and head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"):
        return "mov"
    return None


@dataclass
class Frame:
    """One decoded frame: its index from 0 in presentation order, its time in seconds from frame 0."""

    index: int
    time: float
    av_frame: Any = field(repr=False)  # av.VideoFrame (kept by reference; converted only when needed)
    rotation: int = 0  # degrees counter-clockwise to apply for display (from the stream's display matrix)

    def gray(self) -> np.ndarray:
        """Full-size grey (luma) image, rotated for display."""
        return _rotate(self.av_frame.to_ndarray(format="gray"), self.rotation)

    def rgb(self) -> np.ndarray:
        return _rotate(self.av_frame.to_ndarray(format="rgb24"), self.rotation)

    def small_gray(self, width: int) -> np.ndarray:
        """Grey image `width` pixels wide (area-averaged by swscale), rotated for display."""
        f = self.av_frame
        w, h = f.width, f.height
        if self.rotation in (90, 270):
            w, h = h, w  # `width` is meant after rotation
        scale = min(1.0, width / max(1, w))
        tw, th = max(8, int(round(w * scale))), max(8, int(round(h * scale)))
        if self.rotation in (90, 270):
            tw, th = th, tw
        small = f.reformat(width=tw, height=th, format="gray", interpolation="AREA").to_ndarray()
        return _rotate(np.ascontiguousarray(small[:th, :tw]), self.rotation)


def _rotate(img: np.ndarray, rotation: int) -> np.ndarray:
    if rotation == 90:
        return np.ascontiguousarray(np.rot90(img, 1))
    if rotation == 180:
        return np.ascontiguousarray(np.rot90(img, 2))
    if rotation == 270:
        return np.ascontiguousarray(np.rot90(img, 3))
    return img


@dataclass
class FrameSource:
    """An opened recording. Iterate `frames()` once; then `decoded`, `truncated` and `last_time` are final."""

    path: str
    name: str
    container_format: str
    codec: str
    width: int
    height: int
    declared_seconds: float | None
    declared_frames: int | None
    average_fps: float | None
    limits: dict[str, float]
    decoded: int = 0
    last_time: float = 0.0
    truncated: tuple[str, str] | None = None  # (en, vi) when decoding stopped early on a damaged stream
    _container: Any = field(default=None, repr=False)
    _stream: Any = field(default=None, repr=False)

    def frames(self) -> Iterator[Frame]:
        """Decoded frames in presentation order. Raises RecordingError for an oversized or unreadable stream."""
        import av

        lim = self.limits
        max_frames, max_s, max_px = int(lim["max_recording_frames"]), lim["max_recording_seconds"], \
            lim["max_recording_pixels"]
        t0: float | None = None
        prev_t = -1.0
        n = self.name
        try:
            for packet in self._container.demux(self._stream):
                try:
                    decoded = packet.decode()
                except av.FFmpegError as exc:
                    if self.decoded == 0:
                        raise RecordingError(
                            "broken", f"{n}: the video stream cannot be decoded ({_short(exc)})",
                            f"{n}: không giải mã được luồng video ({_short(exc)})") from None
                    self.truncated = (
                        f"{n}: decoding stopped after frame {self.decoded - 1} ({_short(exc)}); the frames before "
                        "it are used",
                        f"{n}: giải mã dừng sau khung hình {self.decoded - 1} ({_short(exc)}); các khung hình "
                        "trước đó vẫn được dùng")
                    return
                for f in decoded:
                    if f.width * f.height > max_px:
                        raise RecordingError(
                            "oversized", f"{n}: frame {self.decoded} is {f.width}x{f.height} pixels, more than the "
                            f"profile's limit of {int(max_px):,} pixels (limits.max_recording_pixels)",
                            f"{n}: khung hình {self.decoded} có {f.width}x{f.height} điểm ảnh, vượt giới hạn "
                            f"{int(max_px):,} điểm ảnh của hồ sơ đánh giá (limits.max_recording_pixels)")
                    if self.decoded >= max_frames:
                        raise RecordingError(
                            "oversized", f"{n}: more than {max_frames} frames (limits.max_recording_frames)",
                            f"{n}: có hơn {max_frames} khung hình (giới hạn limits.max_recording_frames)")
                    t = f.time
                    if t is None or not np.isfinite(t):
                        fps = self.average_fps or 30.0
                        t = (t0 or 0.0) + self.decoded / fps
                    if t0 is None:
                        t0 = float(t)
                    rel = float(t) - t0
                    if rel <= prev_t:  # a repeated or backwards time stamp: keep the order, nudge forward
                        rel = prev_t + 1e-6
                    if rel > max_s:
                        raise RecordingError(
                            "oversized", f"{n}: longer than {max_s:g} s (limits.max_recording_seconds)",
                            f"{n}: dài hơn {max_s:g} giây (giới hạn limits.max_recording_seconds)")
                    prev_t = rel
                    rot = _display_rotation(f)
                    fr = Frame(self.decoded, rel, f, rot)
                    self.decoded += 1
                    self.last_time = rel
                    yield fr
        except RecordingError:
            raise
        except Exception as exc:  # noqa: BLE001 - PyAV/FFmpeg errors of every kind
            if self.decoded == 0:
                raise RecordingError("broken", f"{n}: the video cannot be decoded ({_short(exc)})",
                                     f"{n}: không giải mã được video ({_short(exc)})") from None
            self.truncated = (
                f"{n}: decoding stopped after frame {self.decoded - 1} ({_short(exc)}); the frames before it are used",
                f"{n}: giải mã dừng sau khung hình {self.decoded - 1} ({_short(exc)}); các khung hình trước đó "
                "vẫn được dùng")
        if self.decoded == 0:
            raise RecordingError("empty", f"{n}: the video stream holds no decodable frame",
                                 f"{n}: luồng video không có khung hình nào giải mã được")

    def close(self) -> None:
        try:
            if self._container is not None:
                self._container.close()
        except Exception:  # noqa: BLE001
            pass
        self._container = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _display_rotation(frame: Any) -> int:
    """Counter-clockwise display rotation (0/90/180/270) from the frame's display matrix, 0 when none."""
    try:
        r = getattr(frame, "rotation", 0) or 0
        return int(round(float(r) / 90.0)) % 4 * 90
    except Exception:  # noqa: BLE001
        return 0


def _short(exc: BaseException) -> str:
    s = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return s[:200]


def open_recording(path: str | os.PathLike, limits: dict[str, Any] | None = None, *,
                   name: str | None = None) -> FrameSource:
    """Open `path` for decoding. Raises RecordingError (missing, empty, too large, not a supported video, no video
    stream, declared too long or too large)."""
    p = Path(path)
    n = name or p.name
    lim = recording_limits(limits)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise RecordingError("missing", f"{n}: cannot read the file ({exc.strerror or exc})",
                             f"{n}: không đọc được tệp ({exc.strerror or exc})") from None
    if not p.is_file():
        raise RecordingError("missing", f"{n}: not a regular file", f"{n}: không phải là tệp thông thường")
    if size == 0:
        raise RecordingError("empty", f"{n}: the file is empty (0 bytes)", f"{n}: tệp rỗng (0 byte)")
    if size > lim["max_recording_bytes"]:
        raise RecordingError(
            "oversized", f"{n}: {size:,} bytes, more than the profile's limit of {int(lim['max_recording_bytes']):,} "
            "bytes (limits.max_recording_bytes)",
            f"{n}: {size:,} byte, vượt giới hạn {int(lim['max_recording_bytes']):,} byte của hồ sơ đánh giá "
            "(limits.max_recording_bytes)")
    try:
        with open(p, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise RecordingError("missing", f"{n}: cannot read the file ({exc.strerror or exc})",
                             f"{n}: không đọc được tệp ({exc.strerror or exc})") from None
    fmt = sniff_container(head)
    if fmt is None:
        raise RecordingError("unsupported", f"{n}: not a supported screen recording; expected {SUPPORTED_EN}",
                             f"{n}: không phải bản ghi màn hình được hỗ trợ; cần {SUPPORTED_VI}")
    try:
        import av
    except ImportError as exc:  # pragma: no cover - requirements.txt pins av
        raise RecordingError("unavailable", f"{n}: PyAV (av) is not installed: {exc}",
                             f"{n}: chưa cài PyAV (av): {exc}") from None
    try:
        container = av.open(str(p), format=fmt, options={"protocol_whitelist": "file"},
                            metadata_errors="replace", timeout=10.0)
    except Exception as exc:  # noqa: BLE001
        raise RecordingError("broken", f"{n}: the video container cannot be opened ({_short(exc)})",
                             f"{n}: không mở được tệp video ({_short(exc)})") from None
    try:
        if not container.streams.video:
            raise RecordingError("unsupported", f"{n}: the file has no video stream",
                                 f"{n}: tệp không có luồng video")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        codec = getattr(ctx, "name", None) or "?"
        w, h = int(ctx.width or 0), int(ctx.height or 0)
        if w * h > lim["max_recording_pixels"]:
            raise RecordingError(
                "oversized", f"{n}: the video is {w}x{h} pixels, more than the profile's limit of "
                f"{int(lim['max_recording_pixels']):,} pixels per frame (limits.max_recording_pixels)",
                f"{n}: video có kích thước {w}x{h} điểm ảnh, vượt giới hạn {int(lim['max_recording_pixels']):,} "
                "điểm ảnh mỗi khung hình của hồ sơ đánh giá (limits.max_recording_pixels)")
        declared_s = None
        if stream.duration is not None and stream.time_base is not None:
            declared_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            declared_s = container.duration / 1_000_000.0
        if declared_s is not None and declared_s > lim["max_recording_seconds"] + 0.5:
            raise RecordingError(
                "oversized", f"{n}: {declared_s:.1f} s long, more than the profile's limit of "
                f"{lim['max_recording_seconds']:g} s (limits.max_recording_seconds)",
                f"{n}: dài {declared_s:.1f} giây, vượt giới hạn {lim['max_recording_seconds']:g} giây của hồ sơ "
                "đánh giá (limits.max_recording_seconds)")
        declared_frames = int(stream.frames) if stream.frames else None
        if declared_frames is not None and declared_frames > lim["max_recording_frames"]:
            raise RecordingError(
                "oversized", f"{n}: {declared_frames} frames, more than the profile's limit of "
                f"{int(lim['max_recording_frames'])} (limits.max_recording_frames)",
                f"{n}: có {declared_frames} khung hình, vượt giới hạn {int(lim['max_recording_frames'])} của hồ "
                "sơ đánh giá (limits.max_recording_frames)")
        fps = float(stream.average_rate) if stream.average_rate else None
        try:
            ctx.thread_type = "AUTO"
            ctx.thread_count = DECODE_THREADS
        except Exception:  # noqa: BLE001
            pass
        return FrameSource(path=str(p), name=n, container_format=str(container.format.name), codec=codec,
                           width=w, height=h, declared_seconds=declared_s, declared_frames=declared_frames,
                           average_fps=fps, limits=lim, _container=container, _stream=stream)
    except RecordingError:
        container.close()
        raise
    except Exception as exc:  # noqa: BLE001
        container.close()
        raise RecordingError("broken", f"{n}: the video cannot be read ({_short(exc)})",
                             f"{n}: không đọc được video ({_short(exc)})") from None
