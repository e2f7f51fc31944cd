#!/usr/bin/env python3
"""Import the zxing-cpp QR blackbox samples into tests/corpora/zxing-cpp-qrcode/ (run by hand, never by tests).

The zxing-cpp project (Apache-2.0) keeps real QR images (phone photos of printed codes, screenshots, generated and
rotated renderings, structured-append sets) with the expected text of each in test/samples/qrcode-1 .. qrcode-7.
This copies those sets unchanged with their .txt / .result.txt files, the project's LICENSE, a NOTICE, and writes one
sidecar per image, `<image>.json`:

    {"image", "set", "source": {repository, commit, path, licence}, "expected_text" (the .txt, UTF-8),
     "symbols": [{"text", "version", "ecc", "mask", "confirmed_by": [...]}] (what zxing-cpp reads),
     "zxing_cpp_reads_expected": bool, "structured_append": {...} (qrcode-7 only)}

`symbols` comes from zxing-cpp (the version pinned in requirements.txt); `confirmed_by` lists the independent
readings that agree with its version / ECC / mask: "opencv-grid" (the side of OpenCV's rectified module grid gives
the version), "result.txt" (ecLevel in zxing-cpp's own expectations), "format-info grid read" (this suite's grid
reader, when confident). A symbol nothing confirms is still listed: the sidecar records what is known.

    .venv/bin/python scripts/import_zxing_corpus.py --git-dir /path/to/zxing-cpp/.git [--out tests/corpora/...]
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import zxingcpp  # noqa: E402
from PIL import Image  # noqa: E402

SETS = [f"qrcode-{i}" for i in range(1, 8)]
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")
REPO_URL = "https://github.com/zxing-cpp/zxing-cpp"
SET_NOTES = {
    "qrcode-1": "phone-camera photographs of printed codes (versions 3-10)",
    "qrcode-2": "mixed: photographs, screenshots, generated images, inverted, rounded-module and model-1 symbols, "
                "tiny 1-pixel-module renderings, two nested symbols (16.webp)",
    "qrcode-3": "photographs of printed codes under angles and lighting",
    "qrcode-4": "photographs of printed codes, several too hard for zxing-cpp",
    "qrcode-5": "photographs of a printed code; four pure version-40 renderings at 1 pixel per module",
    "qrcode-6": "a version-1 symbol rendered rotated at many angles, plus one photograph",
    "qrcode-7": "a structured-append sequence of four symbols; 01.txt is the merged text",
}


def git_show(git_dir: str, rev: str, path: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{rev}:{path}"], check=True,
                          capture_output=True).stdout


def git_ls(git_dir: str, rev: str, path: str) -> list[str]:
    out = subprocess.run(["git", f"--git-dir={git_dir}", "ls-tree", "--name-only", f"{rev}:{path}"], check=True,
                         capture_output=True, text=True).stdout
    return [x for x in out.splitlines() if x]


def opencv_modules(gray: np.ndarray) -> int | None:
    import cv2
    try:
        _t, _p, straight = cv2.QRCodeDetectorAruco().detectAndDecodeBytes(gray)
    except cv2.error:
        return None
    if straight is None or getattr(straight, "ndim", 0) != 2:
        return None
    n = int(straight.shape[0])
    return n if 21 <= n <= 177 and (n - 17) % 4 == 0 else None


def sidecar(set_name: str, name: str, data: bytes, texts: dict[str, bytes], commit: str) -> dict:
    from conformance.symbol import analyse_image

    stem = name.rsplit(".", 1)[0]
    gray = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    expected = texts.get(f"{stem}.txt")
    result = texts.get(f"{stem}.result.txt")
    if set_name == "qrcode-7":
        expected = texts.get(f"{stem.split('-')[0]}.txt")
        result = texts.get(f"{stem.split('-')[0]}.result.txt")
    result_ec = None
    if result:
        for line in result.decode("utf-8").splitlines():
            if line.startswith("ecLevel="):
                result_ec = line.split("=", 1)[1].strip()
    reads = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain)
    an = analyse_image(gray, name=name)
    cv_n = opencv_modules(gray)
    symbols = []
    for r in reads:
        ex = dict(r.extra or {})
        version = int(ex["Version"]) if str(ex.get("Version", "")).isdigit() else None
        ecc, mask = r.ec_level or None, ex.get("DataMask")
        confirmed = []
        if version and cv_n == 17 + 4 * version and len(reads) == 1:
            confirmed.append("opencv-grid")
        if result_ec and result_ec == ecc:
            confirmed.append("result.txt")
        mine = next((s for s in an.symbols if s.text == r.text), None)
        g = (mine.grid or {}) if mine else {}
        if g.get("confident") and (g.get("ecc"), g.get("version"), g.get("mask")) == (ecc, version, mask):
            confirmed.append("format-info grid read")
        symbols.append({"text": r.text, "version": version, "ecc": ecc, "mask": mask, "confirmed_by": confirmed})
    exp_text = expected.decode("utf-8") if expected is not None else None
    out = {
        "image": name,
        "set": set_name,
        "source": {"repository": REPO_URL, "commit": commit, "path": f"test/samples/{set_name}/{name}",
                   "licence": "Apache-2.0"},
        "expected_text": exp_text,
        "symbols": symbols,
        "zxing_cpp_reads_expected": exp_text is not None and any(s["text"] == exp_text for s in symbols),
    }
    if set_name == "qrcode-7":
        # expected_text is the merged text of the sequence; each image holds one part of it
        out["structured_append"] = {"merged_text_file": f"{stem.split('-')[0]}.txt", "sequence_size": 4,
                                    "index": int(stem.split("-")[1]) - 1}
        out["zxing_cpp_reads_expected"] = bool(symbols) and symbols[0]["text"] in (exp_text or "")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git-dir", required=True, help="git directory of a zxing-cpp clone")
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "corpora" / "zxing-cpp-qrcode")
    a = ap.parse_args()
    commit = subprocess.run(["git", f"--git-dir={a.git_dir}", "rev-parse", a.rev], check=True, capture_output=True,
                            text=True).stdout.strip()
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "LICENSE").write_bytes(git_show(a.git_dir, commit, "LICENSE"))
    count = 0
    for set_name in SETS:
        names = git_ls(a.git_dir, commit, f"test/samples/{set_name}")
        d = a.out / set_name
        d.mkdir(exist_ok=True)
        texts = {}
        sidecars: list[tuple[Path, dict]] = []
        for nm in names:
            if nm.endswith(".txt"):
                texts[nm] = git_show(a.git_dir, commit, f"test/samples/{set_name}/{nm}")
                (d / nm).write_bytes(texts[nm])
        for nm in names:
            if not nm.lower().endswith(IMAGE_EXT):
                continue
            data = git_show(a.git_dir, commit, f"test/samples/{set_name}/{nm}")
            (d / nm).write_bytes(data)
            sc = sidecar(set_name, nm, data, texts, commit)
            sidecars.append((d / f"{nm}.json", sc))
            count += 1
        if set_name == "qrcode-7":  # the parts, in sequence order, must make up the merged text
            parts = sorted((sc["structured_append"]["index"], sc["symbols"][0]["text"] if sc["symbols"] else "")
                           for _p, sc in sidecars)
            ok = "".join(t for _i, t in parts) == sidecars[0][1]["expected_text"]
            for _p, sc in sidecars:
                sc["structured_append"]["parts_make_up_merged_text"] = ok
        for path, sc in sidecars:
            path.write_text(json.dumps(sc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    notice = [
        "QR test images from the zxing-cpp project",
        f"Source: {REPO_URL}, commit {commit}, directories test/samples/qrcode-1 .. qrcode-7.",
        "Licence: Apache License 2.0 (LICENSE in this folder, copied from the same commit).",
        "The images and their .txt / .result.txt files are copied unchanged. The <image>.json sidecars were added",
        "by this repository (scripts/import_zxing_corpus.py): the expected text comes from the .txt file, version /",
        "ECC / mask from a zxing-cpp read, with the independent readings that confirm them.",
        "",
        "Sets:",
    ] + [f"  {k}: {v}" for k, v in SET_NOTES.items()]
    (a.out / "NOTICE").write_text("\n".join(notice) + "\n", encoding="utf-8")
    print(f"{count} images written to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
