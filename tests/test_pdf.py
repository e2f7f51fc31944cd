"""report.pdf of the bundled example, printed by real headless Chromium: A4, at most 12 pages, the report number in
every page's header and "page X of Y" in every footer, whole words, and no machine path in any output file."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "fixtures" / "candidates" / "example"
NUMBER = "TT-2026-0042"

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (scripts/setup.sh)")


def text_of(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout


@pytest.fixture(scope="module")
def assessed(tmp_path_factory):
    """The example assessed from a copy outside the working folder, with a profile given by absolute path."""
    d = tmp_path_factory.mktemp("pdf")
    pkg = d / "vendor-evidence"
    shutil.copytree(EXAMPLE, pkg, ignore=shutil.ignore_patterns("expected.json"))
    prof = d / "centre-profile.yaml"
    shutil.copy(REPO / "specs" / "profile.default.yaml", prof)
    out = d / "out"
    p = subprocess.run([sys.executable, "-m", "conformance", "assess", str(pkg), "--out", str(out), "--pdf",
                        "--profile", str(prof), "--today", "2026-06-01", "--report-number", NUMBER, "--assessor",
                        "Kiểm định viên A", "--organisation", "Trung tâm thử nghiệm (hư cấu)", "--quiet"],
                       cwd=REPO, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return {"out": out, "dir": d, "pkg": pkg}


def test_example_pdf_is_at_most_12_numbered_pages(assessed):
    pdf = assessed["out"] / "report.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 1 <= pages <= 12, pages
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert abs(float(size.group(1)) - 595.3) < 2 and abs(float(size.group(2)) - 841.9) < 2  # A4
    for i in range(1, pages + 1):
        t = text_of(pdf, i)
        assert NUMBER in t, i
        assert f"page {i} of {pages}" in t and f"Trang {i} / {pages}" in t, i
    assert b"file://" not in pdf.read_bytes()


def test_pdf_text_is_whole_words(assessed):
    """Every requirement title reads whole in the PDF text (no word cut in a narrow column)."""
    text = " ".join(text_of(assessed["out"] / "report.pdf").split())
    res = json.loads((assessed["out"] / "results.json").read_text(encoding="utf-8"))
    for r in res["requirements"]:
        assert " ".join(r["title_en"].split()) in text, r["title_en"]
        assert " ".join(r["title_vi"].split()) in text, r["title_vi"]
    for words in ("Phạm vi đánh giá", "Scope of the assessment", "Chữ ký", "Signature", "PHÙ HỢP", "CONFORMANT",
                  "Trung tâm thử nghiệm (hư cấu)", "(UTC+07:00)"):
        assert words in text, words


def test_no_machine_paths_in_any_output(assessed):
    out, d = assessed["out"], assessed["dir"]
    needles = [str(d), str(REPO), os.path.expanduser("~") + "/", "/tmp/", "centre-profile.yaml".join(["/", ""])]
    files = [f for f in out.rglob("*") if f.is_file()]
    assert len(files) > 5
    for f in files:
        text = text_of(f) if f.suffix == ".pdf" else f.read_text(encoding="utf-8", errors="ignore")
        for n in needles:
            assert n not in text, (f.name, n)
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["profile"]["path"] == "centre-profile.yaml" and res["package"]["path"] == "vendor-evidence"
    assert len(res["profile"]["sha256"]) == 64 and res["profile"]["sha256_of"] == "file"
