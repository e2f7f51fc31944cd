#!/usr/bin/env python3
"""Decode rate on the public QR corpus (tests/corpora/zxing-cpp-qrcode): the symbol analyser against bare decoders.

For every image the expected text is the sidecar's (the zxing-cpp project's .txt; for the structured-append set the
part each image holds). Each decoder runs once per image, on the greyscale image as loaded:

  analyser         conformance.symbol.analyse_image (zxing-cpp primary; zbar / OpenCV only on the symbol's region,
                   or on the whole image when zxing-cpp finds nothing)
  zxing-cpp        zxingcpp.read_barcodes(QRCode, TextMode.Plain), library defaults
  zbar (pyzbar)    pyzbar.decode(QRCODE), as a user of pyzbar would call it (it raises on structured append)
  opencv-aruco     cv2.QRCodeDetectorAruco().detectAndDecode
  opencv           cv2.QRCodeDetector().detectAndDecode

Outcomes: `same` (the expected text), `other` (a different text), `none` (nothing read), `raised` (the call
raised after or while decoding). Also the per-image CPU median of each call, and, inside the analyser, how often
its secondaries agreed with zxing-cpp.

    .venv/bin/python scripts/bench_corpus.py [--repeat 1]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import zxingcpp  # noqa: E402
from PIL import Image  # noqa: E402

from conformance.symbol import analyse_image  # noqa: E402

CORPUS = ROOT / "tests" / "corpora" / "zxing-cpp-qrcode"


def items():
    for sc in sorted(CORPUS.glob("*/*.json")):
        meta = json.loads(sc.read_text(encoding="utf-8"))
        img = sc.with_name(sc.name[: -len(".json")])
        if "structured_append" in meta:
            want = {s["text"] for s in meta["symbols"]}
        else:
            want = {meta["expected_text"]}
        yield img, meta, want


def _zxing(gray):
    return [r.text for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode,
                                                   text_mode=zxingcpp.TextMode.Plain)]


def _zbar(gray):
    from pyzbar import pyzbar
    return [r.data.decode("utf-8", errors="replace") for r in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])]


def _opencv(det):
    def run(gray):
        text, _pts, _s = det.detectAndDecode(gray)
        return [text] if text else []
    return run


def _analyser(gray):
    an = analyse_image(gray)
    return [s.text for s in an.symbols if s.text is not None], an


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs per image and decoder; the CPU median is kept")
    a = ap.parse_args()
    decoders = {"analyser": None, "zxing-cpp": _zxing, "zbar (pyzbar)": _zbar,
                "opencv-aruco": _opencv(cv2.QRCodeDetectorAruco()), "opencv": _opencv(cv2.QRCodeDetector())}
    per_set: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    cpu: dict[str, list[float]] = defaultdict(list)
    inner = Counter()
    n_images = 0
    for img, meta, want in items():
        n_images += 1
        gray = np.ascontiguousarray(np.asarray(Image.open(img).convert("L")))
        for name, fn in decoders.items():
            times, outcome, an = [], "none", None
            for _ in range(max(1, a.repeat)):
                t = time.process_time()
                try:
                    if name == "analyser":
                        texts, an = _analyser(gray)
                    else:
                        texts = fn(gray)
                    outcome = "same" if set(texts) & want else ("other" if texts else "none")
                except Exception:  # noqa: BLE001 - a decoder raising is an outcome to count
                    outcome = "raised"
                times.append((time.process_time() - t) * 1000)
            cpu[name].append(statistics.median(times))
            per_set[meta["set"]][name][outcome] += 1
            per_set["all"][name][outcome] += 1
            if name == "analyser" and an is not None:
                for s in an.symbols:
                    if s.text in want and s.decoders.get("zxing-cpp") == s.text:
                        inner["symbols"] += 1
                        for k in ("zbar", "opencv-aruco"):
                            v = s.decoders.get(k)
                            inner[f"{k} same"] += v == s.text
                            inner[f"{k} other"] += v is not None and v != s.text
    names = list(decoders)
    print(f"corpus: {CORPUS.relative_to(ROOT)} ({n_images} images; zxing-cpp test/samples/qrcode-1..7, Apache-2.0)")
    print("decode rate = images whose expected text was read (other: a different text; raised: the call failed)")
    head = f"{'set':10s} {'n':>4s} " + " ".join(f"{n:>22s}" for n in names)
    print(head)
    for set_name in sorted(k for k in per_set if k != "all") + ["all"]:
        row = per_set[set_name]
        n = sum(row[names[0]].values())
        cells = []
        for nm in names:
            c = row[nm]
            extra = []
            if c["other"]:
                extra.append(f"o{c['other']}")
            if c["raised"]:
                extra.append(f"r{c['raised']}")
            cells.append(f"{c['same']:3d}/{n:<3d} {100 * c['same'] / n:5.1f}% {' '.join(extra):>6s}")
        print(f"{set_name:10s} {n:4d} " + " ".join(f"{x:>22s}" for x in cells))
    print("CPU per image (median / max ms): " + ", ".join(
        f"{nm} {statistics.median(v):.1f} / {max(v):.1f}" for nm, v in cpu.items()))
    if inner["symbols"]:
        print(f"inside the analyser, on the {inner['symbols']} expected symbols zxing-cpp read: "
              + ", ".join(f"{k} {inner[f'{k} same']} same / {inner[f'{k} other']} other text"
                          for k in ("zbar", "opencv-aruco"))
              + " (secondaries read the symbol's region only, no invert retry)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
