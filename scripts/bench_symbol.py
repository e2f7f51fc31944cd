#!/usr/bin/env python3
"""CPU cost of the symbol analyser on the fixture phone screenshots, this tree against a baseline, side by side.

Measures, per screenshot of fixtures/candidates/*/screens/* (PNG/JPEG loaded once beforehand: the load is the same
for a bare decode and is not counted):

- analyse_image(gray): process CPU time (all threads, OpenCV's included), median of --repeat runs;
- its stages: thread CPU time inside zxing-cpp, zbar, OpenCV, the grid read, measure() and the quality grade
  (wrapped around the same functions in both trees; OpenCV's own worker threads are not in a thread's time);
- robustness() with the default profile's degradations (SYMBOL-008);
- bare zxing-cpp on the same array, for scale.

The baseline is another git revision of conformance/ (default: where this branch left main, `git merge-base HEAD
main`), extracted to a temporary folder and run in a child process in the same run, so both figures come from the same machine state. Then the measurements of both
trees are compared image by image (ECC / version / mask / module px / quiet zone / contrast / decoders / grid).

    .venv/bin/python scripts/bench_symbol.py [--baseline REV] [--repeat 5] [--rounds 2] [--limit N]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("zxing-cpp", "zbar", "opencv-aruco", "grid", "measure", "quality")


def screenshots(limit: int | None) -> list[Path]:
    out = []
    for p in sorted((ROOT / "fixtures" / "candidates").glob("*/screens/*")):
        if p.suffix.lower() in (".png", ".jpg", ".jpeg") and p.stat().st_size > 1000:
            out.append(p)
    return out[:limit] if limit else out


def measure(code_root: str, limit: int | None, repeat: int) -> dict:
    """Run in the tree at code_root (imports come from there)."""
    sys.path.insert(0, code_root)
    import cv2
    import numpy as np
    import yaml
    import zxingcpp

    import conformance.symbol as S
    from conformance.symbol import analyse as A
    from conformance.symbol import decoders as D
    from conformance.symbol import grid as G
    from conformance.symbol import quality as Q

    assert Path(A.__file__).resolve().is_relative_to(Path(code_root).resolve()), A.__file__
    acc: dict[str, float] = {}

    def wrap(mod, attr, stage):
        fn = getattr(mod, attr, None)
        if fn is None:
            return

        def inner(*a, **k):
            t = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                acc[stage] = acc.get(stage, 0.0) + (time.thread_time() - t) * 1000
        setattr(mod, attr, inner)

    wrap(D, "zxing_read", "zxing-cpp")
    wrap(D, "zbar_read", "zbar")
    wrap(D, "opencv_read", "opencv-aruco")
    wrap(G, "read_grid", "grid")
    wrap(G, "read_modes", "grid")
    wrap(G, "measure", "measure")
    wrap(Q, "grade_symbol", "quality")
    prof = yaml.safe_load((ROOT / "specs" / "profile.default.yaml").read_text(encoding="utf-8"))["symbol"]
    imgs = []
    for p in screenshots(limit):
        g = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
        if g is not None:
            imgs.append((p, np.ascontiguousarray(g)))
    S.analyse_image(imgs[0][1])  # warm-up: imports, detector objects, caches
    rows = []
    for p, g in imgs:
        total, stages, rob, rob_stop, bare, an = [], {k: [] for k in STAGES}, [], [], [], None
        for _ in range(repeat):
            acc.clear()
            t = time.process_time()
            an = S.analyse_image(g)
            total.append((time.process_time() - t) * 1000)
            for k in STAGES:
                stages[k].append(acc.get(k, 0.0))
            t = time.process_time()
            zxingcpp.read_barcodes(g, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain)
            bare.append((time.process_time() - t) * 1000)
            if an.symbols:
                t = time.process_time()
                rr = S.robustness(an, an.symbols[0], prof["degradations"])
                rob.append((time.process_time() - t) * 1000)
                t = time.process_time()
                try:  # the early-stopping sweep (SYMBOL-008 with the profile's minimum); older trees lack it
                    S.robustness(an, an.symbols[0], prof["degradations"], min_passed=prof["min_degradations_passed"])
                    rob_stop.append((time.process_time() - t) * 1000)
                except TypeError:
                    pass
        syms = []
        for s in an.symbols:
            g_ = s.grid or {}
            syms.append({"text": s.text, "ecc": s.ecc, "version": s.version, "mask": s.mask,
                         "module_px": s.module_px, "quiet_zone": s.quiet_zone_modules, "polarity": s.polarity,
                         "contrast": s.symbol_contrast, "wcag": s.wcag_contrast, "decoders": s.decoders,
                         "grid": [g_.get("ecc"), g_.get("mask"), g_.get("version"), g_.get("confident")],
                         "mode": s.mode, "disagreements": s.disagreements})
        rows.append({"name": str(p.relative_to(ROOT)), "size": list(g.shape[::-1]),
                     "cpu_ms": statistics.median(total), "stages": {k: statistics.median(v) for k, v in stages.items()},
                     "robustness_ms": statistics.median(rob) if rob else None,
                     "robustness_stop_ms": statistics.median(rob_stop) if rob_stop else None,
                     "robustness": [{k: r.get(k) for k in ("name", "decoded", "same_text")} for r in rr]
                     if an.symbols else None,
                     "bare_zxing_ms": statistics.median(bare), "symbols": syms})
    return {"root": code_root, "cv2_threads": cv2.getNumThreads(), "rows": rows}


def merge_rounds(runs: list[dict]) -> dict:
    """Per image, the lowest of each CPU figure over the rounds (load from other processes only adds time)."""
    out = runs[0]
    for other in runs[1:]:
        for r, o in zip(out["rows"], other["rows"]):
            for k in ("cpu_ms", "bare_zxing_ms", "robustness_ms", "robustness_stop_ms"):
                if r.get(k) is not None and o.get(k) is not None:
                    r[k] = min(r[k], o[k])
            for k in STAGES:
                r["stages"][k] = min(r["stages"][k], o["stages"][k])
    return out


def baseline_tree(ref: str, dest: Path) -> None:
    tar = dest / "src.tar"
    with open(tar, "wb") as fh:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref, "conformance"], check=True, stdout=fh)
    with tarfile.open(tar) as tf:
        tf.extractall(dest, filter="data")


def summary(res: dict, label: str, only: list[str] | None = None) -> dict:
    rows = [r for r in res["rows"] if only is None or r["name"] in only]
    phone = [r for r in rows if r["size"] == [1080, 2340]]
    out = {"label": label, "n": len(rows), "n_1080x2340": len(phone)}
    for key, sel in (("all", rows), ("1080x2340", phone)):
        if not sel:
            continue
        out[key] = {"cpu_ms": statistics.median(r["cpu_ms"] for r in sel),
                    "cpu_p90_ms": sorted(r["cpu_ms"] for r in sel)[int(0.9 * (len(sel) - 1))],
                    "bare_zxing_ms": statistics.median(r["bare_zxing_ms"] for r in sel),
                    "robustness_ms": statistics.median(r["robustness_ms"] for r in sel if r["robustness_ms"]),
                    "robustness_stop_ms": _median_or_none([r["robustness_stop_ms"] for r in sel]),
                    "stages": {k: statistics.median(r["stages"][k] for r in sel) for k in STAGES}}
    return out


def _median_or_none(vals: list) -> float | None:
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def compare(a: dict, b: dict) -> list[str]:
    by = {r["name"]: r for r in b["rows"]}
    diffs = []
    for ra in a["rows"]:
        rb = by.get(ra["name"])
        if rb is None:
            continue
        if len(ra["symbols"]) != len(rb["symbols"]):
            diffs.append(f"{ra['name']}: {len(ra['symbols'])} -> {len(rb['symbols'])} symbols")
            continue
        for sa, sb in zip(ra["symbols"], rb["symbols"]):
            for k in sa:
                va, vb = sa[k], sb[k]
                if k == "module_px" and va is not None and vb is not None and abs(va - vb) <= 0.005 * va:
                    continue
                if va != vb:
                    diffs.append(f"{ra['name']}: {k} {va!r} -> {vb!r}")
        if ra["robustness"] and rb["robustness"]:
            ok_a = sum(1 for r in ra["robustness"] if r["decoded"] and r["same_text"])
            ok_b = sum(1 for r in rb["robustness"] if r["decoded"] and r["same_text"])
            if ok_a != ok_b:
                diffs.append(f"{ra['name']}: robustness passed {ok_a} -> {ok_b}")
    return diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=None,
                    help="git revision to compare with (default: git merge-base HEAD main); '' for none")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=2, help="alternating runs of each tree; per image the lowest")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(a.child, a.limit, a.repeat)))
        return 0
    if a.baseline is None:
        a.baseline = subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], capture_output=True,
                                    text=True).stdout.strip()[:12]
    results = []
    with tempfile.TemporaryDirectory() as td:
        roots = []
        if a.baseline:
            baseline_tree(a.baseline, Path(td))
            roots.append((f"baseline ({a.baseline})", td))
        roots.append(("this tree", str(ROOT)))
        runs: dict[str, list[dict]] = {label: [] for label, _r in roots}
        for _round in range(max(1, a.rounds)):  # alternate the trees, so that a change in machine load hits both
            for label, root in roots:
                env = dict(os.environ, PYTHONPATH=root)
                cmd = [sys.executable, __file__, "--child", root, "--repeat", str(a.repeat)]
                if a.limit:
                    cmd += ["--limit", str(a.limit)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env,
                                     cwd=str(ROOT)).stdout
                runs[label].append(json.loads(out))
        results = [(label, merge_rounds(runs[label])) for label, _r in roots]
    print(f"symbol analyser CPU on {len(results[-1][1]['rows'])} fixture screenshots (fixtures/candidates/*/screens/*),"
          f" PNG load excluded; median over images of the lowest over {a.rounds} alternating rounds of the median"
          f" of {a.repeat} runs; "
          f"cv2 threads {results[-1][1]['cv2_threads']}")
    sums = [summary(r, label) for label, r in results]
    for key in ("1080x2340", "all"):
        if key not in sums[-1]:
            continue
        n = sums[-1]["n_1080x2340"] if key == "1080x2340" else sums[-1]["n"]
        print(f"\n{key} screenshots ({n}):")
        print(f"  {'':28s}" + "".join(f"{s['label']:>22s}" for s in sums))
        for row, get in (("analyse_image CPU ms", lambda s, key=key: s[key]["cpu_ms"]),
                         ("  p90", lambda s, key=key: s[key]["cpu_p90_ms"]),
                         *((f"  stage {k}", (lambda kk: lambda s, key=key: s[key]["stages"][kk])(k)) for k in STAGES),
                         ("robustness() CPU ms", lambda s, key=key: s[key]["robustness_ms"]),
                         ("  stopping when decided", lambda s, key=key: s[key]["robustness_stop_ms"]),
                         ("bare zxing-cpp CPU ms", lambda s, key=key: s[key]["bare_zxing_ms"])):
            print(f"  {row:28s}" + "".join(f"{get(s):22.2f}" if get(s) is not None else f"{'-':>22s}"
                                            for s in sums))
    if len(results) == 2:
        diffs = compare(results[0][1], results[1][1])
        print(f"\nmeasurements that moved between the baseline and this tree: {len(diffs)}")
        for d in diffs:
            print("  " + d[:220])
    return 0


if __name__ == "__main__":
    sys.exit(main())
