#!/usr/bin/env python3
"""Per-image cost of the symbol layer on 50 generated phone screenshots (not a timed test).

Prints the median per-image cost of (a) the full conformance.symbol.analyse_image and (b) a bare PIL load +
zxing-cpp decode of the same files, and their ratio (target: full <= 3x bare), plus per-stage medians.

    .venv/bin/python scripts/benchmark.py [--n 50] [--repeat 3] [--keep DIR]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import zxingcpp  # noqa: E402
from PIL import Image  # noqa: E402

from conformance.symbol import analyse_image  # noqa: E402
from tests.support import qrimages as Q  # noqa: E402


def generate(out: Path, n: int, seed: int = 7) -> list[tuple[Path, Q.Truth]]:
    rng = np.random.default_rng(seed)
    files = []
    for i in range(n):
        size = [(1080, 2340), (720, 1600), (1170, 2532)][i % 3]
        ecc = "LMQH"[int(rng.integers(4))]
        version = int(rng.choice([2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25]))
        t = Q.make_symbol(Q.payload_for(version, ecc, i), ecc, version=version)
        avail = size[0] - 120
        mod = int(max(3, min(14, avail // (t.modules + 8), int(rng.integers(3, 15)))))
        theme = "dark" if i % 5 == 4 else "light"
        rgb = Q.phone_screen([(t, mod)], size=size, theme=theme, seed=i)
        if i % 2:
            p = out / f"s{i:02d}.jpg"
            p.write_bytes(Q.encode(rgb, "JPEG", quality=int(rng.integers(50, 95))))
        else:
            p = out / f"s{i:02d}.png"
            p.write_bytes(Q.encode(rgb, "PNG"))
        files.append((p, t))
    return files


def bare_pil(path: Path) -> int:
    img = Image.open(path).convert("L")
    return len(zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode,
                                      text_mode=zxingcpp.TextMode.Plain))


def bare_cv2(path: Path) -> int:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    return len(zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode,
                                      text_mode=zxingcpp.TextMode.Plain))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3, help="runs per image; the median is kept")
    ap.add_argument("--keep", type=Path, help="write the screenshots here instead of a temporary folder")
    ap.add_argument("--ocr", type=int, default=12, help="also time screen OCR on this many fixture screenshots (0: off)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as td:
        out = a.keep or Path(td)
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        files = generate(out, a.n)
        print(f"generated {len(files)} screenshots in {time.perf_counter() - t0:.1f} s")
        full_ms, bare_ms, pil_ms, cv2_ms, stages = [], [], [], [], {}
        correct = 0
        reads = {"zbar": 0, "opencv-aruco": 0}
        dark = 0
        for p, truth in files:
            fr, pr, cr = [], [], []
            for _ in range(a.repeat):
                t = time.perf_counter()
                bare_pil(p)
                pr.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                bare_cv2(p)
                cr.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                an = analyse_image(p)
                fr.append((time.perf_counter() - t) * 1000)
            full_ms.append(statistics.median(fr))
            pil_ms.append(statistics.median(pr))
            cv2_ms.append(statistics.median(cr))
            bare_ms.append(min(pil_ms[-1], cv2_ms[-1]))
            for k, v in an.timings_ms.items():
                stages.setdefault(k, []).append(v)
            s = an.symbols[0] if len(an.symbols) == 1 else None
            dark += truth.polarity == "light-on-dark"
            for k in reads:
                reads[k] += bool(s and s.decoders.get(k) == s.text)
            if s and (s.ecc, s.version, s.mask) == (truth.ecc, truth.version, truth.mask) and s.grid.get(
                    "confident") and abs(s.module_px - truth.module_px) <= 0.05 * truth.module_px \
                    and s.quiet_zone_modules == truth.quiet_zone and s.polarity == truth.polarity:
                correct += 1
        mf, mb = statistics.median(full_ms), statistics.median(bare_ms)
        print(f"images: {len(files)}  (all metadata + measurements correct: {correct}/{len(files)})")
        print(f"secondary reads (same text as zxing-cpp, no invert retry; {dark} light-on-dark images): "
              + ", ".join(f"{k} {v}/{len(files)}" for k, v in reads.items()))
        print(f"(a) full analyse_image     median {mf:7.1f} ms   max {max(full_ms):7.1f} ms")
        print(f"(b) bare load + zxing       median {mb:7.1f} ms   max {max(bare_ms):7.1f} ms   (faster of:)")
        print(f"    PIL open+convert('L')   median {statistics.median(pil_ms):7.1f} ms")
        print(f"    cv2.imread(GRAYSCALE)   median {statistics.median(cv2_ms):7.1f} ms")
        print(f"ratio full / bare (medians): {mf / mb:.2f}x   (target <= 3x)")
        print("stage medians (ms, last run per image):")
        for k, v in stages.items():
            print(f"  {k:14s} {statistics.median(v):7.1f}")
        memory(files[: min(10, len(files))])
    if a.ocr:
        ocr_cost(a.ocr)
    return 0


def memory(files) -> None:
    """Peak Python-heap allocation of one analyse_image call, relative to the decoded greyscale image size."""
    import tracemalloc

    ratios = []
    for p, _ in files:
        an = analyse_image(p)  # warm caches
        tracemalloc.start()
        an = analyse_image(p)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ratios.append(peak / max(1, an.width * an.height))
    print(f"memory: peak traced allocation per analyse_image / greyscale image bytes: median "
          f"{statistics.median(ratios):.2f}x, max {max(ratios):.2f}x  ({len(ratios)} images)")


def ocr_cost(limit: int) -> None:
    """Screen-text OCR (issue 5) next to decoding, on the fixture candidates' screenshots (real UI text)."""
    from conformance.ocr import read_screen

    shots = [p for p in sorted((ROOT / "fixtures" / "candidates").glob("*/screens/*.png"))
             if not p.parent.parent.name.startswith("bad-input")][:limit]
    shots = [p for p in shots if p.stat().st_size > 1000]
    dec, ocr = [], []
    for p in shots:
        t = time.perf_counter()
        an = analyse_image(p)
        dec.append((time.perf_counter() - t) * 1000)
        if an.error:
            continue
        boxes = []
        for sym in an.symbols:
            xs = [c[0] for c in sym.corners]
            ys = [c[1] for c in sym.corners]
            boxes.append([int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1])
        t = time.perf_counter()
        read_screen(an.gray, exclude_boxes=boxes)
        ocr.append((time.perf_counter() - t) * 1000)
    if not ocr:
        print("ocr: no fixture screenshots found")
        return
    md, mo = statistics.median(dec), statistics.median(ocr)
    print(f"ocr on {len(ocr)} fixture screenshots: read_screen median {mo:7.1f} ms (max {max(ocr):.1f}); "
          f"analyse_image median {md:7.1f} ms; OCR / decode ratio {mo / md:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
