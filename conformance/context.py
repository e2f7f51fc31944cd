"""What the checks see: one object per evidence item, subject and package, computing each layer once.

Every expensive step (image load + decode, payload validation, OCR) is a cached property, so however many checks
read it, it runs once per evidence item.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from conformance.capture.package import EvidenceItem, Package

SCREENSHOT, PAYLOAD = "screenshot", "payload"


class EvidenceContext:
    def __init__(self, item: EvidenceItem, package: Package, profile: dict[str, Any], today: dt.date | None = None):
        self.item, self.package, self.profile = item, package, profile
        self.today = today or dt.date.today()

    # -- identity -------------------------------------------------------------------------------------------------
    @property
    def key(self) -> str:
        return self.item.key

    @property
    def subject(self) -> dict[str, Any] | None:
        return self.package.subjects.get(self.item.subject)

    @property
    def mode(self) -> str:
        return self.item.mode

    # -- capture -> symbol ----------------------------------------------------------------------------------------
    @cached_property
    def analysis(self):
        """conformance.symbol.ImageAnalysis for screenshots, else None."""
        if self.item.kind != SCREENSHOT or self.item.path is None:
            return None
        from conformance.symbol import analyse_image

        limits = self.profile.get("limits", {})
        return analyse_image(self.item.path, ppi=self.package.ppi,
                             max_pixels=int(limits.get("max_image_pixels", 40_000_000)), name=self.item.file)

    @property
    def symbols(self) -> list:
        a = self.analysis
        return list(a.symbols) if a is not None and not a.error else []

    @cached_property
    def symbol(self):
        """The personal QR of this capture: the only symbol, or, among several, the one that looks like a v1.1
        payload (six '|'-separated fields); None when there is none or it is ambiguous."""
        syms = [s for s in self.symbols if s.text is not None]
        if len(syms) <= 1:
            return syms[0] if syms else None
        if len({s.text for s in syms}) == 1:  # the same code shown twice: measure the larger copy
            return max(syms, key=lambda s: s.size_px or 0)
        looks = [s for s in syms if s.text.count("|") == 5]
        if len(looks) == 1:
            return looks[0]
        return None

    # -- payload ----------------------------------------------------------------------------------------------------
    @cached_property
    def payload_data(self) -> bytes | None:
        if self.item.kind == PAYLOAD:
            if self.item.path is None:
                return None
            limit = int(self.profile.get("limits", {}).get("max_payload_bytes", 65536))
            with self.item.path.open("rb") as f:
                data = f.read(limit + 1)
            # A text file normally ends with one line break that is not part of the payload.
            if data.endswith(b"\r\n"):
                data = data[:-2]
            elif data.endswith(b"\n"):
                data = data[:-1]
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            return data
        s = self.symbol
        if s is None:
            return None
        raw = getattr(s, "raw_bytes", None)
        return raw if raw else s.text.encode("utf-8")

    @cached_property
    def payload_text(self) -> str | None:
        data = self.payload_data
        if data is None:
            return None
        return data.decode("utf-8", errors="replace")

    @cached_property
    def payload_report(self):
        data = self.payload_data
        if data is None:
            return None
        from conformance.payload import validate_payload

        return validate_payload(data, mode=self.mode,
                                masking=self.profile["payload"]["masking_in_default_mode"], today=self.today,
                                max_bytes=int(self.profile.get("limits", {}).get("max_payload_bytes", 65536)))

    # -- screen text (OCR) ------------------------------------------------------------------------------------------
    @cached_property
    def screen_text(self):
        a = self.analysis
        if a is None or a.error or getattr(a, "gray", None) is None:
            return None
        from conformance.ocr import read_screen

        boxes = []
        for s in self.symbols:
            xs = [p[0] for p in s.corners]
            ys = [p[1] for p in s.corners]
            boxes.append([int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1])
        return read_screen(a.gray, exclude_boxes=boxes)

    # -- errors -----------------------------------------------------------------------------------------------------
    @cached_property
    def error(self) -> tuple[str, str] | None:
        """(en, vi) when the suite cannot judge this evidence item at all."""
        if self.item.error_en:
            return self.item.error_en, self.item.error_vi or self.item.error_en
        if self.item.kind == SCREENSHOT:
            a = self.analysis
            if a is not None and a.error:
                return a.error, getattr(a, "error_vi", None) or a.error
        if self.item.kind == PAYLOAD:
            try:
                data = self.payload_data
            except OSError as exc:
                return (f"{self.item.file}: cannot read: {exc.strerror}", f"{self.item.file}: không đọc được: {exc.strerror}")
            if data is not None and len(data) == 0:
                return (f"{self.item.file}: the payload file is empty", f"{self.item.file}: tệp nội dung mã rỗng")
        return None


@dataclass
class SubjectContext:
    subject_id: str
    record: dict[str, Any]
    evidence: list[EvidenceContext] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"subject:{self.subject_id}"


@dataclass
class PackageContext:
    package: Package
    profile: dict[str, Any]
    evidence: list[EvidenceContext]
    subjects: list[SubjectContext]

    @property
    def key(self) -> str:
        return "package"


def build_contexts(package: Package, profile: dict[str, Any], today: dt.date | None = None) -> PackageContext:
    evs = [EvidenceContext(item, package, profile, today) for item in package.evidence]
    subs = [SubjectContext(sid, rec, [e for e in evs if e.item.subject == sid]) for sid, rec in package.subjects.items()]
    return PackageContext(package, profile, evs, subs)
