"""Check registry: each check is a plain, typed function tagged with the requirement IDs it verifies and the inputs
it reads (OpenID-conformance style: a check names its clauses and declares its inputs).

    @check("PAYLOAD-003", needs=("payload",))
    def payload_name_format(ev: EvidenceView) -> Observations: ...

scope: "evidence" (called once per evidence item), "subject" (once per subject, sees all its items), "package"
(once) or "campaign" (once per person of a campaign, sees every candidate's items of that person: a CampaignView;
run by conformance/campaign/, never in a single-package assessment). kinds: the evidence kinds an evidence-scope check applies to. needs: what the engine must compute for the
item before the check runs (conformance/engine/analysis.py): "symbols" (locate, decode and measure the QR),
"payload" (the validated payload), "screen_text" (OCR and the display judgement), "robustness" (the SYMBOL-008
degradation sweep), "capture_log" (the live capture log, package scope). A check returns Observations
(conformance/model.py): it says what it saw, never a status.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from conformance.model import Observation

SCOPES = ("evidence", "subject", "package", "campaign")
INPUTS = ("symbols", "payload", "screen_text", "robustness", "capture_log")
EVIDENCE_KINDS = ("screenshot", "payload", "photo", "recording")

Observations = Observation | Iterable[Observation] | None
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CheckSpec:
    name: str
    func: Callable[..., Observations]
    requirements: tuple[str, ...]
    scope: str
    kinds: tuple[str, ...]
    needs: frozenset[str]
    module: str

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip().splitlines()[0] if self.func.__doc__ else ""

    @property
    def location(self) -> tuple[str, int]:
        code = self.func.__code__
        return code.co_filename, code.co_firstlineno


REGISTRY: dict[str, CheckSpec] = {}


def check(*requirements: str, scope: str = "evidence", kinds: tuple[str, ...] = EVIDENCE_KINDS,
          needs: tuple[str, ...] = ()) -> Callable[[F], F]:
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if not requirements:
        raise ValueError("a check names at least one requirement ID")
    unknown = set(needs) - set(INPUTS)
    if unknown:
        raise ValueError(f"unknown inputs {sorted(unknown)}")
    bad_kinds = set(kinds) - set(EVIDENCE_KINDS)
    if bad_kinds:
        raise ValueError(f"unknown evidence kinds {sorted(bad_kinds)}")

    def register(func: F) -> F:
        name = func.__name__
        if name in REGISTRY and REGISTRY[name].func is not func:
            raise ValueError(f"two checks are named {name!r}")
        REGISTRY[name] = CheckSpec(name, func, tuple(requirements), scope, tuple(kinds), frozenset(needs),
                                   func.__module__)
        return func

    return register


def all_checks() -> dict[str, CheckSpec]:
    """Import every check module (registration happens on import) and return the registry."""
    import conformance.checks  # noqa: F401  (imports the modules)

    return dict(REGISTRY)
