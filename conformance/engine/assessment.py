"""The result of one assessment: findings -> requirement statuses -> verdict -> the results.json document
(format 1.x, specs/results.schema.json). Plain data; writing files is the reports layer's job."""
from __future__ import annotations

import datetime as dt
import heapq
import json
import os
import platform
import shlex
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance import SPEC_VERSION, __version__
from conformance.capture.package import Package
from conformance.checks.context import EvidenceView
from conformance.checks.registry import all_checks
from conformance.model import NOT_RUN, Finding
from conformance.specs import DEFAULT_PROFILE, load_catalogue, load_catalogue_document

FORMAT_VERSION = "1.1"
# Precedence when one requirement has findings on several evidence items.
PRECEDENCE = ("fail", "error", "warn", "review", "pass", "skip", "not_applicable")
VERDICTS = ("conformant", "non-conformant", "incomplete", "partial")
OPEN = ("fail", "warn", "review", "error")
# results.json lists every non-pass finding; of the rest, this many per requirement and status (the evidence
# entries keep every item's status), so the document grows with findings, not with items x checks.
MAX_LISTED_PER_STATUS = 50
# Per-item detail (every symbol's measurements, the screen text, a recording's timeline and frames) is written by
# the reports layer into one file per item, DETAIL_DIR/<index>.json, linked from the item's evidence[] entry
# ("detail"), which keeps file, kind, mode, subject, status, error, payload and a summary of each symbol.
DETAIL_DIR = "items"
DETAIL_KEYS = ("symbols", "screen_text", "recording", "frames")
SYMBOL_SUMMARY_KEYS = ("ecc", "version", "mask", "module_px", "size_px", "size_mm", "quiet_zone_modules",
                       "symbol_contrast", "polarity", "corners")


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


def detail_file(index: int) -> str:
    """The per-item detail file of evidence item `index`, relative to the report folder."""
    return f"{DETAIL_DIR}/{int(index):06d}.json"


def symbol_summary(sym: dict[str, Any]) -> dict[str, Any]:
    """What evidence[].symbols keeps of a symbol when its measurements are in the per-item file: the headline
    values, its position, and `decoded_by` (the decoders that read the symbol's text)."""
    out = {k: sym[k] for k in SYMBOL_SUMMARY_KEYS if k in sym}
    dec = sym.get("decoders")
    if isinstance(dec, dict):
        out["decoded_by"] = [n for n, t in dec.items() if t is not None and t == sym.get("text")]
    return out


def item_ranges(items: Sequence[int]) -> str:
    """Item indexes as the CLI's --item reads them: [0, 1, 2, 3, 7, 9, 10] -> "0-3,7,9-10"."""
    runs: list[list[int]] = []
    for i in sorted(set(items)):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def split_entry(entry: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the evidence[] entry as results.json keeps it, the per-item detail file's content). An entry that is
    already split (it has `detail`) is returned as it is, with an empty detail."""
    if "detail" in entry:
        return entry, {}
    slim = {k: v for k, v in entry.items() if k not in DETAIL_KEYS or k == "symbols"}
    slim["symbols"] = [symbol_summary(x) if isinstance(x, dict) else x for x in entry.get("symbols") or []]
    slim["detail"] = detail_file(entry["index"])
    detail = {"index": entry["index"], "file": entry.get("file"), "kind": entry.get("kind"),
              "mode": entry.get("mode"), "subject": entry.get("subject")}
    detail.update({k: entry[k] for k in DETAIL_KEYS if k in entry})
    return slim, detail


def _json_default(o: Any) -> Any:
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    try:  # numpy scalars
        return o.item()
    except AttributeError:
        raise TypeError(f"not JSON serialisable: {type(o).__name__}") from None


class DetailStore:
    """Whole evidence entries kept out of memory: one JSON line each in an anonymous temporary file (deleted when
    closed or collected), read back one at a time. Memory holds only their offsets."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="vnqr-detail-")
        self._where: dict[int, tuple[int, int]] = {}
        self._end = 0

    def put(self, index: int, entry: dict[str, Any]) -> None:
        data = json.dumps(entry, ensure_ascii=False, default=_json_default).encode("utf-8")
        self._file.seek(self._end)
        self._file.write(data)
        self._where[int(index)] = (self._end, len(data))
        self._end += len(data)

    def get(self, index: int) -> dict[str, Any] | None:
        at = self._where.get(int(index))
        if at is None:
            return None
        self._file.seek(at[0])
        got: dict[str, Any] = json.loads(self._file.read(at[1]).decode("utf-8"))
        return got

    def __contains__(self, index: object) -> bool:
        return index in self._where

    def __len__(self) -> int:
        return len(self._where)

    def close(self) -> None:
        self._file.close()


class FindingDigest:
    """The findings an assessment keeps, fed as they come: every open one (fail, warn, review, error) and, per
    requirement and status, the first MAX_LISTED_PER_STATUS others in document order (evidence items by index,
    then subjects, then the package); the others are only counted. Requirement statuses, listings, reproducers
    and item statuses are the same as from the complete list (results.json lists no more than these)."""

    def __init__(self, limit: int = MAX_LISTED_PER_STATUS):
        self.limit = limit
        self.open: list[tuple[tuple[int, int, int], Finding]] = []
        self._heaps: dict[tuple[str, str], list[tuple[tuple[int, int, int], int, Finding]]] = {}
        self.omitted: dict[str, dict[str, int]] = {}
        self._n = 0

    def add(self, findings: Iterable[Finding], order: tuple[int, int]) -> None:
        """Findings of one target; `order`: (0, item index) for an evidence item, (1, n) for the n-th subject or
        package target, so that the kept ones are the first in document order."""
        for k, f in enumerate(findings):
            key = (order[0], order[1], k)
            if f.status in OPEN:
                self.open.append((key, f))
                continue
            heap = self._heaps.setdefault((f.requirement, f.status), [])
            self._n += 1
            item = ((-key[0], -key[1], -key[2]), self._n, f)  # max-heap on the document position
            if len(heap) < self.limit:
                heapq.heappush(heap, item)
                continue
            dropped = heapq.heappushpop(heap, item)[2]
            per = self.omitted.setdefault(dropped.requirement, {})
            per[dropped.status] = per.get(dropped.status, 0) + 1

    def findings(self) -> list[Finding]:
        kept = list(self.open)
        for heap in self._heaps.values():
            kept.extend(((-a, -b, -c), f) for (a, b, c), _, f in heap)
        kept.sort(key=lambda kf: kf[0])
        return [f for _, f in kept]


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
    # findings left out of `findings` (beyond the listing cap: FindingDigest), by requirement and status
    omitted: dict[str, dict[str, int]] = field(default_factory=dict)
    # whole evidence entries kept out of memory (the `entries` are then already split: split_entry)
    details: DetailStore | None = None

    @property
    def partial(self) -> bool:
        return self.selected_checks is not None or self.selected_items is not None

    def requirements(self) -> list[dict[str, Any]]:
        """One entry per catalogue requirement, in catalogue order."""
        by_req: dict[str, list[Finding]] = {}
        for f in self.findings:
            by_req.setdefault(f.requirement, []).append(f)
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
            status = combine([f.status for f in fs] + list(self.omitted.get(rid, {})))
            entry["status"] = status
            listed, omitted = _listed(fs)
            for st, n in self.omitted.get(rid, {}).items():
                omitted[st] = omitted.get(st, 0) + n
            entry["findings"] = [f.to_dict() for f in listed]
            if omitted:
                entry["findings_omitted"] = {st: omitted[st] for st in PRECEDENCE if st in omitted}
            if not fs and not self.omitted.get(rid):
                entry["findings"] = [{"evidence": "package", "status": "skip", "measured": {},
                                      "message_en": "no evidence in the package let the suite judge this requirement",
                                      "message_vi": "gói bằng chứng không có dữ liệu để đánh giá yêu cầu này"}]
            if status in OPEN:
                checks = sorted({f.check for f in fs if f.check and f.status == status})
                items = sorted({f.item for f in fs if f.item is not None and f.status == status})
                entry["reproduce"] = self.reproducer(rid, checks, items)
            out.append(entry)
        return out

    def reproducer(self, rid: str, checks: Sequence[str], items: Sequence[int]) -> dict[str, str]:
        """Schemathesis-style reproducer: the same judgement, alone, from the command line and from pytest - the
        same package, validation date and profile, the checks and every item that gave the status."""
        pkg = display_path(self.package.shown_root or self.package.root)
        fixed = ["--today", self.today.isoformat()]
        prof = self.profile.get("_path")
        if prof and Path(prof).resolve() != DEFAULT_PROFILE.resolve():
            fixed += ["--profile", display_path(Path(prof))]
        cli = ["vnqr-conformance", "assess", pkg, *(a for c in checks for a in ("--check", c))]
        registry = all_checks()
        if items and all(c in registry and registry[c].scope == "evidence" for c in checks):
            cli += ["--item", item_ranges(items)]
        py = ["python", "-m", "pytest", "--pyargs", "conformance.test_conformance", "--candidate", pkg, "-k", rid]
        return {"cli": shlex.join(cli + fixed), "pytest": shlex.join(py + fixed)}

    def evidence(self, *, linked: bool = False) -> list[dict[str, Any]]:
        """The evidence[] entries, whole (linked False) or as results.json keeps them (split_entry: a summary of
        each symbol and a `detail` link to the per-item file; detail_of() gives its content)."""
        by_item: dict[int, list[Finding]] = {}
        if any("status" not in e for e in self.entries):
            for f in self.findings:
                if f.item is not None:
                    by_item.setdefault(f.item, []).append(f)
        out = []
        for e in self.entries:
            if not linked and self.details is not None and e["index"] in self.details:
                entry = self.details.get(e["index"]) or dict(e)
            else:
                entry = dict(e)
            if "status" not in entry:
                fs = by_item.get(entry["index"])
                entry["status"] = item_status(fs) if fs is not None else NOT_RUN
            if linked:
                entry = split_entry(entry)[0]
            out.append(entry)
        return out

    def detail_of(self, index: int) -> dict[str, Any] | None:
        """The whole evidence entry of item `index` (None when the assessment has no such item)."""
        if self.details is not None and index in self.details:
            return self.details.get(index)
        for e in self.entries:
            if e.get("index") == index:
                return dict(e)
        return None

    def to_dict(self, *, linked: bool = False) -> dict[str, Any]:
        """The results document. linked False: every evidence entry whole (symbols with all their measurements,
        the screen text ...); linked True: entries as results.json stores them, their detail in detail_of()."""
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
            "package": {"path": display_path(self.package.shown_root or self.package.root), "manifest_sha256": self.package.manifest_sha256},
            "verdict": verdict_of(reqs, self.partial),
            "summary": {"counts": counts,
                        "must_failed": [r["id"] for r in reqs if r["level"] == "MUST" and r["status"] == "fail"],
                        "must_open": [r["id"] for r in reqs
                                      if r["level"] == "MUST" and r["status"] in ("skip", "review", "error")],
                        "checks_selected": self.selected_checks,
                        "items_selected": self.selected_items},
            "requirements": reqs,
            "evidence": self.evidence(linked=linked),
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

