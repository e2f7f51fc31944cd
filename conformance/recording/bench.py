"""Benchmark the recording analysis on the test recordings (fixtures/recordings/): CPU seconds per recording
(this process and its children, i.e. Tesseract), frames decoded / distinct / analysed / reused, and whether the
judgements match the sidecar.

    .venv/bin/python -m conformance.recording.bench [--json FILE] [--long SECONDS] [FILES...]

--long S also builds an S-second 1080x2340 60 fps H.264 recording (rendered screens, a switch every 5 s; encoded
fast, in a temporary folder) and reports the decoding and sampling cost per frame at phone resolution.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "fixtures" / "recordings"


def check(side: dict[str, Any], judged: dict[str, Any], touches: int | None = None) -> list[str]:
    """Differences between the sidecar's expected judgements and what was judged (empty = all match);
    `touches`: the number of touch spots found, compared when given."""
    exp = side["expected"]
    bad = []
    if touches is not None and touches != exp.get("touches", 0):
        bad.append(f"{touches} touches != {exp.get('touches', 0)}")
    fm = judged["first_mode"]
    if fm["mode"] != exp["first_code_mode"]:
        bad.append(f"first mode {fm['mode']} != {exp['first_code_mode']}")
    if exp.get("first_code_frame") is not None and fm["frame"] != exp["first_code_frame"]:
        bad.append(f"first code frame {fm['frame']} != {exp['first_code_frame']}")
    tg = judged["toggle"]
    if tg["modes_seen"] != exp["modes"]:
        bad.append(f"modes {tg['modes_seen']} != {exp['modes']}")
    if len(tg["changes"]) != len(exp["changes"]):
        bad.append(f"{len(tg['changes'])} changes != {len(exp['changes'])}")
    for got, want in zip(tg["changes"], exp["changes"]):
        for k in ("from", "to", "basis"):
            if got[k] != want[k]:
                bad.append(f"change {k} {got[k]} != {want[k]}")
        if want.get("seconds") is not None and abs(got["seconds"] - want["seconds"]) > want["tolerance"] + 1e-6:
            bad.append(f"change seconds {got['seconds']} != {want['seconds']} ± {want['tolerance']}")
    counts = {m: v["count"] for m, v in judged["payloads"]["modes"].items() if m in exp["payloads_per_mode"]}
    if counts != exp["payloads_per_mode"]:
        bad.append(f"payloads per mode {counts} != {exp['payloads_per_mode']}")
    if exp.get("same_payload_both_modes") is not None and \
            judged["payloads"]["same_payload_both_modes"] != exp["same_payload_both_modes"]:
        bad.append("same payload in both modes differs")
    return bad


def main(argv: list[str] | None = None) -> int:
    from conformance.recording import analyse_recording, judge_all

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--json")
    ap.add_argument("--long", type=float, default=0.0)
    a = ap.parse_args(argv)
    files = [Path(f) for f in a.files] or sorted(p for p in RECORDINGS.iterdir()
                                                  if p.suffix in (".mp4", ".webm", ".mov"))
    rows = []
    print(f"{'recording':28s} {'codec':6s} {'size':>9s} {'decoded':>7s} {'distinct':>8s} {'analysed':>8s} "
          f"{'reused':>6s} {'cpu s':>6s} {'decode':>6s} {'match':>5s}")
    for f in files:
        side = json.loads(Path(str(f) + ".expected.json").read_text(encoding="utf-8"))
        tl = analyse_recording(f, side["subject"])
        judged = judge_all(tl, side.get("tap_at_seconds"))
        bad = check(side, judged, len(tl.touches)) if tl.ok else [tl.error or "error"]
        row = {"file": f.name, "codec": tl.codec, "size": f"{tl.width}x{tl.height}", "decoded": tl.frames_decoded,
               "distinct": len(tl.frames), "analysed": tl.analysed, "reused": tl.reused,
               "cpu_s": round(tl.cpu_seconds.get("total", 0.0), 2),
               "decode_cpu_s": round(tl.cpu_seconds.get("decode_sample", 0.0), 2), "mismatches": bad}
        rows.append(row)
        print(f"{f.name:28s} {str(tl.codec):6s} {row['size']:>9s} {row['decoded']:7d} {row['distinct']:8d} "
              f"{row['analysed']:8d} {row['reused']:6d} {row['cpu_s']:6.2f} {row['decode_cpu_s']:6.2f} "
              f"{'yes' if not bad else 'NO':>5s}")
        for b in bad:
            print(f"    {b}")
    total = sum(r["cpu_s"] for r in rows)
    print(f"total CPU {total:.1f} s for {len(rows)} recordings ({total / max(1, len(rows)):.1f} s each; "
          f"{total / 2:.1f} s on 2 cores if run in parallel)")
    long_row = _long(a.long) if a.long > 0 else None
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": rows, "total_cpu_s": total, "long": long_row}, indent=1),
                                encoding="utf-8")
    return 0 if all(not r["mismatches"] for r in rows) else 1


def _long(seconds: float) -> dict[str, Any]:
    import tempfile

    import numpy as np

    from conformance.payload.record import build_payload
    from conformance.recording import analyse_recording, judge_toggle
    from fixtures.recordings.generate import _subject, encode
    from fixtures.synth.screens import ScreenStyle, render_screen

    rec = _subject(3)
    style = ScreenStyle(width=1080, height=2340, dpr=2.625)
    shots = [np.asarray(render_screen(rec, build_payload(rec), mode=m, style=style)) for m in ("default", "full")]
    fps = 60
    n = int(seconds * fps)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "long.mp4"
        frames = ((shots[int(i / fps // 5) % 2], i / fps) for i in range(n))
        encode(path, frames, codec="libx264", size=(1080, 2340), fps=fps, crf=30, gop=250)
        tl = analyse_recording(path, rec)
    dec = tl.cpu_seconds.get("decode_sample", 0.0)
    row = {"seconds": seconds, "decoded": tl.frames_decoded, "distinct": len(tl.frames), "analysed": tl.analysed,
           "reused": tl.reused, "cpu_s": round(tl.cpu_seconds.get("total", 0.0), 2), "decode_cpu_s": round(dec, 2),
           "decode_ms_per_frame": round(1000 * dec / max(1, tl.frames_decoded), 2),
           "changes": len(judge_toggle(tl)["changes"]), "error": tl.error}
    print(f"long {seconds:g} s 1080x2340 @60 fps: {row['decoded']} frames decoded, {row['distinct']} distinct, "
          f"{row['analysed']} analysed, {row['reused']} reused, {row['changes']} changes; CPU {row['cpu_s']} s "
          f"(decode+sample {row['decode_cpu_s']} s = {row['decode_ms_per_frame']} ms/frame)")
    return row


if __name__ == "__main__":
    sys.exit(main())
