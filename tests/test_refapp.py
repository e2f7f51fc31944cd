"""The reference candidate app, run for real: subprocess on 127.0.0.1, real HTTP, real decoders, real Chromium."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import requests
import segno
import yaml
import zxingcpp
from jsonschema import Draft202012Validator
from PIL import Image

from conformance.payload.record import ascii_name, build_payload, mask_date_of_birth

ROOT = Path(__file__).resolve().parent.parent
SPEC = yaml.safe_load((ROOT / "specs" / "assessment-api.openapi.yaml").read_text(encoding="utf-8"))
TOKEN = "test-token-" + os.urandom(4).hex()
AUTH = {"Authorization": f"Bearer {TOKEN}"}
API = "/assessment/v1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

try:
    from conformance.payload import validate_payload
except Exception:  # noqa: BLE001 - written in parallel; only that assertion is skipped
    validate_payload = None


# ---------------------------------------------------------------------------------------------------------------
# starting the app for real
from conformance.refapp import launch  # noqa: E402


class RefAppProcess(launch.RefAppProcess):
    """The app started for real (conformance.refapp.launch), with request helpers for these tests."""

    def __init__(self, args: list[str]):
        self.args = args
        super().__init__(token=TOKEN, extra_args=args)

    def get(self, path: str, auth: bool = True, **kw) -> requests.Response:
        return requests.get(self.url + path, headers=AUTH if auth else {}, timeout=10, **kw)

    def post(self, path: str, auth: bool = True, **kw) -> requests.Response:
        return requests.post(self.url + path, headers=AUTH if auth else {}, timeout=10, **kw)

    def records(self) -> dict[str, dict]:
        r = self.get(API + "/records")
        assert r.status_code == 200
        return {rec["id"]: rec for rec in r.json()["records"]}


@pytest.fixture(scope="module")
def refapp_factory(request):
    started: dict[tuple[str, ...], RefAppProcess] = {}

    def start(*args: str) -> RefAppProcess:
        key = tuple(args)
        if key not in started:
            started[key] = RefAppProcess(list(args))
        return started[key]

    def stop_all() -> None:
        for p in started.values():  # signal all first, then reap: teardown in parallel
            p.signal_stop()
        for p in started.values():
            p.stop()

    request.addfinalizer(stop_all)
    return start


@pytest.fixture(scope="module")
def ref(refapp_factory) -> RefAppProcess:
    return refapp_factory()


@pytest.fixture(scope="module")
def truth(ref) -> dict[str, dict]:
    return ref.records()


# ---------------------------------------------------------------------------------------------------------------
# helpers
def schema_ok(name: str, instance) -> None:
    Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}).validate(instance)


def spec_declares(path: str, method: str, status: int) -> bool:
    return str(status) in SPEC["paths"][path][method]["responses"]


def no_store(r: requests.Response) -> bool:
    return "no-store" in [p.strip() for p in r.headers.get("Cache-Control", "").split(",")]


def shown_name(rec: dict) -> str:
    return unicodedata.normalize("NFC", " ".join(rec["ho_ten"].split()).upper())


def full_dob(rec: dict) -> str:
    y, m, d = rec["ngay_sinh"].split("-")
    return f"{d}/{m}/{y}"


def decode_png(data: bytes):
    img = Image.open(io.BytesIO(data)).convert("RGB")
    res = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(res) == 1, f"expected one QR symbol, found {len(res)}"
    return img, res[0]


def module_px(img: Image.Image, res, payload: str, ecc: str) -> float:
    n = segno.make(payload, error=ecc.lower(), boost_error=False).symbol_size(scale=1, border=0)[0]
    p = res.position
    width = ((p.top_right.x - p.top_left.x) ** 2 + (p.top_right.y - p.top_left.y) ** 2) ** 0.5
    return (width + 1) / n  # corner points are centres of the outer pixels


def subject_ids(ref) -> list[str]:
    return [s["id"] for s in ref.get(API + "/subjects").json()["subjects"]]


# ---------------------------------------------------------------------------------------------------------------
# the conformant app
ROUTES = [("post", API + "/session"), ("get", API + "/subjects"), ("get", API + "/records"),
          ("get", API + "/subjects/s1/display"), ("get", API + "/subjects/s1/screen.png"),
          ("post", API + "/subjects/s1/toggle")]


def test_spec_paths_all_served(ref):
    for path, ops in SPEC["paths"].items():
        for method in ops:
            if method == "parameters":
                continue
            r = getattr(ref, method)(path.replace("{id}", "s1"))
            assert r.status_code == 200, (method, path, r.status_code)
            assert spec_declares(path, method, 200)


@pytest.mark.parametrize("method,path", ROUTES)
def test_auth_required_on_every_route(ref, method, path):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        r = getattr(requests, method)(ref.url + path, headers=headers, timeout=10)
        assert r.status_code == 401, (path, headers)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.headers["Content-Type"].startswith("application/json")
        schema_ok("Error", r.json())


def test_subjects_and_records(ref, truth):
    r = ref.get(API + "/subjects")
    schema_ok("SubjectList", r.json())
    assert [s["id"] for s in r.json()["subjects"]] == ["s1", "s2"]
    rr = ref.get(API + "/records")
    assert no_store(rr)
    schema_ok("RecordList", rr.json())
    assert truth["s1"]["loai_dinh_danh"] == 0 and truth["s2"]["loai_dinh_danh"] == 1
    assert all(rec["so_giay_to"] for rec in truth.values())
    # the names a subject list shows are neutral labels, never personal data
    assert truth["s1"]["so_giay_to"] not in r.text and ascii_name(truth["s1"]["ho_ten"]) not in r.text.upper()


def test_default_display_masks_exactly(ref, truth):
    assert ref.post(API + "/session").status_code == 200
    for sid, rec in truth.items():
        r = ref.get(f"{API}/subjects/{sid}/display")
        assert r.status_code == 200 and no_store(r)
        body = r.json()
        schema_ok("Display", body)
        assert body["subject"] == sid and body["mode"] == "default"
        doc = rec["so_giay_to"]
        assert body["displayed"] == {"so_giay_to": "******" + doc[6:], "ngay_sinh": "**/**/" + rec["ngay_sinh"][:4],
                                     "ho_ten": shown_name(rec)}
        assert body["payload"] == build_payload(rec)  # default: full payload encoded, only the display masked


def test_toggle_flips_mode_and_session_resets(ref, truth):
    rec = truth["s1"]
    ref.post(API + "/session")
    t = ref.post(API + "/subjects/s1/toggle")
    assert t.status_code == 200 and no_store(t)
    schema_ok("Display", t.json())
    assert t.json()["mode"] == "full"
    assert t.json()["displayed"]["so_giay_to"] == rec["so_giay_to"]
    assert t.json()["displayed"]["ngay_sinh"] == full_dob(rec)
    assert ref.get(API + "/subjects/s1/display").json() == t.json()
    assert ref.get(API + "/subjects/s2/display").json()["mode"] == "default"  # modes are per subject
    assert ref.post(API + "/subjects/s1/toggle").json()["mode"] == "default"
    ref.post(API + "/subjects/s1/toggle")
    s = ref.post(API + "/session")
    schema_ok("Session", s.json())
    assert ref.get(API + "/subjects/s1/display").json()["mode"] == "default"


@pytest.mark.parametrize("sid,status", [("nobody", 404), ("s3", 404), ("a%20b", 400), ("x" * 65, 400),
                                        ("s1.", 400), ("%C3%BC", 400), ("s1%3B1", 400), ("a/b", 400)])
def test_error_shapes(ref, truth, sid, status):
    for method, suffix in (("get", "display"), ("get", "screen.png"), ("post", "toggle")):
        r = getattr(ref, method)(f"{API}/subjects/{sid}/{suffix}")
        assert r.status_code == status, (sid, suffix, r.status_code)
        assert r.headers["Content-Type"].startswith("application/json")
        schema_ok("Error", r.json())
        assert "Traceback" not in r.text and truth["s1"]["so_giay_to"] not in r.text
        assert spec_declares(f"{API}/subjects/{{id}}/{suffix}", method, status)


def test_wrong_method_is_clean_json(ref):
    r = ref.get(API + "/session")
    assert r.status_code == 405
    schema_ok("Error", r.json())


@pytest.mark.skipif(validate_payload is None, reason="conformance.payload.validate_payload not importable")
@pytest.mark.parametrize("mask_payload", [False, True])
def test_payloads_validate(refapp_factory, mask_payload):
    app = refapp_factory("--mask-payload") if mask_payload else refapp_factory()
    for sid in ("s1", "s2"):
        app.post(API + "/session")
        for mode in ("default", "full"):
            body = app.get(f"{API}/subjects/{sid}/display").json()
            assert body["mode"] == mode
            rep = validate_payload(body["payload"], mode=mode, masking="allowed")
            assert rep.ok, [v.to_dict() for v in rep.violations]
            app.post(f"{API}/subjects/{sid}/toggle")


def test_mask_payload_flag(refapp_factory):
    app = refapp_factory("--mask-payload")
    rec = app.records()["s1"]
    app.post(API + "/session")
    assert app.get(API + "/subjects/s1/display").json()["payload"] == build_payload(rec, masked=True)
    _, res = decode_png(app.get(API + "/subjects/s1/screen.png").content)
    assert res.text == build_payload(rec, masked=True)
    assert app.post(API + "/subjects/s1/toggle").json()["payload"] == build_payload(rec)


def test_screen_png_decodes_with_sound_symbol(ref, truth):
    ref.post(API + "/session")
    for sid in ("s1", "s2"):
        for _ in range(2):  # default, then full
            body = ref.get(f"{API}/subjects/{sid}/display").json()
            r = ref.get(f"{API}/subjects/{sid}/screen.png")
            assert r.status_code == 200 and r.headers["Content-Type"] == "image/png" and no_store(r)
            img, res = decode_png(r.content)
            assert res.text == body["payload"]
            assert res.ec_level == "M"
            mpx = module_px(img, res, body["payload"], "M")
            assert mpx >= 4
            # quiet zone of 4 modules is light, modules dark on light
            g = np.asarray(img.convert("L"), dtype=float)
            xs = [res.position.top_left.x, res.position.bottom_left.x]
            ys = [res.position.top_left.y, res.position.top_right.y]
            x0, y0 = min(xs), min(ys)
            x1 = max(res.position.top_right.x, res.position.bottom_right.x)
            y1 = max(res.position.bottom_left.y, res.position.bottom_right.y)
            q = int(4 * mpx) - 1
            ring = np.concatenate([g[y0 - q:y0, x0:x1].ravel(), g[y1 + 1:y1 + 1 + q, x0:x1].ravel(),
                                   g[y0:y1, x0 - q:x0].ravel(), g[y0:y1, x1 + 1:x1 + 1 + q].ravel()])
            assert ring.min() > 200
            assert g[y0:y0 + int(mpx) - 1, x0:x0 + int(mpx) - 1].mean() < 60  # finder corner is dark
            ref.post(f"{API}/subjects/{sid}/toggle")


def test_page_data_endpoints_need_the_page_cookie(ref, truth):
    r = requests.get(ref.url + "/app/api/s1/state", timeout=10)
    assert r.status_code == 401
    s = requests.Session()
    page = s.get(ref.url + "/app/s1", timeout=10)
    assert page.status_code == 200 and no_store(page)
    assert truth["s1"]["so_giay_to"] not in page.text  # data is fetched, not in the HTML
    assert 'id="toggle"' in page.text and "Hiện đầy đủ thông tin" in page.text
    st = s.get(ref.url + "/app/api/s1/state", timeout=10)
    assert st.status_code == 200 and no_store(st)
    assert st.json()["displayed"]["so_giay_to"] == "******" + truth["s1"]["so_giay_to"][6:]
    assert s.get(ref.url + "/app/nobody", timeout=10).status_code == 404


def test_cli_refuses_bad_arguments():
    for args in (["--defect", "no-such-defect"], ["--host", "0.0.0.0"]):
        p = subprocess.run([sys.executable, "-m", "conformance.refapp", "--port", "0", *args], cwd=ROOT,
                           capture_output=True, text=True, timeout=20)
        assert p.returncode == 2 and "REFAPP_URL" not in p.stdout and p.stderr


# ---------------------------------------------------------------------------------------------------------------
# defect switches: each one's observable effect
def _fresh(app, sid="s1"):
    app.post(API + "/session")
    return app.get(f"{API}/subjects/{sid}/display").json()


def test_defect_unmasked_default(refapp_factory):
    for extra in ((), ("--mask-payload",)):
        app = refapp_factory("--defect", "unmasked-default", *extra)
        rec = app.records()["s1"]
        body = _fresh(app)
        assert body["mode"] == "default"
        assert body["displayed"]["so_giay_to"] == rec["so_giay_to"]
        assert body["displayed"]["ngay_sinh"] == full_dob(rec)
        assert body["payload"] == build_payload(rec)


def test_defect_wrong_mask_length(refapp_factory):
    app = refapp_factory("--defect", "wrong-mask-length", "--mask-payload")
    rec = app.records()["s1"]
    body = _fresh(app)
    assert body["displayed"]["so_giay_to"] == "*****" + rec["so_giay_to"][5:]
    assert body["payload"].split("|")[0] == "*****" + rec["so_giay_to"][5:]
    if validate_payload is not None:
        assert not validate_payload(body["payload"], mode="default").ok


@pytest.mark.parametrize("defect", ["name-lowercase", "name-accented", "date-format"])
def test_defect_payload_fields(refapp_factory, defect):
    app = refapp_factory("--defect", defect)
    rec = app.records()["s1"]
    body = _fresh(app)
    fields = body["payload"].split("|")
    expected = build_payload(rec).split("|")
    if defect == "name-lowercase":
        expected[1] = ascii_name(rec["ho_ten"]).lower()
    elif defect == "name-accented":
        expected[1] = shown_name(rec)
        assert expected[1] != ascii_name(rec["ho_ten"])
    else:
        expected[2] = full_dob(rec)
    assert fields == expected
    _, res = decode_png(app.get(API + "/subjects/s1/screen.png").content)
    assert res.text == body["payload"]
    assert body["displayed"]["so_giay_to"].startswith("******")  # the display itself stays conformant
    if validate_payload is not None:
        assert not validate_payload(body["payload"], mode="default").ok


def test_defect_date_format_masked(refapp_factory):
    app = refapp_factory("--defect", "date-format", "--mask-payload")
    rec = app.records()["s1"]
    assert _fresh(app)["payload"].split("|")[2] == "**/**/" + rec["ngay_sinh"][:4]
    assert mask_date_of_birth(rec["ngay_sinh"]) != "**/**/" + rec["ngay_sinh"][:4]


def test_defect_ecc_low(refapp_factory):
    app = refapp_factory("--defect", "ecc-low")
    body = _fresh(app)
    _, res = decode_png(app.get(API + "/subjects/s1/screen.png").content)
    assert res.text == body["payload"] and res.ec_level == "L"


def test_defect_tiny_qr(refapp_factory):
    app = refapp_factory("--defect", "tiny-qr")
    body = _fresh(app)
    r = app.get(API + "/subjects/s1/screen.png")
    img, res = decode_png(r.content)
    assert res.text == body["payload"]
    assert module_px(img, res, body["payload"], "M") <= 2.2
    s = requests.Session()
    s.get(app.url + "/app/s1", timeout=10)
    n = s.get(app.url + "/app/api/s1/state", timeout=10).json()["qr_modules"]
    qr = Image.open(io.BytesIO(s.get(app.url + "/app/api/s1/qr.png?v=1", timeout=10).content))
    assert qr.width == n  # 1 px per module on the page's image


def test_defect_no_toggle(refapp_factory):
    app = refapp_factory("--defect", "no-toggle")
    before = _fresh(app)
    after = app.post(API + "/subjects/s1/toggle")
    assert after.status_code == 200 and after.json() == before
    assert 'id="toggle"' not in requests.get(app.url + "/app/s1", timeout=10).text


def test_defect_default_full(refapp_factory):
    app = refapp_factory("--defect", "default-full")
    rec = app.records()["s1"]
    body = _fresh(app)
    assert body["mode"] == "full" and body["displayed"]["so_giay_to"] == rec["so_giay_to"]
    assert app.post(API + "/subjects/s1/toggle").json()["mode"] == "default"


def test_defect_pii_in_url(refapp_factory):
    app = refapp_factory("--defect", "pii-in-url")
    rec = app.records()["s1"]
    html = requests.get(app.url + "/app/s1", timeout=10).text
    assert rec["so_giay_to"] in html and rec["ngay_sinh"] in html  # the page will put them in its fetch URLs


def test_defect_no_auth(refapp_factory):
    app = refapp_factory("--defect", "no-auth")
    for method, path in ROUTES:
        assert getattr(app, method)(path, auth=False).status_code == 200, path
    assert requests.get(app.url + "/app/api/s1/state", timeout=10).status_code == 200


def test_defect_stack_trace(refapp_factory):
    app = refapp_factory("--defect", "stack-trace")
    rec = app.records()["s1"]
    r = app.get(API + "/subjects/a%20b/display")
    assert r.status_code == 500 and "Traceback (most recent call last)" in r.text and rec["so_giay_to"] in r.text
    assert app.get(API + "/subjects/nobody/display").status_code == 404


def test_defect_no_store_missing(refapp_factory):
    app = refapp_factory("--defect", "no-store-missing")
    for method, path in ROUTES:
        r = getattr(app, method)(path)
        assert r.status_code == 200 and not no_store(r), path


def test_defect_slow_toggle(refapp_factory, ref):
    app = refapp_factory("--defect", "slow-toggle")
    _fresh(app)
    t0 = time.monotonic()
    assert app.post(API + "/subjects/s1/toggle").json()["mode"] == "full"
    assert time.monotonic() - t0 >= 2.4  # the defect sleeps before answering (a lower bound, not a speed figure)


# ---------------------------------------------------------------------------------------------------------------
# real browser
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def _open_page(browser, url):
    ctx = browser.new_context(viewport={"width": 412, "height": 915}, device_scale_factor=2.625)
    page = ctx.new_page()
    urls: list[str] = []
    page.on("request", lambda req: urls.append(req.url))
    page.goto(url)
    page.wait_for_selector("body[data-state=ready]", timeout=10000)
    return ctx, page, urls


def test_browser_page_toggles(browser, ref, truth):
    rec = truth["s1"]
    ref.post(API + "/subjects/s1/toggle")  # opening the page must show the initial (default) mode anyway
    ctx, page, urls = _open_page(browser, ref.url + "/app/s1")
    try:
        assert page.text_content("#doc") == "******" + rec["so_giay_to"][6:]
        assert page.text_content("#dob") == "**/**/" + rec["ngay_sinh"][:4]
        assert page.text_content("#name") == shown_name(rec)
        shot, res = decode_png(page.screenshot())
        assert res.text == build_payload(rec)
        assert module_px(shot, res, res.text, "M") >= 4
        page.get_by_role("button", name="Hiện đầy đủ thông tin").click()
        # locator assertions, not wait_for_function: the page's CSP (no 'unsafe-eval') forbids string predicates
        expect(page.locator("#doc")).to_have_text(rec["so_giay_to"], timeout=5000)
        assert page.text_content("#dob") == full_dob(rec)
        assert page.text_content("#toggle") == "Ẩn bớt thông tin"
        page.click("#toggle")
        expect(page.locator("#doc")).to_have_text("******" + rec["so_giay_to"][6:], timeout=5000)
        expect(page.locator("#toggle")).to_have_text("Hiện đầy đủ thông tin")
        assert all(rec["so_giay_to"] not in u and rec["ngay_sinh"] not in u for u in urls)
    finally:
        ctx.close()


def test_browser_defects(browser, refapp_factory):
    app = refapp_factory("--defect", "pii-in-url")
    rec = app.records()["s1"]
    ctx, page, urls = _open_page(browser, app.url + "/app/s1")
    try:
        assert any(rec["so_giay_to"] in u and rec["ngay_sinh"] in u for u in urls)
    finally:
        ctx.close()
    app = refapp_factory("--defect", "no-toggle")
    ctx, page, urls = _open_page(browser, app.url + "/app/s1")
    try:
        assert page.query_selector("#toggle") is None
        assert page.get_by_role("button").count() == 0
    finally:
        ctx.close()


def test_demo_live_refuses_a_defect_its_adapter_cannot_observe(tmp_path):
    """`demo-live --adapter http --defect pii-in-url` would look conformant (the HTTP adapter builds its own URLs):
    refused with exit 2 before the app starts; every defect is observable by at least one adapter."""
    from conformance.refapp import DEFECT_ADAPTERS, DEFECTS, unobservable

    assert set(DEFECT_ADAPTERS) == set(DEFECTS) and all(DEFECT_ADAPTERS.values())
    assert unobservable(["pii-in-url", "no-toggle"], "http") == ["pii-in-url"]
    assert unobservable(["pii-in-url"], "browser") == []
    p = subprocess.run([sys.executable, "-m", "conformance", "demo-live", "--adapter", "http", "--defect",
                        "pii-in-url", "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parent.parent)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "pii-in-url" in p.stderr and "--adapter browser" in p.stderr and "không quan sát được" in p.stderr
    assert not (tmp_path / "o").exists()
