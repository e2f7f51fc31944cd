"""What a check may read: frozen, typed views built by the engine (conformance/engine/analysis.py).

A check gets one of
- EvidenceView: one evidence item (or one part of it, e.g. a recording's frame) with everything computed for it;
- SubjectView: one subject and the views of all its items;
- PackageView: the whole package (live-capture checks);
- CampaignView: one person of a campaign and every candidate's views of that person (cross-candidate checks).
Nothing here computes: the engine fills the fields a check declared in `needs`; the others are None / empty.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for annotations only: the views carry the objects, the checks never build them
    from conformance.ocr.reader import ScreenReading
    from conformance.payload.validate import PayloadReport
    from conformance.symbol.analyse import SymbolReport


@dataclass(frozen=True)
class Thresholds:
    """The assessment profile's values that checks read (specs/profile.default.yaml explains each)."""

    min_ecc: str
    min_quiet_zone_modules: float
    min_module_px: float
    min_symbol_mm: float
    min_symbol_contrast: float
    min_degradations_passed: int
    toggle_max_seconds: float
    masking_in_default_mode: str

    @classmethod
    def from_profile(cls, profile: Mapping[str, Any]) -> Thresholds:
        sym = profile["symbol"]
        return cls(min_ecc=str(sym["min_ecc"]), min_quiet_zone_modules=float(sym["min_quiet_zone_modules"]),
                   min_module_px=float(sym["min_module_px"]), min_symbol_mm=float(sym["min_symbol_mm"]),
                   min_symbol_contrast=float(sym["min_symbol_contrast"]),
                   min_degradations_passed=int(sym["min_degradations_passed"]),
                   toggle_max_seconds=float((profile.get("display") or {}).get("toggle_max_seconds", 1.0)),
                   masking_in_default_mode=str(profile["payload"]["masking_in_default_mode"]))


@dataclass(frozen=True)
class EvidenceView:
    index: int  # position in candidate.json evidence[]
    file: str
    kind: str
    mode: str
    subject_id: str
    record: Mapping[str, Any] | None  # the subject's registered record; None when the subject is unknown
    extra: Mapping[str, Any]  # the manifest entry's other keys (live capture: source, step, displayed, toggle_ms)
    thresholds: Thresholds
    today: dt.date
    ppi: float | None
    screen_width_px: int | None = None  # the device's screen width (candidate.json device.width_px)
    part: str | None = None  # which part of the item this view is (a recording's frame), None for the whole item
    error: tuple[str, str] | None = None  # (en, vi) when the item cannot be judged at all
    width: int | None = None
    height: int | None = None
    symbols: tuple[SymbolReport, ...] = ()  # every decoded symbol of the capture
    symbol: SymbolReport | None = None  # the personal QR chosen among them; None when none or ambiguous
    symbol_note: tuple[str, str] | None = None  # (en, vi) why no symbol was chosen although several decoded
    payload_text: str | None = None
    payload: PayloadReport | None = None
    screen: ScreenReading | None = None
    display: Mapping[str, Any] | None = None  # conformance.ocr.judge_display on `screen`
    robustness: tuple[Mapping[str, Any], ...] | None = None  # SYMBOL-008 sweep
    detail: Mapping[str, Any] = field(default_factory=dict)  # per-kind analysis detail (image frames, photo, ...)

    @property
    def key(self) -> str:
        """Unique key of this view: files can repeat across items, indexes cannot."""
        return f"#{self.index}" + (f"/{self.part}" if self.part else "")


@dataclass(frozen=True)
class SubjectView:
    subject_id: str
    record: Mapping[str, Any]
    items: tuple[EvidenceView, ...]
    thresholds: Thresholds

    @property
    def key(self) -> str:
        return f"subject:{self.subject_id}"


@dataclass(frozen=True)
class PackageView:
    root: Path
    manifest: Mapping[str, Any]
    subjects: Mapping[str, Mapping[str, Any]]
    items: tuple[EvidenceView, ...]
    thresholds: Thresholds
    today: dt.date
    capture_log: Mapping[str, Any] | None = None  # the live capture log (None: no live capture in the package)
    capture_log_error: tuple[str, str] | None = None
    capture_log_file: str | None = None

    @property
    def key(self) -> str:
        return "package"


@dataclass(frozen=True)
class CampaignView:
    """One person of a campaign (several candidate apps assessed for the same test accounts): the campaign's record
    of the person (the truth) and, for every candidate, the views of its evidence items showing that person."""

    subject_id: str
    record: Mapping[str, Any]  # the campaign's record (campaign.yaml subjects[]), not a package's
    candidates: tuple[str, ...]  # every candidate's name, in campaign order (also those not showing the person)
    views: Mapping[str, tuple[EvidenceView, ...]]  # candidate name -> its views of this person, manifest order
    thresholds: Thresholds

    @property
    def key(self) -> str:
        return f"campaign:{self.subject_id}"

    def payloads(self, candidate: str, mode: str) -> tuple[str, ...]:
        """The distinct payloads a candidate showed this person in one mode (decoded, usable items only), in the
        order first seen."""
        out: dict[str, None] = {}
        for v in self.views.get(candidate, ()):
            if v.mode == mode and v.error is None and v.payload_text is not None:
                out.setdefault(v.payload_text, None)
        return tuple(out)
