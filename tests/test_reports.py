"""Reports layer: results.json schema, personal-data masking, screenshot redaction, self-contained bilingual HTML."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
import segno
import zxingcpp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from conformance.payload.record import ascii_name, build_payload
from conformance.reports import ResultsSchemaError, annotate_screenshot, redact_results, write_reports
from conformance.reports.jsonreport import SCHEMA_PATH, schema_errors
from conformance.reports.redact import mask_name

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# Fictitious people (never real personal data).
S1 = {"id": "s1", "so_giay_to": "001093029317", "ho_ten": "Nguyễn Lê Khánh Hà", "ngay_sinh": "1987-01-18",
      "loai_dinh_danh": 0, "qid": "162979388586171100",
      "ext": {"proxy_qid": "", "gender": 1, "bhyt": "HS4010123456821", "phone": "0912345700"}}
S2 = {"id": "s2", "so_giay_to": "C7654321", "ho_ten": "Trần Văn Bình", "ngay_sinh": "2001-02-03",
      "loai_dinh_danh": 1, "qid": "987654321012345678",
      "ext": {"proxy_qid": "162979388586171100", "gender": 2, "phone": "0387001234"}}
PAYLOAD_S1 = build_payload(S1)
PAYLOAD_S1_MASKED = build_payload(S1, masked=True)  # what the app itself shows in default mode
PAYLOAD_S2 = build_payload(S2)

PII = ["001093029317", "029317", "NGUYEN LE KHANH HA", "Nguyễn Lê Khánh Hà", "Nguyen Le Khanh Ha", "1987-01-18",
       "18/01/1987", "1987-**-**", "0912345700", "12345700", "HS4010123456821", "4010123456821",
       "C7654321", "TRAN VAN BINH", "Trần Văn Bình", "2001-02-03", "0387001234"]


def phone_screenshot(payload: str, *, name: str, doc: str, dob: str, scale: int = 9) -> tuple[Image.Image, dict]:
    """A 1080x2340 'app screen' with the name, document number, date of birth and the QR code."""
    q = segno.make_qr(payload, error="m", boost_error=False)
    m = np.array([list(r) for r in q.matrix], dtype=np.uint8)
    qr = Image.fromarray((np.kron(1 - m, np.ones((scale, scale), np.uint8)) * 255).astype(np.uint8))
    img = Image.new("RGB", (1080, 2340), (243, 246, 250))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 1080, 200), fill=(20, 80, 160))
    big, small = ImageFont.truetype(FONT, 54), ImageFont.truetype(FONT, 42)
    d.text((60, 70), "Mã QR cá nhân", font=big, fill="white")
    lines = [(f"Họ tên: {name}", 320), (f"CCCD: {doc}", 400), (f"Ngày sinh: {dob}", 480)]
    for text, y in lines:
        d.text((80, y), text, font=small, fill=(20, 20, 20))
    card = (90, 620, 990, 620 + 900)
    d.rounded_rectangle(card, 30, fill="white")
    x0 = (1080 - qr.width) // 2
    y0 = 700
    img.paste(qr.convert("RGB"), (x0, y0))
    (r,) = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
    p = r.position
    corners = [[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
               [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]]
    side = float(np.mean([np.hypot(corners[i][0] - corners[(i + 1) % 4][0], corners[i][1] - corners[(i + 1) % 4][1])
                          for i in range(4)]))
    symbol = {
        "text": r.text, "bytes_hex": r.bytes.hex(), "corners": corners, "ecc": r.ec_level,
        "version": int(r.extra["Version"]), "mask": int(r.extra["DataMask"]), "uec": r.extra.get("UEC"),
        "module_px": side / (17 + 4 * q.version), "size_px": side, "size_mm": round(side / 401 * 25.4, 2),
        "quiet_zone_modules": 4, "quiet_zone_clipped": False, "polarity": "dark-on-light",
        "symbol_contrast": 0.87, "wcag_contrast": 19.6,
        "decoders": {"zxing-cpp": True, "zbar": True, "opencv": False},
        "cross_check": {"ecc": r.ec_level, "version": int(r.extra["Version"]), "mask": int(r.extra["DataMask"]),
                        "agrees": True, "confident": True},
    }
    ocr = {"source": "screens/s1-default.png", "size": [1080, 2340], "inverted": False,
           "text": "\n".join(t for t, _ in lines),
           "lines": [{"text": t, "box": [80, y, 80 + int(d.textlength(t, font=small)), y + 50], "conf": 91.5}
                     for t, y in lines],
           "timings_ms": {"pass1": 812.0}, "error": None, "error_vi": None}
    return img, {"symbol": symbol, "ocr": ocr}


def finding(req, status, en, vi, evidence, **kw):
    return {"requirement": req, "evidence": evidence, "check": f"check_{req.lower().replace('-', '_')}",
            "status": status, "message_en": en, "message_vi": vi, **kw}


def make_results(verdict: str = "non-conformant") -> tuple[dict, dict]:
    """A realistic results.json document (as conformance.engine.assessment would build it) and its screenshots."""
    shot_default, info_d = phone_screenshot(PAYLOAD_S1_MASKED, name="Nguyễn Lê Khánh Hà", doc="******029317",
                                            dob="**/**/1987")
    shot_full, info_f = phone_screenshot(PAYLOAD_S1, name="Nguyễn Lê Khánh Hà", doc="001093029317", dob="18/01/1987")
    f_def, f_full, f_api = "screens/s1-default.png", "screens/s1-full.png", "api/s2-full.txt"
    info_f["ocr"]["source"] = f_full
    reqs = [
        {"id": "GEN-001", "level": "MUST", "origin": "1405", "grade": "C", "title_en": "One unified code per person",
         "title_vi": "Mỗi người một mã QR thống nhất", "status": "pass",
         "findings": [finding("GEN-001", "pass", "All captures of s1 in full mode carry the same payload.",
                              "Mọi ảnh chụp của s1 ở chế độ đầy đủ mang cùng nội dung.", "subject:s1")]},
        {"id": "GEN-002", "level": "MUST", "origin": "1405", "grade": "B",
         "title_en": "The code carries the subject's registered record",
         "title_vi": "Mã QR mang đúng dữ liệu đăng ký của người dùng", "status": "fail",
         "findings": [finding("GEN-002", "fail", "HoTen 'TRAN VAN BINH' differs from the registered name.",
                              "HoTen 'TRAN VAN BINH' khác với họ tên đã đăng ký.", f_api, field="HoTen",
                              position=9, expected="TRAN VAN BINH", found="TRAN VAN BIHN")]},
        {"id": "PAYLOAD-004", "level": "MUST", "origin": "1405", "grade": "B", "title_en": "NgaySinh is YYYY-MM-DD",
         "title_vi": "NgaySinh theo định dạng YYYY-MM-DD", "status": "pass",
         "findings": [finding("PAYLOAD-004", "pass", "NgaySinh 1987-01-18 is a valid date.",
                              "NgaySinh 1987-01-18 là ngày hợp lệ.", f_full, field="NgaySinh")]},
        {"id": "PAYLOAD-011", "level": "MUST", "origin": "1405", "grade": "B",
         "title_en": "EXT item 4 is a 10-digit phone number", "title_vi": "Giá trị EXT thứ 4 là số điện thoại 10 chữ số",
         "status": "pass", "findings": [finding("PAYLOAD-011", "pass", "Phone 0912345700 has 10 digits.",
                                                "Số điện thoại 0912345700 có 10 chữ số.", f_full)]},
        {"id": "DISPLAY-001", "level": "MUST", "origin": "1405", "grade": "B",
         "title_en": "Document number shown masked or whole by mode",
         "title_vi": "Số giấy tờ hiển thị ẩn hoặc đầy đủ theo chế độ",
         "status": "review" if verdict == "incomplete" else "pass",
         "findings": [finding("DISPLAY-001", "review" if verdict == "incomplete" else "pass",
                              "Screen shows document number '******029317' (OCR confidence 61 %).",
                              "Màn hình hiển thị số giấy tờ '******029317' (độ tin cậy OCR 61 %).", f_def,
                              expected="******029317", found="******029317")]},
        {"id": "DISPLAY-003", "level": "MUST", "origin": "1405", "grade": "B",
         "title_en": "Quick switch between default and full mode",
         "title_vi": "Chuyển đổi nhanh giữa chế độ mặc định và đầy đủ", "status": "skip",
         "findings": [finding("DISPLAY-003", "skip", "No live session: the toggle time cannot be measured.",
                              "Không có phiên chạy trực tiếp: không đo được thời gian chuyển chế độ.", "package")]},
        {"id": "SYMBOL-003", "level": "SHOULD", "origin": "derived", "grade": "X",
         "title_en": "Error-correction level at least the profile minimum",
         "title_vi": "Mức sửa lỗi không thấp hơn mức tối thiểu của hồ sơ đánh giá", "status": "pass",
         "findings": [finding("SYMBOL-003", "pass", "ECC M >= M.", "Mức sửa lỗi M >= M.", f_def,
                              measured={"ecc": "M", "min_ecc": "M"})]},
        {"id": "SYMBOL-006", "level": "SHOULD", "origin": "derived", "grade": "X",
         "title_en": "Dark on light with enough contrast", "title_vi": "Mô-đun tối trên nền sáng, đủ độ tương phản",
         "status": "warn",
         "findings": [finding("SYMBOL-006", "pass", "Contrast 0.87.", "Độ tương phản 0,87.", f_def,
                              measured={"symbol_contrast": 0.87}),
                      finding("SYMBOL-006", "warn", "Symbol contrast 0.38 < 0.40 <script>alert(1)</script>.",
                              "Độ tương phản 0,38 < 0,40.", f_full, measured={"symbol_contrast": 0.38})]},
        {"id": "PAYLOAD-012", "level": "MAY", "origin": "1405", "grade": "B",
         "title_en": "EXT item 5 electronic signature (reported for review)",
         "title_vi": "Giá trị EXT thứ 5 là chữ ký điện tử (chuyển người đánh giá xem xét)",
         "status": "not_applicable",
         "findings": [finding("PAYLOAD-012", "not_applicable", "No signature item.", "Không có chữ ký.", f_full)]},
    ]
    if verdict == "incomplete":
        reqs[1]["status"] = reqs[1]["findings"][0]["status"] = "pass"
    if verdict == "conformant":
        for r in reqs:
            if r["level"] == "MUST":
                r["status"] = "pass"
                for f in r["findings"]:
                    f["status"] = "pass"
    must_failed = [r["id"] for r in reqs if r["level"] == "MUST" and r["status"] == "fail"]
    must_open = [r["id"] for r in reqs if r["level"] == "MUST" and r["status"] in ("skip", "review", "error")]
    counts = {s: sum(r["status"] == s for r in reqs)
              for s in ("pass", "fail", "warn", "not_applicable", "skip", "review", "error")}
    results = {
        "format_version": "1.0", "suite_version": "0.1.0", "spec_version": "1.1", "catalogue_version": "1.0.0",
        "generated_at": "2025-11-27T10:45:00+07:00", "duration_s": 4.82,
        "profile": {"name": "default", "profile_version": "1.0.0", "path": "specs/profile.default.yaml",
                    "settings": {"symbol": {"min_ecc": "M", "min_quiet_zone_modules": 4, "min_module_px": 4,
                                            "min_symbol_mm": 25, "min_symbol_contrast": 0.4,
                                            "degradations": [{"name": "downscale_50", "kind": "scale", "factor": 0.5},
                                                             {"name": "blur_1_5", "kind": "blur", "sigma": 1.5}],
                                            "min_degradations_passed": 2},
                                 "payload": {"masking_in_default_mode": "allowed"},
                                 "display": {"toggle_max_seconds": 1.0}}},
        "candidate": {"name": "PC-Covid Demo", "vendor": "Example Vendor", "version": "3.2.1", "platform": "android"},
        "device": {"model": "Pixel 7", "ppi": 401, "dpr": 2.625, "width_px": 1080, "height_px": 2340},
        "package": {"path": "/tmp/evidence/pkg", "manifest_sha256": "ab" * 32},
        "verdict": verdict,
        "summary": {"counts": counts, **counts, "must_failed": must_failed, "must_open": must_open},
        "requirements": reqs,
        "evidence": [
            {"file": f_def, "sha256": "12" * 32, "kind": "screenshot", "mode": "default", "subject": "s1",
             "status": "warn", "symbols": [info_d["symbol"]], "payload": PAYLOAD_S1_MASKED,
             "screen_text": info_d["ocr"]},
            {"file": f_full, "sha256": "34" * 32, "kind": "screenshot", "mode": "full", "subject": "s1",
             "status": "warn", "symbols": [info_f["symbol"]], "payload": PAYLOAD_S1, "screen_text": info_f["ocr"]},
            {"file": f_api, "sha256": "56" * 32, "kind": "payload", "mode": "full", "subject": "s2",
             "status": "fail", "symbols": [], "payload": PAYLOAD_S2.replace("BINH", "BIHN")},
            {"file": "screens/s2-broken.png", "sha256": None, "kind": "screenshot", "mode": "default",
             "subject": "s2", "status": "error", "symbols": [],
             "error": "screens/s2-broken.png: not a PNG or JPEG image", "error_vi": "screens/s2-broken.png: không phải ảnh PNG hoặc JPEG"},
        ],
        "environment": {"python": "3.11.7", "platform": "Linux-6.1-x86_64", "packages": {"zxing-cpp": "3.1.1"}},
        "pii_masked": False,
        "subjects": [S1, S2],
    }
    images = {f_def: np.asarray(shot_default.convert("L")), f_full: shot_full}
    return results, images


@pytest.fixture(scope="module")
def realistic():
    return make_results()


def _all_text(out: dict[str, Path]) -> tuple[str, str]:
    return out["results"].read_text(encoding="utf-8"), out["html"].read_text(encoding="utf-8")


# -- schema ------------------------------------------------------------------------------------------------------
def test_schema_is_draft_2020_12_and_accepts_realistic_results(realistic):
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"].endswith("/draft/2020-12/schema")
    jsonschema.Draft202012Validator.check_schema(schema)
    results, _ = realistic
    assert schema_errors(json.loads(json.dumps(results))) == []


@pytest.mark.parametrize("breakage", [
    lambda r: r.update(verdict="passed"),
    lambda r: r["requirements"][0].update(status="ok"),
    lambda r: r["requirements"][0].update(origin="ISO"),
    lambda r: r["requirements"][0].update(level="MUSTNT"),
    lambda r: r["requirements"][0].pop("title_vi"),
    lambda r: r.pop("summary"),
    lambda r: r["evidence"][0].update(kind="video"),
    lambda r: r["requirements"][0]["findings"][0].pop("message_vi"),
    lambda r: r["candidate"].update(platform="symbian"),
])
def test_schema_violation_raises_and_writes_nothing(realistic, tmp_path, breakage):
    results = copy.deepcopy(realistic[0])
    breakage(results)
    with pytest.raises(ResultsSchemaError):
        write_reports(results, tmp_path / "out", images={})
    assert not (tmp_path / "out" / "results.json").exists()


def test_schema_allows_extensions_in_nested_objects(realistic):
    results = json.loads(json.dumps(realistic[0]))
    results["requirements"][0]["findings"][0]["confidence"] = 0.9
    results["evidence"][0]["symbols"][0]["new_metric"] = {"a": 1}
    results["device"]["os_version"] = "14"
    assert schema_errors(results) == []


# -- masking -----------------------------------------------------------------------------------------------------
def test_payload_is_masked_field_by_field():
    red = redact_results({"subjects": [S1], "evidence": [{"payload": PAYLOAD_S1}, {"payload": PAYLOAD_S1_MASKED}]})
    # format-preserving: X upper-case letter, 9 digit; last 3 of numbers and first letter of name words kept
    assert red["evidence"][0]["payload"] == \
        "999999999317|NXXXXX LX KXXXX HX|9999-99-99|0|999999999999999100|<1<XX9999999999821<9999999700"
    # what the app masked itself stays visible as '*', distinct from the report's own masks
    assert red["evidence"][1]["payload"] == \
        "******999317|NXXXXX LX KXXXX HX|9999-**-**|0|999999999999999100|<1<XX9999999999821<9999999700"
    assert red["pii_masked"] is True


def test_names_found_in_payloads_are_masked_without_subjects():
    text = "001093029317|PHAM THI MAI|1990-12-01|0|Q1|"
    red = redact_results({"a": text, "b": "expected 'PHAM THI MAI', found 'Pham Thị Mai' on screen"})
    assert red["a"] == "999999999317|PXXX TXX MXX|9999-99-99|0|Q1|"
    assert "PHAM" not in red["b"].upper() and "MAI" not in red["b"].upper()
    # the name learned from the payload is masked in every form, keeping its case and diacritics visible
    assert red["b"] == "expected 'PXXX TXX MXX', found 'Pxxx Txẍ Mxx' on screen"


def test_masking_never_touches_ids_statuses_files_hashes_numbers(realistic):
    results = json.loads(json.dumps(realistic[0]))
    red = redact_results(results)
    assert [r["id"] for r in red["requirements"]] == [r["id"] for r in results["requirements"]]
    assert [r["status"] for r in red["requirements"]] == [r["status"] for r in results["requirements"]]
    assert [e["file"] for e in red["evidence"]] == [e["file"] for e in results["evidence"]]
    assert [e["sha256"] for e in red["evidence"]] == [e["sha256"] for e in results["evidence"]]
    assert red["generated_at"] == results["generated_at"]
    s0, r0 = results["evidence"][0]["symbols"][0], red["evidence"][0]["symbols"][0]
    for k in ("corners", "module_px", "size_mm", "symbol_contrast", "version", "mask", "ecc", "quiet_zone_modules"):
        assert r0[k] == s0[k]
    assert red["requirements"][0]["findings"][0]["evidence"] == "subject:s1"
    assert red["summary"] == results["summary"]
    # QID identifies the person on the national platform: masked like a document number (last 3 kept)
    assert "162979388586171100" not in red["evidence"][1]["payload"]
    assert "|999999999999999100|" in red["evidence"][1]["payload"]
    # raw bytes are masked too (hex of the payload would otherwise leak everything)
    assert bytes.fromhex(r0["bytes_hex"]).decode() == r0["text"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.one_of(st.from_regex(r"\A0[0-9]{11}\Z"), st.from_regex(r"\A[1-9][0-9]{8}\Z"),
                  st.from_regex(r"\A[A-Z][0-9]{7}\Z")),
    words=st.lists(st.sampled_from(["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đặng", "Bùi", "Thị", "Văn", "Ngọc",
                                    "Minh", "Khánh", "Đức", "Hương", "Quỳnh", "Tuấn", "Phương"]),
                   min_size=2, max_size=5),
    year=st.integers(1930, 2020), month=st.integers(1, 12), day=st.integers(1, 28),
    phone=st.from_regex(r"\A0[35789][0-9]{8}\Z"), bhyt=st.from_regex(r"\A[A-Z]{2}[1-5][0-9]{12}\Z"),
    masked=st.booleans(),
)
@example(doc="000000000000", words=["Nguyễn", "Nguyễn"], year=1930, month=1, day=1, phone="0300000000",
         bhyt="AA1000000999000", masked=False)  # the mask digit beside a kept suffix is not a leak
def test_no_pii_survives_masking(doc, words, year, month, day, phone, bhyt, masked):
    name = " ".join(words)
    rec = {"id": "s1", "so_giay_to": doc, "ho_ten": name, "ngay_sinh": f"{year:04d}-{month:02d}-{day:02d}",
           "loai_dinh_danh": 0, "qid": "QIDabcxyz", "ext": {"gender": 2, "bhyt": bhyt, "phone": phone}}
    payload = build_payload(rec, masked=masked)
    doc_results = {
        "evidence": [{"file": "screens/a.png", "payload": payload,
                      "screen_text": {"text": f"{name}\n{doc}\n{day:02d}/{month:02d}/{year}"}}],
        "requirements": [{"id": "GEN-002", "findings": [{"message_en": f"found '{payload}'",
                                                         "found": ascii_name(name), "expected": phone}]}],
    }
    # twice: with the subject records given, and with only the payloads to learn the name from
    for known in (True, False):
        d = dict(doc_results, subjects=[rec]) if known else doc_results
        text = json.dumps(redact_results(d), ensure_ascii=False)
        for secret in (doc, doc[-6:], rec["ngay_sinh"], f"{day:02d}/{month:02d}/{year}", phone, phone[-6:], bhyt,
                       bhyt[-6:], ascii_name(name), name):
            # a fragment made of the mask digit and up to three kept characters is what masking itself writes
            # (Hypothesis found bhyt ...999000 beside the masked number 999999999000)
            if len(secret) > 3 and not set(secret[:-3]) <= {"9"}:
                assert secret not in text, (known, secret, text)
        assert mask_name(name) in text or mask_name(ascii_name(name)) in text


# -- write_reports -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def written(realistic, tmp_path_factory):
    results, images = realistic
    before = copy.deepcopy(results)
    out = write_reports(results, tmp_path_factory.mktemp("masked"), images=images)
    assert results == before, "write_reports must not modify its input"
    return out


def test_masked_reports_contain_no_pii(written):
    rj, html = _all_text(written)
    for secret in PII:
        assert secret not in rj, secret
        assert secret not in html, secret
    doc = json.loads(rj)
    assert doc["pii_masked"] is True
    assert schema_errors(doc) == []
    assert "999999999317|NXXXXX LX KXXXX HX|9999-99-99|0|999999999999999100|<1<XX9999999999821<9999999700" in rj
    assert "NXXXXX LX KXXXX HX" in html and "999999999317" in html


def test_show_pii_keeps_personal_data(realistic, tmp_path):
    results, images = realistic
    out = write_reports(results, tmp_path, images=images, show_pii=True)
    rj, html = _all_text(out)
    assert json.loads(rj)["pii_masked"] is False
    for secret in ("001093029317", "NGUYEN LE KHANH HA", "0912345700", "HS4010123456821", "TRAN VAN BINH"):
        assert secret in rj and secret in html
    assert "Nguyễn Lê Khánh Hà" in rj


def test_html_is_self_contained_and_escaped(written):
    html = written["html"].read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"<script|<link|<iframe|@import|url\(\s*['\"]?https?:", html, re.I)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    imgs = re.findall(r"<img [^>]*src=\"([^\"]+)\"", html)
    assert len(imgs) == 2 and all(s.startswith("data:image/") for s in imgs)
    assert len(html) < 1_500_000


def test_html_content_is_bilingual_and_complete(written, realistic):
    html = written["html"].read_text(encoding="utf-8")
    results, _ = realistic
    for rid in [r["id"] for r in results["requirements"]]:
        assert f'id="req-{rid}"' in html
    for words in ("Báo cáo đánh giá sự phù hợp", "Conformance assessment report", "1405/QĐ-BTTTT",
                  "KHÔNG PHÙ HỢP", "NON-CONFORMANT", "Không đạt", "Fail", "Cần xem xét", "Needs review",
                  "Bỏ qua", "Skipped", "Không áp dụng", "Not applicable", "TCVN 7322:2009", "ISO/IEC 15415",
                  "PC-Covid Demo", "Pixel 7", "screens/s1-full.png", "screens/s2-broken.png",
                  "không phải ảnh PNG hoặc JPEG", "Decoders", "Bộ giải mã", "zbar ✔",
                  "opencv ✘", "Quiet zone (modules)", "Grid cross-check", "Profile thresholds used",
                  "Minimum symbol contrast SC", "Text read on the screen (OCR)", "TXXX VXX BXXX"):
        assert words in html, words
    # derived checks are never presented as clauses of 1405
    rows = re.findall(r'<tr class="(c1405|derived)" id="req-([A-Z]+-\d{3})"', html)
    origin = {r["id"]: r["origin"] for r in results["requirements"]}
    assert rows and all((cls == "c1405") == (origin[rid] == "1405") for cls, rid in rows)
    derived_section = html.split("Derived checks — NOT clauses of Decision 1405")[1].split('id="not-passed"')[0]
    assert "SYMBOL-003" in derived_section and "GEN-001" not in derived_section


@pytest.mark.parametrize("verdict,vi,en,css", [
    ("conformant", "PHÙ HỢP", "CONFORMANT", "verdict conformant"),
    ("incomplete", "CHƯA ĐỦ CƠ SỞ KẾT LUẬN", "INCOMPLETE", "verdict incomplete"),
])
def test_other_verdicts(tmp_path, verdict, vi, en, css):
    results, _ = make_results(verdict)
    out = write_reports(results, tmp_path, images={})
    html = out["html"].read_text(encoding="utf-8")
    assert css in html and vi in html and en in html
    assert json.loads(out["results"].read_text(encoding="utf-8"))["verdict"] == verdict


def test_bad_pictures_do_not_lose_the_report(realistic, tmp_path):
    results, _ = realistic
    images = {"screens/s1-default.png": np.zeros((5, 5, 7), np.uint8), "screens/s1-full.png": None}
    out = write_reports(results, tmp_path, images=images)
    html = out["html"].read_text(encoding="utf-8")
    assert "Could not draw the picture" in html and "No picture available" in html


def test_images_read_from_package_root_when_not_given(realistic, tmp_path):
    results, images = realistic

    class Pkg:
        root = tmp_path / "pkg"

    (Pkg.root / "screens").mkdir(parents=True)
    Image.fromarray(images["screens/s1-default.png"]).save(Pkg.root / "screens/s1-default.png")
    out = write_reports(results, tmp_path / "out", Pkg())
    html = out["html"].read_text(encoding="utf-8")
    assert html.count('src="data:image/jpeg;base64,') == 1


# -- screenshot redaction ----------------------------------------------------------------------------------------
def _decodes(img) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.mark.parametrize("scale", [4, 9, 16])
def test_annotate_redacted_cannot_be_decoded(scale):
    img, info = phone_screenshot(PAYLOAD_S1, name="Nguyễn Lê Khánh Hà", doc="001093029317", dob="18/01/1987",
                                 scale=scale)
    assert _decodes(img) == [PAYLOAD_S1]
    plain = annotate_screenshot(img, [info["symbol"]], redact=False)
    assert _decodes(plain) == [PAYLOAD_S1], "the outline must not break the symbol"
    red = annotate_screenshot(np.asarray(img.convert("L")), [info["symbol"]], redact=True,
                              ocr_boxes=info["ocr"]["lines"])
    assert red.size == img.size
    assert _decodes(red) == []
    assert _decodes(red.resize((red.width // 2, red.height // 2))) == []
    from pyzbar import pyzbar

    assert pyzbar.decode(red.convert("L")) == []
    # the OCR'd text boxes are blurred: the pixels there lost their sharp edges
    x0, y0, x1, y1 = info["ocr"]["lines"][0]["box"]
    before = np.asarray(img.convert("L").crop((x0, y0, x1, y1)), dtype=float)
    after = np.asarray(red.convert("L").crop((x0, y0, x1, y1)), dtype=float)
    assert np.abs(np.diff(after, axis=1)).mean() < 0.35 * np.abs(np.diff(before, axis=1)).mean()


def test_annotate_redacts_symbols_nobody_reported():
    img, _ = phone_screenshot(PAYLOAD_S2, name="Trần Văn Bình", doc="C7654321", dob="03/02/2001")
    red = annotate_screenshot(img, [], redact=True, ocr_boxes=None)
    assert _decodes(red) == []
    # the reported corners are drawn when not redacting
    img2, info = phone_screenshot(PAYLOAD_S2, name="x", doc="y", dob="z")
    out = np.asarray(annotate_screenshot(img2, [info["symbol"]], redact=False))
    tlx, tly = (int(v) for v in info["symbol"]["corners"][0])
    patch = out[max(0, tly - 20):tly + 20, max(0, tlx - 20):tlx + 20].reshape(-1, 3)
    assert ((patch[:, 0] > 200) & (patch[:, 1] < 60)).any() or ((patch[:, 2] > 200) & (patch[:, 0] < 60)).any()


# -- with the real symbol layer's SymbolReport -------------------------------------------------------------------
def test_real_symbol_reports_are_masked_rendered_and_redacted(tmp_path):
    import base64

    from conformance.symbol import analyse_image

    img, _ = phone_screenshot(PAYLOAD_S1, name="Nguyễn Lê Khánh Hà", doc="001093029317", dob="18/01/1987")
    an = analyse_image(np.asarray(img.convert("L")), ppi=401, name="screens/s1-full.png")
    assert an.error is None and len(an.symbols) == 1
    results, _ = make_results()
    ev = results["evidence"][1]
    ev["symbols"] = [s.to_dict() for s in an.symbols]
    ev.pop("screen_text")  # no OCR boxes known: the whole picture is blurred
    out = write_reports(results, tmp_path, images={"screens/s1-full.png": an.gray})
    rj, html = _all_text(out)
    for secret in PII:
        assert secret not in rj and secret not in html, secret
    sym = json.loads(rj)["evidence"][1]["symbols"][0]
    for key in ("raw_bytes", "raw_bytes_b64"):
        if sym.get(key):
            raw = bytes.fromhex(sym[key]) if key == "raw_bytes" else base64.b64decode(sym[key])
            assert raw.decode("utf-8").startswith("999999999317|NXXXXX LX KXXXX HX|"), key
    assert sym["module_px"] == pytest.approx(an.symbols[0].module_px)
    # the embedded picture cannot be decoded
    uri = re.findall(r'<img [^>]*src="data:image/jpeg;base64,([^"]+)"', html)
    import io

    pics = [Image.open(io.BytesIO(base64.b64decode(u))) for u in uri]
    assert pics and all(_decodes(p) == [] for p in pics)
    # with show_pii the same picture still scans (the outline does not cover modules)
    out2 = write_reports(results, tmp_path / "pii", images={"screens/s1-full.png": an.gray}, show_pii=True)
    uri2 = re.findall(r'<img [^>]*src="data:image/jpeg;base64,([^"]+)"', out2["html"].read_text(encoding="utf-8"))
    assert any(_decodes(Image.open(io.BytesIO(base64.b64decode(u)))) == [PAYLOAD_S1] for u in uri2)


def test_unreadable_package_pictures_are_skipped(realistic, tmp_path):
    results, _ = realistic

    class Pkg:
        root = tmp_path / "pkg"

    (Pkg.root / "screens").mkdir(parents=True)
    (Pkg.root / "screens/s1-default.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    # a PNG whose header claims 20000x20000 (400 MP): refused from the header, never decoded
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    (Pkg.root / "screens/s1-full.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk)))
    out = write_reports(results, tmp_path / "out", Pkg())
    assert "No picture available" in out["html"].read_text(encoding="utf-8")


# -- the filed report ----------------------------------------------------------------------------------------------
META = {"report_number": "TT-2026/0042", "organisation": "Trung tâm thử nghiệm (hư cấu)",
        "assessor": "Kiểm định viên A", "reviewer": None}


def test_report_metadata_scope_and_signature_block(realistic, tmp_path):
    results, images = realistic
    out = write_reports(results, tmp_path, images=images, metadata=META)
    rj, html = _all_text(out)
    doc = json.loads(rj)
    rep = doc["report"]
    assert schema_errors(doc) == []
    assert rep["report_number"] == "TT-2026/0042" and rep["organisation"] == META["organisation"]
    assert rep["assessor"] == "Kiểm định viên A" and rep["reviewer"] is None
    # 2025-11-27T10:45:00+07:00 stays that instant in Asia/Ho_Chi_Minh, offset written
    assert rep["issued_at"] == "2025-11-27T10:45:00+07:00" and rep["timezone"] == "Asia/Ho_Chi_Minh"
    scope = rep["scope"]
    assert scope["evidence_items"] == 4 and scope["by_kind"] == {"payload": 1, "screenshot": 3}
    assert "PAYLOAD-004" in scope["requirements_1405"] and "SYMBOL-003" in scope["requirements_derived"]
    assert "SYMBOL-003" not in scope["requirements_1405"]
    for words in ("TT-2026/0042", "Trung tâm thử nghiệm (hư cấu)", "Kiểm định viên A", "2025-11-27 10:45:00 (UTC+07:00)",
                  "Phạm vi đánh giá", "Scope of the assessment", "Người soát xét", "Reviewer", "Chữ ký", "Signature",
                  "Phê duyệt", "Approved by"):
        assert words in html, words
    # the signature block closes the document; the summary (verdict, requirement table) comes first
    assert html.index('id="signatures"') > html.index('id="appendix-b"') > html.index('id="details"')
    assert html.index('id="verdict"') < html.index('id="requirements"') < html.index('id="evidence"')


def test_report_block_is_not_masked(realistic, tmp_path):
    """Report metadata is not personal data of a subject: a report number that looks like a date or an ID
    number is printed as given."""
    results, images = realistic
    meta = dict(META, report_number="001093029317-2025-11-27")
    doc = json.loads(write_reports(results, tmp_path, images={}, metadata=meta)["results"].read_text("utf-8"))
    assert doc["report"]["report_number"] == "001093029317-2025-11-27"


def test_position_is_shown_with_its_unit(realistic, tmp_path):
    results, images = realistic
    results = copy.deepcopy(results)
    f = results["requirements"][1]["findings"][0]
    f.update(field="HoTen", position=13)
    html = write_reports(results, tmp_path, images={})["html"].read_text(encoding="utf-8")
    assert "character 14 of the payload" in html and "ký tự thứ 14 của nội dung mã" in html
    assert not re.search(r"@\s*\d", html)


def test_waiver_fields_are_never_masked(realistic, tmp_path):
    import datetime as dt

    from conformance.waivers import apply_waivers

    results = copy.deepcopy(realistic[0])
    waivers = [{"requirement": "GEN-002", "reason": "fixing", "ticket": "VENDOR-812", "expires": "2027-03-31",
                "approved_by": "Lê Văn Duyệt"},
               {"requirement": "SYMBOL-003", "reason": "old", "ticket": "VENDOR-700", "expires": "2025-01-31"},
               {"requirement": "GEN-001", "reason": "fixed", "ticket": "VENDOR-9", "expires": "2027-12-31"}]
    apply_waivers(results, waivers, dt.date(2025, 11, 27))
    rj, html = _all_text(write_reports(results, tmp_path, images={}))
    doc = json.loads(rj)
    w = doc["waivers"]
    assert [x["expires"] for x in w["expired"]] == ["2025-01-31"] and w["expired"][0]["ticket"] == "VENDOR-700"
    assert [x["requirement"] for x in w["unused"]] == ["GEN-001"] and w["unused"][0]["expires"] == "2027-12-31"
    for ticket, day in (("VENDOR-700", "2025-01-31"), ("VENDOR-9", "2027-12-31")):
        assert ticket in html and day in html
    assert "••••-••-••" not in json.dumps(w, ensure_ascii=False)
    assert "hết hạn" in html and "expired" in html and "không dùng đến" in html and "unused" in html
    # personal data in the waiver's free text is still masked
    results2 = copy.deepcopy(realistic[0])
    apply_waivers(results2, [dict(waivers[0], reason="name 001093029317 fixed")], dt.date(2025, 11, 27))
    rj2, _ = _all_text(write_reports(results2, tmp_path / "2", images={}))
    assert "001093029317" not in rj2 and "2027-03-31" in rj2


def synthetic_results(n_items: int, failing: set[int] = frozenset()) -> tuple[dict, dict]:
    """A results document of n_items screenshots naming one picture (a conformant package repeated), with the
    listed items failing one requirement."""
    results, images = make_results("conformant")
    results = copy.deepcopy(results)
    sym = results["evidence"][0]["symbols"][0]
    ocr = results["evidence"][0]["screen_text"]
    results["evidence"] = [{"index": i, "file": "screens/s1-default.png", "sha256": "12" * 32, "kind": "screenshot",
                            "mode": ("default", "full")[i % 2], "subject": f"s{i // 2}",
                            "status": "fail" if i in failing else "pass", "symbols": [sym],
                            "payload": PAYLOAD_S1_MASKED, "screen_text": ocr} for i in range(n_items)]
    for r in results["requirements"]:
        r["findings"] = [dict(f, item=i, evidence="screens/s1-default.png", status="pass")
                         for f in r["findings"][:1] for i in range(min(n_items, 50))]
        r["status"] = "pass"
    req = results["requirements"][3]
    req["status"] = "fail"
    req["findings"] += [{"status": "fail", "item": i, "evidence": "screens/s1-default.png", "requirement": req["id"],
                         "message_en": "HoTen holds lower-case letters", "message_vi": "HoTen có chữ thường",
                         "field": "HoTen", "position": 14} for i in sorted(failing)]
    return results, {"screens/s1-default.png": images["screens/s1-default.png"]}


@pytest.mark.parametrize("n_items,failing,max_bytes", [(60, {3, 7}, 1_500_000), (5000, {10, 4000}, 5_000_000)])
def test_html_grows_with_findings_not_items(tmp_path, n_items, failing, max_bytes):
    from conformance.reports.html import SAMPLE_PASS_ITEMS

    results, images = synthetic_results(n_items, set(failing))
    html = write_reports(results, tmp_path, images=images, formats=("html",))["html"].read_text(encoding="utf-8")
    assert len(html.encode()) < max_bytes
    # pictures only for the items with findings and a small sample; every item still has its compact row
    assert html.count('<img ') <= len(failing) + SAMPLE_PASS_ITEMS
    for i in failing:
        assert f'id="ev-{i}"' in html
    assert all(f'id="item-{i}"' in html for i in (0, n_items // 2, n_items - 1))
    assert html.index('id="verdict"') < html.index('id="evidence"')


def _allure_available() -> bool:
    from conformance.reports.allure_html import allure_binary

    return allure_binary() is not None


@pytest.mark.skipif(not _allure_available(), reason="Node and the npm package allure (scripts/setup.sh)")
def test_allure_html_is_built_with_allure_3(tmp_path):
    """`assess --allure-html` builds allure-report/ from allure-results/ with the npm package (no Java)."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    out = tmp_path / "o"
    p = subprocess.run([sys.executable, "-m", "conformance", "assess", str(repo / "fixtures/candidates/example"),
                        "--out", str(out), "--check", "payload_ext_gender", "--allure-html", "--quiet"],
                       cwd=repo, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    index = out / "allure-report" / "index.html"
    assert index.is_file() and any((out / "allure-results").glob("*-result.json"))
    data = [f.read_text(encoding="utf-8", errors="ignore") for f in (out / "allure-report").rglob("*.json")]
    assert any("PAYLOAD-009" in t for t in data)


def test_every_symbol_measurement_has_a_label_in_both_languages():
    # the report's appendix shows a raw key only for a measurement nobody named: every field of the symbol report
    # must have a (vi, en) label, or be one of the parts the report shows in its own way
    import dataclasses

    from conformance.reports.html import CONDENSED_LABELS, SYMBOL_HIDDEN, SYMBOL_LABELS
    from conformance.symbol.analyse import SymbolReport

    own_way = {"decoders", "decoded_by", "quality"}
    named = set(SYMBOL_LABELS) | set(CONDENSED_LABELS) | set(SYMBOL_HIDDEN) | own_way
    unnamed = [f.name for f in dataclasses.fields(SymbolReport) if f.name not in named]
    assert unnamed == []
