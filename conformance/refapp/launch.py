"""Start the reference candidate as a real subprocess on loopback (port 0) and stop it again.

Used by `python -m conformance demo-live` and by the live self-tests.
"""
from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


class RefAppProcess:
    def __init__(self, defects: list[str] | tuple[str, ...] = (), token: str | None = None, *,
                 mask_payload: bool = False, extra_args: list[str] | tuple[str, ...] = (),
                 start_timeout_s: float = 20.0):
        self.token = token or "demo-" + os.urandom(6).hex()
        args = [sys.executable, "-m", "conformance.refapp", "--port", "0", "--host", "127.0.0.1", "--token", self.token]
        for d in defects:
            args += ["--defect", d]
        if mask_payload:
            args.append("--mask-payload")
        args += list(extra_args)
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env=env)
        self.url: str | None = None
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline and self.url is None:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                m = re.fullmatch(r"REFAPP_URL=(http://127\.0\.0\.1:\d+)\s*", self.proc.stdout.readline())
                if m:
                    self.url = m.group(1)
            elif self.proc.poll() is not None:
                break
        if self.url is None:
            self.stop()
            raise RuntimeError("the reference app did not start (python -m conformance.refapp)")

    def records(self) -> list[dict]:
        """The test accounts' registered records (an endpoint only the reference app has)."""
        r = requests.get(self.url + "/assessment/v1/records", headers={"Authorization": f"Bearer {self.token}"},
                         timeout=5)
        recs = r.json()["records"]
        return recs if isinstance(recs, list) else [{"id": k, **v} for k, v in recs.items()]

    def live_config(self, adapter: str = "browser", subjects: tuple[str, ...] = ("s1", "s2")) -> dict:
        """A candidate.json with a `live` section for this running instance."""
        return {"spec_version": "1.1",
                "candidate": {"name": "reference-app", "vendor": "vn-qr-conformance", "version": "1",
                              "platform": "web"},
                "subjects": self.records(), "evidence": [],
                "live": {"adapter": adapter, "base_url": self.url, "token": self.token, "subjects": list(subjects),
                         "page": "/app/{subject}", "toggle": {"selector": "#toggle"},
                         "fields": {"so_giay_to": "#doc", "ngay_sinh": "#dob", "ho_ten": "#name"},
                         "viewport": {"width": 412, "height": 915, "device_scale_factor": 2.625, "ppi": 420},
                         "allowed_hosts": ["127.0.0.1"], "timeouts": {"request_s": 10, "toggle_s": 4}}}

    def signal_stop(self) -> None:
        """Ask the app to stop without waiting (stop several in parallel, then stop() each)."""
        if self.proc.poll() is None:
            self.proc.terminate()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self) -> RefAppProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
