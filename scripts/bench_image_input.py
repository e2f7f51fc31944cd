#!/usr/bin/env python3
"""Cost of the image input layer (conformance/symbol/load.py, frames.py) on the format and hostile fixtures.

Prints CPU seconds per fixture for analyse_frames (load + analysis), and the peak memory of loading large images
(in a fresh process each, measured as the growth of the resident high-water mark over the grey image's size).

    .venv/bin/python scripts/bench_image_input.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from conformance.specs import load_profile  # noqa: E402
from conformance.symbol.frames import analyse_frames  # noqa: E402
from conformance.symbol.load import ImageLimits  # noqa: E402

MEM = r"""
import sys, numpy as np
sys.path.insert(0, sys.argv[2])
from conformance.symbol.load import load_image
def st(k):
    for line in open("/proc/self/status"):
        if line.startswith(k + ":"):
            return int(line.split()[1])
load_image(np.zeros((10, 10), np.uint8))
data = open(sys.argv[1], "rb").read()
open("/proc/self/clear_refs", "w").write("5")
cur = st("VmRSS")
li = load_image(data, "x")
print(f"{(st('VmHWM') - cur) / 1024:.0f} MB over {li.gray.nbytes / 2**20:.0f} MB of grey = "
      f"{(st('VmHWM') - cur) * 1024 / li.gray.nbytes:.1f} copies")
"""


def main() -> int:
    import argparse

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    lim = ImageLimits.from_profile(load_profile())
    print("CPU seconds per fixture (analyse_frames):")
    for f in sorted((ROOT / "fixtures" / "images").glob("*/*")):
        if f.suffix == ".json" or f.suffix == ".py" or not f.is_file():
            continue
        t = time.process_time()
        an = analyse_frames(f, limits=lim)
        cpu = time.process_time() - t
        what = (an.error or "")[:70] if an.error else f"{len(an.symbols)} symbol(s), frame {an.judged_frame}"
        print(f"  {cpu:6.2f}  {f.relative_to(ROOT)}  {what}")
    print("peak memory of one load (6,300 x 6,300):")
    with tempfile.TemporaryDirectory() as d:
        rng = np.random.default_rng(1)
        row = rng.integers(0, 256, (1, 6300, 3), dtype=np.uint8)
        rgb = np.repeat(row, 6300, axis=0)
        cases = {"rgb.png": ("RGB", rgb), "rgba.png": ("RGBA", np.dstack([rgb, np.full((6300, 6300), 200, np.uint8)])),
                 "rgb.jpg": ("RGB", rgb)}
        for name, (mode, a) in cases.items():
            p = Path(d) / name
            Image.fromarray(a, mode).save(p, **({"quality": 85} if name.endswith(".jpg") else {"compress_level": 1}))
            out = subprocess.run([sys.executable, "-c", MEM, str(p), str(ROOT)], capture_output=True, text=True,
                                 timeout=300)
            print(f"  {name}: {out.stdout.strip() or out.stderr.strip()[-200:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
