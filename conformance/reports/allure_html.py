"""allure-report/ (HTML) from allure-results/ without Java: the npm package `allure` (Allure 3, Node).

scripts/setup.sh installs it into the project-local folder .tools/allure (`npm install --prefix .tools/allure
allure@ALLURE_VERSION`) when Node is present. The binary is looked up there, then in $VNQR_ALLURE, then as `allure`
on PATH. The generator runs in its own process group with a deadline and writes only into the given folder.

    generate_html(out / "allure-results", out / "allure-report")
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from conformance.subproc import kill_group

ALLURE_VERSION = "3.18.0"
LOCAL_BIN = Path(__file__).resolve().parents[2] / ".tools" / "allure" / "node_modules" / ".bin" / "allure"
DEADLINE_S = 300.0


class AllureHtmlError(RuntimeError):
    def __init__(self, message_en: str, message_vi: str):
        self.message_en, self.message_vi = message_en, message_vi
        super().__init__(message_en)


def allure_binary() -> str | None:
    """The Allure command line to use, or None when neither it nor Node is installed."""
    if shutil.which("node") is None:
        return None
    for cand in (str(LOCAL_BIN), os.environ.get("VNQR_ALLURE") or "", shutil.which("allure") or ""):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def generate_html(results_dir: Path, out_dir: Path, *, deadline_s: float = DEADLINE_S) -> Path:
    """Build the Allure HTML report of `results_dir` into `out_dir`. Raises AllureHtmlError (bilingual)."""
    exe = allure_binary()
    if exe is None:
        raise AllureHtmlError(
            "--allure-html needs Node and the npm package `allure` (Allure 3): run scripts/setup.sh, or "
            f"`npm install --prefix .tools/allure allure@{ALLURE_VERSION}`",
            "--allure-html cần Node và gói npm `allure` (Allure 3): chạy scripts/setup.sh, hoặc "
            f"`npm install --prefix .tools/allure allure@{ALLURE_VERSION}`")
    results_dir, out_dir = Path(results_dir).resolve(), Path(out_dir).resolve()
    if not results_dir.is_dir():
        raise AllureHtmlError(f"{results_dir.name}: no Allure results to build a report from",
                              f"{results_dir.name}: không có kết quả Allure để dựng báo cáo")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env["NO_COLOR"] = "1"
    proc = subprocess.Popen([exe, "generate", str(results_dir), "--output", str(out_dir), "--cwd",
                             str(out_dir.parent), "--report-name", "vnqr-conformance"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        raise AllureHtmlError(f"Allure took more than {deadline_s:.0f} s to build the HTML report (stopped)",
                              f"Allure mất quá {deadline_s:.0f} giây để dựng báo cáo HTML (đã dừng)") from None
    finally:
        kill_group(proc)
    if proc.returncode != 0 or not (out_dir / "index.html").is_file():
        tail = (out or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise AllureHtmlError(f"Allure could not build the HTML report (exit {proc.returncode}): {tail[0][:300]}",
                              f"Allure không dựng được báo cáo HTML (mã thoát {proc.returncode}): {tail[0][:300]}")
    return out_dir
