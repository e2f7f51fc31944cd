"""Campaigns on small payload-only packages (fast): the campaign file and its errors, GEN-003 as a check, the
campaign command's files and exit codes, masking, and the candidate folders being exactly what `assess` writes."""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml

from conformance.campaign.load import CampaignError, load_campaign, slugify
from conformance.checks.context import CampaignView, EvidenceView, Thresholds
from conformance.checks.general import same_code_in_every_app
from conformance.cli import main
from conformance.engine import assess
from conformance.payload import build_payload
from conformance.specs import load_profile
from fixtures.synth.people import make_people

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "fixtures" / "campaigns" / "three-apps"
TODAY = "2026-11-27"
PEOPLE = make_people(4242, 8)  # another seed than the fixtures
S1 = next(p for p in PEOPLE if p["loai_dinh_danh"] == 0 and len(p["so_giay_to"]) == 12)
S2 = next(p for p in PEOPLE if p is not S1 and p["so_giay_to"])


def record(p: dict, sid: str) -> dict:
    r = copy.deepcopy(p)
    r["id"] = sid
    return r


RECORDS = [record(S1, "s1"), record(S2, "s2")]


def with_field(payload: str, index: int, value: str) -> str:
    parts = payload.split("|")
    parts[index] = value
    return "|".join(parts)


def payload_package(root: Path, name: str, shows: dict[str, dict[str, str]], declared: list[dict] | None = None) -> Path:
    """A package of payload items: shows = {subject: {mode: payload text}}."""
    root.mkdir(parents=True)
    evidence = []
    for sid, modes in shows.items():
        for mode, text in modes.items():
            f = f"payloads/{sid}-{mode}.txt"
            (root / "payloads").mkdir(exist_ok=True)
            (root / f).write_text(text + "\n", encoding="utf-8")
            evidence.append({"file": f, "subject": sid, "mode": mode, "kind": "payload"})
    subjects = declared if declared is not None else [r for r in RECORDS if r["id"] in shows]
    manifest = {"spec_version": "1.1", "candidate": {"name": name, "version": "1", "platform": "web"},
                "subjects": subjects, "evidence": evidence}
    (root / "candidate.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return root


def both(rec: dict, masked_default: bool = False) -> dict[str, str]:
    return {"default": build_payload(rec, masked=masked_default), "full": build_payload(rec)}


def write_campaign(path: Path, candidates: list[dict], subjects: list[dict] | None = None, **extra) -> Path:
    doc = {"campaign_version": "1.0", "name": "Đợt thử", "organisation": "Trung tâm thử nghiệm",
           "subjects": subjects if subjects is not None else RECORDS, "candidates": candidates, **extra}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture()
def three(tmp_path: Path) -> Path:
    """App P shows s1 and s2 (masked payload in the default mode), Q shows them unmasked, R shows s1 with its own
    QID (and declares it) and does not show s2."""
    r1, r2 = RECORDS
    wrong = record(S1, "s1")
    wrong["qid"] = wrong["qid"][:-3] + "000" if not wrong["qid"].endswith("000") else wrong["qid"][:-3] + "111"
    payload_package(tmp_path / "p", "App P", {"s1": both(r1, True), "s2": both(r2, True)})
    payload_package(tmp_path / "q", "App Q", {"s1": both(r1), "s2": both(r2)})
    payload_package(tmp_path / "r", "App R", {"s1": both(wrong)}, declared=[wrong])
    return write_campaign(tmp_path / "campaign.yaml", [{"package": "p"}, {"package": "q"}, {"package": "r"}])


def run(*args: str) -> int:
    return main(["campaign", *args, "--today", TODAY, "--quiet", "--workers", "1"])


# ------------------------------------------------------------------------------------------------- the check
TH = Thresholds.from_profile(load_profile())


def view(i: int, mode: str, text: str | None, error: tuple[str, str] | None = None) -> EvidenceView:
    return EvidenceView(index=i, file=f"f{i}", kind="payload", mode=mode, subject_id="s1", record=RECORDS[0],
                        extra={}, thresholds=TH, today=dt.date(2026, 11, 27), ppi=None, payload_text=text, error=error)


def person(views: dict[str, tuple[EvidenceView, ...]], thresholds: Thresholds = TH,
           names: tuple[str, ...] = ("A", "B", "C")) -> list:
    return list(same_code_in_every_app(CampaignView("s1", RECORDS[0], names, views, thresholds)))


def test_masked_positions_are_excepted_in_the_default_mode_when_the_profile_allows_masked_payloads():
    r = RECORDS[0]
    views = {"A": (view(0, "default", build_payload(r, masked=True)),), "B": (view(0, "default", build_payload(r)),)}
    (obs,) = person(views)
    assert obs.seen == "met" and obs.measured["compared"] == ["A", "B"]
    forbidden = Thresholds(**{**TH.__dict__, "masking_in_default_mode": "forbidden"})
    obs = person(views, forbidden)
    assert {o.field for o in obs} == {"so_giay_to", "ngay_sinh"} and all(o.seen == "not_met" for o in obs)
    # masked positions are excepted, the visible ones are not
    other = with_field(build_payload(r, masked=True), 0, "******" + ("1" if r["so_giay_to"][-1] != "1" else "2") * 6)
    (obs,) = person({"A": (view(0, "default", other),), "B": (view(0, "default", build_payload(r)),)})
    assert obs.seen == "not_met" and obs.field == "so_giay_to" and obs.measured["candidates"] == ["A"]
    # the full mode is never compared modulo masks
    obs = person({"A": (view(0, "full", build_payload(r, masked=True)),), "B": (view(0, "full", build_payload(r)),)},
                 names=("A", "B"))
    assert {o.field for o in obs} == {"so_giay_to", "ngay_sinh"} and all(o.seen == "not_met" for o in obs)


def test_a_differing_qid_names_the_person_the_app_and_the_field():
    r = RECORDS[0]
    bad = with_field(build_payload(r), 4, "163000000000000001")
    obs = person({"A": (view(0, "full", build_payload(r)),), "B": (view(1, "full", bad),),
                  "C": (view(2, "full", build_payload(r)),)})
    assert [(o.seen, o.field, o.measured["candidates"], o.measured["agreeing"]) for o in obs] == [
        ("not_met", "qid", ["B"], ["A", "C"])]
    assert "s1" in obs[0].message_en and r["ho_ten"] in obs[0].message_en and "'B'" in obs[0].message_en
    assert "'B'" in obs[0].message_vi and obs[0].found == "163000000000000001" and obs[0].expected == r["qid"]


def test_apps_agreeing_on_a_qid_that_is_not_the_records_fail():
    bad = with_field(build_payload(RECORDS[0]), 4, "163000000000000001")
    (obs,) = person({"A": (view(0, "full", bad),), "B": (view(1, "full", bad),)})
    assert obs.seen == "not_met" and obs.field == "qid" and obs.measured["candidates"] == ["A", "B"]


def test_another_field_names_the_odd_app_or_all_when_none_shows_the_record():
    r = RECORDS[0]
    bhyt = with_field(build_payload(r), 5, build_payload(r).split("|")[5].replace(r["ext"]["bhyt"], "DN4010000000001"))
    (obs,) = person({"A": (view(0, "full", build_payload(r)),), "B": (view(1, "full", bhyt),),
                     "C": (view(2, "full", build_payload(r)),)})
    assert obs.field == "ext.bhyt" and obs.measured["candidates"] == ["B"]
    n1, n2 = with_field(build_payload(r), 1, "NGUYEN VAN MOT"), with_field(build_payload(r), 1, "NGUYEN VAN HAI")
    (obs,) = person({"A": (view(0, "full", n1),), "B": (view(1, "full", n2),)})
    assert obs.field == "ho_ten" and obs.measured["candidates"] == ["A", "B"]


def test_a_payload_without_six_fields_is_compared_whole():
    r = RECORDS[0]
    five = "|".join(build_payload(r).split("|")[:5])
    (obs,) = person({"A": (view(0, "full", build_payload(r)),), "B": (view(1, "full", five),)})
    assert obs.seen == "not_met" and obs.field == "payload"


def test_a_person_shown_by_one_app_or_in_no_common_mode_is_not_judged():
    r = RECORDS[0]
    (obs,) = person({"A": (view(0, "full", build_payload(r)),), "B": (view(1, "full", None, ("broken", "hỏng")),)})
    assert obs.seen == "no_evidence" and obs.measured["shown_by"] == ["A"]
    (obs,) = person({"A": (view(0, "full", build_payload(r)),), "B": (view(1, "default", build_payload(r)),)})
    assert obs.seen == "no_evidence" and obs.measured["shown_by"] == ["A", "B"]
    (obs,) = person({})
    assert obs.seen == "no_evidence" and obs.measured["shown_by"] == []


def test_a_single_package_reports_gen003_not_applicable(tmp_path):
    pkg = payload_package(tmp_path / "p", "App P", {"s1": both(RECORDS[0])})
    doc = assess(pkg, today=TODAY, workers=1).to_dict()
    gen3 = next(r for r in doc["requirements"] if r["id"] == "GEN-003")
    assert gen3["status"] == "not_applicable" and "campaign" in gen3["findings"][0]["message_en"]
    gen2 = next(r for r in doc["requirements"] if r["id"] == "GEN-002")
    assert gen2["status"] == "pass" and not any(f.get("remark") for f in gen2["findings"])


# ------------------------------------------------------------------------------------------------- the command
def test_campaign_command_writes_every_file_and_names_the_disagreement(three, tmp_path):
    out = tmp_path / "out"
    assert run(str(three), "--out", str(out)) == 1
    doc = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
    assert doc["format"].startswith("vnqr-conformance-campaign/") and doc["verdict"] == "non-conformant"
    assert [(c["name"], c["slug"]) for c in doc["candidates"]] == [("App P", "app-p"), ("App Q", "app-q"),
                                                                   ("App R", "app-r")]
    for c in doc["candidates"]:
        assert (out / c["report"]).is_file() and (out / c["slug"] / "results.json").is_file()
        assert (out / c["slug"] / "junit.xml").is_file() and (out / c["slug"] / "allure-results").is_dir()
        res = json.loads((out / c["slug"] / "results.json").read_text(encoding="utf-8"))
        assert c["statuses"] == {r["id"]: r["status"] for r in res["requirements"]} and c["verdict"] == res["verdict"]
        assert res["campaign"]["organisation"] == "Trung tâm thử nghiệm" and res["campaign"]["candidate_slug"] == c["slug"]
    (gen3,) = doc["requirements"]
    assert gen3["id"] == "GEN-003" and gen3["status"] == "fail"
    fails = [f for f in gen3["findings"] if f["status"] == "fail"]
    assert {(f["subject"], f["field"], tuple(f["candidates"])) for f in fails} == {("s1", "qid", ("App R",))}
    people = {p["id"]: p for p in doc["people"]}
    assert people["s1"]["status"] == "fail" and people["s2"]["status"] == "pass"
    cells = {c["candidate"]: c for c in people["s1"]["cells"]}
    assert cells["App R"]["status"] == "fail" and cells["App R"]["fields"] == ["qid"]
    assert cells["App P"]["status"] == cells["App Q"]["status"] == "pass"
    r_s2 = next(c for c in people["s2"]["cells"] if c["candidate"] == "App R")
    assert r_s2["status"] == "skip" and r_s2["reason"] == "not_shown"
    # R declared its own record for s1: assessed against the campaign's, the difference reported on GEN-002
    res_r = json.loads((out / "app-r" / "results.json").read_text(encoding="utf-8"))
    gen2 = next(r for r in res_r["requirements"] if r["id"] == "GEN-002")
    declared = [f for f in gen2["findings"] if f.get("remark") == "declared-record-differs"]
    assert gen2["status"] == "fail" and [(f["status"], f["field"]) for f in declared] == [("warn", "qid")]
    # the campaign's record is the one used; QIDs are personal identifiers, masked like document numbers
    (s1_qid,) = [s["qid"] for s in res_r["subjects"]]
    assert s1_qid != RECORDS[0]["qid"] and s1_qid.endswith(RECORDS[0]["qid"][-3:])
    # JUnit: a testsuite per candidate and a campaign suite with a failure for s1
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert re.findall(r'<testsuite name="([^"]+)"', junit) == ["app-p", "app-q", "app-r", "campaign"]
    assert re.search(r'<testcase [^>]*name="GEN-003 s1"[^>]*>\s*<properties>.*?</properties>\s*<failure', junit,
                     re.S)


def test_reports_are_masked_and_self_contained_unless_show_pii(three, tmp_path):
    out = tmp_path / "out"
    run(str(three), "--out", str(out))
    secrets = [RECORDS[0]["so_giay_to"], RECORDS[0]["ho_ten"], RECORDS[1]["ext"]["phone"], RECORDS[0]["ngay_sinh"]]
    for f in ("campaign.json", "dashboard.html", "junit.xml"):
        text = (out / f).read_text(encoding="utf-8")
        assert not [s for s in secrets if s in text], f
    html = (out / "dashboard.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', html) and "<script" not in html
    assert "Bảng tổng hợp đợt đánh giá" in html and "Campaign dashboard" in html and 'href="app-r/report.html' in html
    out2 = tmp_path / "pii"
    run(str(three), "--out", str(out2), "--show-pii")
    doc = json.loads((out2 / "campaign.json").read_text(encoding="utf-8"))
    assert doc["pii_masked"] is False and RECORDS[0]["ho_ten"] in json.dumps(doc, ensure_ascii=False)


def test_exit_codes_follow_the_candidates_and_gen003(tmp_path):
    r1, r2 = RECORDS
    payload_package(tmp_path / "p", "App P", {"s1": both(r1), "s2": both(r2)})
    payload_package(tmp_path / "q", "App Q", {"s1": both(r1, True)})
    agree = write_campaign(tmp_path / "agree.yaml", [{"package": "p"}, {"package": "q"}])
    # payload-only packages cannot show the display requirements: incomplete (3), GEN-003 passes
    assert run(str(agree), "--out", str(tmp_path / "o1")) == 3
    doc = json.loads((tmp_path / "o1" / "campaign.json").read_text(encoding="utf-8"))
    assert doc["verdict"] == "incomplete" and doc["requirements"][0]["status"] == "pass"
    assert {p["id"]: p["status"] for p in doc["people"]} == {"s1": "pass", "s2": "skip"}


def test_a_candidate_folder_is_exactly_what_assess_writes(three, tmp_path):
    out = tmp_path / "out"
    run(str(three), "--out", str(out))
    alone = tmp_path / "alone"
    assert main(["assess", str(three.parent / "q"), "--out", str(alone), "--today", TODAY, "--quiet",
                 "--workers", "1", "--organisation", "Trung tâm thử nghiệm"]) == 3  # the campaign file's
    assert sorted(p.name for p in (out / "app-q").iterdir()) == sorted(p.name for p in alone.iterdir())

    def comparable(folder: Path) -> dict:
        d = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        for k in ("generated_at", "duration_s", "campaign"):
            d.pop(k, None)
        d["report"].pop("issued_at")
        return d

    assert comparable(out / "app-q") == comparable(alone)


def test_workers_and_a_local_pool_give_identical_results(three, tmp_path):
    docs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["campaign", str(three), "--out", str(out), "--today", TODAY, "--quiet", "--workers",
                     workers]) == 1
        d = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
        d.pop("generated_at")
        d.pop("duration_s")
        docs.append(d)
    assert docs[0] == docs[1]


# ------------------------------------------------------------------------------------------------- bad input
BAD = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))["bad"]


@pytest.mark.parametrize("file", sorted(BAD))
def test_unusable_fixture_campaign_files_exit_2_naming_the_json_path(file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["campaign", str(FIXTURE / file), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{BAD[file]}:" in err and file.split("/")[-1] in err and "lỗi:" in err
    assert not out.exists()
    with pytest.raises(CampaignError) as exc:
        load_campaign(FIXTURE / file)
    assert exc.value.json_path == BAD[file]


def test_more_unusable_campaign_files(tmp_path):
    payload_package(tmp_path / "p", "App P", {"s1": both(RECORDS[0])})
    cases = {
        "dup-subject.yaml": (dict(subjects=[RECORDS[0], copy.deepcopy(RECORDS[0])], candidates=[{"package": "p"}]),
                             "$.subjects[1].id"),
        "number.yaml": (dict(subjects=[{**RECORDS[0], "so_giay_to": 49201760382}], candidates=[{"package": "p"}]),
                        "$.subjects[0].so_giay_to"),
        "no-candidates.yaml": (dict(subjects=RECORDS, candidates=[]), "$.candidates"),
        "live-missing.yaml": (dict(subjects=RECORDS, candidates=[{"live": "nowhere.json"}]), "$.candidates[0].live"),
    }
    for name, (doc, where) in cases.items():
        f = tmp_path / name
        f.write_text(yaml.safe_dump({"campaign_version": "1.0", "name": "x", **doc}), encoding="utf-8")
        with pytest.raises(CampaignError) as exc:
            load_campaign(f)
        assert exc.value.json_path == where, (name, exc.value)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(CampaignError) as exc:
        load_campaign(broken)
    assert "YAML" in exc.value.message_en
    cfg = tmp_path / "live.json"
    cfg.write_text(json.dumps({"candidate": {"name": "Web"}, "subjects": [record(S1, "s9")], "evidence": [],
                               "live": {"adapter": "http", "base_url": "http://127.0.0.1:9"}}), encoding="utf-8")
    f = write_campaign(tmp_path / "live.yaml", [{"live": "live.json"}])
    with pytest.raises(CampaignError) as exc:
        load_campaign(f)
    assert exc.value.json_path == "$.candidates[0].live" and "'s9'" in exc.value.message_en


def test_out_inside_a_package_is_refused_before_any_work(three, capsys):
    assert run(str(three), "--out", str(three.parent / "p" / "reports")) == 2
    assert "--out" in capsys.readouterr().err and not (three.parent / "p" / "reports").exists()


def test_an_unreachable_scheduler_is_a_clear_error(three, tmp_path, monkeypatch, capsys):
    import socket

    import conformance.campaign.run as campaign_run

    monkeypatch.setattr(campaign_run, "SCHEDULER_TIMEOUT_S", 2)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    out = tmp_path / "out"
    assert run(str(three), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}") == 2
    assert "--scheduler" in capsys.readouterr().err and not out.exists()


def test_slugs_are_ascii_and_unique(tmp_path):
    assert slugify("Sổ sức khỏe điện tử") == "so-suc-khoe-dien-tu" and slugify("***") == "candidate"
    payload_package(tmp_path / "a", "App P", {"s1": both(RECORDS[0])})
    payload_package(tmp_path / "b", "app-p", {"s1": both(RECORDS[0])})
    c = load_campaign(write_campaign(tmp_path / "c.yaml", [{"package": "a"}, {"package": "b"}]))
    assert [s.slug for s in c.candidates] == ["app-p", "app-p-2"]


@pytest.mark.browser
def test_dashboard_fits_phone_and_desktop_widths_and_prints(three, tmp_path):
    """In real headless Chromium: no request leaves the page, the page never scrolls sideways (wide matrices scroll
    inside their own box), and it prints."""
    from playwright.sync_api import sync_playwright

    out = tmp_path / "out"
    run(str(three), "--out", str(out))
    url = (out / "dashboard.html").as_uri()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            for width, height, dpr in ((1366, 900, 1), (390, 844, 2)):
                ctx = b.new_context(viewport={"width": width, "height": height}, device_scale_factor=dpr)
                page = ctx.new_page()
                requests: list[str] = []
                page.on("request", lambda r, seen=requests: seen.append(r.url))
                page.goto(url)
                assert [u for u in requests if not u.startswith("file:")] == []
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                cells = page.locator("table.people td.cell .badge").all_inner_texts()
                assert any("Không đạt" in c and "Fail" in c for c in cells)
                ctx.close()
            page = b.new_page()
            page.goto(url)
            pdf = page.pdf(format="A4", landscape=True, print_background=True)
            assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
        finally:
            b.close()


def test_run_plan_on_a_given_executor_equals_the_in_process_run(tmp_path):
    """The engine's executor parameter (what a campaign passes: a shared pool or a Dask client's executor)."""
    from concurrent.futures import ThreadPoolExecutor

    from conformance.engine import Plan, run_plan

    r1, r2 = RECORDS
    pkg = payload_package(tmp_path / "p", "App P", {"s1": both(r1, True), "s2": both(r2)})
    plan = Plan.make(pkg, today=TODAY)
    here = run_plan(plan, workers=1).to_dict()
    with ThreadPoolExecutor(2) as ex:
        there = run_plan(plan, workers=1, executor=ex).to_dict()
    for d in (here, there):
        for k in ("generated_at", "duration_s"):
            d.pop(k)
    assert here == there
