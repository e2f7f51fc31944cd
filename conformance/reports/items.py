"""Per-item detail files and what the reports read one item at a time, so that writing the reports of a large
package holds neither every item's detail nor every screenshot in memory.

- ItemSource: the whole evidence entry of each item (symbols with every measurement, the screen text, a
  recording's timeline), from the document itself or from the assessment's detail store (Assessment.detail_of).
- write_item_files(): items/<index>.json, the detail part of each entry (conformance/engine/assessment.py
  split_entry), masked like every other file and validated against specs/results.schema.json $defs/item_detail.
- with_details(): a document whose entries are whole for the items the HTML report may show in full.
- LazyImages: the package's screenshots by evidence file name, read when asked for (the last few kept).
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from conformance.engine.assessment import DETAIL_DIR, detail_file, split_entry

from .jsonreport import to_jsonable

Details = Callable[[int], "dict[str, Any] | None"]
OPEN = ("fail", "warn", "review", "error")
# The HTML report shows detail cards for items with open results and a sample of passing ones: entries are given
# to it whole for every item of a package up to INLINE_ALL items, else for the first INLINE_OPEN items with an
# open status and the first INLINE_FIRST items (the others keep their summary).
INLINE_ALL = 250
INLINE_OPEN = 200
INLINE_FIRST = 50


class ItemSource:
    """Whole evidence entries of a (JSON-typed) results document, one at a time, by item index."""

    def __init__(self, doc: dict[str, Any], details: Details | None = None):
        self._inline = {e["index"]: e for e in doc.get("evidence") or []
                        if isinstance(e, dict) and isinstance(e.get("index"), int) and "detail" not in e}
        self._details = details
        self.indexes = [e["index"] for e in doc.get("evidence") or [] if isinstance(e, dict)
                        and isinstance(e.get("index"), int)]
        # screenshots a report may show, by their real file names
        self.screenshot_files = [e["file"] for e in doc.get("evidence") or [] if isinstance(e, dict)
                                 and e.get("kind") == "screenshot" and e.get("file") and not e.get("error")]
        self.recording_indexes = [e["index"] for e in doc.get("evidence") or [] if isinstance(e, dict)
                                  and e.get("kind") == "recording" and isinstance(e.get("index"), int)
                                  and e.get("file") and not e.get("error")]

    def whole(self, index: int) -> dict[str, Any] | None:
        if index in self._inline:
            return self._inline[index]
        got = self._details(index) if self._details is not None else None
        return to_jsonable(got) if got is not None else None

    def details(self) -> Iterator[dict[str, Any]]:
        """The detail part of every item (what its per-item file holds), in manifest order."""
        for i in self.indexes:
            whole = self.whole(i)
            if whole is not None:
                yield split_entry(whole)[1]


def slim_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with every evidence entry as results.json keeps it (split_entry)."""
    out = dict(doc)
    out["evidence"] = [split_entry(e)[0] if isinstance(e, dict) and isinstance(e.get("index"), int) else e
                       for e in doc.get("evidence") or []]
    return out


def write_item_files(source: ItemSource, out_dir: Path, mask: Callable[[Any], Any]) -> Path:
    """out_dir/items/<index>.json for every item, masked; returns the folder."""
    from .jsonreport import validate_item_detail

    folder = out_dir / DETAIL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for detail in source.details():
        masked = mask(detail)
        validate_item_detail(masked)
        path = out_dir / detail_file(detail["index"])
        path.write_text(json.dumps(masked, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    return folder


def with_details(doc: dict[str, Any], source: ItemSource, mask: Callable[[Any], Any]) -> dict[str, Any]:
    """`doc` (masked, linked) with whole (masked) entries for the items the HTML report may show in full."""
    evidence = [e for e in doc.get("evidence") or [] if isinstance(e, dict)]
    if len(evidence) <= INLINE_ALL:
        chosen = {e.get("index") for e in evidence}
    else:
        open_items = [e.get("index") for e in evidence if e.get("status") in OPEN][:INLINE_OPEN]
        chosen = set(open_items) | {e.get("index") for e in evidence[:INLINE_FIRST]}
    out = dict(doc)
    out["evidence"] = [_whole(e, source, mask) if e.get("index") in chosen and "detail" in e else e
                       for e in doc.get("evidence") or []]
    return out


def _whole(entry: dict[str, Any], source: ItemSource, mask: Callable[[Any], Any]) -> dict[str, Any]:
    whole = source.whole(entry["index"])
    if whole is None:
        return entry
    detail = mask(split_entry(whole)[1])
    out = {k: v for k, v in entry.items() if k != "symbols"}
    out.update({k: v for k, v in detail.items() if k not in ("index", "file", "kind", "mode", "subject")})
    return out


def recording_frames_of(source: ItemSource, root: Path) -> dict[Any, Any]:
    """The representative frames of every recording item, by (item index, frame index), decoded again from the
    package's files (conformance/reports/html.py)."""
    from .html import recording_frames_from_file

    out: dict[Any, Any] = {}
    for i in source.recording_indexes:
        whole = source.whole(i)
        if whole is not None:
            out.update(recording_frames_from_file(whole, root))
    return out


class LazyImages(Mapping[Any, Any]):
    """Screenshots by (shown) evidence file name, read from the package folder when asked for; unreadable,
    oversized or missing files are absent (the report then says there is no picture). Keeps the last `keep`.
    `extra`: pictures already in memory under their own keys (a recording's frames by (item, frame index))."""

    def __init__(self, root: Path, files: Mapping[str, str], max_pixels: int = 40_000_000, keep: int = 2,
                 extra: Mapping[Any, Any] | None = None):
        self.root, self.files, self.max_pixels, self.keep = Path(root), dict(files), max_pixels, keep
        self.extra = dict(extra or {})
        self._recent: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()  # the report draws its pictures on a few threads

    def renamed(self, name: Callable[[str], str]) -> LazyImages:
        return LazyImages(self.root, {name(k): v for k, v in self.files.items()}, self.max_pixels, self.keep,
                          self.extra)

    def __getitem__(self, key: Any) -> Any:
        if key in self.extra:
            return self.extra[key]
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        real = self.files[key]
        img = self._load(real)
        if img is None:
            raise KeyError(key)
        with self._lock:
            self._recent[key] = img
            while len(self._recent) > self.keep:
                self._recent.popitem(last=False)
        return img

    def _load(self, real: str) -> Any:
        from PIL import Image

        from .annotate import to_pil

        try:
            with Image.open(self.root / real) as im:
                if im.width * im.height > self.max_pixels:
                    return None
                return to_pil(im)
        except Exception:  # noqa: BLE001 - any broken file just has no picture in the report
            return None

    def __iter__(self) -> Iterator[Any]:
        yield from self.files
        yield from self.extra

    def __len__(self) -> int:
        return len(self.files) + len(self.extra)

    def __contains__(self, key: object) -> bool:
        return key in self.files or key in self.extra
