"""Waivers: known issues a vendor is fixing, each tied to a ticket and an expiry date (OpenID-conformance-runner
style expected failures, plus expiry).

A waiver never changes a status or the verdict. It marks the requirement as expected, so CI can tell known results
from new ones, and it fails CI when it is stale: expired, or matching nothing any more (the defect was fixed, so
the waiver must go).

    python -m conformance assess PKG --waivers waivers.yaml

Exit codes with --waivers: 0 when every non-pass requirement is covered by a live waiver and no waiver is stale,
4 when a waiver is stale (expired or unused), otherwise the verdict's usual code (1 non-conformant, 3 incomplete).
Every expired and unused waiver is named (requirement, ticket, expiry) in the terminal, results.json and the HTML.

A waiver's requirement, status, ticket, expiry date and approver are not personal data: PROTECTED_KEYS lists them
for the masker (conformance/reports/redact.py may import it), and the reports layer puts their values back after
masking (`restore_protected`), so an expiry date never prints as a masked date. The free-text `reason` and the
`evidence` glob stay masked like any other text.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
from pathlib import Path
from typing import Any

from conformance import exits
from conformance.specs import SpecError, _read_yaml_or_json, load_catalogue, validate

EXIT_STALE_WAIVER = exits.STALE_WAIVER
OPEN = ("fail", "warn", "review", "error", "skip")
# Waiver fields that are never personal data (kept as written in every report).
PROTECTED_KEYS = frozenset({"requirement", "status", "ticket", "expires", "approved_by", "index"})
SUMMARY_LISTS = ("applied", "expired", "unused")


def load_waivers(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    doc = _read_yaml_or_json(p)
    validate(doc, "waivers.schema.json", str(p))
    cat = load_catalogue()
    for i, w in enumerate(doc["waivers"]):
        if w["requirement"] not in cat:
            raise SpecError(str(p), f"$.waivers[{i}].requirement", f"unknown requirement ID {w['requirement']!r}")
        try:
            dt.date.fromisoformat(w["expires"])
        except ValueError:
            raise SpecError(str(p), f"$.waivers[{i}].expires", f"not a calendar date: {w['expires']!r}") from None
    return doc["waivers"]


def _matches(w: dict[str, Any], req: dict[str, Any]) -> bool:
    if w["requirement"] != req["id"] or req["status"] not in OPEN:
        return False
    if w.get("status") and w["status"] != req["status"]:
        return False
    if w.get("evidence"):
        files = {f.get("evidence") for f in req["findings"] if f.get("status") == req["status"]}
        return any(f and fnmatch.fnmatch(f, w["evidence"]) for f in files)
    return True


def apply_waivers(results: dict[str, Any], waivers: list[dict[str, Any]], today: dt.date) -> dict[str, Any]:
    """Annotate results in place: requirement `waiver`, and a top-level `waivers` summary with `ci_outcome`."""
    used: set[int] = set()
    expired = [i for i, w in enumerate(waivers) if dt.date.fromisoformat(w["expires"]) < today]
    for req in results["requirements"]:
        for i, w in enumerate(waivers):
            if i not in expired and _matches(w, req):
                req["waiver"] = {k: w[k] for k in ("reason", "ticket", "expires", "approved_by") if k in w}
                used.add(i)
                break
    unwaived = [r["id"] for r in results["requirements"] if "waiver" not in r and (
        r["status"] in ("fail", "warn", "error") or (r["level"] == "MUST" and r["status"] in ("skip", "review")))]
    unused = [i for i in range(len(waivers)) if i not in used and i not in expired]
    stale = bool(expired or unused)
    results["waivers"] = {
        "applied": [dict(waivers[i], index=i) for i in sorted(used)],
        "expired": [dict(waivers[i], index=i) for i in expired],
        "unused": [dict(waivers[i], index=i) for i in unused],
        "unwaived": unwaived,
        "ci_outcome": "stale-waiver" if stale else ("expected" if not unwaived else "unexpected"),
    }
    return results


def exit_code(results: dict[str, Any], verdict_code: int) -> int:
    w = results.get("waivers")
    if not w:
        return verdict_code
    if w["ci_outcome"] == "stale-waiver":
        return EXIT_STALE_WAIVER
    if w["ci_outcome"] == "expected":
        return 0
    return verdict_code


def restore_protected(masked: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """Put the PROTECTED_KEYS values of every waiver (top-level summary and per requirement) back from the unmasked
    document into its masked copy (in place; same structure)."""
    ow, mw = original.get("waivers"), masked.get("waivers")
    if isinstance(ow, dict) and isinstance(mw, dict):
        for name in SUMMARY_LISTS:
            for o, m in zip(ow.get(name) or [], mw.get(name) or []):
                _copy_keys(o, m)
        if isinstance(ow.get("unwaived"), list):
            mw["unwaived"] = list(ow["unwaived"])
    for o, m in zip(original.get("requirements") or [], masked.get("requirements") or []):
        if isinstance(o, dict) and isinstance(m, dict):
            _copy_keys(o.get("waiver"), m.get("waiver"))
    return masked


def _copy_keys(src: Any, dst: Any) -> None:
    if isinstance(src, dict) and isinstance(dst, dict):
        for k in PROTECTED_KEYS:
            if k in src:
                dst[k] = src[k]


def stale_lines(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """("expired" | "unused", waiver) for every stale waiver, in file order."""
    w = results.get("waivers") or {}
    out = [(kind, x) for kind in ("expired", "unused") for x in w.get(kind) or [] if isinstance(x, dict)]
    return sorted(out, key=lambda t: t[1].get("index", 0))
