"""Plain data types shared by every layer: what a rule saw (Violation, Observation) and what the engine concluded
(Finding). No behaviour beyond small constructors.

Rules and checks never choose a status. They report what they saw:

    met             the requirement holds on this evidence
    not_met         it does not (where and what in the message and fields)
    unsure          there is evidence but the suite cannot decide: a person must look
    no_evidence     nothing in this evidence item lets the suite judge it
    not_applicable  it does not apply (e.g. no document number for a proxy-declared person)
    unusable        the evidence cannot be read (broken file, failed capture)

The engine (conformance/engine/judge.py) turns them into the status words of results.json, using the
requirement's level in specs/requirements.yaml alone: not_met is `fail` for a MUST, `warn` for a SHOULD, `review`
for a MAY; a `remark` names a documented sub-level of the requirement (`remarks` in the catalogue).
"""
from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

# Status words are a contract (results.json, CLI, pytest outcomes): never rename, only add.
STATUSES = ("pass", "fail", "warn", "not_applicable", "skip", "review", "error")
NOT_RUN = "not_run"  # a requirement none of whose checks was selected (partial runs only)

MET, NOT_MET, UNSURE, NO_EVIDENCE, NOT_APPLICABLE, UNUSABLE = (
    "met", "not_met", "unsure", "no_evidence", "not_applicable", "unusable")
SEEN = (MET, NOT_MET, UNSURE, NO_EVIDENCE, NOT_APPLICABLE, UNUSABLE)


@dataclass
class Violation:
    """One rule broken inside a value (payload validator, record comparison, ...). Carries no status."""

    requirement: str
    message_en: str
    message_vi: str
    field: str | None = None
    position: int | None = None  # 0-based character offset in the whole payload string, when known
    expected: str | None = None
    found: str | None = None
    remark: str | None = None  # a documented sub-rule with its own level in the catalogue (e.g. proxy-qid-missing)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Observation:
    """What one check saw for one requirement on one evidence item (or subject, or the package)."""

    requirement: str
    seen: str
    message_en: str
    message_vi: str
    remark: str | None = None
    evidence: str | None = None  # evidence file when it is not the check's own target (package-level checks)
    item: int | None = None  # that evidence's item index, when the check knows it (a subject check on a recording)
    field: str | None = None
    position: int | None = None
    expected: str | None = None
    found: str | None = None
    measured: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.seen not in SEEN:
            raise ValueError(f"unknown observation {self.seen!r}")


def _obs(seen: str, requirement: str, message_en: str, message_vi: str, **kw: Any) -> Observation:
    return Observation(requirement=requirement, seen=seen, message_en=message_en, message_vi=message_vi, **kw)


def met(requirement: str, message_en: str, message_vi: str, **kw: Any) -> Observation:
    return _obs(MET, requirement, message_en, message_vi, **kw)


def not_met(requirement: str, message_en: str, message_vi: str, **kw: Any) -> Observation:
    return _obs(NOT_MET, requirement, message_en, message_vi, **kw)


def unsure(requirement: str, message_en: str, message_vi: str, **kw: Any) -> Observation:
    return _obs(UNSURE, requirement, message_en, message_vi, **kw)


def no_evidence(requirement: str, message_en: str, message_vi: str, **kw: Any) -> Observation:
    return _obs(NO_EVIDENCE, requirement, message_en, message_vi, **kw)


def not_applicable(requirement: str, message_en: str, message_vi: str, **kw: Any) -> Observation:
    return _obs(NOT_APPLICABLE, requirement, message_en, message_vi, **kw)


def unusable(requirement: str, message_en: str, message_vi: str, **kw: Any) -> Observation:
    return _obs(UNUSABLE, requirement, message_en, message_vi, **kw)


def from_violation(v: Violation, seen: str = NOT_MET, **kw: Any) -> Observation:
    """An Observation carrying a rule's Violation (not_met by default, or e.g. unsure for a review item)."""
    return Observation(requirement=v.requirement, seen=seen, message_en=v.message_en, message_vi=v.message_vi,
                       remark=v.remark, field=v.field, position=v.position, expected=v.expected, found=v.found,
                       **kw)


@dataclass
class Finding:
    """One judged outcome: an Observation with the status the engine gave it, on one evidence item (or subject,
    or the package)."""

    requirement: str
    status: str
    message_en: str
    message_vi: str
    evidence: str | None = None  # evidence file (package-relative), "subject:<id>" or "package"
    check: str | None = None  # name of the check function that produced it
    field: str | None = None
    position: int | None = None
    expected: str | None = None
    found: str | None = None
    measured: dict[str, Any] = dataclasses.field(default_factory=dict)
    item: int | None = None  # index of the evidence item in candidate.json evidence[] (stable; files can repeat)
    remark: str | None = None
    frame: dict[str, Any] | None = None  # a recording's frame the judgement was made on: {"index", "time" (s)}

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != {}}
