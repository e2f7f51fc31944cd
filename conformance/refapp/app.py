"""The reference candidate: a small real Flask app implementing the live-candidate contract (the assessment
interface of specs/assessment-api.openapi.yaml and a phone web page).

Conformant by default; each `--defect` switch really changes what the interface and the page do.
"""
from __future__ import annotations

import copy
import hmac
import re
import secrets
import threading
import time
import traceback
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request

from conformance.payload.record import build_payload, mask_date_of_birth
from conformance.rules.fields import FIELD_SEP

from . import render
from .subjects import LABELS, load_records

API = "/assessment/v1"
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_TOKEN = "refapp-token"
PAGE_COOKIE = "refapp_page"
SLOW_TOGGLE_S = 2.5
TOGGLE_TO_FULL = "Hiện đầy đủ thông tin"
TOGGLE_TO_DEFAULT = "Ẩn bớt thông tin"

DEFECTS: dict[str, str] = {
    "unmasked-default": "default mode shows and encodes full values",
    "wrong-mask-length": "document number masked with 5 stars instead of 6",
    "name-lowercase": "payload HoTen in lower case",
    "name-accented": "payload HoTen keeps Vietnamese diacritics",
    "date-format": "payload NgaySinh as DD/MM/YYYY",
    "ecc-low": "QR error-correction level L",
    "tiny-qr": "QR module of 1-2 px on screen",
    "no-toggle": "toggle does nothing; the page has no toggle button",
    "default-full": "the app opens in full mode",
    "pii-in-url": "the page fetches its data with document number and DOB in the query string",
    "no-auth": "the interface accepts requests without (or with a wrong) token",
    "stack-trace": "malformed id returns 500 with a Python traceback and personal data",
    "no-store-missing": "no Cache-Control: no-store",
    "slow-toggle": "toggle takes 2.5 s",
}

# Adapters through which each defect switch can be observed. The HTTP adapter drives the assessment interface,
# whose URLs the suite builds itself, so a page that leaks personal data in its own request URLs is only seen by the
# browser adapter (its network log). `demo-live` refuses a defect its adapter cannot observe.
ADAPTERS = ("http", "browser")
DEFECT_ADAPTERS: dict[str, tuple[str, ...]] = {name: ADAPTERS for name in DEFECTS}
DEFECT_ADAPTERS["pii-in-url"] = ("browser",)


def unobservable(defects: list[str] | tuple[str, ...], adapter: str) -> list[str]:
    """The defect switches that the given adapter cannot observe."""
    return [d for d in defects if adapter not in DEFECT_ADAPTERS.get(d, ADAPTERS)]


@dataclass
class RefAppConfig:
    token: str = DEFAULT_TOKEN
    defects: frozenset[str] = frozenset()
    mask_payload: bool = False  # encode the masked payload in default mode (the profile allows either)
    records: list[dict[str, Any]] = field(default_factory=load_records)

    def __post_init__(self) -> None:
        unknown = set(self.defects) - set(DEFECTS)
        if unknown:
            raise ValueError(f"unknown defect(s): {', '.join(sorted(unknown))}; known: {', '.join(DEFECTS)}")
        self.defects = frozenset(self.defects)


def _err(status: int, en: str, vi: str) -> Response:
    resp = jsonify({"error": en, "error_vi": vi})
    resp.status_code = status
    return resp


class RefApp:
    """State (display mode per subject) and the rules that turn a record into what is shown and encoded."""

    def __init__(self, config: RefAppConfig):
        self.cfg = config
        self.records = {r["id"]: r for r in config.records}
        self.lock = threading.Lock()
        self.session_id = secrets.token_hex(8)
        self.modes: dict[str, str] = {}
        self.page_tokens: set[str] = set()
        self.reset()

    def has(self, name: str) -> bool:
        return name in self.cfg.defects

    @property
    def initial_mode(self) -> str:
        return "full" if self.has("default-full") else "default"

    def reset(self) -> str:
        with self.lock:
            self.modes = {sid: self.initial_mode for sid in self.records}
            self.session_id = secrets.token_hex(8)
            return self.session_id

    def reset_subject(self, sid: str) -> None:
        with self.lock:
            self.modes[sid] = self.initial_mode

    def toggle(self, sid: str) -> None:
        if self.has("slow-toggle"):
            time.sleep(SLOW_TOGGLE_S)
        if self.has("no-toggle"):
            return
        with self.lock:
            self.modes[sid] = "default" if self.modes[sid] == "full" else "full"

    # ---- what is shown / encoded -------------------------------------------------------------------
    def _mask_len(self) -> int:
        return 5 if self.has("wrong-mask-length") else 6

    def _mask_doc(self, doc: str) -> str:
        n = min(self._mask_len(), len(doc))
        return "*" * n + doc[n:]

    def shows_full(self, mode: str) -> bool:
        return mode == "full" or self.has("unmasked-default")

    def displayed(self, rec: dict, mode: str) -> dict[str, str]:
        doc = str(rec.get("so_giay_to") or "")
        y, m, d = str(rec["ngay_sinh"]).split("-")
        full = self.shows_full(mode)
        return {
            "so_giay_to": doc if full else self._mask_doc(doc),
            "ngay_sinh": f"{d}/{m}/{y}" if full else f"**/**/{y}",
            "ho_ten": unicodedata.normalize("NFC", " ".join(str(rec["ho_ten"]).split()).upper()),
        }

    def payload(self, rec: dict, mode: str) -> str:
        fields = build_payload(rec, masked=False).split(FIELD_SEP, 5)
        masked = self.cfg.mask_payload and not self.shows_full(mode)
        doc, dob = fields[0], fields[2]
        if masked:
            doc = self._mask_doc(doc) if doc else doc
            dob = mask_date_of_birth(dob)
        if self.has("date-format"):
            y, m, d = dob.split("-")
            dob = f"{d}/{m}/{y}"
        name = fields[1]
        if self.has("name-accented"):
            name = unicodedata.normalize("NFC", " ".join(str(rec["ho_ten"]).split()).upper())
        if self.has("name-lowercase"):
            name = name.lower()
        fields[0], fields[1], fields[2] = doc, name, dob
        return "|".join(fields)

    def ecc(self) -> str:
        return "L" if self.has("ecc-low") else "M"

    def view(self, sid: str) -> dict[str, Any]:
        rec = self.records[sid]
        with self.lock:
            mode = self.modes[sid]
        return {"subject": sid, "mode": mode, "payload": self.payload(rec, mode), "displayed": self.displayed(rec, mode)}

    def toggle_label(self, mode: str) -> str | None:
        if self.has("no-toggle"):
            return None
        return TOGGLE_TO_DEFAULT if mode == "full" else TOGGLE_TO_FULL


def create_app(config: RefAppConfig | None = None) -> Flask:
    cfg = config or RefAppConfig()
    ref = RefApp(cfg)
    app = Flask(__name__)
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["refapp"] = ref

    def no_store(resp: Response) -> Response:
        if not ref.has("no-store-missing"):
            resp.headers["Cache-Control"] = "no-store"
            resp.headers["Pragma"] = "no-cache"
        return resp

    def bearer_ok() -> bool:
        if ref.has("no-auth"):
            return True
        h = request.headers.get("Authorization", "")
        if not h.startswith("Bearer "):
            return False
        return hmac.compare_digest(h[7:].strip().encode(), cfg.token.encode())

    def unauthorized() -> Response:
        resp = _err(401, "missing or invalid bearer token", "thiếu hoặc sai mã xác thực (bearer token)")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="assessment"'
        return resp

    def check_subject(sid: str) -> Response | None:
        if not ID_RE.match(sid):
            if ref.has("stack-trace"):
                try:
                    raise LookupError(f"malformed subject id {sid!r}; registered accounts: {cfg.records!r}")
                except LookupError:
                    body = traceback.format_exc()
                return Response(body, status=500, mimetype="text/plain")
            return _err(400, "malformed subject id (expected ^[A-Za-z0-9_-]{1,64}$)",
                        "mã người dùng không hợp lệ (cần khớp ^[A-Za-z0-9_-]{1,64}$)")
        if sid not in ref.records:
            return _err(404, f"unknown subject {sid}", f"không có người dùng {sid}")
        return None

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        p = request.path
        if p.startswith(API) or p.startswith("/app/"):
            no_store(resp)
        return resp

    @app.before_request
    def auth() -> Response | None:
        if request.path.startswith(API + "/") or request.path == API:
            if not bearer_ok():
                return unauthorized()
        return None

    @app.errorhandler(404)
    def not_found(e):
        if request.path.startswith(API) or request.path.startswith("/app/"):
            return _err(404, "not found", "không tìm thấy")
        return e

    @app.errorhandler(405)
    def bad_method(e):
        resp = _err(405, f"method {request.method} not allowed", f"không hỗ trợ phương thức {request.method}")
        resp.headers["Allow"] = ", ".join(e.valid_methods or [])
        return resp

    @app.errorhandler(500)
    def server_error(e):
        return _err(500, "internal error", "lỗi máy chủ")

    # ---- assessment interface ----------------------------------------------------------------------
    @app.post(API + "/session")
    def session():
        return jsonify({"session": ref.reset()})

    @app.get(API + "/subjects")
    def subjects():
        return jsonify({"subjects": [{"id": sid, "label": LABELS.get(sid, f"Test account {sid}")}
                                     for sid in ref.records]})

    @app.get(API + "/records")
    def records():
        return jsonify({"records": copy.deepcopy(cfg.records)})

    @app.get(API + "/subjects/<path:sid>/display")
    def display(sid: str):
        return check_subject(sid) or jsonify(ref.view(sid))

    @app.post(API + "/subjects/<path:sid>/toggle")
    def toggle(sid: str):
        bad = check_subject(sid)
        if bad:
            return bad
        ref.toggle(sid)
        return jsonify(ref.view(sid))

    @app.get(API + "/subjects/<path:sid>/screen.png")
    def screen(sid: str):
        bad = check_subject(sid)
        if bad:
            return bad
        v = ref.view(sid)
        png, info = render.screen_png(v["payload"], v["displayed"], v["mode"], ecc=ref.ecc(),
                                      module_px=2 if ref.has("tiny-qr") else None,
                                      toggle_label=ref.toggle_label(v["mode"]))
        return Response(png, mimetype="image/png")

    # ---- the phone-style web page ------------------------------------------------------------------
    def page_ok() -> bool:
        if ref.has("no-auth") or bearer_ok():
            return True
        tok = request.cookies.get(PAGE_COOKIE, "")
        with ref.lock:
            return bool(tok) and tok in ref.page_tokens

    @app.get("/app/<path:sid>")
    def page(sid: str):
        if sid.startswith("api/"):
            abort(404)
        bad = check_subject(sid)
        if bad:
            return bad
        ref.reset_subject(sid)  # opening the screen shows the app's initial mode (DISPLAY-004)
        tok = secrets.token_urlsafe(24)
        with ref.lock:
            ref.page_tokens.add(tok)
        boot: dict[str, str] = {}
        if ref.has("pii-in-url"):
            rec = ref.records[sid]
            boot = {"doc": str(rec.get("so_giay_to") or ""), "dob": str(rec["ngay_sinh"])}
        html = render_template("app.html", sid=sid, has_toggle=not ref.has("no-toggle"),
                               label_full=TOGGLE_TO_FULL, label_default=TOGGLE_TO_DEFAULT, boot=boot,
                               tiny=ref.has("tiny-qr"))
        resp = Response(html, mimetype="text/html")
        resp.set_cookie(PAGE_COOKIE, tok, httponly=True, samesite="Strict", path="/app/")
        resp.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        return resp

    def page_state(sid: str) -> dict[str, Any]:
        v = ref.view(sid)
        v["toggle_label"] = ref.toggle_label(v["mode"])
        v["qr_modules"] = render.make_qr(v["payload"], ref.ecc()).symbol_size(scale=1, border=render.QUIET_ZONE)[0]
        return v

    @app.get("/app/api/<path:sid>/state")
    def page_state_route(sid: str):
        if not page_ok():
            return unauthorized()
        return check_subject(sid) or jsonify(page_state(sid))

    @app.post("/app/api/<path:sid>/toggle")
    def page_toggle(sid: str):
        if not page_ok():
            return unauthorized()
        bad = check_subject(sid)
        if bad:
            return bad
        ref.toggle(sid)
        return jsonify(page_state(sid))

    @app.get("/app/api/<path:sid>/qr.png")
    def page_qr(sid: str):
        if not page_ok():
            return unauthorized()
        bad = check_subject(sid)
        if bad:
            return bad
        v = ref.view(sid)
        return Response(render.qr_png(v["payload"], ref.ecc(), scale=1 if ref.has("tiny-qr") else 12),
                        mimetype="image/png")

    return app
