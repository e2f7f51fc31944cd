"""Android adapter (adb): screenshots and one toggle tap on a real device or emulator.

Config (candidate.json live.android, all optional):
    {"serial": "emulator-5554",               # adb -s SERIAL; default: the only attached device
     "adb": "/usr/bin/adb",                     # adb binary; default: found on PATH
     "package": "vn.example.app",               # if set, `monkey -p PACKAGE 1` launches the app per subject
     "subject_screens": {"s1": [["tap", 540, 1200]]},   # taps that bring the subject's QR screen up
     "toggle": {"text": "Hiện đầy đủ thông tin"} or {"resource_id": "vn.example:id/toggle"} or {"tap": [540, 1900]}}

What it does per subject: (optionally) launch the package and run the subject's taps -> `adb exec-out screencap -p`
(step "initial") -> find the toggle in `uiautomator dump` (by text / content-desc / resource-id) and `input tap`
its centre -> poll `uiautomator dump` until the screen's text changes (bounded) -> screencap again ("after_toggle").

Known limits (documented, not hidden):
- No payload evidence: the app does not expose its QR text; assessment decodes the screenshots.
- "displayed" texts come from the accessibility tree (uiautomator); apps that draw text on a canvas expose nothing,
  then DISPLAY-001/002 fall back to OCR of the screenshots.
- Toggle time is measured from the host (tap command return -> first dump that differs); each uiautomator dump
  takes ~0.5-2 s, so the resolution is coarse and times are an upper bound; DISPLAY-003 may over-report.
- FLAG_SECURE apps give black screenshots; the capture records them (SYMBOL-001 will then fail/skip).
- Not exercised in this repository's tests (no device): only the "adb not found" path is tested.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from typing import Any

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class AdbError(Exception):
    pass


class Adb:
    def __init__(self, adb: str | None = None, serial: str | None = None, timeout_s: float = 20.0):
        path = adb or shutil.which("adb")
        if not path or not shutil.which(path):
            raise AdbError("adb not found (install Android platform-tools or set live.android.adb)")
        self.cmd = [path] + (["-s", serial] if serial else [])
        self.timeout_s = timeout_s

    def run(self, *args: str, binary: bool = False) -> bytes:
        try:
            p = subprocess.run(self.cmd + list(args), capture_output=True, timeout=self.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise AdbError(f"adb {' '.join(args)} timed out after {self.timeout_s:g} s") from None
        except OSError as exc:
            raise AdbError(f"cannot run adb: {exc}") from None
        if p.returncode != 0:
            raise AdbError(f"adb {' '.join(args)} failed ({p.returncode}): {p.stderr.decode(errors='replace')[:300]}")
        return p.stdout

    def screencap(self) -> bytes:
        png = self.run("exec-out", "screencap", "-p", binary=True)
        if not png.startswith(PNG_MAGIC):
            raise AdbError(f"screencap did not return a PNG ({len(png)} bytes)")
        return png

    def tap(self, x: int, y: int) -> None:
        self.run("shell", "input", "tap", str(int(x)), str(int(y)))

    def dump(self) -> ET.Element:
        xml = self.run("exec-out", "uiautomator", "dump", "/dev/tty")
        text = xml.decode("utf-8", errors="replace")
        start, end = text.find("<?xml"), text.rfind("</hierarchy>")
        if start < 0 or end < 0:
            raise AdbError("uiautomator dump returned no hierarchy")
        return ET.fromstring(text[start:end + len("</hierarchy>")])


def _centre(bounds: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"\[(\d+),(\d+)\]\[(\d+),(\d+)\]", bounds or "")
    if not m:
        return None
    x1, y1, x2, y2 = map(int, m.groups())
    return (x1 + x2) // 2, (y1 + y2) // 2


def find_node(root: ET.Element, spec: dict[str, Any]) -> tuple[int, int] | None:
    for node in root.iter("node"):
        a = node.attrib
        if spec.get("resource_id") and a.get("resource-id") == spec["resource_id"]:
            return _centre(a.get("bounds", ""))
        if spec.get("text") and spec["text"] in (a.get("text"), a.get("content-desc")):
            return _centre(a.get("bounds", ""))
    return None


def screen_texts(root: ET.Element) -> list[str]:
    return [t for n in root.iter("node") for t in (n.attrib.get("text"), n.attrib.get("content-desc")) if t]


def run_android(live: dict[str, Any], rec: Any, log: Any, sids: list[str], *, toggle_s: float) -> dict[str, Any]:
    cfg = live.get("android") or {}
    try:
        adb = Adb(cfg.get("adb"), cfg.get("serial"))
    except AdbError as exc:
        log.error("android", str(exc), "không tìm thấy adb (cài Android platform-tools hoặc đặt live.android.adb)")
        for sid in sids:
            for step in ("initial", "after_toggle"):
                rec.missing(sid, step, rec.guess_mode(sid, step), "screenshot", "android", str(exc),
                            "không tìm thấy adb")
        return {}
    device: dict[str, Any] = {}
    for sid in sids:
        try:
            if cfg.get("package"):
                adb.run("shell", "monkey", "-p", str(cfg["package"]), "1")
                time.sleep(1.5)
            for action in (cfg.get("subject_screens") or {}).get(sid, []):
                if action and action[0] == "tap":
                    adb.tap(action[1], action[2])
                    time.sleep(0.5)
            _step(adb, rec, log, sid, "initial", "default", device)
            before = screen_texts(adb.dump())
            tog = cfg.get("toggle") or {}
            xy = tuple(tog["tap"]) if tog.get("tap") else find_node(adb.dump(), tog)
            entry: dict[str, Any] = {"subject": sid, "source": "android", "action": f"tap {xy}", "ms": None,
                                     "changed": False, "ok": xy is not None, "mode_before": None, "mode_after": None}
            if xy is None:
                entry["error_en"] = "toggle control not found in the uiautomator dump"
                entry["error_vi"] = "không tìm thấy nút chuyển chế độ trong uiautomator dump"
                log.error("toggle", entry["error_en"], entry["error_vi"], sid)
            else:
                t0 = time.perf_counter()
                adb.tap(*xy)
                while time.perf_counter() - t0 < toggle_s:
                    if screen_texts(adb.dump()) != before:
                        entry["changed"] = True
                        entry["ms"] = round((time.perf_counter() - t0) * 1000, 1)
                        entry["resolution_note"] = "host-side, includes uiautomator dump time (upper bound)"
                        break
            rec.toggle(sid, entry)
            _step(adb, rec, log, sid, "after_toggle", "full", device)
        except AdbError as exc:
            log.error("android", f"subject {sid}: {exc}", f"người dùng {sid}: {exc}", sid)
    return device


def _step(adb: Adb, rec: Any, log: Any, sid: str, step: str, mode: str, device: dict[str, Any]) -> None:
    try:
        png = adb.screencap()
    except AdbError as exc:
        log.error(step, str(exc), f"chụp màn hình qua adb thất bại: {exc}", sid)
        rec.missing(sid, step, mode, "screenshot", "android", str(exc), f"chụp màn hình qua adb thất bại: {exc}")
        return
    device["width_px"] = int.from_bytes(png[16:20], "big")
    device["height_px"] = int.from_bytes(png[20:24], "big")
    rec.save_screenshot(sid, step, mode, png, displayed=None, source="android")
