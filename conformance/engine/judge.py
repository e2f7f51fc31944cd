"""From what a check saw to a status: the one place where statuses are chosen.

    met -> pass; not_met -> fail (MUST) / warn (SHOULD) / review (MAY), by the requirement's level in
    specs/requirements.yaml or its remark's level; unsure -> review; no_evidence -> skip;
    not_applicable -> not_applicable; unusable -> error.

A crash inside a check (or a rule or analyser it calls) is a suite bug: it becomes `error` on that requirement and
evidence item, naming the exception type, never a failed requirement.
"""
from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from typing import Any

from conformance.checks.registry import CheckSpec
from conformance.model import MET, NO_EVIDENCE, NOT_APPLICABLE, NOT_MET, UNSURE, UNUSABLE, Finding, Observation
from conformance.specs import level_of

NOT_MET_STATUS = {"MUST": "fail", "SHOULD": "warn", "MAY": "review"}
SEEN_STATUS = {MET: "pass", UNSURE: "review", NO_EVIDENCE: "skip", NOT_APPLICABLE: "not_applicable",
               UNUSABLE: "error"}


def status_of(obs: Observation) -> str:
    if obs.seen == NOT_MET:
        return NOT_MET_STATUS[level_of(obs.requirement, obs.remark)]
    return SEEN_STATUS[obs.seen]


def _target_ids(target: Any) -> tuple[str, int | None]:
    """(evidence label, item index) of a check target: a view of one item, a subject, or the package."""
    index = getattr(target, "index", None)
    if index is not None:
        return str(target.file), int(index)
    return str(getattr(target, "key", "package")), None


def _frame_of(spec: CheckSpec, target: Any) -> dict[str, Any] | None:
    """The recording frame an evidence check judged ({"index", "time"}), when its view is one (None otherwise)."""
    detail = getattr(target, "detail", None) if spec.scope == "evidence" else None
    frame = detail.get("frame") if isinstance(detail, Mapping) else None
    return dict(frame) if isinstance(frame, Mapping) else None


def suite_error(spec: CheckSpec, target: Any, exc: BaseException) -> list[Finding]:
    evidence, index = _target_ids(target)
    what = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return [Finding(requirement=r, status="error", evidence=evidence, item=index, check=spec.name,
                    frame=_frame_of(spec, target),
                    message_en=f"internal error in check {spec.name}: {what} (a suite bug: please report it)",
                    message_vi=f"lỗi nội bộ trong phép kiểm tra {spec.name}: {what} (lỗi của bộ kiểm thử: vui lòng "
                               "báo lại)", measured={"exception": type(exc).__name__})
            for r in spec.requirements]


def run_check(spec: CheckSpec, target: Any) -> list[Finding]:
    """Run one check on one target (an EvidenceView, SubjectView or PackageView) and judge what it saw.

    Never raises: an unusable evidence item gives `error` findings without calling the check; an exception in the
    check gives `error` findings naming it (suite bug)."""
    evidence, index = _target_ids(target)
    err = getattr(target, "error", None) if spec.scope == "evidence" else None
    if err:
        en, vi = err
        return [Finding(requirement=r, status="error", message_en=en, message_vi=vi, evidence=evidence, item=index,
                        check=spec.name, frame=_frame_of(spec, target)) for r in spec.requirements]
    try:
        out = spec.func(target)
        observations: list[Observation] = (
            [] if out is None else [out] if isinstance(out, Observation) else list(out))
        frame = _frame_of(spec, target)
        return [_finding(spec, o, evidence, index, frame) for o in observations]
    except Exception as exc:  # noqa: BLE001 - a crash in a check is the suite's fault: reported, the run goes on
        return suite_error(spec, target, exc)


def _finding(spec: CheckSpec, o: Observation, evidence: str, index: int | None,
             frame: dict[str, Any] | None = None) -> Finding:
    if not isinstance(o, Observation):
        raise TypeError(f"check {spec.name} returned {type(o).__name__}, not an Observation")
    if o.requirement not in spec.requirements:
        raise ValueError(f"check {spec.name} reported {o.requirement}, which it does not declare")
    return Finding(requirement=o.requirement, status=status_of(o), message_en=o.message_en, message_vi=o.message_vi,
                   evidence=o.evidence or evidence, item=o.item if o.item is not None else (
                       index if o.evidence is None else None), check=spec.name,
                   field=o.field, position=o.position, expected=o.expected, found=o.found, measured=dict(o.measured),
                   remark=o.remark, frame=frame if o.evidence is None else None)


def run_checks(specs: Iterable[CheckSpec], target: Any) -> list[Finding]:
    out: list[Finding] = []
    for spec in specs:
        out.extend(run_check(spec, target))
    return out
