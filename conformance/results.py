"""From findings to requirement statuses, a verdict, and the results.json document (format 1.0)."""
from __future__ import annotations

import datetime as dt
import platform
import shlex
import sys
from importlib import metadata
from typing import Any, Iterable

from conformance import SPEC_VERSION, __version__
from conformance.model import Finding
from conformance.specs import load_catalogue, load_catalogue_document

FORMAT_VERSION = "1.0"
# Precedence when one requirement has findings on several evidence items.
PRECEDENCE = ("fail", "error", "warn", "review", "pass", "skip", "not_applicable")
VERDICTS = ("conformant", "non-conformant", "incomplete")


def combine(statuses: Iterable[str]) -> str:
    present = set(statuses)
    for s in PRECEDENCE:
        if s in present:
            return s
    return "skip"  # no finding at all: nothing in the package let the suite judge it


def aggregate(findings: list[Finding]) -> list[dict[str, Any]]:
    """One entry per catalogue requirement, in catalogue order."""
    by_req: dict[str, list[Finding]] = {}
    for f in findings:
        by_req.setdefault(f.requirement, []).append(f)
    out = []
    for rid, req in load_catalogue().items():
        fs = by_req.get(rid, [])
        status = combine(f.status for f in fs)
        entry = {"id": rid, "level": req["level"], "origin": req["origin"], "grade": req["grade"],
                 "title_en": req["title_en"], "title_vi": req["title_vi"], "status": status,
                 "findings": [f.to_dict() for f in fs]}
        if not fs:
            entry["findings"] = [{"evidence": "package", "check": None, "status": "skip",
                                  "message_en": "no evidence in the package let the suite judge this requirement",
                                  "message_vi": "gói bằng chứng không có dữ liệu để đánh giá yêu cầu này", "measured": {}}]
            entry["findings"][0].pop("check")
        out.append(entry)
    return out


def verdict(requirements: list[dict[str, Any]]) -> str:
    must = [r for r in requirements if r["level"] == "MUST"]
    if any(r["status"] == "fail" for r in must):
        return "non-conformant"
    if any(r["status"] in ("skip", "review", "error") for r in must):
        return "incomplete"
    return "conformant"


def evidence_status(findings: list[Finding]) -> str:
    if any(f.status == "error" for f in findings):
        return "error"
    return combine(f.status for f in findings)


def environment() -> dict[str, Any]:
    pkgs = {}
    for name in ("zxing-cpp", "opencv-python-headless", "pyzbar", "numpy", "pillow", "pytesseract", "segno",
                 "pytest", "jsonschema", "playwright", "Flask"):
        try:
            pkgs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    try:
        import pytesseract

        pkgs["tesseract"] = str(pytesseract.get_tesseract_version())
    except Exception:
        pass
    return {"python": sys.version.split()[0], "platform": platform.platform(), "packages": pkgs}


def build_results(*, package, profile: dict[str, Any], findings: list[Finding], evidence: list[dict[str, Any]],
                  started: dt.datetime, finished: dt.datetime, selected_checks: list[str] | None = None,
                  today: dt.date | None = None) -> dict[str, Any]:
    reqs = aggregate(findings)
    counts = {s: 0 for s in PRECEDENCE}
    for r in reqs:
        counts[r["status"]] += 1
    doc = load_catalogue_document()
    pkg = shlex.quote(str(package.root))
    for r in reqs:
        if r["status"] in ("fail", "warn", "review", "error"):
            checks = sorted({f["check"] for f in r["findings"] if f.get("check") and f["status"] == r["status"]})
            # schemathesis-style reproducer: the same judgement, alone, from the command line
            r["reproduce"] = {
                "pytest": f"pytest conformance --candidate {pkg} -k {r['id']}",
                "cli": f"python -m conformance assess {pkg} " + " ".join(f"--check {c}" for c in checks),
            }
    return {
        "format_version": FORMAT_VERSION,
        "suite_version": __version__,
        "spec_version": SPEC_VERSION,
        "catalogue_version": doc["catalogue_version"],
        "generated_at": finished.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        "validation_date": (today or dt.date.today()).isoformat(),
        "duration_s": round((finished - started).total_seconds(), 3),
        "profile": {"name": profile["name"], "profile_version": profile["profile_version"],
                    "path": profile.get("_path"), "settings": {k: v for k, v in profile.items() if not k.startswith("_")}},
        "candidate": dict(package.candidate),
        "device": dict(package.device),
        "package": {"path": str(package.root), "manifest_sha256": package.manifest_sha256},
        "verdict": verdict(reqs),
        "summary": {"counts": counts,
                    "must_failed": [r["id"] for r in reqs if r["level"] == "MUST" and r["status"] == "fail"],
                    "must_open": [r["id"] for r in reqs if r["level"] == "MUST" and r["status"] in ("skip", "review", "error")],
                    "checks_selected": selected_checks},
        "requirements": reqs,
        "evidence": evidence,
        "subjects": [dict(s) for s in package.subjects.values()],
        "environment": environment(),
        "pii_masked": False,
    }
