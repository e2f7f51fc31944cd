"""allure-results/ from a (masked) results document, without pytest: one Allure test result per requirement, each
non-pass finding a step, the annotated (redacted) screenshot of items with findings attached once and shared.

Allure statuses: pass/warn -> passed (warn labelled), fail -> failed, error -> broken, the rest -> skipped.
Files grow with findings (at most MAX_IMAGES screenshots), not with items x checks.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ALLURE_STATUS = {"pass": "passed", "warn": "passed", "fail": "failed", "error": "broken"}
SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}
MAX_STEPS = 100
MAX_IMAGES = 30
IMAGES_PER_REQUIREMENT = 3


def _ms(results: dict[str, Any]) -> int:
    import datetime as dt

    try:
        return int(dt.datetime.fromisoformat(str(results.get("generated_at"))).timestamp() * 1000)
    except ValueError:
        return 0


def write_allure(results: dict[str, Any], out: Path, image: Callable[[int], bytes | None] | None = None) -> Path:
    """Write out/<uuid>-result.json per requirement, attachments and environment.properties."""
    out.mkdir(parents=True, exist_ok=True)
    cand = results.get("candidate") or {}
    stamp = _ms(results)
    attached: dict[int, str] = {}

    def attachment(index: int) -> str | None:
        if index in attached:
            return attached[index]
        if image is None or len(attached) >= MAX_IMAGES:
            return None
        picture = image(index)
        if picture is None:
            return None
        name = f"{uuid.uuid4()}-attachment.jpg"
        (out / name).write_bytes(picture)
        attached[index] = name
        return name

    for r in results.get("requirements") or []:
        status = str(r.get("status"))
        open_fs = [f for f in r.get("findings") or [] if f.get("status") == status and status not in ("pass",)]
        steps = [{"name": f"[{f.get('status')}] {f.get('evidence') or 'package'}: {f.get('message_en', '')}",
                  "status": ALLURE_STATUS.get(str(f.get("status")), "skipped"), "stage": "finished",
                  "start": stamp, "stop": stamp} for f in open_fs[:MAX_STEPS]]
        attachments = []
        for idx in sorted({f["item"] for f in open_fs if isinstance(f.get("item"), int)})[:IMAGES_PER_REQUIREMENT]:
            src = attachment(idx)
            if src:
                attachments.append({"name": f"item {idx} (annotated)", "source": src, "type": "image/jpeg"})
        labels = [{"name": "requirement", "value": r["id"]}, {"name": "tag", "value": r["id"]},
                  {"name": "tag", "value": f"origin:{r.get('origin')}"},
                  {"name": "severity", "value": SEVERITY.get(str(r.get("level")), "normal")},
                  {"name": "epic", "value": str(cand.get("name", ""))},
                  {"name": "feature", "value": str(r["id"]).split("-")[0]},
                  {"name": "suite", "value": "vn-personal-qr-1405"}]
        if status == "warn":
            labels.append({"name": "tag", "value": "warn"})
        first = open_fs[0] if open_fs else None
        doc = {
            "uuid": str(uuid.uuid4()),
            "historyId": hashlib.sha256(f"{cand.get('name')}|{r['id']}".encode()).hexdigest(),
            "testCaseId": hashlib.sha256(r["id"].encode()).hexdigest(),
            "name": f"{r['id']} {r.get('title_en', '')}",
            "fullName": f"conformance.{r['id']}",
            "status": ALLURE_STATUS.get(status, "skipped"),
            "statusDetails": ({"message": f"{status}: {first.get('message_en', '')} / {first.get('message_vi', '')}"}
                              if first else {}),
            "stage": "finished", "start": stamp, "stop": stamp,
            "description": f"{r.get('title_vi', '')} / {r.get('title_en', '')} ({r.get('level')}, {r.get('origin')})",
            "labels": labels, "steps": steps, "attachments": attachments, "parameters": [],
        }
        (out / f"{doc['uuid']}-result.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    env = {"candidate": cand.get("name"), "candidate.version": cand.get("version"), "verdict": results.get("verdict"),
           "suite.version": results.get("suite_version"), "catalogue.version": results.get("catalogue_version")}
    (out / "environment.properties").write_text(
        "".join(f"{k}={v}\n" for k, v in env.items() if v is not None), encoding="utf-8")
    return out
