"""Faults injected into the engine's worker processes (tests/test_engine_faults.py): a group of items whose file name
holds "KILL" ends its worker process at once (as the kernel's out-of-memory killer would), one holding "HANG" never
returns; every other group is analysed for real. Module level, so that the pool's workers can import it."""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from conformance.engine.run import analyse_and_check


def faulty_work(tasks: Sequence[Any], names: Sequence[str]) -> list[Any]:
    marker = os.environ.get("VNQR_TEST_FAULT_MARK", "")
    kill, hang = f"KILL{marker}", f"HANG{marker}"
    file = tasks[0].item.file
    if kill in file:
        os._exit(137)
    if hang in file:
        time.sleep(3600)
    return analyse_and_check(tasks, names)
