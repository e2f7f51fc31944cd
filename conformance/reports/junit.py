"""junit.xml from a (masked) results document: one testcase per requirement, for CI dashboards.

    pass            <testcase/>
    warn            <testcase> with property status=warn and a system-out line (dashboards can show warnings)
    fail            <failure>
    error           <error>
    review, skip, not_applicable, not_run   <skipped message="...">

Every testcase carries the properties requirement, level, origin and status; the failure text lists every
non-pass finding with its evidence file. The size grows with findings, not with items x checks.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

SUITE_NAME = "vn-personal-qr-1405"
MAX_LINES = 200


_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: Any) -> str:
    """Text XML 1.0 can carry: characters it forbids (NUL, other controls from a hostile payload) shown as \\xNN."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _finding_line(f: dict[str, Any]) -> str:
    ev = f.get("evidence") or "package"
    return xml_safe(f"[{f.get('status')}] {ev}: {f.get('message_en', '')} / {f.get('message_vi', '')}")


def junit_document(results: dict[str, Any]) -> ET.ElementTree:
    reqs = [r for r in results.get("requirements") or [] if isinstance(r, dict)]
    counts = {k: sum(1 for r in reqs if r.get("status") in v) for k, v in (
        ("failures", ("fail",)), ("errors", ("error",)),
        ("skipped", ("review", "skip", "not_applicable", "not_run")))}
    root = ET.Element("testsuites", name=SUITE_NAME)
    suite = ET.SubElement(root, "testsuite", name=SUITE_NAME, tests=str(len(reqs)), failures=str(counts["failures"]),
                          errors=str(counts["errors"]), skipped=str(counts["skipped"]),
                          time=f"{float(results.get('duration_s') or 0):.3f}",
                          timestamp=str(results.get("generated_at", "")))
    props = ET.SubElement(suite, "properties")
    cand = results.get("candidate") or {}
    for k, v in (("candidate", cand.get("name")), ("candidate_version", cand.get("version")),
                 ("verdict", results.get("verdict")), ("suite_version", results.get("suite_version")),
                 ("catalogue_version", results.get("catalogue_version")),
                 ("validation_date", results.get("validation_date"))):
        if v is not None:
            ET.SubElement(props, "property", name=k, value=xml_safe(v))
    for r in reqs:
        status = str(r.get("status"))
        tc = ET.SubElement(suite, "testcase", classname=f"conformance.{str(r.get('id', '')).split('-')[0]}",
                           name=xml_safe(f"{r.get('id')} {r.get('title_en', '')}"), time="0")
        tp = ET.SubElement(tc, "properties")
        for k in ("id", "level", "origin"):
            ET.SubElement(tp, "property", name="requirement" if k == "id" else k, value=str(r.get(k)))
        ET.SubElement(tp, "property", name="status", value=status)
        open_fs = [f for f in r.get("findings") or [] if isinstance(f, dict) and f.get("status") == status]
        lines = [_finding_line(f) for f in open_fs[:MAX_LINES]]
        if len(open_fs) > MAX_LINES:
            lines.append(f"... and {len(open_fs) - MAX_LINES} more (see results.json)")
        first = lines[0] if lines else status
        if status == "fail":
            ET.SubElement(tc, "failure", message=first[:500], type="fail").text = "\n".join(lines)
        elif status == "error":
            ET.SubElement(tc, "error", message=first[:500], type="error").text = "\n".join(lines)
        elif status in ("review", "skip", "not_applicable", "not_run"):
            ET.SubElement(tc, "skipped", message=f"{status}: {first}"[:500])
        elif status == "warn":
            ET.SubElement(tc, "system-out").text = "WARN " + "\n".join(lines)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: dict[str, Any], path: Path) -> Path:
    junit_document(results).write(path, encoding="utf-8", xml_declaration=True)
    return path
