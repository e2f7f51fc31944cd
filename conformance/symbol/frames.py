"""Analyse an evidence image file under the profile's limits, frame by frame when it holds several.

    analyse_frames(source, *, ppi=None, limits=None, name=None) -> FrameAnalysis   (never raises)

A multi-frame file (APNG, animated GIF/WebP/AVIF, multi-page TIFF, HEIF sequence) is judged on the first frame that
shows a QR symbol, examining frames in order up to limits.max_frames; `frames` says how many the file holds,
`judged_frame` which one the symbols come from (0-based), `frames_examined` how many were decoded. A one-frame file
is the same as analyse_image with the loader's limits applied (each side, aspect ratio, pixel count from the header).

FrameAnalysis is an ImageAnalysis (analyse.py) with these extra fields, and `image` (how the frame was loaded:
format, bit depth, ICC profile and sRGB conversion, alpha background, EXIF orientation, notes) in to_dict().
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any

from .analyse import ImageAnalysis, analyse_image
from .load import ImageLimits, LoadedImage, LoadError, iter_frames, source_name


@dataclass
class FrameAnalysis(ImageAnalysis):
    frames: int | None = None
    judged_frame: int | None = None
    frames_examined: int = 0
    image: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    notes_vi: list[str] = field(default_factory=list)
    frame_fault: bool = False  # a later frame could not be read (its note names the file; it may not recur)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d.update({"frames": self.frames, "judged_frame": self.judged_frame, "frames_examined": self.frames_examined,
                  "image": self.image, "notes": list(self.notes), "notes_vi": list(self.notes_vi)})
        return d


def _promote(an: ImageAnalysis, cls: type = FrameAnalysis, **extra: Any) -> Any:
    """The same analysis as an instance of a subclass (every ImageAnalysis field copied, whatever they are)."""
    return cls(**{f.name: getattr(an, f.name) for f in fields(ImageAnalysis)}, **extra)


def _note(out: FrameAnalysis, en: str, vi: str) -> None:
    out.notes.append(en)
    out.notes_vi.append(vi)


def analyse_frames(source: Any, *, ppi: float | None = None, limits: ImageLimits | None = None,
                   max_pixels: int | None = None, name: str | None = None) -> FrameAnalysis:
    """analyse_image on the first frame that shows a symbol (never raises: problems go to `.error`/`.error_vi`)."""
    t0 = time.perf_counter()
    nm = source_name(source, name)
    limits = limits or ImageLimits()
    if max_pixels:
        limits = ImageLimits(int(max_pixels), limits.max_side, limits.max_aspect, limits.max_frames)
    first: ImageAnalysis | None = None
    first_info: LoadedImage | None = None
    chosen: ImageAnalysis | None = None
    chosen_info: LoadedImage | None = None
    examined = 0
    total = None
    load_ms = 0.0
    late_error: LoadError | None = None
    try:
        it = iter_frames(source, nm, limits)
        while True:
            t = time.perf_counter()
            try:
                fr = next(it)
            except StopIteration:
                break
            except LoadError as exc:
                if first is None:
                    raise
                late_error = exc
                break
            load_ms += (time.perf_counter() - t) * 1000
            total = fr.frames
            examined += 1
            an = analyse_image(fr.gray, ppi=ppi, max_pixels=limits.max_pixels, name=nm)
            if first is None:
                first, first_info = an, fr
            if an.error is None and an.symbols:
                chosen, chosen_info = an, fr
                break
            fr.gray = None  # type: ignore[assignment]  # keep one decoded frame at a time
    except LoadError as exc:
        out = FrameAnalysis(name=nm, error=exc.en, error_vi=exc.vi)
        out.timings_ms["total"] = round((time.perf_counter() - t0) * 1000, 2)
        return out
    except Exception as exc:  # noqa: BLE001 - last line of defence: report, never raise
        out = FrameAnalysis(name=nm, error=f"{nm}: internal error while loading the image ({type(exc).__name__}: "
                                           f"{exc})",
                            error_vi=f"{nm}: lỗi nội bộ khi nạp ảnh ({type(exc).__name__}: {exc})")
        out.timings_ms["total"] = round((time.perf_counter() - t0) * 1000, 2)
        return out
    assert first is not None and first_info is not None
    an, info = (chosen, chosen_info) if chosen is not None and chosen_info is not None else (first, first_info)
    out = _promote(an, frames=total, judged_frame=info.frame, frames_examined=examined, image=info.info())
    for en, vi in info.notes:
        _note(out, en, vi)
    if total and total > 1:
        if chosen is not None:
            _note(out, f"multi-frame image ({total} frames): frame {info.frame + 1} is the first showing a QR "
                       f"symbol and was judged" + ("; frames after it were not examined" if info.frame + 1 < total
                                                   else ""),
                  f"ảnh nhiều khung hình ({total} khung): khung {info.frame + 1} là khung đầu tiên có mã QR và được "
                  f"đánh giá" + ("; các khung sau không được xét" if info.frame + 1 < total else ""))
        else:
            more = total > examined
            _note(out, f"multi-frame image ({total} frames): no QR symbol in the {examined} frame(s) examined"
                       + (f" (limit {limits.max_frames}, limits.max_image_frames)" if more else "")
                       + "; frame 1 was judged",
                  f"ảnh nhiều khung hình ({total} khung): không có mã QR trong {examined} khung đã xét"
                  + (f" (giới hạn {limits.max_frames}, limits.max_image_frames)" if more else "")
                  + "; khung 1 được đánh giá")
    if late_error is not None:
        out.frame_fault = True
        _note(out, f"frame {examined + 1} could not be read: {late_error.en}",
              f"không đọc được khung {examined + 1}: {late_error.vi}")
    out.timings_ms["load"] = round(load_ms, 2)
    out.timings_ms["total"] = round((time.perf_counter() - t0) * 1000, 2)
    return out


__all__ = ["FrameAnalysis", "analyse_frames"]
