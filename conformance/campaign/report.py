"""The campaign's own files: campaign.json's schema check, junit.xml (one testsuite per candidate plus a campaign
suite) and dashboard.html (self-contained, bilingual, from the document as written: masked unless --show-pii)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.reports.junit import SUITE_NAME, junit_document, xml_safe

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
SCHEMA = "campaign-results.schema.json"
CAMPAIGN_SUITE = "campaign"


class CampaignSchemaError(ValueError):
    """campaign.json does not match its schema: a suite bug."""


def validate_document(doc: dict[str, Any]) -> None:
    from conformance.specs import SpecError, validate

    try:
        validate(doc, SCHEMA, "campaign.json")
    except SpecError as exc:
        raise CampaignSchemaError(str(exc)) from None


# ------------------------------------------------------------------------------------------------- JUnit
def junit_tree(doc: dict[str, Any], candidates: Sequence[dict[str, Any]]) -> ET.ElementTree:
    """One testsuite per candidate (its requirements, as its own junit.xml) and a campaign suite: one testcase per
    person and cross-candidate requirement."""
    root = ET.Element("testsuites", name=xml_safe(f"{SUITE_NAME} campaign {doc['name']}"))
    for cand, res in zip(doc["candidates"], candidates):
        suite = junit_document(res).getroot().find("testsuite")  # type: ignore[union-attr]
        assert suite is not None
        suite.set("name", xml_safe(f"{cand['slug']}"))
        props = suite.find("properties")
        if props is not None:
            ET.SubElement(props, "property", name="report", value=xml_safe(cand["report"]))
        for tc in suite.iter("testcase"):
            tc.set("classname", xml_safe(f"{cand['slug']}.{tc.get('classname', '')}"))
        root.append(suite)
    cases = [(r, p) for r in doc["requirements"] for p in doc["people"]]
    status_of = {(r["id"], p["id"]): _person_status(r, p["id"]) for r, p in cases}
    counts = {k: sum(1 for s in status_of.values() if s in v) for k, v in (
        ("failures", ("fail",)), ("errors", ("error",)), ("skipped", ("skip", "review", "not_applicable")))}
    suite = ET.SubElement(root, "testsuite", name=CAMPAIGN_SUITE, tests=str(len(cases)),
                          failures=str(counts["failures"]), errors=str(counts["errors"]),
                          skipped=str(counts["skipped"]), time=f"{float(doc.get('duration_s') or 0):.3f}",
                          timestamp=str(doc.get("generated_at", "")))
    props = ET.SubElement(suite, "properties")
    for k in ("name", "verdict", "suite_version", "catalogue_version", "validation_date", "report_number"):
        if doc.get(k) is not None:
            ET.SubElement(props, "property", name=f"campaign_{k}" if k == "name" else k, value=xml_safe(doc[k]))
    for r, p in cases:
        status = status_of[(r["id"], p["id"])]
        tc = ET.SubElement(suite, "testcase", classname=f"{CAMPAIGN_SUITE}.{r['id'].split('-')[0]}",
                           name=xml_safe(f"{r['id']} {p['id']}"), time="0")
        tp = ET.SubElement(tc, "properties")
        for k, v in (("requirement", r["id"]), ("level", r["level"]), ("subject", p["id"]), ("status", status)):
            ET.SubElement(tp, "property", name=k, value=xml_safe(v))
        fs = [f for f in r["findings"] if f.get("subject") == p["id"] and f["status"] == status]
        lines = [xml_safe(f"[{f['status']}] {', '.join(f.get('candidates') or [])}: {f['message_en']} / "
                          f"{f['message_vi']}") for f in fs]
        first = lines[0] if lines else status
        if status == "fail":
            ET.SubElement(tc, "failure", message=first[:500], type="fail").text = "\n".join(lines)
        elif status == "error":
            ET.SubElement(tc, "error", message=first[:500], type="error").text = "\n".join(lines)
        elif status in ("skip", "review", "not_applicable"):
            ET.SubElement(tc, "skipped", message=f"{status}: {first}"[:500])
    ET.indent(root)
    return ET.ElementTree(root)


def _person_status(req: dict[str, Any], subject: str) -> str:
    from conformance.engine.assessment import combine

    return combine(f["status"] for f in req["findings"] if f.get("subject") == subject)


def write_junit(doc: dict[str, Any], candidates: Sequence[dict[str, Any]], path: Path) -> Path:
    junit_tree(doc, candidates).write(path, encoding="utf-8", xml_declaration=True)
    return path


# ------------------------------------------------------------------------------------------------- dashboard
def dashboard_view(doc: dict[str, Any]) -> dict[str, Any]:
    from conformance.specs import load_catalogue

    cat = load_catalogue()
    campaign_ids = {r["id"] for r in doc["requirements"]}
    rows = []
    for rid, req in cat.items():
        cells = [{"candidate": c, "status": c["statuses"].get(rid, "not_run")} for c in doc["candidates"]]
        rows.append({"id": rid, "level": req["level"], "origin": req["origin"], "title_vi": req["title_vi"],
                     "title_en": req["title_en"], "cells": cells, "campaign": rid in campaign_ids})
    campaign_reqs = {r["id"]: r for r in doc["requirements"]}
    return {"d": doc, "rows": rows, "campaign_reqs": campaign_reqs,
            "gen3": campaign_reqs.get("GEN-003"), "redacted": bool(doc.get("pii_masked"))}


def render_dashboard(doc: dict[str, Any]) -> str:
    """dashboard.html as a string, from the campaign document as written (already masked unless --show-pii)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from conformance.words import LEVEL_WORDS, MODE_WORDS, STATUS_MEANING, STATUS_WORDS, VERDICT_MEANING, VERDICT_WORDS

    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(STATUS_WORDS=STATUS_WORDS, STATUS_MEANING=STATUS_MEANING, VERDICT_WORDS=VERDICT_WORDS,
                       VERDICT_MEANING=VERDICT_MEANING, LEVEL_WORDS=LEVEL_WORDS, MODE_WORDS=MODE_WORDS,
                       FIELD_WORDS=field_words())
    return env.get_template("dashboard.html.j2").render(**dashboard_view(doc))


def field_words() -> dict[str, tuple[str, str]]:
    """(vi, en) names of the payload fields a GEN-003 finding can name (from the field table)."""
    from conformance.rules.fields import EXT_ITEMS, FIELDS, ext_label

    out = {f.key: (f"{f.spec} ({f.label_vi})", f"{f.spec} ({f.label_en})") for f in FIELDS}
    for i, f in enumerate(EXT_ITEMS, start=1):
        en, vi = ext_label(i)
        out[f"ext.{f.key}"] = (vi, en)
    out["payload"] = ("cấu trúc nội dung mã", "payload structure")
    return out
