"""Plain data types shared by every layer. No behaviour beyond small helpers."""
from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

# Status words are a contract (results.json, CLI, pytest outcomes): never rename.
STATUSES = ("pass", "fail", "warn", "not_applicable", "skip", "review", "error")
LEVELS = ("MUST", "SHOULD", "MAY")


@dataclass
class Violation:
    """One rule broken inside a value (payload validator, OCR reader, ...).

    Carries no status: the check that uses it chooses the severity from the catalogue level
    (OpenID conformance style: severity is chosen where the check is used).
    """

    requirement: str
    message_en: str
    message_vi: str
    field: str | None = None
    position: int | None = None  # 0-based character offset in the whole payload string, when known
    expected: str | None = None
    found: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Finding:
    """One judged outcome of one check for one requirement on one piece of evidence."""

    requirement: str
    status: str
    message_en: str
    message_vi: str
    evidence: str | None = None  # evidence file (package-relative) or "subject:<id>" or "package"
    check: str | None = None  # name of the check function that produced it
    field: str | None = None
    position: int | None = None
    expected: str | None = None
    found: str | None = None
    measured: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != {}}
