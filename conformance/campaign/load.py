"""Load a campaign file (campaign.yaml / campaign.json, schema specs/campaign.schema.json) and check it before any
work: every problem is a CampaignError naming the file and the JSON path (exit code 2).

The campaign's `subjects` are the test accounts as registered on the national platform: the truth for GEN-002 and
GEN-003 of every candidate. A candidate package may show a subset of them; a subject id a package uses that the
campaign lacks is an error; a package declaring another record for a campaign id is assessed against the campaign's
record and the difference reported (conformance/checks/general.py `declared_records_match`).
"""
from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.capture.package import Package, PackageError, load_package
from conformance.outdir import slugify
from conformance.specs import SpecError, _read_yaml_or_json, json_path_of, schema, validate

SCHEMA = "campaign.schema.json"


class CampaignError(Exception):
    """The campaign file cannot be used. Names the file, the JSON path of the problem and what is wrong."""

    def __init__(self, file: str, json_path: str, message_en: str, message_vi: str):
        self.file, self.json_path, self.message_en, self.message_vi = file, json_path, message_en, message_vi
        super().__init__(f"{file}: {json_path}: {message_en}")


@dataclass
class CandidateSource:
    """One entry of the campaign's candidates[]: an evidence package, or a live config captured first."""

    index: int  # position in candidates[]
    kind: str  # "package" | "live"
    path: Path  # the package folder, or the live config file
    name: str  # candidate.json candidate.name
    slug: str  # its report folder's name in the campaign output, unique
    package: Package | None = None  # loaded package (kind "package"), subjects already the campaign's
    config: dict[str, Any] | None = None  # the live config (kind "live")

    @property
    def json_path(self) -> str:
        return f"$.candidates[{self.index}].{self.kind}"


@dataclass
class Campaign:
    file: Path
    name: str
    organisation: str | None
    report_number: str | None
    subjects: dict[str, dict[str, Any]]  # id -> record, campaign order
    candidates: list[CandidateSource]
    document: dict[str, Any] = field(default_factory=dict)

    def report_metadata(self) -> dict[str, Any]:
        """The filed report's metadata every candidate's report carries (conformance/reports/filing.py): the
        campaign file's report number and organisation."""
        return {k: v for k, v in (("report_number", self.report_number), ("organisation", self.organisation)) if v}

    def metadata(self, candidate: CandidateSource) -> dict[str, Any]:
        """What a candidate's own reports carry about the campaign (results.json `campaign`). The filed report
        (report number, organisation) reads it from there: hook for conformance/reports/."""
        out: dict[str, Any] = {"name": self.name, "candidate_slug": candidate.slug}
        if self.organisation:
            out["organisation"] = self.organisation
        if self.report_number:
            out["report_number"] = self.report_number
        return out


def same_name(a: str, b: str) -> bool:
    """Two candidate names that a reader could not tell apart (case, Unicode form and spacing ignored)."""
    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).casefold().split())
    return norm(a) == norm(b)


def _subject_errors(subjects: list[Any], file: str) -> dict[str, dict[str, Any]]:
    """Each campaign record checked against the record schema of candidate.json (one rule for a record)."""
    import jsonschema

    record_schema = schema("candidate.schema.json")["properties"]["subjects"]["items"]
    validator = jsonschema.Draft202012Validator(record_schema)
    out: dict[str, dict[str, Any]] = {}
    for i, rec in enumerate(subjects):
        errors = sorted(validator.iter_errors(rec), key=lambda e: len(list(e.absolute_path)))
        if errors:
            sub = json_path_of(errors[0])[1:]
            raise CampaignError(file, f"$.subjects[{i}]{sub}", errors[0].message,
                                f"bản ghi người dùng không hợp lệ: {errors[0].message}")
        if rec["id"] in out:
            raise CampaignError(file, f"$.subjects[{i}].id", f"duplicate subject id {rec['id']!r}",
                                f"trùng mã người dùng {rec['id']!r}")
        out[rec["id"]] = rec
    return out


def _resolve(base: Path, rel: str) -> Path:
    p = Path(rel)
    return p if p.is_absolute() else base / p


def campaign_package(pkg: Package, subjects: dict[str, dict[str, Any]]) -> Package:
    """The package as a campaign assesses it: its subjects are the campaign's records for the ids it uses
    (candidate.json's own records stay in `manifest`, where the declared-record check compares them)."""
    return dataclasses.replace(pkg, subjects={sid: subjects[sid] for sid in pkg.subjects})


def unknown_subjects(package: Package | dict[str, Any], known: dict[str, Any]) -> list[tuple[str, str]]:
    """(subject id, where in candidate.json) of every subject id the package or live config uses that the campaign
    lacks."""
    manifest = package.manifest if isinstance(package, Package) else package
    out: list[tuple[str, str]] = []
    for k, s in enumerate(manifest.get("subjects") or []):
        sid = s.get("id") if isinstance(s, dict) else None
        if isinstance(sid, str) and sid not in known:
            out.append((sid, f"$.subjects[{k}].id"))
    for k, e in enumerate(manifest.get("evidence") or []):
        sid = e.get("subject") if isinstance(e, dict) else None
        if isinstance(sid, str) and sid not in known and sid not in {x for x, _ in out}:
            out.append((sid, f"$.evidence[{k}].subject"))
    live = manifest.get("live")
    if isinstance(live, dict):
        for k, sid in enumerate(live.get("subjects") or []):
            if isinstance(sid, str) and sid not in known and sid not in {x for x, _ in out}:
                out.append((sid, f"$.live.subjects[{k}]"))
    return out


def load_campaign(path: str | Path) -> Campaign:
    """Read, validate and resolve a campaign file; load its packages (not the live candidates: they are captured
    when the campaign runs). Raises CampaignError."""
    file = Path(path)
    shown = str(file)
    try:
        doc = _read_yaml_or_json(file)
        validate(doc, SCHEMA, shown)
    except SpecError as exc:
        raise CampaignError(exc.file, exc.json_path, exc.message, exc.message_vi) from None
    subjects = _subject_errors(doc["subjects"], shown)
    base = file.parent
    candidates: list[CandidateSource] = []
    for i, entry in enumerate(doc["candidates"]):
        if "package" in entry:
            where = f"$.candidates[{i}].package"
            folder = _resolve(base, entry["package"])
            try:
                pkg = load_package(folder)
            except PackageError as exc:
                raise CampaignError(shown, where, f"{exc.file}: {exc.json_path}: {exc.message_en}",
                                    f"{exc.file}: {exc.json_path}: {exc.message_vi}") from None
            bad = unknown_subjects(pkg, subjects)
            if bad:
                sid, at = bad[0]
                raise CampaignError(
                    shown, where, f"the package uses subject id {sid!r} (candidate.json {at}), which the campaign's "
                    "subjects[] lacks; add the test account to the campaign",
                    f"gói dùng mã người dùng {sid!r} (candidate.json {at}), không có trong subjects[] của đợt đánh "
                    "giá; hãy thêm tài khoản thử nghiệm này vào đợt đánh giá")
            candidates.append(CandidateSource(i, "package", pkg.root, str(pkg.candidate["name"]), "",
                                              package=campaign_package(pkg, subjects)))
        else:
            where = f"$.candidates[{i}].live"
            cfg_file = _resolve(base, entry["live"])
            try:
                config = _read_yaml_or_json(cfg_file)
            except SpecError as exc:
                raise CampaignError(shown, where, f"{exc.file}: {exc.message}", f"{exc.file}: {exc.message_vi}") from None
            cand = config.get("candidate") if isinstance(config, dict) else None
            if not isinstance(config, dict) or not isinstance(config.get("live"), dict) or not isinstance(cand, dict) \
                    or not isinstance(cand.get("name"), str) or not cand["name"].strip():
                raise CampaignError(
                    shown, where, f"{cfg_file}: not a live config: a candidate.json with candidate.name and a 'live' "
                    "section (see specs/candidate.schema.json)",
                    f"{cfg_file}: không phải cấu hình chụp trực tiếp: cần candidate.json có candidate.name và mục "
                    "'live' (xem specs/candidate.schema.json)")
            bad = unknown_subjects(config, subjects)
            if bad:
                sid, at = bad[0]
                raise CampaignError(
                    shown, where, f"the live config uses subject id {sid!r} ({cfg_file.name} {at}), which the "
                    "campaign's subjects[] lacks; add the test account to the campaign",
                    f"cấu hình chụp trực tiếp dùng mã người dùng {sid!r} ({cfg_file.name} {at}), không có trong "
                    "subjects[] của đợt đánh giá; hãy thêm tài khoản thử nghiệm này vào đợt đánh giá")
            candidates.append(CandidateSource(i, "live", cfg_file, cand["name"], "", config=config))
    for j, c in enumerate(candidates):
        for earlier in candidates[:j]:
            if same_name(c.name, earlier.name):
                raise CampaignError(
                    shown, c.json_path, f"duplicate candidate name {c.name!r}: {earlier.json_path} has the same "
                    "name; every candidate needs its own candidate.name",
                    f"trùng tên ứng dụng {c.name!r}: {earlier.json_path} có cùng tên; mỗi ứng dụng cần một "
                    "candidate.name riêng")
    used: set[str] = set()
    for c in candidates:
        slug, n = slugify(c.name), 2
        while slug in used or slug in ("campaign",):
            slug = f"{slugify(c.name)[:56]}-{n}"
            n += 1
        used.add(slug)
        c.slug = slug
    return Campaign(file=file, name=doc["name"], organisation=doc.get("organisation"),
                    report_number=doc.get("report_number"), subjects=subjects, candidates=candidates, document=doc)
