"""Child processes the suite starts (Chromium printing a PDF, the Allure CLI): each runs in its own process group so
that a deadline ends it and everything it started, written once."""
from __future__ import annotations

import os
import signal
import subprocess


def kill_group(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """End the child (started with start_new_session=True) and whatever it started: its whole process group. Safe
    to call when the child has already ended (a browser it left behind would still be in the group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=10)
