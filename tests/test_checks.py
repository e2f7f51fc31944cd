"""Single checks on small hand-made packages, for behaviour the fixture candidates do not isolate."""
from __future__ import annotations

import json

import segno
from PIL import Image

from conformance.capture.package import load_package
from conformance.checks.registry import all_checks, run_check
from conformance.context import build_contexts
from conformance.payload import build_payload
from conformance.specs import load_profile

SUBJECT = {"id": "s1", "so_giay_to": "079203004512", "ho_ten": "Phạm Thu Trang", "ngay_sinh": "2003-02-11",
           "loai_dinh_danh": 0, "qid": "163100000000000042", "ext": {"gender": 2, "phone": "0900000042"}}


def symbol_image(text: str, scale: int = 8) -> Image.Image:
    q = segno.make_qr(text, error="m", boost_error=False)
    import io

    buf = io.BytesIO()
    q.save(buf, kind="png", scale=scale, border=4)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def package_with_screen(tmp_path, texts: list[str]):
    screen = Image.new("RGB", (1080, 2340), (250, 250, 250))
    y = 200
    for t in texts:
        img = symbol_image(t)
        screen.paste(img, ((1080 - img.width) // 2, y))
        y += img.height + 80
    (tmp_path / "screens").mkdir()
    screen.save(tmp_path / "screens" / "a.png")
    (tmp_path / "candidate.json").write_text(json.dumps({
        "spec_version": "1.1", "candidate": {"name": "t"}, "subjects": [SUBJECT],
        "evidence": [{"file": "screens/a.png", "subject": "s1", "mode": "full", "kind": "screenshot"}]}))
    return build_contexts(load_package(tmp_path), load_profile())


def run(ctx, name):
    spec = all_checks()[name]
    return run_check(spec, ctx.evidence[0])


def test_same_code_twice_is_one_personal_code(tmp_path):
    ctx = package_with_screen(tmp_path, [build_payload(SUBJECT)] * 2)
    (f,) = run(ctx, "symbol_single_and_decodes")
    assert f.status == "pass" and f.measured == {"symbols": 2, "distinct": 1}
    assert ctx.evidence[0].symbol is not None  # the payload checks still get a code to judge


def test_another_code_beside_the_personal_one_fails(tmp_path):
    ctx = package_with_screen(tmp_path, [build_payload(SUBJECT), "https://example.invalid/app"])
    (f,) = run(ctx, "symbol_single_and_decodes")
    assert f.status == "fail" and f.measured["symbols"] == 2
    # the personal code is still picked out for the payload checks
    assert ctx.evidence[0].symbol.text == build_payload(SUBJECT)
