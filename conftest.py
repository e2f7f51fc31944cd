# Root conftest: registers the conformance pytest plugin (options --candidate, --profile, --out, --show-pii, ...).
import os
import shutil
import tempfile

from hypothesis import settings

pytest_plugins = ["conformance.plugin"]

# CI runs the property tests with a fixed derivation of examples (reproducible landings); local runs explore.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# One analysis cache (conformance/engine/cache.py) for the whole test session, shared by pytest-xdist workers
# (they inherit the environment of the controller, which creates it) and by the CLI subprocesses tests start: a
# fixture screenshot is decoded and read once per session, not once per test. It starts empty (results never
# depend on it; tests/test_cache.py proves that) and is removed at the end. A VNQR_CONFORMANCE_CACHE_DIR set by
# the caller is used as it is (kept across sessions).
_SESSION_CACHE = None


def pytest_configure(config):
    global _SESSION_CACHE
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # pytest-xdist already keeps every core busy: an assessment without --workers runs in the test's process
        # instead of starting a pool of its own (tests of the pool give their worker count)
        os.environ.setdefault("VNQR_CONFORMANCE_WORKERS", "1")
        return
    if os.environ.get("VNQR_CONFORMANCE_CACHE_DIR"):
        return
    _SESSION_CACHE = tempfile.mkdtemp(prefix="vnqr-test-cache-")
    os.environ["VNQR_CONFORMANCE_CACHE_DIR"] = _SESSION_CACHE


def pytest_unconfigure(config):
    if _SESSION_CACHE is not None and not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)
        os.environ.pop("VNQR_CONFORMANCE_CACHE_DIR", None)


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per usable core, plus one. Many tests wait rather than compute (hostile live servers held
    to their deadlines, Chromium, subprocesses), so one more worker keeps the cores busy while they wait."""
    return len(os.sched_getaffinity(0)) + 1
