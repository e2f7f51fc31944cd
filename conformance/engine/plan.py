"""What one assessment will do: the package, profile and date, the selected checks and items, and the
(check, target) cases, each target named by a stable key. Shared by `assess()` and the pytest front-end."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.capture.package import EvidenceItem, Package, load_package
from conformance.checks.registry import CheckSpec, all_checks
from conformance.engine.analysis import ItemTask, file_key

ITEM_INPUTS = frozenset({"symbols", "payload", "screen_text", "robustness"})  # computed per evidence item


class UsageError(ValueError):
    """The assessment was asked something impossible (unknown check, item index out of range, bad date)."""

    def __init__(self, message_en: str, message_vi: str):
        self.message_en, self.message_vi = message_en, message_vi
        super().__init__(message_en)


@dataclass(frozen=True)
class Case:
    """One (check, target) judgement. `target` is "item<N>", "subject:<id>" or "package"."""

    spec: CheckSpec
    target: str
    label: str  # the target as shown in test IDs: item<N>-<subject>-<mode>, subject-<id>, package

    @property
    def id(self) -> str:
        return f"{'+'.join(self.spec.requirements)}-{self.spec.name}-{self.label}"

    def __repr__(self) -> str:  # pytest and Allure store parameter reprs: the case's name only, no personal data
        return self.id


def parse_today(value: str | dt.date | None) -> dt.date:
    if value is None:
        from conformance.clock import today

        return today()  # Vietnam's date, as the report's time of issue
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise UsageError(f"--today {value!r} is not a date YYYY-MM-DD",
                         f"--today {value!r} không phải ngày dạng YYYY-MM-DD") from None


@dataclass
class Plan:
    package: Package
    profile: dict[str, Any]
    today: dt.date
    specs: list[CheckSpec]  # selected checks, in registry order
    selected_checks: list[str] | None
    selected_items: list[int] | None

    @classmethod
    def make(cls, package: str | os.PathLike[str] | Package, *, profile: str | os.PathLike[str] | dict[str, Any] | None
             = None, today: str | dt.date | None = None, checks: Sequence[str] | None = None,
             items: Sequence[int] | None = None) -> Plan:
        """Load and check everything an assessment needs. Raises PackageError / SpecError (unusable input) and
        UsageError (impossible selection) before any work is done."""
        from conformance.specs import load_profile

        day = parse_today(today)
        prof = dict(profile) if isinstance(profile, dict) else load_profile(None if profile is None else Path(profile))
        pkg = package if isinstance(package, Package) else load_package(Path(package))
        registry = all_checks()
        if checks:
            unknown = sorted(set(checks) - set(registry))
            if unknown:
                raise UsageError(f"unknown check(s): {', '.join(unknown)}; see `vnqr-conformance checks`",
                                 f"không có phép kiểm tra: {', '.join(unknown)}; xem `vnqr-conformance checks`")
            specs = [s for s in registry.values() if s.name in set(checks)]
        else:
            specs = list(registry.values())
        if items is not None:
            bad = sorted(i for i in items if not 0 <= i < len(pkg.evidence))
            if bad:
                raise UsageError(f"--item {bad[0]}: the package has evidence items 0..{len(pkg.evidence) - 1}",
                                 f"--item {bad[0]}: gói có các bằng chứng số 0..{len(pkg.evidence) - 1}")
            # a subject or package check would judge a person or the package from some of its items only: with an
            # item selection only the checks of single items run (the others are `not_run`)
            specs = [s for s in specs if s.scope == "evidence"]
        return cls(pkg, prof, day, specs, sorted(set(checks)) if checks else None,
                   sorted(set(items)) if items is not None else None)

    # -- selection ---------------------------------------------------------------------------------------------
    @property
    def run_requirements(self) -> frozenset[str] | None:
        """Requirements judged by at least one selected check (None: every check runs)."""
        if self.selected_checks is None and self.selected_items is None:
            return None
        return frozenset(r for s in self.specs for r in s.requirements)

    def items(self) -> list[EvidenceItem]:
        sel = None if self.selected_items is None else set(self.selected_items)
        return [it for it in self.package.evidence if sel is None or it.index in sel]

    def evidence_specs(self, item: EvidenceItem) -> list[CheckSpec]:
        return [s for s in self.specs if s.scope == "evidence" and item.kind in s.kinds]

    def needs(self, item: EvidenceItem, specs: Sequence[CheckSpec] | None = None) -> frozenset[str]:
        """Inputs to compute for an item: those its evidence checks declare, and those the subject and package
        checks declare (they read every item)."""
        chosen = list(specs) if specs is not None else self.evidence_specs(item)
        chosen += [s for s in self.specs if s.scope != "evidence"]  # subject/package checks read every item
        out: set[str] = set()
        for s in chosen:
            out |= s.needs & ITEM_INPUTS
        if out:
            out.add("symbols")
        return frozenset(out)

    def task(self, item: EvidenceItem, needs: frozenset[str] | None = None) -> ItemTask:
        return ItemTask(item=item, record=self.package.subjects.get(item.subject), root=str(self.package.root),
                        ppi=self.package.ppi, screen_width_px=self.package.device.get("width_px"),
                        profile=self.profile, today=self.today,
                        needs=needs if needs is not None else self.needs(item))

    def groups(self) -> list[list[EvidenceItem]]:
        """Selected items grouped by file content (each file analysed once), groups in manifest order."""
        by: dict[str, list[EvidenceItem]] = {}
        for it in self.items():
            by.setdefault(file_key(it), []).append(it)
        return sorted(by.values(), key=lambda g: g[0].index)

    # -- cases ---------------------------------------------------------------------------------------------------
    def cases(self) -> list[Case]:
        out: list[Case] = []
        for spec in self.specs:
            if spec.scope == "package":
                out.append(Case(spec, "package", "package"))
            elif spec.scope == "subject":
                out.extend(Case(spec, f"subject:{sid}", f"subject-{sid}") for sid in self.package.subjects)
            elif spec.scope == "evidence":
                out.extend(Case(spec, f"item{it.index}", f"item{it.index}-{it.subject}-{it.mode}")
                           for it in self.items() if it.kind in spec.kinds)
            # campaign-scope checks compare several packages: conformance/campaign/ runs them
        return out
