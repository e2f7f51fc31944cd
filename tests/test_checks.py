"""Single checks on small hand-made packages, through the engine, for behaviour the fixture candidates do not isolate
(and the wrong results found while reshaping the engine, each with its regression test)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import qrcode
import segno
from PIL import Image

from conformance.engine import Plan, assess
from conformance.engine.session import Session
from conformance.payload import build_payload

SUBJECT = {"id": "s1", "so_giay_to": "079203004512", "ho_ten": "Phạm Thu Trang", "ngay_sinh": "2003-02-11",
           "loai_dinh_danh": 0, "qid": "163100000000000042", "ext": {"gender": 2, "phone": "0900000042"}}
TODAY = "2026-11-27"


def symbol_image(text: str, scale: int = 8, *, version: int | None = None, error: str = "m") -> Image.Image:
    q = segno.make_qr(text, error=error, version=version, mode="byte", boost_error=False)
    buf = io.BytesIO()
    q.save(buf, kind="png", scale=scale, border=4)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def screen_with(symbols: list[Image.Image]) -> Image.Image:
    screen = Image.new("RGB", (1080, 2340), (250, 250, 250))
    y = 200
    for img in symbols:
        screen.paste(img, ((1080 - img.width) // 2, y))
        y += img.height + 80
    return screen


def write_package(root: Path, screens: dict[str, Image.Image], evidence: list[dict],
                  payloads: dict[str, str] | None = None, subjects: list[dict] | None = None) -> Path:
    (root / "screens").mkdir(parents=True, exist_ok=True)
    for name, img in screens.items():
        img.save(root / "screens" / name)
    for name, text in (payloads or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "candidate.json").write_text(json.dumps({
        "spec_version": "1.1", "candidate": {"name": "t"}, "subjects": subjects or [SUBJECT], "evidence": evidence}))
    return root


def one_screen(tmp_path: Path, symbols: list[Image.Image], mode: str = "full") -> Path:
    return write_package(tmp_path, {"a.png": screen_with(symbols)},
                         [{"file": "screens/a.png", "subject": "s1", "mode": mode, "kind": "screenshot"}])


def judge(pkg: Path, check: str, target: str = "item0"):
    plan = Plan.make(pkg, today=TODAY, checks=[check])
    session = Session(plan)
    (case,) = [c for c in plan.cases() if c.target == target]
    return session.judge(case), session


def statuses(pkg: Path, **kw) -> dict[str, str]:
    return {r["id"]: r["status"] for r in assess(pkg, today=TODAY, workers=1, **kw).to_dict()["requirements"]}


def test_same_code_twice_is_one_personal_code(tmp_path):
    pkg = one_screen(tmp_path, [symbol_image(build_payload(SUBJECT))] * 2)
    (f,), session = judge(pkg, "symbol_single_and_decodes")
    assert f.status == "pass" and f.measured == {"symbols": 2, "distinct": 1}
    assert session.view(0)[0].symbol is not None  # the payload checks still get a code to judge


def test_another_code_beside_the_personal_one_fails(tmp_path):
    pkg = one_screen(tmp_path, [symbol_image(build_payload(SUBJECT)), symbol_image("https://example.invalid/app")])
    (f,), session = judge(pkg, "symbol_single_and_decodes")
    assert f.status == "fail" and f.measured["symbols"] == 2
    assert session.view(0)[0].symbol.text == build_payload(SUBJECT)  # still picked out for the payload checks


def test_two_personal_looking_codes_say_so(tmp_path):
    """Two different decoded symbols: the payload checks say the capture shows 2 symbols and none was judged, not
    that no symbol was decoded."""
    other = dict(SUBJECT, qid="163100000000000043")
    pkg = one_screen(tmp_path, [symbol_image(build_payload(SUBJECT)), symbol_image(build_payload(other))])
    (f,), _ = judge(pkg, "payload_name_format")
    assert f.status == "skip"
    assert "shows 2 different QR symbols" in f.message_en and "no QR symbol was decoded" not in f.message_en
    assert "2 mã QR khác nhau" in f.message_vi


def test_status_belongs_to_the_item_not_its_file(tmp_path):
    """Two items naming one file: one with an unknown subject (error), one good (pass); each keeps its own."""
    pkg = write_package(tmp_path, {"a.png": screen_with([symbol_image(build_payload(SUBJECT))])}, [
        {"file": "screens/a.png", "subject": "nobody", "mode": "full", "kind": "screenshot"},
        {"file": "screens/a.png", "subject": "s1", "mode": "full", "kind": "screenshot"}])
    doc = assess(pkg, today=TODAY, workers=1, checks=["payload_matches_record", "payload_name_format"]).to_dict()
    ev = {e["index"]: e for e in doc["evidence"]}
    assert ev[0]["status"] == "error" and "nobody" in ev[0]["error"]
    assert ev[1]["status"] == "pass"
    gen2 = next(r for r in doc["requirements"] if r["id"] == "GEN-002")
    assert {(f.get("item"), f["status"]) for f in gen2["findings"]} == {(0, "error"), (1, "pass")}
    assert all(f["message_en"] for f in gen2["findings"])


def test_mixed_mode_segmentation_is_not_a_defect(tmp_path):
    """SYMBOL-007: a generator that splits the payload into numeric and byte segments (ISO/IEC 18004 allows it and
    it makes the symbol smaller) is not warned; neither is a byte-only one."""
    text = build_payload(SUBJECT)
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    q.add_data(text, optimize=4)
    q.make(fit=True)
    assert {c.mode for c in q.data_list} >= {qrcode.util.MODE_NUMBER, qrcode.util.MODE_8BIT_BYTE}
    mixed = q.make_image().get_image().convert("RGB")
    (f,), _ = judge(one_screen(tmp_path / "mixed", [mixed]), "symbol_encoding_and_version")
    assert f.status == "pass", f.message_en
    (f,), _ = judge(one_screen(tmp_path / "byte", [symbol_image(text)]), "symbol_encoding_and_version")
    assert f.status == "pass", f.message_en


def test_inflated_version_is_warned(tmp_path):
    (f,), _ = judge(one_screen(tmp_path, [symbol_image(build_payload(SUBJECT), version=10)]),
                    "symbol_encoding_and_version")
    assert f.status == "warn" and "version 10" in f.message_en


def test_ext_items_after_the_fifth_pass_with_information(tmp_path):
    payload = build_payload(SUBJECT) + "<<ANY OTHER INFO"
    pkg = write_package(tmp_path, {}, [{"file": "p.txt", "subject": "s1", "mode": "full", "kind": "payload"}],
                        payloads={"p.txt": payload})
    (f,), _ = judge(pkg, "payload_ext_structure")
    assert f.status == "pass" and "other information" in f.message_en and f.measured["notes"]


def test_proxy_qid_missing_is_a_should_level_remark(tmp_path):
    proxy = {"id": "s1", "so_giay_to": "", "ho_ten": "Ngo Gia Huy", "ngay_sinh": "2016-09-05", "loai_dinh_danh": 1,
             "qid": "163012345678900001"}
    pkg = write_package(tmp_path, {}, [{"file": "p.txt", "subject": "s1", "mode": "full", "kind": "payload"}],
                        payloads={"p.txt": "|NGO GIA HUY|2016-09-05|1|163012345678900001|"}, subjects=[proxy])
    (f,), _ = judge(pkg, "payload_ext_proxy_qid")
    assert f.status == "warn" and f.remark == "proxy-qid-missing"  # level from the catalogue remark, not the MUST


@pytest.mark.parametrize("doc, status", [("07920300451O", "fail"), ("079203004512", "pass"), ("C1234567", "pass"),
                                         ("B12345", "pass"), ("AB1234567890", "fail")])
def test_document_number_rule(tmp_path, doc, status):
    rec = dict(SUBJECT, so_giay_to=doc)
    pkg = write_package(tmp_path, {}, [{"file": "p.txt", "subject": "s1", "mode": "full", "kind": "payload"}],
                        payloads={"p.txt": build_payload(rec)}, subjects=[rec])
    (f,), _ = judge(pkg, "payload_document_number")
    assert f.status == status, f.message_en


def test_utf16_payload_file_is_an_evidence_error(tmp_path):
    pkg = write_package(tmp_path, {}, [{"file": "p.txt", "subject": "s1", "mode": "full", "kind": "payload"}])
    (tmp_path / "p.txt").write_bytes(build_payload(SUBJECT).encode("utf-16"))
    st = statuses(pkg, checks=["payload_six_fields", "payload_name_format"])
    assert st["PAYLOAD-001"] == "error" and st["PAYLOAD-003"] == "error"


def test_a_crash_in_a_rule_is_an_error_not_a_verdict(tmp_path, monkeypatch):
    """A suite bug (an exception inside the payload validator) gives `error` naming the exception, and the verdict
    `incomplete`, never a failed requirement."""
    import conformance.payload

    def broken(*a, **k):
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(conformance.payload, "validate_payload", broken)
    pkg = write_package(tmp_path, {}, [{"file": "p.txt", "subject": "s1", "mode": "full", "kind": "payload"}],
                        payloads={"p.txt": build_payload(SUBJECT)})
    doc = assess(pkg, today=TODAY, workers=1).to_dict()
    st = {r["id"]: r for r in doc["requirements"]}
    assert st["PAYLOAD-001"]["status"] == "error" and st["GEN-002"]["status"] == "error"
    assert "ZeroDivisionError" in st["PAYLOAD-001"]["findings"][0]["message_en"]
    assert doc["verdict"] == "incomplete" and not doc["summary"]["must_failed"]


def test_a_crash_in_a_check_is_an_error(tmp_path, monkeypatch):
    from conformance.checks import registry

    spec = registry.REGISTRY["payload_name_format"]

    def broken(ev):
        raise KeyError("injected")

    monkeypatch.setitem(registry.REGISTRY, "payload_name_format", type(spec)(
        spec.name, broken, spec.requirements, spec.scope, spec.kinds, spec.needs, spec.module))
    pkg = write_package(tmp_path, {}, [{"file": "p.txt", "subject": "s1", "mode": "full", "kind": "payload"}],
                        payloads={"p.txt": build_payload(SUBJECT)})
    (f,), _ = judge(pkg, "payload_name_format")
    assert f.status == "error" and "KeyError" in f.message_en and f.measured["exception"] == "KeyError"


def test_worker_count_does_not_change_results(tmp_path):
    example = Path(__file__).resolve().parent.parent / "fixtures" / "candidates" / "example"
    one = assess(example, today=TODAY, workers=1).to_dict()
    two = assess(example, today=TODAY, workers=2).to_dict()
    for d in (one, two):
        for k in ("generated_at", "duration_s", "environment"):
            d.pop(k)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_a_crashing_decoder_is_an_error_not_a_failed_requirement(tmp_path, monkeypatch):
    """A reference decoder that crashes on a capture says nothing about the candidate: SYMBOL-002 is `error` when a
    secondary decoder crashes, and the whole item is `error` when the primary one does (never SYMBOL-001 fail)."""
    from conformance.symbol import decoders

    pkg = one_screen(tmp_path, [symbol_image(build_payload(SUBJECT))])

    def crash(img):
        raise RuntimeError("injected decoder crash")

    monkeypatch.setattr(decoders, "zbar_read", crash)
    st = statuses(pkg, cache=False)  # the same picture analysed earlier in the session would come from the cache
    assert st["SYMBOL-002"] == "error" and st["SYMBOL-001"] == "pass"
    monkeypatch.setattr(decoders, "zxing_read", crash)
    doc = assess(pkg, today=TODAY, workers=1, cache=False).to_dict()
    st = {r["id"]: r["status"] for r in doc["requirements"]}
    assert st["SYMBOL-001"] == "error" and st["PAYLOAD-003"] == "error"
    assert doc["verdict"] == "incomplete" and "RuntimeError" in doc["evidence"][0]["error"]


def test_no_degradation_to_survive_is_not_a_pass(tmp_path):
    """A profile that sets no degradation (or requires none to pass) judges no robustness: SYMBOL-008 is not
    applicable, never a pass on nothing."""
    from conformance.specs import load_profile

    profile = load_profile()
    profile["symbol"] = dict(profile["symbol"], degradations=[])
    pkg = one_screen(tmp_path, [symbol_image(build_payload(SUBJECT))])
    st = {r["id"]: r["status"] for r in assess(pkg, today=TODAY, workers=1, profile=profile,
                                               checks=["symbol_robust_to_degradation"]).to_dict()["requirements"]}
    assert st["SYMBOL-008"] == "not_applicable"
