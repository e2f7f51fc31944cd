"""Measure a child process and everything it starts (worker processes, the fork server, Tesseract): wall time, CPU
time of the whole tree, and peak memory summed over the tree. Linux only (/proc). Used by scripts/benchmark.py.

CPU: this process becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so processes orphaned by the child
(e.g. multiprocessing's fork server, which outlives its parent by a moment) are re-parented here and reaped; the
tree's CPU is then the growth of getrusage(RUSAGE_CHILDREN) (every reaped descendant's time is folded into its
reaper's children time, up to here).

Memory: a thread samples /proc every `interval` seconds: RSS (statm) and PSS (smaps_rollup: shared pages divided
between the processes sharing them) of every descendant, summed; the peaks are kept. Short-lived processes
(a Tesseract run) are seen only if they live across a sample.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                s = f.read()
        except OSError:
            continue
        try:
            ppid = int(s[s.rindex(b")") + 2:].split()[1])
        except (ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(root: int) -> list[int]:
    kids = _children_map()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class TreeStats:
    wall_s: float = 0.0
    cpu_s: float = 0.0  # user + system of the whole tree
    peak_rss: int = 0  # summed over the tree (shared pages counted in every process)
    peak_pss: int = 0  # summed over the tree (shared pages divided)
    peak_top_rss: int = 0  # the child itself
    max_procs: int = 0
    samples: int = 0
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    extra: dict[str, Any] = field(default_factory=dict)

    def mb(self, v: int) -> float:
        return v / (1 << 20)


def _reap_all(deadline: float) -> None:
    """Reap every orphan re-parented here; kill what is still running at the deadline (only our descendants)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                for p in descendants(os.getpid()):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
                deadline = time.monotonic() + 5
            time.sleep(0.02)


def run_measured(argv: list[str], *, env: dict[str, str] | None = None, cwd: str | Path | None = None,
                 interval: float = 0.2, timeout: float = 7200.0) -> TreeStats:
    """Run argv to completion and measure it with its whole process tree."""
    become_subreaper()
    _reap_all(time.monotonic() + 5)  # nothing of an earlier run left to fold into this one's CPU
    st = TreeStats(load_before=os.getloadavg())
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    stop = threading.Event()
    me = os.getpid()

    def sample() -> None:
        while not stop.is_set():
            pids = descendants(me)
            rss = sum(_rss(p) for p in pids)
            pss = sum(_pss(p) for p in pids)
            st.peak_rss = max(st.peak_rss, rss)
            st.peak_pss = max(st.peak_pss, pss)
            st.max_procs = max(st.max_procs, len(pids))
            if proc is not None:
                st.peak_top_rss = max(st.peak_top_rss, _rss(proc.pid))
            st.samples += 1
            stop.wait(interval)

    proc: subprocess.Popen[str] | None = None
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        st.stdout, st.stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        st.stdout, st.stderr = proc.communicate()
    st.wall_s = time.perf_counter() - t0
    st.returncode = proc.returncode
    _reap_all(time.monotonic() + 60)
    stop.set()
    th.join()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    st.cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    st.load_after = os.getloadavg()
    return st


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under path."""
    total = n = 0
    if path.is_file():
        return path.stat().st_size, 1
    for p in path.rglob("*"):
        if p.is_file():
            total += p.stat().st_size
            n += 1
    return total, n
