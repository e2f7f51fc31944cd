"""`python -m conformance.refapp --port 0 [--host 127.0.0.1] [--token T] [--defect NAME ...] [--mask-payload]`

Prints `REFAPP_URL=http://<host>:<port>` once listening, then serves (threaded) until killed.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from werkzeug.serving import make_server

from .app import DEFAULT_TOKEN, DEFECTS, RefAppConfig, create_app
from .subjects import load_records

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.refapp",
                                 description="Reference candidate app for live assessment (fictitious subjects).")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default 0)")
    ap.add_argument("--token", default=os.environ.get("REFAPP_TOKEN", DEFAULT_TOKEN),
                    help=f"bearer token (default $REFAPP_TOKEN or {DEFAULT_TOKEN!r})")
    ap.add_argument("--defect", action="append", default=[], metavar="NAME",
                    help="inject a defect (repeatable, or comma-separated): " + ", ".join(DEFECTS))
    ap.add_argument("--mask-payload", action="store_true",
                    help="encode the masked payload in default mode (default: the full payload)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    a = ap.parse_args(argv)

    if a.host not in LOOPBACK:
        print(f"refusing to bind {a.host!r}: the reference app listens on loopback only "
              f"/ chỉ được lắng nghe trên địa chỉ loopback", file=sys.stderr)
        return 2
    defects = [d.strip() for item in a.defect for d in item.split(",") if d.strip()]
    try:
        cfg = RefAppConfig(token=a.token, defects=frozenset(defects), mask_payload=a.mask_payload,
                           records=load_records())
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not a.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(a.host, a.port, create_app(cfg), threaded=True)
    host = f"[{a.host}]" if ":" in a.host else a.host
    print(f"REFAPP_URL=http://{host}:{server.server_port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
