"""Android adapter (adb): screenshots and one toggle tap on a real device or emulator.

Config (candidate.json live.android, all optional; specs/candidate.schema.json refuses any other key):
    {"serial": "emulator-5554",               # adb -s SERIAL; default: the only attached device
     "package": "vn.example.app",               # if set, the app is launched per subject (monkey, or am start -n
     "activity": ".MainActivity",               #   PACKAGE/ACTIVITY when an activity is given)
     "subject_screens": {"s1": [["tap", 540, 1200]]},   # taps that bring the subject's QR screen up
     "toggle": {"text": "Hiện đầy đủ thông tin"} or {"resource_id": "vn.example:id/toggle"} or {"tap": [540, 1900]}}

The adb PROGRAM is the assessor's, never the package's: `--adb PATH` of the `live` command, else the environment
variable VNQR_ADB, else `adb` on PATH (`resolve_adb`). A package naming a program (`live.android.adb`) is refused
before anything runs. Every value passed to adb (serial, package, activity, coordinates) must match a strict pattern
(`validate_android`), and `Adb.run` checks every argument again: `adb shell` joins its arguments into a command
line for the device's shell, so nothing from a package may carry shell syntax.

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
- Not exercised in this repository's tests (no device): the program choice, the refusals and the argument
  validation are tested, with a stand-in program that records its arguments.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from typing import Any

from conformance.capture.bounded import Budget, budget_message
from conformance.capture.netguard import safe_name

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ADB_ENV = "VNQR_ADB"
MAX_COORD = 20000

SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}(?:\.[A-Za-z][A-Za-z0-9_]{0,63}){1,15}")
ACTIVITY = re.compile(r"\.?[A-Za-z][A-Za-z0-9_$]{0,63}(?:\.[A-Za-z][A-Za-z0-9_$]{0,63}){0,15}")
RESOURCE_ID = re.compile(r"[A-Za-z0-9._:/]{1,200}")
# every argument given to adb, whatever its origin (fixed words, validated values, decimal coordinates)
ADB_ARG = re.compile(r"[A-Za-z0-9._:/$-]{1,200}")
ANDROID_KEYS = ("serial", "package", "activity", "subject_screens", "toggle")


class AdbError(Exception):
    pass


def resolve_adb(explicit: str | None = None) -> str:
    """The adb program: the assessor's --adb, else $VNQR_ADB, else `adb` on PATH. Raises AdbError."""
    for origin, value in (("--adb", explicit), (ADB_ENV, os.environ.get(ADB_ENV)), ("PATH", "adb")):
        if not value:
            continue
        path = shutil.which(value) if os.sep not in value else (value if os.access(value, os.X_OK)
                                                                 and os.path.isfile(value) else None)
        if path:
            return path
        if origin != "PATH":
            raise AdbError(f"adb given by {origin} ({value}) is not an executable file")
    raise AdbError(f"adb not found (install Android platform-tools, or give --adb PATH or {ADB_ENV})")


def _coord(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_COORD


def validate_android(cfg: Any, base: str = "$.live.android") -> list[tuple[str, str, str]]:
    """Problems of a live.android section as (JSON path, English, Vietnamese); empty when usable."""
    if cfg is None:
        return []
    if not isinstance(cfg, dict):
        return [(base, "must be an object", "phải là một đối tượng")]
    out: list[tuple[str, str, str]] = []
    for key in cfg:
        if key == "adb":
            out.append((f"{base}.adb", "a package never names a program to run: adb is the assessor's (the live "
                        f"command's --adb PATH, the {ADB_ENV} environment variable, or adb on PATH); remove this key",
                        "gói bằng chứng không được chỉ định chương trình để chạy: adb do người đánh giá chọn (tùy chọn "
                        f"--adb của lệnh live, biến môi trường {ADB_ENV}, hoặc adb trong PATH); hãy bỏ khóa này"))
        elif key not in ANDROID_KEYS:
            out.append((f"{base}.{key}", f"unknown key (allowed: {', '.join(ANDROID_KEYS)})",
                        f"khóa không hợp lệ (chỉ cho phép: {', '.join(ANDROID_KEYS)})"))
    for key, pat, what_en, what_vi in (("serial", SERIAL, "a device serial", "số sê-ri thiết bị"),
                                       ("package", PACKAGE, "an Android package name", "tên gói Android"),
                                       ("activity", ACTIVITY, "an activity class name", "tên lớp activity")):
        v = cfg.get(key)
        if v is not None and not (isinstance(v, str) and pat.fullmatch(v)):
            out.append((f"{base}.{key}", f"{v!r} is not {what_en} (pattern {pat.pattern})",
                        f"{v!r} không phải {what_vi} (mẫu {pat.pattern})"))
    if cfg.get("activity") is not None and cfg.get("package") is None:
        out.append((f"{base}.activity", "an activity needs live.android.package",
                    "activity cần có live.android.package"))
    screens = cfg.get("subject_screens")
    if screens is not None:
        if not isinstance(screens, dict):
            out.append((f"{base}.subject_screens", "must be an object {subject id: [[\"tap\", x, y], ...]}",
                        "phải là đối tượng {mã người dùng: [[\"tap\", x, y], ...]}"))
        else:
            for sid, actions in screens.items():
                p = f"{base}.subject_screens.{sid}"
                if not safe_name(sid):
                    out.append((p, "subject id must match ^[A-Za-z0-9_-]{1,64}$",
                                "mã người dùng phải khớp ^[A-Za-z0-9_-]{1,64}$"))
                if not isinstance(actions, list):
                    out.append((p, "must be a list of [\"tap\", x, y]", "phải là danh sách [\"tap\", x, y]"))
                    continue
                for i, a in enumerate(actions):
                    if not (isinstance(a, list) and len(a) == 3 and a[0] == "tap" and _coord(a[1]) and _coord(a[2])):
                        out.append((f"{p}[{i}]", f"must be [\"tap\", x, y] with integers 0..{MAX_COORD}",
                                    f"phải là [\"tap\", x, y] với số nguyên 0..{MAX_COORD}"))
    tog = cfg.get("toggle")
    if tog is not None:
        if not isinstance(tog, dict):
            out.append((f"{base}.toggle", "must be an object", "phải là một đối tượng"))
        else:
            for key in tog:
                if key not in ("text", "resource_id", "tap"):
                    out.append((f"{base}.toggle.{key}", "unknown key (allowed: text, resource_id, tap)",
                                "khóa không hợp lệ (chỉ cho phép: text, resource_id, tap)"))
            tap = tog.get("tap")
            if tap is not None and not (isinstance(tap, list) and len(tap) == 2 and all(_coord(c) for c in tap)):
                out.append((f"{base}.toggle.tap", f"must be [x, y] with integers 0..{MAX_COORD}",
                            f"phải là [x, y] với số nguyên 0..{MAX_COORD}"))
            rid = tog.get("resource_id")
            if rid is not None and not (isinstance(rid, str) and RESOURCE_ID.fullmatch(rid)):
                out.append((f"{base}.toggle.resource_id", f"{rid!r} is not a resource id",
                            f"{rid!r} không phải mã tài nguyên"))
            if tog.get("text") is not None and not (isinstance(tog["text"], str) and 0 < len(tog["text"]) <= 200):
                out.append((f"{base}.toggle.text", "must be a non-empty string of at most 200 characters",
                            "phải là chuỗi khác rỗng, tối đa 200 ký tự"))
    return out


class Adb:
    def __init__(self, adb: str, serial: str | None = None, timeout_s: float = 20.0, deadline: float | None = None):
        if serial is not None and not SERIAL.fullmatch(str(serial)):
            raise AdbError(f"invalid device serial {serial!r}")
        self.cmd = [adb] + (["-s", serial] if serial else [])
        self.timeout_s = timeout_s
        self.deadline = deadline  # absolute time.monotonic() of the run's budget end

    def run(self, *args: str, binary: bool = False) -> bytes:
        for a in args:
            if not ADB_ARG.fullmatch(a):
                raise AdbError(f"refused adb argument {a!r} (not a plain word, name or number)")
        timeout = self.timeout_s
        if self.deadline is not None:
            timeout = min(timeout, self.deadline - time.monotonic())
            if timeout <= 0:
                raise AdbError("the live run's time budget (profile live.max_run_seconds) is used up")
        try:
            p = subprocess.run(self.cmd + list(args), capture_output=True, timeout=timeout, check=False,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise AdbError(f"adb {' '.join(args)} timed out after {timeout:g} s") from None
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
        if not (_coord(x) and _coord(y)):
            raise AdbError(f"refused tap coordinates {x!r}, {y!r}")
        self.run("shell", "input", "tap", str(x), str(y))

    def launch(self, package: str, activity: str | None) -> None:
        if not PACKAGE.fullmatch(package) or (activity is not None and not ACTIVITY.fullmatch(activity)):
            raise AdbError(f"refused package/activity {package!r}/{activity!r}")
        if activity:
            self.run("shell", "am", "start", "-n", f"{package}/{activity}")
        else:
            self.run("shell", "monkey", "-p", package, "1")

    def dump(self) -> ET.Element:
        xml = self.run("exec-out", "uiautomator", "dump", "/dev/tty")
        text = xml.decode("utf-8", errors="replace")
        start, end = text.find("<?xml"), text.rfind("</hierarchy>")
        if start < 0 or end < 0:
            raise AdbError("uiautomator dump returned no hierarchy")
        if end - start > 5_000_000:
            raise AdbError("uiautomator dump larger than 5 MB")
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


def run_android(live: dict[str, Any], rec: Any, log: Any, sids: list[str], *, toggle_s: float,
                adb_path: str | None = None, budget: Budget | None = None) -> dict[str, Any]:
    """Capture each subject on the attached device; returns device facts (width_px, height_px)."""
    cfg = live.get("android") or {}
    problems = validate_android(cfg)
    try:
        if problems:  # the live command refuses these before capture; a library caller gets them here
            path, en, vi = problems[0]
            raise AdbError(f"{path}: {en}")
        adb = Adb(resolve_adb(adb_path), cfg.get("serial"), deadline=budget.deadline if budget else None)
    except AdbError as exc:
        vi = (f"không dùng được adb: {problems[0][0]}: {problems[0][2]}" if problems else
              f"không tìm thấy adb (cài Android platform-tools, hoặc dùng --adb PATH hay biến {ADB_ENV})")
        log.error("android", str(exc), vi)
        for sid in sids:
            rec.not_captured(sid, "android", str(exc), vi)
        return {}
    device: dict[str, Any] = {}
    for sid in sids:
        if budget is not None and budget.expired():
            rec.not_captured(sid, "android", *budget_message(budget.seconds))
            log.doc["budget_exceeded"] = True
            continue
        done: set[str] = set()
        toggled = False
        try:
            if cfg.get("package"):
                adb.launch(str(cfg["package"]), cfg.get("activity"))
                _sleep(1.5, budget)
            for action in (cfg.get("subject_screens") or {}).get(sid, []):
                adb.tap(action[1], action[2])
                _sleep(0.5, budget)
            done.add("initial")
            _step(adb, rec, log, sid, "initial", "default", device)
            before = screen_texts(adb.dump())
            tog = cfg.get("toggle") or {}
            xy = tuple(tog["tap"]) if tog.get("tap") else find_node(adb.dump(), tog)
            entry: dict[str, Any] = {"subject": sid, "source": "android", "action": f"tap {xy}", "ms": None,
                                     "changed": False, "ok": xy is not None, "answered": True, "mode_before": None,
                                     "mode_after": None}
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
            toggled = True
            done.add("after_toggle")
            _step(adb, rec, log, sid, "after_toggle", "full", device)
        except AdbError as exc:
            en, vi = f"subject {sid}: {exc}", f"người dùng {sid}: {exc}"
            log.error("android", en, vi, sid)
            if not toggled:
                rec.toggle(sid, {"subject": sid, "source": "android", "action": None, "ms": None, "changed": False,
                                 "ok": False, "answered": False, "mode_before": None, "mode_after": None,
                                 "error_en": log.mask(en), "error_vi": log.mask(vi)})
            for step in ("initial", "after_toggle"):
                if step not in done:
                    rec.missing(sid, step, "default" if step == "initial" else "full", "screenshot", "android", en, vi)
    return device


def _sleep(seconds: float, budget: Budget | None) -> None:
    time.sleep(max(0.0, min(seconds, budget.remaining() if budget is not None else seconds)))


def _step(adb: Adb, rec: Any, log: Any, sid: str, step: str, mode: str, device: dict[str, Any]) -> None:
    try:
        png = adb.screencap()
    except AdbError as exc:
        log.error(step, str(exc), f"chụp màn hình qua adb thất bại: {exc}", sid)
        rec.missing(sid, step, mode, "screenshot", "android", str(exc), f"chụp màn hình qua adb thất bại: {exc}")
        return
    device["width_px"] = int.from_bytes(png[16:20], "big")
    device["height_px"] = int.from_bytes(png[20:24], "big")
    log.usable()
    rec.save_screenshot(sid, step, mode, png, displayed=None, source="android")
