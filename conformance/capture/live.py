"""Live capture: drive a running candidate and write an ordinary evidence package.

    capture(config, out_dir, *, records=None, profile=None) -> Path

`config` is a candidate.json document with a `live` section (notes/live.md) and `subjects` (the assessor's test
accounts = truth). `records` ({subject id: record}) replaces/extends those records (the reference app exposes
its own; real vendors never do). The result is out_dir with candidate.json, screens/*.png, payloads/*.txt and
capture/log.json, assessable like a submitted package.

Per subject: reset session (http) / open a fresh page (browser) -> capture the initial display (step
"initial") -> one toggle action, timed -> capture again (step "after_toggle").

Never raises on a misbehaving candidate: every fault is an entry in capture/log.json `errors` and an evidence item
whose file is absent (the package loader reports it as an evidence error) with a `note` saying why.
A config that is unusable for capture (no live section, unknown adapter) is also recorded, not raised.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from conformance.capture.netguard import pii_values, url_host

LOG_FILE = "capture/log.json"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


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
            clean = {k: (None if v is None else str(v)) for k, v in displayed.items()
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

    def save_payload(self, sid: str, step: str, mode: str, text: str, *, displayed: dict | None, source: str) -> None:
        rel = f"payloads/{sid}-{step}.txt"
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        self._item(sid, step, mode, "payload", rel, source, displayed)

    def save_screenshot(self, sid: str, step: str, mode: str, png: bytes, *, displayed: dict | None,
                        source: str) -> None:
        rel = f"screens/{sid}-{step}.png"
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        self._item(sid, step, mode, "screenshot", rel, source, displayed)

    def missing(self, sid: str, step: str, mode: str, kind: str, source: str, en: str | None, vi: str | None) -> None:
        """An evidence item that could not be captured: listed, file absent, `note` says why."""
        ext = "png" if kind == "screenshot" else "txt"
        folder = "screens" if kind == "screenshot" else "payloads"
        rel = f"{folder}/{sid}-{step}.{ext}"
        note = self.log.mask(f"capture failed: {en or 'unknown error'} / chụp thất bại: {vi or 'lỗi không rõ'}")
        self._item(sid, step, mode, kind, rel, source, None, note=note[:1000])

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
            profile: dict[str, Any] | None = None) -> Path:
    """Capture a live candidate into out_dir (created). Returns out_dir. Never raises on candidate faults."""
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
    adapter = (live or {}).get("adapter", "none")
    base_url = str((live or {}).get("base_url", ""))
    log = CaptureLog(adapter, base_url, pii_values(subj_list))
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
        live_prof = prof.get("live") or {}
        request_s = float(timeouts.get("request_s") or live_prof.get("request_timeout_seconds") or 10)
        toggle_max = float((prof.get("display") or {}).get("toggle_max_seconds") or 1.0)
        toggle_s = float(timeouts.get("toggle_s") or max(5.0, 3 * toggle_max))
        max_bytes = int(live_prof.get("max_response_bytes") or 20_000_000)
        known = [s["id"] for s in subj_list]
        wanted = [str(s) for s in (live.get("subjects") or known)]
        for sid in wanted:
            if sid not in known:
                log.error("config", f"live.subjects names {sid!r}, which is not in subjects[]; skipped",
                          f"live.subjects nêu {sid!r}, không có trong subjects[]; bỏ qua", sid)
        sids = [s for s in wanted if s in known]
        log.doc["subjects"] = sids
        log.doc["settings"] = {"request_s": request_s, "toggle_s": toggle_s, "max_response_bytes": max_bytes,
                               "toggle_max_seconds": toggle_max}
        token = _token(live, log)
        try:
            if adapter == "http":
                from conformance.capture.http_api import HttpClient, probe_privacy, run_http

                client = HttpClient(base_url, token, allowed, log, timeout_s=request_s, max_bytes=max_bytes)
                try:
                    run_http(client, rec, sids)
                    probe_privacy(client, sids[0] if sids else None)
                finally:
                    client.close()
            elif adapter == "browser":
                from conformance.capture.browser import run_browser

                device.update(run_browser(live, rec, log, sids, allowed, request_s=request_s, toggle_s=toggle_s,
                                          max_bytes=max_bytes, token=token))
            elif adapter == "android":
                from conformance.capture.android import run_android

                device.update(run_android(live, rec, log, sids, toggle_s=toggle_s))
            else:
                log.error("config", f"unknown live.adapter {adapter!r} (http, browser or android)",
                          f"live.adapter {adapter!r} không hợp lệ (http, browser hoặc android)")
        except Exception as exc:  # noqa: BLE001 - last line of defence: the package must still be written
            log.error("adapter", f"capture stopped by an unexpected error: {type(exc).__name__}: {exc}",
                      f"quá trình chụp dừng do lỗi không lường trước: {type(exc).__name__}: {exc}")
    log.doc["finished_at"] = _now()
    log.doc["duration_s"] = round(time.perf_counter() - t0, 3)
    log.doc["evidence_count"] = len(rec.evidence)
    (out_dir / "capture").mkdir(exist_ok=True)
    (out_dir / LOG_FILE).write_text(json.dumps(log.doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    manifest = _manifest(config, subj_list, live, device, rec.evidence)
    (out_dir / "candidate.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return out_dir


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
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, (f"{rel}: cannot read the capture log: {exc}", f"{rel}: không đọc được nhật ký chụp: {exc}")
    if not isinstance(doc, dict):
        return None, (f"{rel}: the capture log is not a JSON object", f"{rel}: nhật ký chụp không phải đối tượng JSON")
    for key in ("exchanges", "network", "toggles", "probes", "errors", "captures"):
        if not isinstance(doc.get(key), list):
            doc[key] = []
    return doc, None
