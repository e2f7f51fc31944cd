"""Live capture: drive a running candidate and write an ordinary evidence package.

    capture(config, out_dir, *, records=None, profile=None) -> Path

`config` is a candidate.json document with a `live` section (specs/candidate.schema.json) and `subjects` (the assessor's test
accounts = truth). `records` ({subject id: record}) replaces/extends those records (the reference app exposes
its own; real vendors never do). The result is out_dir with candidate.json, screens/*.png, payloads/*.txt and
capture/log.json, assessable like a submitted package.

Per subject: reset session (http) / open a fresh page (browser) -> capture the initial display (step
"initial") -> one toggle action, timed -> capture again (step "after_toggle").

Never raises on a misbehaving candidate: every fault is an entry in capture/log.json `errors` and an evidence item
whose file is absent (the package loader reports it as an evidence error) with a `note` saying why.
A config that is unusable for capture (no live section, unknown adapter) is also recorded, not raised.
A config (or records) with a value that would become a path or a program is refused BEFORE anything is written:
`capture` raises LiveConfigError (`unsafe_values`; the live command exits 2 naming the value's JSON path).

Bounds: every request has a total deadline (live.timeouts.request_s, else the profile's
live.request_timeout_seconds); the whole run has a wall-clock budget (profile live.max_run_seconds) after which it
stops, keeps what it captured and records the rest as errors (`budget_exceeded`); text bodies are scanned for
personal data up to live.max_scan_bytes each.

capture/log.json, besides the sections listed in `load_capture_log`: `usable_responses` (exchanges / page loads /
screenshots that returned something usable; the live command exits 3 on zero), `budget_exceeded`, and on every
toggle entry `answered` (false when the candidate gave no usable answer to the toggle action).
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from conformance.capture.bounded import Budget
from conformance.capture.netguard import SAFE_NAME, parse_allowed, pii_values, safe_name, url_host

LOG_FILE = "capture/log.json"
DEFAULT_MAX_RUN_SECONDS = 90.0
DEFAULT_SCAN_BYTES = 1_000_000
STEPS = ("initial", "after_toggle")


class LiveConfigError(ValueError):
    """Values of a live config that must never reach the file system or a program: [(JSON path, en, vi)]."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = problems
        path, en, _vi = problems[0]
        super().__init__(f"{path}: {en}")


def _bad_name(path: str, value: Any, what_en: str, what_vi: str) -> tuple[str, str, str]:
    shown = repr(value)[:80]
    return (path, f"{what_en} {shown} is not allowed: it must match ^{SAFE_NAME.pattern}$ (it names files the "
                  "capture writes)",
            f"{what_vi} {shown} không được phép: phải khớp ^{SAFE_NAME.pattern}$ (nó đặt tên cho tệp mà quá trình "
            "chụp ghi ra)")


def unsafe_values(config: Any, records: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """Values that would become a path or a program: subject ids (file names), live.subjects, live.page (what the
    browser opens), live.allowed_hosts entries, live.android (no program, strict adb arguments). Empty = safe."""
    from conformance.capture.android import validate_android

    out: list[tuple[str, str, str]] = []
    if not isinstance(config, dict):
        return out
    subjects = config.get("subjects")
    for i, s in enumerate(subjects if isinstance(subjects, list) else []):
        if isinstance(s, dict) and "id" in s and not safe_name(s["id"]):
            out.append(_bad_name(f"$.subjects[{i}].id", s["id"], "subject id", "mã người dùng"))
    for sid in (records or {}):
        if not safe_name(sid):
            out.append(_bad_name(f"records[{sid!r}]", sid, "subject id", "mã người dùng"))
    live = config.get("live")
    if not isinstance(live, dict):
        return out
    subs = live.get("subjects")
    if isinstance(subs, list):
        for i, sid in enumerate(subs):
            if not safe_name(sid):
                out.append(_bad_name(f"$.live.subjects[{i}]", sid, "subject id", "mã người dùng"))
    hosts = live.get("allowed_hosts")
    if isinstance(hosts, list):
        for i, h in enumerate(hosts):
            if not isinstance(h, str) or parse_allowed(h) is None:
                out.append((f"$.live.allowed_hosts[{i}]", f"{h!r} is not `host` or `host:port`",
                            f"{h!r} không có dạng `host` hoặc `host:port`"))
    page = live.get("page")
    if page is not None:
        base = str(live.get("base_url") or "")
        try:
            scheme = urlsplit(urljoin(base.rstrip("/") + "/", str(page).replace("{subject}", "s").lstrip("/"))).scheme
        except ValueError:
            scheme = ""
        if not isinstance(page, str) or scheme not in ("http", "https"):
            out.append(("$.live.page", f"{page!r} must be a path under base_url (or an http(s) URL), never a file:, "
                        "data: or other URL",
                        f"{page!r} phải là đường dẫn dưới base_url (hoặc URL http(s)), không được là URL file:, "
                        "data: hay loại khác"))
    if "android" in live:
        out += validate_android(live.get("android"))
    return out


def config_problems(config: Any, records: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """Everything the live command refuses (exit 2): unsafe values first, then specs/candidate.schema.json."""
    out = unsafe_values(config, records)
    if out:
        return out
    if not isinstance(config, dict) or not isinstance(config.get("live"), dict):
        return [("$.live", "no 'live' section (see specs/candidate.schema.json)",
                 "không có mục 'live' (xem specs/candidate.schema.json)")]
    from conformance.specs import SpecError, validate

    try:
        validate(config, "candidate.schema.json", "CONFIG")
    except SpecError as exc:
        out.append((exc.json_path, f"{exc.message} (specs/candidate.schema.json)",
                    f"{exc.message_vi} (specs/candidate.schema.json)"))
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _positive(value: Any, default: float) -> float:
    """A finite positive number from a profile/config value, else the default (never NaN or infinity as a bound)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float(default)
    return v if math.isfinite(v) and v > 0 else float(default)


def load_profile_safe(profile: dict[str, Any] | None) -> dict[str, Any]:
    if profile is not None:
        return profile
    try:
        from conformance.specs import load_profile  # type: ignore[attr-defined]

        return load_profile()
    except Exception:  # noqa: BLE001 - fall back to the built-in defaults below
        return {}


class Recorder:
    """Writes evidence files and items; adapters call it (duck-typed, so adapters never import this module)."""

    def __init__(self, out_dir: Path, log: Any):
        self.out = out_dir
        self.log = log
        self.evidence: list[dict[str, Any]] = []
        self._displayed: dict[tuple[str, str], dict | None] = {}
        self._modes: dict[tuple[str, str], str] = {}
        self._toggle_ms: dict[str, float | None] = {}
        self.subjects: dict[str, dict[str, Any]] = {}

    def displayed_of(self, sid: str, step: str) -> dict | None:
        return self._displayed.get((sid, step))

    def guess_mode(self, sid: str, step: str) -> str:
        """Mode for an item when the app did not say: initial -> default; after_toggle -> the other one."""
        if step == "initial":
            return "default"
        first = self._modes.get((sid, "initial"), "default")
        return "full" if first == "default" else "default"

    def _item(self, sid: str, step: str, mode: str, kind: str, file: str, source: str,
              displayed: dict | None, note: str | None = None) -> dict[str, Any]:
        self._modes.setdefault((sid, step), mode)
        item: dict[str, Any] = {"file": file, "subject": sid, "mode": mode, "kind": kind, "source": source,
                                "step": step, "captured_at": _now()}
        if displayed is not None:
            clean = {k: (None if v is None else str(v)[:500]) for k, v in displayed.items()
                     if k in ("so_giay_to", "ngay_sinh", "ho_ten")}
            item["displayed"] = clean
            self._displayed.setdefault((sid, step), clean)
        if step == "after_toggle" and sid in self._toggle_ms:
            item["toggle_ms"] = self._toggle_ms[sid]
        if note:
            item["note"] = note
        self.evidence.append(item)
        self.log.add("captures", {k: v for k, v in item.items() if k != "displayed"})
        return item

    def rel_path(self, sid: str, step: str, kind: str) -> str:
        """The package-relative file of an item; every component is checked (never a path from a value)."""
        if not safe_name(sid) or step not in STEPS or kind not in ("payload", "screenshot"):
            raise LiveConfigError([("subject", f"refused file name component {sid!r}/{step!r}",
                                    f"từ chối thành phần tên tệp {sid!r}/{step!r}")])
        return f"screens/{sid}-{step}.png" if kind == "screenshot" else f"payloads/{sid}-{step}.txt"

    def _write(self, rel: str, data: bytes) -> None:
        path = self.out / rel
        root = self.out.resolve()
        if root not in path.parent.resolve().parents:  # e.g. a folder replaced by a symbolic link
            raise LiveConfigError([("out", f"{rel} would be written outside {self.out}",
                                    f"{rel} sẽ bị ghi ra ngoài {self.out}")])
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.write_bytes(data)

    def save_payload(self, sid: str, step: str, mode: str, text: str, *, displayed: dict | None, source: str) -> None:
        rel = self.rel_path(sid, step, "payload")
        self._write(rel, text.encode("utf-8"))
        self._item(sid, step, mode, "payload", rel, source, displayed)

    def save_screenshot(self, sid: str, step: str, mode: str, png: bytes, *, displayed: dict | None,
                        source: str) -> None:
        rel = self.rel_path(sid, step, "screenshot")
        self._write(rel, png)
        self._item(sid, step, mode, "screenshot", rel, source, displayed)

    def missing(self, sid: str, step: str, mode: str, kind: str, source: str, en: str | None, vi: str | None) -> None:
        """An evidence item that could not be captured: listed, file absent, `note` says why."""
        rel = self.rel_path(sid, step, kind)
        note = self.log.mask(f"capture failed: {en or 'unknown error'} / chụp thất bại: {vi or 'lỗi không rõ'}")
        self._item(sid, step, mode, kind, rel, source, None, note=note[:1000])

    def not_captured(self, sid: str, source: str, en: str, vi: str) -> None:
        """A subject the candidate (or the run's budget) never let us capture: a toggle entry answered=false and
        every item missing, so nothing is judged on it."""
        self.log.error("subject", en, vi, sid)
        self.toggle(sid, {"subject": sid, "source": source, "action": None, "ms": None, "changed": False, "ok": False,
                          "answered": False, "mode_before": None, "mode_after": None,
                          "error_en": self.log.mask(en), "error_vi": self.log.mask(vi)})
        kinds = ("payload", "screenshot") if source == "http" else ("screenshot",)
        for step in STEPS:
            for kind in kinds:
                self.missing(sid, step, self.guess_mode(sid, step), kind, source, en, vi)

    def toggle(self, sid: str, entry: dict[str, Any]) -> None:
        self._toggle_ms[sid] = entry.get("ms") if entry.get("changed") else None
        self.log.add("toggles", entry)


def _token(live: dict[str, Any], log: Any) -> str | None:
    if live.get("token"):
        return str(live["token"])
    env = live.get("token_env")
    if env:
        val = os.environ.get(str(env))
        if not val:
            log.error("config", f"environment variable {env} (live.token_env) is not set; requests carry no token",
                      f"biến môi trường {env} (live.token_env) chưa đặt; yêu cầu không kèm token")
        return val or None
    return None


def _manifest(config: dict[str, Any], subjects: list[dict[str, Any]], live: dict[str, Any] | None,
              device: dict[str, Any], evidence: list[dict[str, Any]]) -> dict[str, Any]:
    cand = config.get("candidate") if isinstance(config.get("candidate"), dict) else {}
    manifest: dict[str, Any] = {
        "spec_version": "1.1",
        "candidate": {k: v for k, v in cand.items() if k in ("name", "vendor", "version", "platform")}
        or {"name": "live candidate"},
        "subjects": subjects,
        "evidence": evidence,
        "capture_log": LOG_FILE,
    }
    manifest["candidate"].setdefault("name", "live candidate")
    if device:
        manifest["device"] = device
    if live is not None:
        kept = copy.deepcopy(live)
        kept.pop("token", None)  # never write a secret into the package
        manifest["live"] = kept
    return manifest


def capture(config: dict[str, Any], out_dir: Path, *, records: dict[str, dict[str, Any]] | None = None,
            profile: dict[str, Any] | None = None, adb: str | None = None) -> Path:
    """Capture a live candidate into out_dir (created). Returns out_dir. Never raises on candidate faults.

    Raises LiveConfigError, before anything is written, when a value would become a path or a program
    (`unsafe_values`). `adb` is the assessor's adb program (the live command's --adb), never the package's."""
    problems = unsafe_values(config, records)
    if problems:
        raise LiveConfigError(problems)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    from conformance.capture.http_api import CaptureLog

    t0 = time.perf_counter()
    config = config if isinstance(config, dict) else {}
    live = config.get("live") if isinstance(config.get("live"), dict) else None
    subj_list = [copy.deepcopy(s) for s in (config.get("subjects") or []) if isinstance(s, dict) and s.get("id")]
    if records:
        by_id = {s["id"]: s for s in subj_list}
        for sid, rec in records.items():
            r = {k: copy.deepcopy(v) for k, v in rec.items()}
            r["id"] = sid
            by_id[sid] = r
        subj_list = list(by_id.values())
    prof = load_profile_safe(profile)
    live_prof = prof.get("live") or {}
    budget = Budget(_positive(live_prof.get("max_run_seconds"), DEFAULT_MAX_RUN_SECONDS))
    adapter = (live or {}).get("adapter", "none")
    base_url = str((live or {}).get("base_url", ""))
    log = CaptureLog(adapter, base_url, pii_values(subj_list),
                     scan_bytes=int(_positive(live_prof.get("max_scan_bytes"), DEFAULT_SCAN_BYTES)))
    rec = Recorder(out_dir, log)
    rec.subjects = {s["id"]: s for s in subj_list}
    device = copy.deepcopy(config.get("device") or {})
    if live is None:
        log.error("config", "candidate config has no 'live' section; nothing captured",
                  "cấu hình ứng viên không có mục 'live'; không chụp gì")
    else:
        allowed = [str(h) for h in (live.get("allowed_hosts") or [url_host(base_url)]) if h]
        log.doc["allowed_hosts"] = allowed
        timeouts = live.get("timeouts") or {}
        request_s = _positive(timeouts.get("request_s"), _positive(live_prof.get("request_timeout_seconds"), 10.0))
        toggle_max = _positive((prof.get("display") or {}).get("toggle_max_seconds"), 1.0)
        toggle_s = _positive(timeouts.get("toggle_s"), max(5.0, 3 * toggle_max))
        max_bytes = int(_positive(live_prof.get("max_response_bytes"), 20_000_000))
        known = [s["id"] for s in subj_list]
        wanted = [str(s) for s in (live.get("subjects") or known)]
        for sid in wanted:
            if sid not in known:
                log.error("config", f"live.subjects names {sid!r}, which is not in subjects[]; skipped",
                          f"live.subjects nêu {sid!r}, không có trong subjects[]; bỏ qua", sid)
        sids = list(dict.fromkeys(s for s in wanted if s in known))
        log.doc["subjects"] = sids
        log.doc["settings"] = {"request_s": request_s, "toggle_s": toggle_s, "max_response_bytes": max_bytes,
                               "toggle_max_seconds": toggle_max, "max_run_seconds": budget.seconds,
                               "max_scan_bytes": log.scan_bytes}
        token = _token(live, log)
        try:
            if adapter == "http":
                from conformance.capture.http_api import HttpClient, probe_privacy, run_http

                client = HttpClient(base_url, token, allowed, log, timeout_s=request_s, max_bytes=max_bytes,
                                    budget=budget)
                try:
                    run_http(client, rec, sids)
                    probe_privacy(client, sids[0] if sids else None)
                finally:
                    client.close()
            elif adapter == "browser":
                from conformance.capture.browser import run_browser

                device.update(run_browser(live, rec, log, sids, allowed, request_s=request_s, toggle_s=toggle_s,
                                          max_bytes=max_bytes, token=token, budget=budget))
            elif adapter == "android":
                from conformance.capture.android import run_android

                device.update(run_android(live, rec, log, sids, toggle_s=toggle_s, adb_path=adb, budget=budget))
            else:
                log.error("config", f"unknown live.adapter {adapter!r} (http, browser or android)",
                          f"live.adapter {adapter!r} không hợp lệ (http, browser hoặc android)")
        except LiveConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence: the package must still be written
            log.error("adapter", f"capture stopped by an unexpected error: {type(exc).__name__}: {exc}",
                      f"quá trình chụp dừng do lỗi không lường trước: {type(exc).__name__}: {exc}")
        _complete_subjects(rec, log, sids, adapter)
    if budget.expired() or log.doc["budget_exceeded"]:
        log.doc["budget_exceeded"] = True
        log.error("budget", f"the live run reached its time budget of {budget.seconds:g} s (profile "
                  "live.max_run_seconds) and stopped; what was captured before is kept",
                  f"lượt chụp đã dùng hết thời gian cho phép {budget.seconds:g} giây (live.max_run_seconds trong hồ "
                  "sơ) và dừng lại; những gì đã chụp được vẫn giữ")
    log.doc["finished_at"] = _now()
    log.doc["duration_s"] = round(time.perf_counter() - t0, 3)
    log.doc["evidence_count"] = len(rec.evidence)
    (out_dir / "capture").mkdir(exist_ok=True)
    (out_dir / LOG_FILE).write_text(json.dumps(log.doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    manifest = _manifest(config, subj_list, live, device, rec.evidence)
    (out_dir / "candidate.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return out_dir


def _complete_subjects(rec: Recorder, log: Any, sids: list[str], adapter: str) -> None:
    """Every subject ends with a toggle entry and items for both steps, even when an adapter stopped early: what
    is absent is recorded as not captured (answered=false, file absent), never silently dropped."""
    if adapter not in ("http", "browser", "android"):
        return
    en, vi = ("not captured: the capture stopped before this step",
              "không chụp: quá trình chụp đã dừng trước bước này")
    toggled = {t.get("subject") for t in log.doc["toggles"]}
    for sid in sids:
        steps = {e["step"] for e in rec.evidence if e["subject"] == sid}
        if sid not in toggled and not steps:
            rec.not_captured(sid, adapter, en, vi)
            continue
        if sid not in toggled:
            rec.toggle(sid, {"subject": sid, "source": adapter, "action": None, "ms": None, "changed": False,
                             "ok": False, "answered": False, "mode_before": None, "mode_after": None,
                             "error_en": "no toggle attempt: the capture of this subject stopped early",
                             "error_vi": "không thử chuyển chế độ: việc chụp người dùng này dừng sớm"})
        for step in STEPS:
            if step not in steps:
                kinds = ("payload", "screenshot") if adapter == "http" else ("screenshot",)
                for kind in kinds:
                    rec.missing(sid, step, rec.guess_mode(sid, step), kind, adapter, en, vi)


def load_capture_log(root: Path, manifest: dict[str, Any]) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
    """The package's capture/log.json: (log, None); (None, None) when the package has no live capture;
    (None, (en, vi)) when it names a log that cannot be read. Never raises."""
    rel = manifest.get("capture_log") if isinstance(manifest, dict) else None
    if not rel:
        return None, None
    from conformance.capture.package import resolve_inside

    path, err = resolve_inside(Path(root), str(rel))
    if err:
        return None, err
    try:
        size = path.stat().st_size
        if size > MAX_CAPTURE_LOG_BYTES:
            return None, (f"{rel}: the capture log is {size} bytes, over the {MAX_CAPTURE_LOG_BYTES} a capture writes",
                          f"{rel}: nhật ký chụp dài {size} byte, vượt {MAX_CAPTURE_LOG_BYTES} byte mà một lần chụp ghi ra")
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else exc
        return None, (f"{rel}: cannot read the capture log: {why}", f"{rel}: không đọc được nhật ký chụp: {why}")
    if not isinstance(doc, dict):
        return None, (f"{rel}: the capture log is not a JSON object", f"{rel}: nhật ký chụp không phải đối tượng JSON")
    for key in ("exchanges", "network", "toggles", "probes", "errors", "captures"):
        entries = doc.get(key)
        # a package's log is read as untrusted input: entries that are not objects are dropped, and an HTTP status
        # that is not a whole number counts as no answer (the judges compare it as a number)
        doc[key] = [{**e, "status": e.get("status") if _http_status(e.get("status")) else None}
                    if "status" in e else e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    return doc, None


MAX_CAPTURE_LOG_BYTES = 64 << 20  # far above what a capture run writes (bodies are not kept in the log)


def _http_status(v: Any) -> bool:
    return type(v) is int and 100 <= v <= 599
