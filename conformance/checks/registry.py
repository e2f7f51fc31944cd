"""Check registry: each check is a plain function tagged with the requirement IDs it verifies.

    @check("PAYLOAD-003", scope="evidence", kinds=("screenshot", "payload"))
    def payload_name_format(ev): ...

scope: "evidence" (called once per evidence item), "subject" (once per subject, sees all its evidence) or
"package" (once). A check returns Finding objects (see `finding`). It never decides how the run ends: severity
comes from the catalogue level via `violation_status`, chosen where a rule is used, not where it is detected.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from conformance.model import Finding, Violation

SCOPES = ("evidence", "subject", "package")


@dataclass(frozen=True)
class CheckSpec:
    name: str
    func: Callable[..., Any]
    requirements: tuple[str, ...]
    scope: str
    kinds: tuple[str, ...]
    module: str

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip().splitlines()[0] if self.func.__doc__ else ""

    @property
    def location(self) -> str:
        code = self.func.__code__
        return f"{code.co_filename}:{code.co_firstlineno}"


REGISTRY: dict[str, CheckSpec] = {}


def check(*requirements: str, scope: str = "evidence", kinds: tuple[str, ...] = ("screenshot", "payload")):
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if not requirements:
        raise ValueError("a check names at least one requirement ID")

    def register(func):
        name = func.__name__
        if name in REGISTRY and REGISTRY[name].func is not func:
            raise ValueError(f"two checks are named {name!r}")
        REGISTRY[name] = CheckSpec(name, func, tuple(requirements), scope, tuple(kinds), func.__module__)
        func.check_spec = REGISTRY[name]
        return func

    return register


def finding(status: str, requirement: str, message_en: str, message_vi: str, **kw: Any) -> Finding:
    return Finding(requirement=requirement, status=status, message_en=message_en, message_vi=message_vi, **kw)


def violation_status(requirement: str) -> str:
    """The status a broken rule gets from its catalogue level: MUST -> fail, SHOULD -> warn, MAY -> review."""
    from conformance.specs import load_catalogue

    level = load_catalogue().get(requirement, {}).get("level", "MUST")
    return {"MUST": "fail", "SHOULD": "warn", "MAY": "review"}[level]


def from_violation(v: Violation, status: str | None = None, **kw: Any) -> Finding:
    return Finding(requirement=v.requirement, status=status or violation_status(v.requirement),
                   message_en=v.message_en, message_vi=v.message_vi, field=v.field, position=v.position,
                   expected=v.expected, found=v.found, **kw)


def all_checks() -> dict[str, CheckSpec]:
    """Import every check module (registration happens on import) and return the registry."""
    import conformance.checks  # noqa: F401  (imports the modules)

    return dict(REGISTRY)


def run_check(spec: CheckSpec, target: Any) -> list[Finding]:
    """Run one check on one target; never raises. Evidence errors and check crashes become `error` findings."""
    key = getattr(target, "key", None)
    err = getattr(target, "error", None) if spec.scope == "evidence" else None
    if err:
        en, vi = err
        return [Finding(requirement=r, status="error", message_en=en, message_vi=vi, evidence=key, check=spec.name)
                for r in spec.requirements]
    try:
        out = spec.func(target)
        findings: list[Finding] = [] if out is None else ([out] if isinstance(out, Finding) else list(out))
    except Exception as exc:  # a crash in a check is the suite's fault: report it, keep the run going
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return [Finding(requirement=r, status="error",
                        message_en=f"internal error in check {spec.name}: {tb} (please report this suite bug)",
                        message_vi=f"lỗi nội bộ trong kiểm tra {spec.name}: {tb} (vui lòng báo lỗi bộ kiểm thử)",
                        evidence=key, check=spec.name) for r in spec.requirements]
    result = []
    for f in findings:
        if f.requirement not in spec.requirements:
            f = Finding(requirement=spec.requirements[0], status="error",
                        message_en=f"check {spec.name} reported undeclared requirement {f.requirement}",
                        message_vi=f"kiểm tra {spec.name} báo cáo yêu cầu không khai báo {f.requirement}")
        if f.evidence is None:
            f.evidence = key
        if f.check is None:
            f.check = spec.name
        result.append(f)
    return result


def iter_cases(ctx: Any, checks: Iterable[CheckSpec]) -> list[tuple[CheckSpec, Any]]:
    """(check, target) pairs for a PackageContext, in a stable order."""
    cases: list[tuple[CheckSpec, Any]] = []
    for spec in checks:
        if spec.scope == "package":
            cases.append((spec, ctx))
        elif spec.scope == "subject":
            cases.extend((spec, s) for s in ctx.subjects)
        else:
            cases.extend((spec, e) for e in ctx.evidence if e.item.kind in spec.kinds)
    return cases
