#!/usr/bin/env python3
"""Write the issue-13 measurement regression images to tests/corpora/issue13-symbols/ (run by hand, never by tests).

Each image is a segno rendering with a known geometry, written with a `<image>.json` sidecar holding that truth:

- v21h-2px-margin16.png: the issue's first defect exactly: a version-21, ECC H symbol with 2-pixel modules and a
  16-pixel (8-module) margin in a 234-pixel image. Before the fix the grid read took it for 21 modules of 9.6 px
  with a 2-module quiet zone and called itself confident. (The payload is the one that reproduced it.)
- qz-3.82-crisp.png: 11-px modules and a 42-px light margin (3.818 modules) inside a dark frame: the quiet zone
  that was rounded up to 4 and passed a minimum of 4.
- qz-3.82-halfscale.png: the same image scaled by 0.5 with area averaging: 5.5-px modules, a 21-px margin.
- qz-4-nearest.png: a 4-module quiet zone drawn at 5.35 px per module with nearest-neighbour scaling, as an app
  drawing its code at a fractional size does: the margin is 21 whole pixels (3.92 modules) on every side, less
  than half a pixel short of 4 modules.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import segno
from PIL import Image

OUT = Path(__file__).resolve().parents[1] / "tests" / "corpora" / "issue13-symbols"
V21_TEXT = ('raduh1ehuw pt0ay6h46ih1rqduc7oxx467hoqolx58z2wmqizewx8084cq9d4li55pcwtn7ijqtb6ch3rsvfup5mbjq87y0lohr'
            'yhsbqikp0ux5hjtwcr9i7b085m0kk7shu116y0xa9bnyiapqqjr6z2lb75yzkh7s 459d85xp7s d3p7kbf3280bva1432kcx1co'
            't3f4pum6zh5r8re88k7a04adbp0dgu2xru')


def matrix(q: segno.QRCode) -> np.ndarray:
    return np.array([list(r) for r in q.matrix], dtype=bool)


def truth(q: segno.QRCode, text: str, **kw) -> dict:
    return {"generator": f"segno {segno.__version__}", "text": text, "version": int(q.version),
            "ecc": q.error.upper(), "mask": int(q.mask), "modules": int(matrix(q).shape[0]), **kw}


def write(name: str, img: np.ndarray, meta: dict) -> None:
    Image.fromarray(img).save(OUT / name, optimize=True)
    (OUT / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    q = segno.make_qr(V21_TEXT, error="h", version=21, boost_error=False)
    m = matrix(q)
    img = np.pad(np.where(np.kron(m, np.ones((2, 2), bool)), 0, 255).astype(np.uint8), 16, constant_values=255)
    assert img.shape == (234, 234)
    write("v21h-2px-margin16.png", img, truth(q, V21_TEXT, module_px=2.0, quiet_zone_modules=8.0,
                                                   quiet_zone_clipped=True, image_px=[234, 234]))

    text = "QUIET ZONE 3.82 MODULES"
    q = segno.make_qr(text, error="m", version=2, boost_error=False)
    m = matrix(q)
    sym = np.where(np.kron(m, np.ones((11, 11), bool)), 20, 250).astype(np.uint8)
    img = np.pad(np.pad(sym, 42, constant_values=250), 44, constant_values=40)
    write("qz-3.82-crisp.png", img, truth(q, text, module_px=11.0, quiet_zone_px=42.0,
                                          quiet_zone_modules=round(42 / 11, 4)))
    half = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    write("qz-3.82-halfscale.png", half, truth(q, text, module_px=5.5, quiet_zone_px=21.0,
                                               quiet_zone_modules=round(21 / 5.5, 4)))

    text = "QUIET ZONE 4 MODULES, NEAREST"
    q = segno.make_qr(text, error="q", version=3, boost_error=False)
    m = matrix(q)
    full = np.pad(m, 4, constant_values=False)  # symbol + 4-module quiet zone, one pixel per module
    size = int(round(full.shape[0] * 5.35))
    up = np.asarray(Image.fromarray(np.where(full, 0, 255).astype(np.uint8)).resize((size, size), Image.NEAREST))
    img = np.pad(up, 40, constant_values=30)
    dark = np.where(img[40 + size // 2] < 128)[0]
    qz_px = int(dark[dark > 40].min() - 40)  # light pixels before the first dark module on the centre row
    write("qz-4-nearest.png", img, truth(q, text, module_px=round(size / full.shape[0], 4), quiet_zone_px=qz_px,
                                         quiet_zone_drawn_modules=4))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
