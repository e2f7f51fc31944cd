#!/usr/bin/env python3
"""Live capture against hostile candidates: how long each case takes to end against its deadline, and what the
personal-data scan of a large body costs (not a timed test; the bounds are asserted in tests/test_hostile_live.py).

    .venv/bin/python scripts/bench_live.py [--deadline 2.0] [--mb 20]

Wall time is printed for the deadline cases (that is what a deadline bounds); CPU time for the scan.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.capture.http_api import CaptureLog, HttpClient  # noqa: E402
from conformance.capture.netguard import find_pii, pii_values  # noqa: E402
from tests import test_hostile_live as H  # noqa: E402


def deadlines(deadline_s: float) -> None:
    cases = {"silent": H.h_silent, "headers 1 byte/s": H.h_head_dribble, "body 1 byte/s": H.h_body_dribble,
             "endless stream ~6 MB/s": H.h_endless_paced, "endless stream (20 MB cap)": H.h_endless_fast,
             "Content-Length 2 GB": H.h_huge_length, "redirect loop": H.h_redirect_loop,
             "redirect to 169.254.169.254": H.h_redirect_metadata, "not HTTP": H.h_garbage}
    print(f"{'case':<30} {'ended after':>12} {'deadline':>9}  outcome")
    for name, handler in cases.items():
        srv = H.RawServer(handler)
        try:
            cap = 20_000_000 if "cap" in name or "2 GB" in name else 1_000_000_000
            client = HttpClient(srv.url, H.TOKEN, ["127.0.0.1"], CaptureLog("http", srv.url, []), timeout_s=deadline_s,
                                max_bytes=cap)
            t0 = time.monotonic()
            ex = client.request("GET", "/assessment/v1/subjects/s1/display", purpose="display", expect="json")
            took = time.monotonic() - t0
        finally:
            srv.stop()
        print(f"{name:<30} {took:>10.2f} s {deadline_s:>7.1f} s  {ex.error_kind} ({len(ex.body)} bytes kept)")


def scan(mb: int) -> None:
    subject = H.SUBJECT
    values = pii_values([subject])
    body = ("079201004512 " + "Lorem ipsum dolor sit amet, Trần Thị bích ngọc 0912345 %41 " * (mb * 20_000))
    data = body.encode()[: mb * 1_000_000]
    log = CaptureLog("http", "", values)
    from conformance.capture.http_api import Exchange

    ex = Exchange("GET", "http://127.0.0.1/x", status=200, headers={"content-type": "text/plain"}, body=data)
    t = time.process_time()
    log.exchange_entry(ex, "display", "s1", [])
    capped = time.process_time() - t
    text = data.decode("utf-8", errors="replace")
    t = time.process_time()
    find_pii(text, values)
    whole = time.process_time() - t
    e = log.doc["exchanges"][0]
    print(f"PII scan of a {len(data) / 1e6:.0f} MB text body: {capped:.3f} s CPU as logged (scanned "
          f"{e['scanned_bytes']} bytes, truncated={e['scan_truncated']}); find_pii over the whole body "
          f"{whole:.2f} s CPU ({whole / (len(data) / 1e6) * 1000:.0f} ms/MB)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deadline", type=float, default=2.0)
    ap.add_argument("--mb", type=int, default=20)
    ns = ap.parse_args()
    deadlines(ns.deadline)
    scan(ns.mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
