"""Evidence packages for the benchmark (scripts/benchmark.py): N fictitious subjects (fixtures/synth/people.py), each
with a default-mode and a full-mode 1080x2340 PNG screenshot rendered by fixtures/synth/screens.py in varied
layouts, themes and fonts. Conformant by construction (the same styles as the `example` fixture candidate).

    make_package(folder, subjects=30)                 # 60 distinct screenshots
    make_package(folder, subjects=2500, distinct=500) # 5,000 items naming 1,000 distinct files (repeated)

Packages are written once and reused (a `.complete` marker holds the parameters): rendering is not what is measured.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = 2021
WIDTH, HEIGHT, DPR, PPI = 1080, 2340, 2.625, 409
LAYOUTS = ("card_top", "text_above", "card_top", "green_card")
FONTS = ("noto", "dejavu", "liberation", "dejavu_condensed")


def _style(i: int, mode: str) -> Any:
    from fixtures.synth.screens import ScreenStyle

    layout = LAYOUTS[(2 * i + (mode == "full")) % len(LAYOUTS)]
    theme = "dark" if (i + (mode == "full")) % 3 == 2 else "light"
    return ScreenStyle(width=WIDTH, height=HEIGHT, dpr=DPR, qr_ecc="MQH"[i % 3], extra_qr=False, layout=layout,
                       theme=theme, font=FONTS[i % len(FONTS)], date_style="iso" if i % 4 == 3 else "dmy_slash")


def _render(job: tuple[dict[str, Any], int, str, str]) -> str:
    from conformance.payload.record import build_payload
    from fixtures.synth.screens import render_screen

    person, i, mode, path = job
    payload = build_payload(person, masked=(mode == "default" and i % 2 == 1))
    img = render_screen(person, payload, mode=mode, style=_style(i, mode))
    img.save(path, "PNG", compress_level=6)
    return path


def make_package(folder: Path, subjects: int, distinct: int | None = None, workers: int = 2) -> Path:
    """A package of `subjects` x 2 screenshot items. With `distinct` < subjects, only the first `distinct`
    subjects get their own screenshots; item k of a later subject names the files of subject k % distinct (its
    subject's record still differs, so GEN-002 would fail: such a package is for cost and size only, and its
    subjects are the distinct ones repeated under new ids with the same record)."""
    from fixtures.synth.people import make_people

    distinct = subjects if distinct is None else min(distinct, subjects)
    params = {"subjects": subjects, "distinct": distinct, "seed": SEED, "size": [WIDTH, HEIGHT], "v": 2}
    marker = folder / ".complete"
    if marker.exists() and json.loads(marker.read_text()) == params:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "screens").mkdir(parents=True)
    people = make_people(SEED, distinct)
    jobs = [(p, i, mode, str(folder / "screens" / f"{p['id']}-{mode}.png"))
            for i, p in enumerate(people) for mode in ("default", "full")]
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(_render, jobs, chunksize=8))
    subj, evidence = [], []
    for k in range(subjects):
        base = people[k % distinct]
        rec = dict(base, id=f"s{k + 1}")
        subj.append(rec)
        for mode in ("default", "full"):
            evidence.append({"file": f"screens/{base['id']}-{mode}.png", "subject": rec["id"], "mode": mode,
                             "kind": "screenshot"})
    manifest = {"spec_version": "1.1",
                "candidate": {"name": f"benchmark-{subjects}x2", "vendor": "Benchmark (fictitious)",
                              "version": "1.0.0", "platform": "android"},
                "device": {"model": "Example Phone FHD+ 6.4in", "ppi": PPI, "dpr": DPR, "width_px": WIDTH,
                           "height_px": HEIGHT},
                "subjects": subj, "evidence": evidence}
    (folder / "candidate.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    marker.write_text(json.dumps(params))
    return folder


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="write a benchmark package")
    ap.add_argument("folder", type=Path)
    ap.add_argument("--subjects", type=int, default=30)
    ap.add_argument("--distinct", type=int)
    a = ap.parse_args()
    print(make_package(a.folder, a.subjects, a.distinct, workers=len(os.sched_getaffinity(0))))
