"""What makes a results document a report an authority can file: who issued it and when, what exactly was assessed.

    complete_results(results, package=plan.package, profile=plan.profile)   # package manifest, profile SHA-256
    add_report_block(results, metadata)                                     # results["report"]

- `package.files` / `package.sha256`: the sorted manifest of (path, SHA-256) of candidate.json and of every file it
  names (evidence files and the live capture log), and the SHA-256 of that manifest written as `sha256sum` lines
  ("<hex>  <path>\\n", sorted by path). Changing any screenshot changes the package digest.
- `profile.sha256`: SHA-256 of the profile file's bytes as read (`profile.sha256_of` = "file"), or of the settings
  in canonical JSON when the profile did not come from a file ("settings").
- `report`: report number, organisation, assessor, reviewer (a plain dict from the command line or a campaign
  file), the date and time of issue in Asia/Ho_Chi_Minh with its offset, and the statement of scope.

None of this is personal data of a subject; conformance/reports/__init__.py keeps the `report` block out of the
masker and restores the waiver fields of conformance/waivers.py PROTECTED_KEYS after masking.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from conformance.clock import TIMEZONE, vietnam_tz

METADATA_KEYS = ("report_number", "organisation", "assessor", "reviewer")
MAX_METADATA_CHARS = 200


def local_time(stamp: str | dt.datetime | None) -> str:
    """An ISO timestamp (UTC or with offset) -> the same instant in Asia/Ho_Chi_Minh, with its offset (+07:00)."""
    if stamp is None:
        t = dt.datetime.now(dt.UTC)
    elif isinstance(stamp, dt.datetime):
        t = stamp
    else:
        t = dt.datetime.fromisoformat(str(stamp))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(vietnam_tz()).isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_text(files: list[dict[str, Any]]) -> str:
    """`sha256sum` lines of a file manifest, sorted by path; a file that could not be read shows 64 '-'."""
    return "".join(f"{f['sha256'] or '-' * 64}  {f['path']}\n" for f in sorted(files, key=lambda f: f["path"]))


def package_manifest(package: Any) -> dict[str, Any]:
    """The sorted (path, SHA-256) manifest of candidate.json and every file it names, and its own SHA-256.

    `package` is a loaded conformance.capture.package.Package: the evidence files were hashed when it was loaded,
    only the capture log (if named) is read here."""
    from conformance.capture.package import MANIFEST, resolve_inside

    files: dict[str, str | None] = {MANIFEST: package.manifest_sha256}
    for item in package.evidence:
        if item.file not in files or files[item.file] is None:
            files[item.file] = item.sha256
    log = (package.manifest or {}).get("capture_log")
    if isinstance(log, str) and log and log not in files:
        real, err = resolve_inside(Path(package.root), log)
        files[log] = None
        if real is not None and err is None:
            try:
                files[log] = sha256_file(real)
            except OSError:
                pass
    listed = [{"path": p, "sha256": files[p]} for p in sorted(files)]
    return {"files": listed, "sha256": hashlib.sha256(manifest_text(listed).encode("utf-8")).hexdigest()}


def profile_digest(profile: dict[str, Any]) -> tuple[str, str]:
    """(SHA-256, basis): of the profile file's bytes when it came from a file, else of its canonical settings."""
    path = profile.get("_path")
    if path:
        try:
            return sha256_file(Path(path)), "file"
        except OSError:
            pass
    settings = {k: v for k, v in profile.items() if not str(k).startswith("_")}
    canon = json.dumps(settings, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest(), "settings"


def complete_results(results: dict[str, Any], package: Any = None, profile: dict[str, Any] | None = None) -> None:
    """Add the package manifest and the profile's SHA-256 to a results document (in place)."""
    if package is not None:
        results.setdefault("package", {}).update(package_manifest(package))
    if profile is not None:
        sha, basis = profile_digest(profile)
        results.setdefault("profile", {}).update(sha256=sha, sha256_of=basis)


def clean_metadata(metadata: dict[str, Any] | None) -> dict[str, str | None]:
    """The report metadata keys (report_number, organisation, assessor, reviewer) as short single-line strings."""
    out: dict[str, str | None] = {k: None for k in METADATA_KEYS}
    for k in METADATA_KEYS:
        v = (metadata or {}).get(k)
        if v is None or v == "":
            continue
        text = " ".join(str(v).split())[:MAX_METADATA_CHARS]
        out[k] = text or None
    return out


def scope_of(results: dict[str, Any]) -> dict[str, Any]:
    """The statement of scope: what was assessed, from which evidence, against which requirements."""
    ev = [e for e in results.get("evidence") or [] if isinstance(e, dict)]
    reqs = [r for r in results.get("requirements") or [] if isinstance(r, dict)]
    summary = results.get("summary") or {}
    return {
        "evidence_items": len(ev),
        "evidence_files": len({e.get("file") for e in ev}),
        "by_kind": dict(sorted(Counter(str(e.get("kind")) for e in ev).items())),
        "by_mode": dict(sorted(Counter(str(e.get("mode")) for e in ev).items())),
        "subjects": len(results.get("subjects") or []) or len({e.get("subject") for e in ev}),
        "live_capture": any(e.get("source") in ("http", "browser", "android") for e in ev),
        "requirements_1405": [r["id"] for r in reqs if r.get("origin") == "1405"],
        "requirements_derived": [r["id"] for r in reqs if r.get("origin") != "1405"],
        "requirements_not_run": [r["id"] for r in reqs if r.get("status") == "not_run"],
        "checks_selected": summary.get("checks_selected"),
        "items_selected": summary.get("items_selected"),
        "validation_date": results.get("validation_date"),
    }


def add_report_block(results: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """results["report"]: metadata, time of issue in Asia/Ho_Chi_Minh, scope (in place; returns the block).
    A block already present (e.g. from an archived document) keeps its metadata unless new values are given."""
    old = results.get("report") if isinstance(results.get("report"), dict) else {}
    meta = clean_metadata(metadata)
    for k in METADATA_KEYS:
        if meta[k] is None and old.get(k):
            meta[k] = old[k]
    block = {**meta, "issued_at": local_time(results.get("generated_at")), "timezone": TIMEZONE,
             "scope": scope_of(results)}
    results["report"] = block
    return block
