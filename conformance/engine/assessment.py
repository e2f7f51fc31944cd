"""The result of one assessment: findings -> requirement statuses -> verdict -> the results.json document
(format 1.x, specs/results.schema.json). Plain data; writing files is the reports layer's job."""
from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance import SPEC_VERSION, __version__
from conformance.capture.package import Package
from conformance.checks.context import EvidenceView
from conformance.model import NOT_RUN, Finding
from conformance.specs import load_catalogue, load_catalogue_document

FORMAT_VERSION = "1.1"
# Precedence when one requirement has findings on several evidence items.
PRECEDENCE = ("fail", "error", "warn", "review", "pass", "skip", "not_applicable")
VERDICTS = ("conformant", "non-conformant", "incomplete", "partial")
OPEN = ("fail", "warn", "review", "error")
# results.json lists every non-pass finding; of the rest, this many per requirement and status (the evidence
# entries keep every item's status), so the document grows with findings, not with items x checks.
MAX_LISTED_PER_STATUS = 50


def combine(statuses: Iterable[str]) -> str:
    present = set(statuses)
    for s in PRECEDENCE:
        if s in present:
            return s
    return "skip"  # no finding at all: nothing in the package let the suite judge it


def item_status(findings: Iterable[Finding]) -> str:
    fs = list(findings)
    if any(f.status == "error" for f in fs):
        return "error"
    return combine(f.status for f in fs)


def verdict_of(requirements: Sequence[dict[str, Any]], partial: bool) -> str:
    must = [r for r in requirements if r["level"] == "MUST"]
    if partial:
        return "partial"
    if any(r["status"] == "fail" for r in must):
        return "non-conformant"
    if any(r["status"] in ("skip", "review", "error") for r in must):
        return "incomplete"
    return "conformant"


def display_path(path: Path) -> str:
    """A package path fit for a report: relative to the working folder when inside it, else the folder's name
    (reports never carry the assessor's machine paths)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return p.name


def environment() -> dict[str, Any]:
    pkgs: dict[str, str | None] = {}
    for name in ("zxing-cpp", "opencv-python-headless", "pyzbar", "numpy", "pillow", "pytesseract", "segno",
                 "jsonschema", "playwright", "Flask"):
        try:
            pkgs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    try:
        import pytesseract

        pkgs["tesseract"] = str(pytesseract.get_tesseract_version())
    except Exception:  # noqa: BLE001 - the version is informative only
        pass
    return {"python": sys.version.split()[0], "platform": platform.platform(), "packages": pkgs}


@dataclass
class Assessment:
    """One assessment. `to_dict()` is the results.json document (before masking, which the reports apply)."""

    package: Package
    profile: dict[str, Any]
    findings: list[Finding]
    entries: list[dict[str, Any]]  # evidence_entry() of every evidence item, manifest order
    started: dt.datetime
    finished: dt.datetime
    today: dt.date
    selected_checks: list[str] | None = None  # None: every check
    selected_items: list[int] | None = None  # None: every evidence item
    run_requirements: frozenset[str] | None = None  # requirements at least one selected check judges
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        return self.selected_checks is not None or self.selected_items is not None

    def requirements(self) -> list[dict[str, Any]]:
        """One entry per catalogue requirement, in catalogue order."""
        by_req: dict[str, list[Finding]] = {}
        for f in self.findings:
            by_req.setdefault(f.requirement, []).append(f)
        pkg = shlex.quote(display_path(self.package.root))
        out = []
        for rid, req in load_catalogue().items():
            fs = by_req.get(rid, [])
            entry: dict[str, Any] = {"id": rid, "level": req["level"], "origin": req["origin"], "grade": req["grade"],
                                     "title_en": req["title_en"], "title_vi": req["title_vi"]}
            if self.run_requirements is not None and rid not in self.run_requirements:
                entry.update(status=NOT_RUN, findings=[{
                    "evidence": "package", "status": "skip", "measured": {},
                    "message_en": "not run: no check of this requirement was selected",
                    "message_vi": "không chạy: không phép kiểm tra nào của yêu cầu này được chọn"}])
                out.append(entry)
                continue
            status = combine(f.status for f in fs)
            entry["status"] = status
            listed, omitted = _listed(fs)
            entry["findings"] = [f.to_dict() for f in listed]
            if omitted:
                entry["findings_omitted"] = omitted
            if not fs:
                entry["findings"] = [{"evidence": "package", "status": "skip", "measured": {},
                                      "message_en": "no evidence in the package let the suite judge this requirement",
                                      "message_vi": "gói bằng chứng không có dữ liệu để đánh giá yêu cầu này"}]
            if status in OPEN:
                checks = sorted({f.check for f in fs if f.check and f.status == status})
                items = sorted({f.item for f in fs if f.item is not None and f.status == status})
                sel = " ".join(f"--check {c}" for c in checks) + "".join(f" --item {i}" for i in items[:5])
                # schemathesis-style reproducer: the same judgement, alone, from the command line
                entry["reproduce"] = {
                    "cli": f"vnqr-conformance assess {pkg} {sel}".rstrip(),
                    "pytest": f"python -m pytest --pyargs conformance.test_conformance --candidate {pkg} -k {rid}",
                }
            out.append(entry)
        return out

    def evidence(self) -> list[dict[str, Any]]:
        by_item: dict[int, list[Finding]] = {}
        for f in self.findings:
            if f.item is not None:
                by_item.setdefault(f.item, []).append(f)
        out = []
        for e in self.entries:
            entry = dict(e)
            if "status" not in entry:
                fs = by_item.get(entry["index"])
                entry["status"] = item_status(fs) if fs is not None else NOT_RUN
            out.append(entry)
        return out

    def to_dict(self) -> dict[str, Any]:
        reqs = self.requirements()
        counts = {s: 0 for s in PRECEDENCE + (NOT_RUN,)}
        for r in reqs:
            counts[r["status"]] += 1
        if not counts[NOT_RUN]:
            del counts[NOT_RUN]
        doc = load_catalogue_document()
        profile_path = self.profile.get("_path")
        return {
            "format_version": FORMAT_VERSION,
            "suite_version": __version__,
            "spec_version": SPEC_VERSION,
            "catalogue_version": doc["catalogue_version"],
            "generated_at": self.finished.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "validation_date": self.today.isoformat(),
            "duration_s": round((self.finished - self.started).total_seconds(), 3),
            "profile": {"name": self.profile["name"], "profile_version": self.profile["profile_version"],
                        "path": os.path.basename(profile_path) if profile_path else None,
                        "settings": {k: v for k, v in self.profile.items() if not k.startswith("_")}},
            "candidate": dict(self.package.candidate),
            "device": dict(self.package.device),
            "package": {"path": display_path(self.package.root), "manifest_sha256": self.package.manifest_sha256},
            "verdict": verdict_of(reqs, self.partial),
            "summary": {"counts": counts,
                        "must_failed": [r["id"] for r in reqs if r["level"] == "MUST" and r["status"] == "fail"],
                        "must_open": [r["id"] for r in reqs
                                      if r["level"] == "MUST" and r["status"] in ("skip", "review", "error")],
                        "checks_selected": self.selected_checks,
                        "items_selected": self.selected_items},
            "requirements": reqs,
            "evidence": self.evidence(),
            "subjects": [dict(s) for s in self.package.subjects.values()],
            "environment": environment(),
            "pii_masked": False,
            **self.extra,
        }


def evidence_entry(views: Sequence[EvidenceView], sha256: str | None, mode: str | None) -> dict[str, Any]:
    """The results.json evidence[] entry of one item from its views (its status is added from the findings).
    `mode` is the item's declared mode (a recording may declare none)."""
    v = views[0]
    entry: dict[str, Any] = {"index": v.index, "file": v.file, "sha256": sha256, "kind": v.kind, "mode": mode or None,
                             "subject": v.subject_id, "symbols": []}
    if v.error is not None:
        entry["status"] = "error"
        entry["error"], entry["error_vi"] = v.error
    else:
        if v.width is not None:
            entry["image"] = {"width": v.width, "height": v.height,
                              **{k: x for k, x in v.detail.items()
                                 if k in ("frames", "judged_frame", "notes", "notes_vi", "format")}}
        photo = v.detail.get("photo")
        if isinstance(photo, Mapping):
            entry["photo"] = {k: photo.get(k) for k in ("outline", "size", "notes", "notes_vi")}
        entry["symbols"] = [s.to_dict() for s in v.symbols]
        if v.symbol_note is not None:
            entry["symbol_note"], entry["symbol_note_vi"] = v.symbol_note
        if v.screen is not None:
            # run times are not results: they would make two runs of the same evidence differ
            entry["screen_text"] = {k: x for k, x in v.screen.to_dict().items() if k != "timings_ms"}
        if v.payload_text is not None:
            entry["payload"] = v.payload_text
        if "recording" in v.detail:
            entry["recording"] = v.detail["recording"]
            entry["frames"] = [{"part": p.part, "mode": p.mode, **dict(p.detail.get("frame") or {}),
                                "symbols": [s.to_dict() for s in p.symbols], "payload": p.payload_text}
                               for p in views if p.part is not None]
    for k in ("source", "step", "displayed", "toggle_ms", "tap_at_seconds", "screen_width_mm"):
        if k in v.extra:
            entry[k] = v.extra[k]
    return entry


def _listed(findings: list[Finding]) -> tuple[list[Finding], dict[str, int]]:
    listed: list[Finding] = []
    omitted: dict[str, int] = {}
    seen: dict[str, int] = {}
    for f in findings:
        if f.status in OPEN:
            listed.append(f)
            continue
        n = seen.get(f.status, 0)
        seen[f.status] = n + 1
        if n < MAX_LISTED_PER_STATUS:
            listed.append(f)
        else:
            omitted[f.status] = omitted.get(f.status, 0) + 1
    return listed, omitted

