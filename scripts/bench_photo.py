#!/usr/bin/env python3
"""Photo analysis (conformance/symbol/photo.py) on simulated camera photos of generated screens (not a test).

Each photo comes from a random conforming screen style (fixtures/synth/screens.py random_style) and random camera
parameters (fixtures/photos/simulate.py random_params), saved as JPEG. Prints, against the simulation's truth:
the fraction decoded with the right text, ECC/version/mask agreement, all-decoders agreement, symbol corner error
(modules), quiet zone (rectified, modules) minus the screen's true quiet zone, outline found rate and corner error,
the physical-size error against the stated uncertainty, and CPU seconds per photo.

    .venv/bin/python scripts/bench_photo.py [--n 40] [--seed 0] [--hard] [--csv FILE]
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from conformance.payload.record import build_payload  # noqa: E402
from conformance.symbol import analyse_image  # noqa: E402
from conformance.symbol.photo import analyse_photo  # noqa: E402
from fixtures.photos.simulate import random_params, simulate_photo  # noqa: E402
from fixtures.synth.people import make_people  # noqa: E402
from fixtures.synth.screens import random_style, render_screen_with_truth  # noqa: E402


def one(i: int, seed: int, hard: bool) -> dict:
    people = make_people(1405 + seed, 8)
    rec = people[i % len(people)]
    style = random_style(seed * 1000 + i)
    ppi = round(style.dpr * 160 * 0.98 + 10)  # a plausible ppi for the style's density
    img, truth = render_screen_with_truth(rec, build_payload(rec, masked=(i % 2 == 0)),
                                          mode="default" if i % 2 == 0 else "full", style=style)
    over = {}
    if hard:
        over = dict(tilt=0.14, glare=0.5, defocus_sigma=2.0, motion_px=4.0, noise=5.0, jpeg_quality=70)
    p = random_params(seed * 1000 + i, **over)
    photo, tr = simulate_photo(img, truth, p, ppi=ppi)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=p.jpeg_quality)
    t = time.process_time()
    an = analyse_photo(buf.getvalue(), screen_width_mm=tr["screen_width_mm"], name=f"photo-{i}")
    cpu = time.process_time() - t
    q = truth["qr"]
    r = {"i": i, "cpu": cpu, "theme": style.theme, "inverted": style.qr_inverted, "error": an.error,
         "decoded": False}
    s = next((s for s in an.symbols if s.text == q["payload"]), None)
    if s is None:
        return r
    mod_photo = np.linalg.norm(np.array(tr["symbol_corners"][1]) - np.array(tr["symbol_corners"][0])) / q["modules"]
    r.update(decoded=True, meta=(s.ecc, s.version, s.mask) == (q["ecc"], q["version"], q["mask"]),
             all_decoders=all(v == s.text for v in s.decoders.values()),
             corner_err_modules=float(np.abs(np.array(s.corners) - np.array(tr["symbol_corners"])).max() / mod_photo),
             qz_diff=(float(s.quiet_zone_modules) - q["effective_quiet_zone"]) if s.quiet_zone_modules is not None
             else None)
    ref = next((x for x in analyse_image(img).symbols if x.text == q["payload"]), None)  # the screenshot itself
    if ref is not None and ref.quiet_zone_modules is not None and s.quiet_zone_modules is not None:
        r["qz_vs_screenshot"] = float(s.quiet_zone_modules) - float(ref.quiet_zone_modules)
    o = an.photo["outline"]
    W, H = tr["photo_size"]
    r["display_visible"] = all(0 <= x < W and 0 <= y < H for x, y in tr["screen_outline"])
    r["outline"] = bool(o.get("found"))
    if o.get("found"):
        r["outline_err_px"] = float(np.abs(np.array(o["corners"]) - np.array(tr["screen_outline"])).max())
    if an.photo.get("size"):
        sz = an.photo["size"]
        r["size_err_mm"] = sz["symbol_mm"] - tr["symbol_mm"]
        r["size_unc_mm"] = sz["uncertainty_mm"]
        r["size_true_mm"] = tr["symbol_mm"]
    return r


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hard", action="store_true", help="strong tilt, glare, blur, motion, noise, JPEG 70")
    a = ap.parse_args()
    rows = [one(i, a.seed, a.hard) for i in range(a.n)]
    n = len(rows)
    dec = [r for r in rows if r["decoded"]]
    print(f"photos: {n}  decoded with the right text: {len(dec)} ({100 * len(dec) / n:.0f} %)")
    if dec:
        pos = [r for r in dec if not r["inverted"]]
        print(f"  ECC/version/mask right: {sum(r['meta'] for r in dec)}/{len(dec)}; all decoders agree: "
              f"{sum(r['all_decoders'] for r in dec)}/{len(dec)} (dark-on-light codes: "
              f"{sum(r['all_decoders'] for r in pos)}/{len(pos)}; zbar and OpenCV do not read light-on-dark)")
        ce = [r["corner_err_modules"] for r in dec]
        print(f"  symbol corner error (modules): median {statistics.median(ce):.2f}, max {max(ce):.2f}")
        qz = [r["qz_diff"] for r in dec if r["qz_diff"] is not None]
        if qz:
            print(f"  quiet zone - truth (modules): median {statistics.median(qz):+.2f}, "
                  f"range {min(qz):+.2f} .. {max(qz):+.2f}")
        qs = [r["qz_vs_screenshot"] for r in dec if r.get("qz_vs_screenshot") is not None]
        if qs:
            print(f"  quiet zone - the screenshot's own measurement (modules): median {statistics.median(qs):+.2f}, "
                  f"range {min(qs):+.2f} .. {max(qs):+.2f}; within 1 module: {sum(abs(x) <= 1 for x in qs)}/{len(qs)}")
        ol = [r for r in dec if r.get("outline")]
        vis = [r for r in dec if r.get("display_visible") and r["theme"] == "light"]
        print(f"  outline found where the whole display is in the photo, light theme: "
              f"{sum(1 for r in vis if r.get('outline'))}/{len(vis)}")
        bad = [r["i"] for r in ol if r["outline_err_px"] > 5]
        if bad:
            print(f"  outlines off by more than 5 px: {bad}")
        print(f"  outline found: {len(ol)}/{len(dec)} (light theme {sum(1 for r in ol if r['theme'] == 'light')}/"
              f"{sum(1 for r in dec if r['theme'] == 'light')}, dark {sum(1 for r in ol if r['theme'] == 'dark')}/"
              f"{sum(1 for r in dec if r['theme'] == 'dark')})")
        if ol:
            oe = [r["outline_err_px"] for r in ol]
            print(f"  outline corner error (px): median {statistics.median(oe):.1f}, max {max(oe):.1f}")
        sz = [r for r in dec if "size_err_mm" in r]
        if sz:
            err = [abs(r["size_err_mm"]) for r in sz]
            rel = [abs(r["size_err_mm"]) / r["size_true_mm"] for r in sz]
            cover = sum(1 for r in sz if abs(r["size_err_mm"]) <= r["size_unc_mm"])
            print(f"  size error (mm): median {statistics.median(err):.2f}, max {max(err):.2f} "
                  f"(relative median {100 * statistics.median(rel):.1f} %, max {100 * max(rel):.1f} %); "
                  f"within the stated uncertainty: {cover}/{len(sz)}; stated uncertainty median "
                  f"{statistics.median(r['size_unc_mm'] for r in sz):.2f} mm")
    cpu = [r["cpu"] for r in rows]
    print(f"CPU per photo: median {statistics.median(cpu):.2f} s, max {max(cpu):.2f} s")
    fails = [r["i"] for r in rows if not r["decoded"]]
    if fails:
        print("not decoded:", fails)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
