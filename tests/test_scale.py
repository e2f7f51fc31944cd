"""What keeps a large assessment's memory, time and output flat, shown equivalent to the plain computation:

- results.json keeps one evidence[] entry per item (file, kind, mode, subject, status, error, payload, a summary of
  each symbol) and links the item's bulky detail, items/<index>.json, written masked and valid;
- the FindingDigest keeps only what results.json lists, and gives the same requirements as the complete list;
- the redactor's indexes (numbers by their written forms, names by word pairs, dates by their digits) mask exactly
  what trying every known value on every string masks.
No timings here: speed is measured by scripts/benchmark.py.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.engine import assess
from conformance.engine.assessment import (
    DETAIL_KEYS,
    MAX_LISTED_PER_STATUS,
    Assessment,
    FindingDigest,
    detail_file,
    split_entry,
)
from conformance.model import Finding
from conformance.reports.jsonreport import validate_item_detail
from conformance.reports.redact import (
    Redactor,
    _date_decisions,
    _keep_decisions,
    _name_decisions,
    _Skeleton,
    _View,
)
from tests.support.pii_scan import scan_tree, secrets_of

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "candidates" / "example"
TODAY = "2025-11-27"


# -- per-item detail files ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("example") / "out"
    assert main(["assess", str(EXAMPLE), "--out", str(out), "--quiet", "--today", TODAY, "--workers", "1"]) == 0
    return out


def test_results_json_links_each_items_detail_file(written):
    doc = json.loads((written / "results.json").read_text(encoding="utf-8"))
    manifest = json.loads((EXAMPLE / "candidate.json").read_text(encoding="utf-8"))
    assert [e["index"] for e in doc["evidence"]] == list(range(len(manifest["evidence"])))
    for e, m in zip(doc["evidence"], manifest["evidence"]):
        assert {"file", "kind", "mode", "subject", "status"} <= set(e) and e["kind"] == m["kind"]
        assert e["detail"] == detail_file(e["index"]) and not set(DETAIL_KEYS) - {"symbols"} & set(e)
        detail = json.loads((written / e["detail"]).read_text(encoding="utf-8"))
        validate_item_detail(detail)
        assert (detail["index"], detail["file"], detail["kind"]) == (e["index"], e["file"], e["kind"])
        if e["kind"] == "screenshot":
            full, summary = detail["symbols"][0], e["symbols"][0]
            assert {"quality", "grid", "decoders", "text"} <= set(full) and not {"quality", "grid", "text"} & set(
                summary)
            assert {k: full[k] for k in summary if k != "decoded_by"} == {k: v for k, v in summary.items()
                                                                           if k != "decoded_by"}
            assert summary["decoded_by"] == ["zxing-cpp", "zbar", "opencv-aruco"]
            assert detail["screen_text"]["lines"]
    assert sorted(p.name for p in (written / "items").iterdir()) == [
        Path(detail_file(i)).name for i in range(len(manifest["evidence"]))]


def test_detail_files_are_masked(written):
    manifest = json.loads((EXAMPLE / "candidate.json").read_text(encoding="utf-8"))
    secrets = [s for p in manifest["subjects"] for s in secrets_of(p, p["id"])]
    leaks = scan_tree(written / "items", secrets, pictures=False)
    assert leaks == {}, leaks


def test_whole_entries_are_the_linked_entries_and_their_details():
    a = assess(EXAMPLE, today=TODAY, workers=1)
    whole, linked = a.to_dict()["evidence"], a.to_dict(linked=True)["evidence"]
    assert [split_entry(e)[0] for e in whole] == linked
    for e in whole:
        assert a.detail_of(e["index"]) == e
        assert {k: e[k] for k in DETAIL_KEYS if k in e} == {
            k: v for k, v in split_entry(e)[1].items() if k in DETAIL_KEYS}


# -- the finding digest ------------------------------------------------------------------------------------------
STATUSES = ("pass", "pass", "pass", "not_applicable", "skip", "warn", "fail", "review", "error")


def _findings(rng: random.Random, items: int) -> list[tuple[tuple[int, int], list[Finding]]]:
    out = []
    for i in rng.sample(range(items), items):  # items arrive in any order (pool completion order)
        fs = [Finding(requirement=f"SYMBOL-00{rng.randint(1, 4)}", status=rng.choice(STATUSES), message_en="m",
                      message_vi="m", evidence=f"f{i}", item=i, check=f"c{rng.randint(1, 2)}")
              for _ in range(rng.randint(0, 4))]
        out.append(((0, i), fs))
    for n in range(rng.randint(0, 30)):  # subject / package findings, after the items in the document
        out.append(((1, n), [Finding(requirement="GEN-001", status=rng.choice(STATUSES[:5]), message_en="s",
                                     message_vi="s", evidence=f"subject:s{n}")]))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_the_digest_gives_the_requirements_of_the_complete_list(seed):
    from conformance.capture.package import load_package
    from conformance.specs import load_profile

    rng = random.Random(seed)
    fed = _findings(rng, items=rng.choice([10, 80, 400]))
    complete = [f for _, fs in sorted(fed, key=lambda x: x[0]) for f in fs]
    digest = FindingDigest()
    for order, fs in fed:
        digest.add(fs, order)
    pkg = load_package(EXAMPLE)
    now = dt.datetime.now(dt.UTC)

    def reqs(findings, omitted):
        return Assessment(package=pkg, profile=load_profile(None), findings=findings, entries=[], started=now,
                          finished=now, today=dt.date(2025, 11, 27), omitted=omitted).requirements()

    assert reqs(digest.findings(), digest.omitted) == reqs(complete, {})
    kept = digest.findings()
    assert all(sum(1 for f in kept if (f.requirement, f.status) == key) <= MAX_LISTED_PER_STATUS
               for key in {(f.requirement, f.status) for f in kept if f.status in ("pass", "skip")})
    assert [f for f in kept if f.status in ("fail", "warn", "review", "error")] == [
        f for f in complete if f.status in ("fail", "warn", "review", "error")]


# -- the redactor's indexes --------------------------------------------------------------------------------------
def _scan_every_value(red: Redactor, s: str) -> str:
    """The value pass as a scan of every known value over the string (what the indexes must equal)."""
    from conformance.reports.redact import KEEP_LAST, _date_patterns, _name_patterns

    view = _View(s)
    t, dec = view.text, [0] * len(view)
    if any(c.isdigit() for c in t):
        sk = _Skeleton(t)
        for v in red._ids:
            forms = [(v, "full", KEEP_LAST)]
            if v.isdigit() and v.startswith("0") and len(v) == 10:
                forms.append(("84" + v[1:], "full", KEEP_LAST))
            if v.isdigit() and len(v) >= 8:
                forms += [(v[-k:], "suffix", KEEP_LAST) for k in range(5, len(v))]
                forms += [(v[:k], "prefix", 0) for k in range(6, len(v))]
            for form, how, keep in forms:
                for a, b in sk.find(form, how):
                    _keep_decisions(view, a, b, dec, keep)
    for y, m, d in red._dates:
        if f"{y % 100:02d}" in t:
            rx = re.compile(r"(?<![0-9])(?:" + "|".join(sorted(set(_date_patterns(y, m, d)), key=len, reverse=True))
                            + r")(?![0-9])")
            for mt in rx.finditer(t):
                _date_decisions(view, mt.start(), mt.end(), dec)
    for words in red._names:
        if sum(w in t for w in words) >= min(2, len(words)):
            rx = re.compile(r"(?<![a-z\ufffd])(?:" + "|".join(sorted(set(_name_patterns(list(words))), key=len,
                                                                      reverse=True)) + r")(?![a-z\ufffd])")
            for mt in rx.finditer(t):
                _name_decisions(view, mt.start(), mt.end(), dec)
    return view.render(dec)


def _indexed(red: Redactor, s: str) -> str:
    view = _View(s)
    dec = [0] * len(view)
    red._value_pass(view, view.text, dec)
    return view.render(dec)


def test_indexed_value_pass_masks_what_a_scan_of_every_value_masks():
    from fixtures.synth.people import make_people

    people = make_people(77, 60)
    red = Redactor(subjects=people, names=["Lê Thị", "Nguyễn Văn Đức Anh"])
    rng = random.Random(5)
    pieces = []
    for p in people:
        doc, dob = p["so_giay_to"], p["ngay_sinh"]
        y, m, d = dob.split("-")
        pieces += [p["ho_ten"], p["ho_ten"].upper(), p["ho_ten"].replace(" ", ""), " ".join(p["ho_ten"].split()[::-1]),
                   doc, doc[-6:], doc[:7], f"{d}/{m}/{y}", f"{int(d)}.{int(m)}.{y[2:]}", f"{y}{m}{d}", f"{d} thg {m} {y}",
                   p["ext"]["phone"], "+84 " + p["ext"]["phone"][1:], p["ext"]["bhyt"], p["qid"][-9:],
                   doc.replace("0", "O").replace("1", "l")]
    noise = ["Mã QR", "12:30", "v1.2.3", "Cập nhật lúc 08:15 12/10/2021", " ", " | ", "-", "***", "0", "2021"]
    for _ in range(400):
        s = "".join(rng.choice(pieces if rng.random() < 0.5 else noise) for _ in range(rng.randint(1, 6)))
        assert _indexed(red, s) == _scan_every_value(red, s), s
