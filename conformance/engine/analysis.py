"""Per-item analysis: capture -> symbol -> payload -> screen text, computing only the inputs the selected checks
declared (`needs`), each once per evidence file (items naming the same file share one image analysis).

Runs in worker processes (conformance/engine/run.py) or in-process (workers=1, the pytest front-end). Returns
EvidenceViews without the decoded image, so what travels back is small.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conformance.capture.package import EvidenceItem
from conformance.checks.context import EvidenceView, Thresholds
from conformance.payload import parse_payload

SCREEN_KINDS = ("screenshot", "photo")
PAYLOAD_KIND = "payload"
RECORDING_KIND = "recording"


@dataclass(frozen=True)
class ItemTask:
    """Everything a worker needs to analyse one evidence item (picklable, no open files)."""

    item: EvidenceItem
    record: Mapping[str, Any] | None
    root: str
    ppi: float | None
    screen_width_px: int | None
    profile: Mapping[str, Any]
    today: dt.date
    needs: frozenset[str]
    cache_dir: str | None = None  # the analysis cache folder (conformance/engine/cache.py); None: no cache


@dataclass
class ImageFacts:
    """What the symbol layer measured on one image file (shared by every item naming it)."""

    error: tuple[str, str] | None = None
    width: int | None = None
    height: int | None = None
    symbols: tuple[Any, ...] = ()
    gray: Any = None  # the decoded greyscale image (kept only inside the worker)
    robustness: dict[int, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    screen: Any = None
    detail: dict[str, Any] = field(default_factory=dict)
    # False when the analysis depends on more than the file's content and the profile: a reference decoder that
    # crashed or timed out, a screen reading that failed, a later frame that could not be read (faults of this run,
    # some with the file's name in their note): never stored in the analysis cache
    cacheable: bool = True


def _limits(profile: Mapping[str, Any]) -> Mapping[str, Any]:
    return profile.get("limits") or {}


def _wide_encoding(data: bytes) -> bool:
    """UTF-16/UTF-32 text: a byte-order mark, or NUL bytes in a quarter of the first bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = data[:256]
    return len(sample) >= 4 and sample.count(0) >= len(sample) // 4


def read_payload_file(path: Path, max_bytes: int) -> tuple[bytes | None, tuple[str, str] | None]:
    """The payload text file of a `payload` item: UTF-8, one trailing line break and a BOM ignored. UTF-16/32 and
    other encodings are an evidence error (a wrong file), not a payload defect."""
    with path.open("rb") as f:
        data = f.read(max_bytes + 1)
    if _wide_encoding(data):
        return None, ("the payload file is UTF-16 or another wide encoding; write the decoded string as UTF-8 text",
                      "tệp nội dung mã ở dạng UTF-16 hoặc mã hoá ký tự rộng khác; hãy ghi chuỗi giải mã dưới dạng văn "
                      "bản UTF-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        return None, ("the payload file is empty", "tệp nội dung mã rỗng")
    return data, None


def _choose_symbol(symbols: tuple[Any, ...]) -> tuple[Any, tuple[str, str] | None]:
    """The personal QR of a capture: the only symbol; among several, copies of one code (the largest measured), or
    the one that looks like a v1.1 payload (six '|'-separated fields). Otherwise none, with the reason."""
    decoded = [s for s in symbols if s.text is not None]
    if len(decoded) <= 1:
        return (decoded[0] if decoded else None), None
    if len({s.text for s in decoded}) == 1:
        return max(decoded, key=lambda s: s.size_px or 0), None
    looks = [s for s in decoded if parse_payload(s.text).field_count == 6]
    if len(looks) == 1:
        return looks[0], None
    n = len(decoded)
    why = ("none of them has the six '|'-separated fields of a personal QR" if not looks else
           f"{len(looks)} of them have the six '|'-separated fields of a personal QR")
    why_vi = ("không mã nào có sáu trường phân cách bởi '|' của mã QR cá nhân" if not looks else
              f"{len(looks)} mã trong số đó có sáu trường phân cách bởi '|' của mã QR cá nhân")
    return None, (f"the capture shows {n} different QR symbols and {why}, so none was judged as the personal QR",
                  f"ảnh chụp có {n} mã QR khác nhau và {why_vi}, nên không mã nào được đánh giá là mã QR cá nhân")


# what a screenshot's analysis adds to its view's detail (detail key -> ImageAnalysis attribute), and so what its
# cache entry may hold; "format": file format, bit depth, colour profile, orientation (how the file was read)
_DETAIL = {"frames": "frames", "judged_frame": "judged_frame", "notes": "notes", "notes_vi": "notes_vi",
           "format": "image"}


def facts_of_analysis(an: Any, needs: frozenset[str]) -> ImageFacts:
    """ImageFacts from a conformance.symbol ImageAnalysis (and the screen text when a check needs it)."""
    if an.error:
        return ImageFacts(error=(an.error, getattr(an, "error_vi", None) or an.error))
    facts = ImageFacts(width=an.width, height=an.height, symbols=tuple(an.symbols), gray=an.gray)
    for k, attr in _DETAIL.items():
        if getattr(an, attr, None):
            facts.detail[k] = getattr(an, attr)
    photo = getattr(an, "photo", None)
    if photo is not None:
        facts.detail["photo"] = photo
    if "screen_text" in needs:
        from conformance.ocr import read_screen
        from conformance.symbol import symbol_boxes

        if photo is not None:
            # a photo's text is read on the straightened screen, when its outline was found
            screen = getattr(an, "rectified_screen", None)
            if screen is not None:
                facts.screen = read_screen(screen)
        elif an.gray is not None:
            facts.screen = read_screen(an.gray, exclude_boxes=symbol_boxes(an.symbols))
    facts.cacheable = not (getattr(an, "frame_fault", False) or any(s.decoder_errors for s in facts.symbols)
                           or (facts.screen is not None and facts.screen.error))
    return facts


def analyse_image_file(path: Path, name: str, ppi: float | None, profile: Mapping[str, Any],
                       needs: frozenset[str]) -> ImageFacts:
    """Locate, decode and measure the symbols of one image file (and OCR it when a check needs screen text): the
    first frame that shows a symbol of a multi-frame file, within the profile's image limits."""
    from conformance.symbol.frames import analyse_frames
    from conformance.symbol.load import ImageLimits

    an = analyse_frames(path, ppi=ppi, limits=ImageLimits.from_profile(dict(profile)), name=name)
    return facts_of_analysis(an, needs)


def analyse_photo_file(path: Path, name: str, screen_width_mm: float | None, profile: Mapping[str, Any],
                       needs: frozenset[str]) -> ImageFacts:
    """A camera photo of the phone screen: the symbol found under perspective, straightened, decoded and measured;
    the screen's text read on the straightened screen when its outline is found (conformance/symbol/photo.py)."""
    from conformance.symbol.load import ImageLimits
    from conformance.symbol.photo import analyse_photo

    an = analyse_photo(path, screen_width_mm=screen_width_mm, limits=ImageLimits.from_profile(dict(profile)),
                       name=name)
    return facts_of_analysis(an, needs)


def _robustness(facts: ImageFacts, symbol: Any, profile: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    key = id(symbol)
    if key not in facts.robustness:
        from types import SimpleNamespace

        from conformance.symbol import robustness

        sym = profile["symbol"]
        analysis = SimpleNamespace(gray=facts.gray, symbols=list(facts.symbols), error=None)
        # the sweep stops once the outcome is decided; rows not run are marked not_run
        facts.robustness[key] = tuple(robustness(analysis, symbol, sym["degradations"],
                                                 min_passed=int(sym["min_degradations_passed"])))
    return facts.robustness[key]


def base_view(task: ItemTask) -> EvidenceView:
    item = task.item
    return EvidenceView(index=item.index, file=item.file, kind=item.kind, mode=item.mode, subject_id=item.subject,
                        record=task.record, extra=dict(item.extra), thresholds=Thresholds.from_profile(task.profile),
                        today=task.today, ppi=task.ppi, screen_width_px=task.screen_width_px)


def _validated(task: ItemTask, data: bytes, mode: str) -> dict[str, Any]:
    out: dict[str, Any] = {"payload_text": data.decode("utf-8", errors="replace")}
    if "payload" in task.needs:
        from conformance.payload import validate_payload

        out["payload"] = validate_payload(
            data, mode=mode, masking=task.profile["payload"]["masking_in_default_mode"], today=task.today,
            max_bytes=int(_limits(task.profile).get("max_payload_bytes", 65536)))
    return out


def screen_view(task: ItemTask, facts: ImageFacts, base: EvidenceView, *, display: Mapping[str, Any] | None = None,
                ) -> EvidenceView:
    """The view of one captured screen (a screenshot, a photo, a recording's frame) from its image facts."""
    if facts.error is not None:
        return replace(base, error=facts.error)
    symbol, note = _choose_symbol(facts.symbols)
    updates: dict[str, Any] = dict(width=facts.width, height=facts.height, symbols=facts.symbols, symbol=symbol,
                                   symbol_note=note, detail={**base.detail, **facts.detail})
    if symbol is not None:
        if "robustness" in task.needs and (facts.gray is not None or id(symbol) in facts.robustness):
            updates["robustness"] = _robustness(facts, symbol, task.profile)
        updates.update(_validated(task, symbol.raw_bytes or (symbol.text or "").encode("utf-8"), base.mode))
    if facts.screen is not None:
        updates["screen"] = facts.screen
    if display is not None:
        updates["display"] = display
    elif facts.screen is not None and task.record is not None:
        from conformance.ocr import judge_display

        updates["display"] = judge_display(facts.screen, dict(task.record), base.mode)
    return replace(base, **updates)


def build_view(task: ItemTask, facts: ImageFacts | None) -> EvidenceView:
    """The EvidenceView of one screenshot (from its image facts) or payload item (from its file)."""
    item = task.item
    base = base_view(task)
    if item.error_en:
        return replace(base, error=(item.error_en, item.error_vi or item.error_en))
    if item.kind == PAYLOAD_KIND:
        assert item.path is not None
        try:
            data, err = read_payload_file(item.path, int(_limits(task.profile).get("max_payload_bytes", 65536)))
        except OSError as exc:
            return replace(base, error=(f"{item.file}: cannot read: {exc.strerror}",
                                        f"{item.file}: không đọc được: {exc.strerror}"))
        if err is not None or data is None:
            en, vi = err or ("no payload", "không có nội dung")
            return replace(base, error=(f"{item.file}: {en}", f"{item.file}: {vi}"))
        return replace(base, **_validated(task, data, item.mode))
    assert facts is not None
    return screen_view(task, facts, base)


def recording_views(task: ItemTask) -> list[EvidenceView]:
    """A screen recording: the timeline of what it shows (kept in every view's detail for the recording checks of
    DISPLAY-003/004 and GEN-001), and one view per display mode on that mode's representative frame, on which
    every per-screenshot check runs."""
    from conformance.recording import analyse_recording, judge_all
    from conformance.symbol import analyse_image

    item = task.item
    base = base_view(task)
    if item.error_en or item.path is None:
        return [replace(base, error=(item.error_en or f"{item.file}: no file", item.error_vi or item.error_en or ""))]
    tl = analyse_recording(item.path, dict(task.record) if task.record else None, limits=dict(task.profile),
                           name=item.file)
    if tl.error:
        return [replace(base, error=(tl.error, tl.error_vi or tl.error))]
    tap = item.extra.get("tap_at_seconds")
    summary = judge_all(tl, float(tap) if tap is not None else None)
    summary["timeline"] = {k: v for k, v in tl.to_dict().items() if k not in ("frames", "cpu_seconds", "file")}
    summary["timeline"]["frames"] = [{k: f.to_dict()[k] for k in ("index", "time", "duration", "status", "mode")}
                                     | {"codes": len(f.codes)} for f in tl.frames]
    views = []
    for mode, rep in sorted(tl.representatives.items()):
        an = analyse_image(rep.gray, name=f"{item.file} frame {rep.index}", ppi=task.ppi,
                           max_pixels=int(_limits(task.profile).get("max_image_pixels", 40_000_000)))
        facts = facts_of_analysis(an, task.needs - {"screen_text"})
        frame = tl.frame_at(rep.look_index)
        part = f"{mode}@{rep.time:.2f}s"
        fbase = replace(base, mode=mode, part=part, detail={"recording": summary,
                                                            "frame": {"index": rep.index, "time": round(rep.time, 3)}})
        views.append(screen_view(task, facts, fbase, display=frame.display if frame is not None else None))
    if not views:  # no frame shows the code in a readable mode: one view of the whole recording, with no symbol
        views.append(replace(base, width=tl.width, height=tl.height, detail={"recording": summary}))
    return views


def file_key(item: EvidenceItem) -> str:
    """Items with the same content and kind share one analysis."""
    key = f"{item.kind}:{item.sha256 or hashlib.sha256(item.file.encode()).hexdigest()}"
    if item.kind == "photo":  # the declared screen width is part of a photo's analysis
        key += f":{item.extra.get('screen_width_mm')}"
    return key


def _cache_of(task: ItemTask) -> Any:
    if task.cache_dir is None:
        return None
    from conformance.engine.cache import AnalysisCache

    got = _CACHES.get(task.cache_dir)
    if got is None:
        got = _CACHES[task.cache_dir] = AnalysisCache(task.cache_dir)
    return got


_CACHES: dict[str, Any] = {}  # one AnalysisCache per folder and process (it keeps the entry key)


def cache_key(task: ItemTask, needs: frozenset[str]) -> str | None:
    """The analysis cache key of a screenshot item's file analysis (None: no cache, or not cacheable)."""
    cache = _cache_of(task)
    # photos are not cached: their analysis also depends on the declared screen width and rectification detail
    if cache is None or task.item.kind != "screenshot" or task.item.error_en or task.item.path is None:
        return None
    key: str | None = cache.key(sha256=task.item.sha256, kind=task.item.kind, ppi=task.ppi, profile=task.profile,
                                needs=needs)
    return key


def _facts_to_cache(facts: ImageFacts) -> dict[str, Any]:
    index = {id(s): i for i, s in enumerate(facts.symbols)}
    return {"width": facts.width, "height": facts.height, "symbols": tuple(facts.symbols), "screen": facts.screen,
            "detail": dict(facts.detail), "robustness": {index[k]: v for k, v in facts.robustness.items() if k in index}}


def _facts_from_cache(data: Any) -> ImageFacts | None:
    """ImageFacts from a cache entry, or None when the entry does not hold exactly what _facts_to_cache wrote."""
    from conformance.ocr.reader import ScreenReading
    from conformance.symbol.analyse import SymbolReport

    if not (isinstance(data, dict) and set(data) == {"width", "height", "symbols", "screen", "detail", "robustness"}):
        return None
    w, h, syms, screen, detail, rob = (data[k] for k in ("width", "height", "symbols", "screen", "detail",
                                                          "robustness"))
    if not (type(w) is int and type(h) is int and w > 0 and h > 0 and isinstance(syms, tuple)
            and all(type(s) is SymbolReport for s in syms) and (screen is None or type(screen) is ScreenReading)
            and isinstance(detail, dict) and set(detail) <= set(_DETAIL) and isinstance(rob, dict)):
        return None
    robustness: dict[int, tuple[Mapping[str, Any], ...]] = {}
    for i, rows in rob.items():
        if not (type(i) is int and 0 <= i < len(syms) and isinstance(rows, tuple)
                and all(isinstance(r, dict) for r in rows)):
            return None
        robustness[id(syms[i])] = rows
    return ImageFacts(width=w, height=h, symbols=syms, screen=screen, detail=detail, robustness=robustness)


def image_facts(task: ItemTask, needs: frozenset[str]) -> ImageFacts:
    """The analysis of a screenshot item's file: from the analysis cache when it holds exactly this computation,
    else computed (and stored, with the degradation sweep of the symbol a check would judge when it is needed)."""
    assert task.item.path is not None
    key = cache_key(task, needs)
    if key is not None:
        facts = _facts_from_cache(_cache_of(task).get(key))
        if facts is not None:
            return facts
    if task.item.kind == "photo":
        width_mm = task.item.extra.get("screen_width_mm")
        facts = analyse_photo_file(task.item.path, task.item.file, float(width_mm) if width_mm else None,
                                   task.profile, needs)
    else:
        facts = analyse_image_file(task.item.path, task.item.file, task.ppi, task.profile, needs)
    # errors are cheap and may not depend on the content alone; nor do faults of this run (ImageFacts.cacheable):
    # the next run tries again
    if key is not None and facts.error is None and facts.cacheable:
        if "robustness" in needs:
            symbol, _ = _choose_symbol(facts.symbols)
            if symbol is not None and facts.gray is not None:
                _robustness(facts, symbol, task.profile)
        _cache_of(task).put(key, _facts_to_cache(facts))
    return facts


def analyse_group(tasks: Iterable[ItemTask]) -> list[EvidenceView]:
    """Views of items that name the same file: the file is read and analysed once for all of them (a recording,
    whose frames are judged against each item's subject, once per item)."""
    tasks = list(tasks)
    facts: ImageFacts | None = None
    views: list[EvidenceView] = []
    needs = frozenset().union(*(t.needs for t in tasks)) if tasks else frozenset()
    for t in tasks:
        if t.item.kind == RECORDING_KIND:
            views.extend(recording_views(t))
            continue
        if t.item.kind in SCREEN_KINDS and not t.item.error_en and t.item.path is not None and facts is None:
            facts = image_facts(t, needs)
        views.append(build_view(t, facts if t.item.kind in SCREEN_KINDS else None))
    return views
