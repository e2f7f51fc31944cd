"""A worker that dies or hangs costs only its own evidence file (conformance/engine/run.py): that file's items are
evidence errors naming what happened, every other item is judged exactly as in a clean run, and the run ends."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from conformance.engine.plan import Plan
from conformance.engine.run import analyse_items, run_plan
from tests.support.faults import faulty_work

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "fixtures" / "candidates" / "example"


def _package(tmp_path: Path, renames: dict[int, str]) -> Path:
    """The example package with some evidence files renamed (the fault markers are in the names)."""
    pkg = tmp_path / "pkg"
    shutil.copytree(EXAMPLE, pkg)
    manifest = json.loads((pkg / "candidate.json").read_text(encoding="utf-8"))
    for index, new in renames.items():
        item = manifest["evidence"][index]
        (pkg / item["file"]).rename(pkg / new)
        item["file"] = new
    (pkg / "candidate.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return pkg


def _statuses(results: dict[int, list]) -> dict[int, list[tuple[str, str]]]:
    return {i: sorted((f.requirement, f.status) for _, fs in res for f in fs) for i, res in results.items()}


@pytest.fixture
def faulty_package(tmp_path):
    manifest = json.loads((EXAMPLE / "candidate.json").read_text(encoding="utf-8"))
    shots = [i for i, e in enumerate(manifest["evidence"]) if e.get("kind", "screenshot") == "screenshot"]
    assert len(shots) >= 4, "the example needs four screenshots for this test"
    killed, hung = shots[0], shots[1]
    pkg = _package(tmp_path, {killed: "KILLme.png", hung: "HANGme.png"})
    return pkg, killed, hung


def test_a_dead_or_hung_worker_costs_only_its_own_file(faulty_package, tmp_path):
    pkg, killed, hung = faulty_package
    profile = json.loads(json.dumps(Plan.make(pkg).profile, default=str))
    profile = {k: v for k, v in profile.items() if not k.startswith("_")}
    profile["limits"]["max_file_analysis_seconds"] = 4
    plan = Plan.make(pkg, profile=profile)
    clean = _statuses(analyse_items(plan, 1))  # in this process, no faults
    t0 = time.monotonic()
    got = analyse_items(plan, 2, work=faulty_work)
    elapsed = time.monotonic() - t0
    assert elapsed < 60  # hang bound: the hung worker was stopped at its deadline, not waited for
    assert sorted(got) == sorted(clean)
    for i, res in got.items():
        view = res[0][0]
        en, vi = view.error or ("", "")
        if i == killed:
            assert "stopped its worker process" in en and "tiến trình xử lý dừng đột ngột" in vi
        elif i == hung:
            assert "did not end within 4 s" in en and "limits.max_file_analysis_seconds" in en
            assert "không xong trong 4 giây" in vi
        else:
            assert view.error is None
            assert _statuses({i: res}) == {i: clean[i]}, f"item {i} judged differently after a fault elsewhere"
        if i in (killed, hung):
            statuses = {f.status for _, fs in res for f in fs}
            assert statuses == {"error"}, "a file the suite could not analyse is an error, never a verdict"


def test_the_assessment_goes_on_and_is_incomplete_not_non_conformant(faulty_package):
    pkg, killed, hung = faulty_package
    profile = {k: v for k, v in Plan.make(pkg).profile.items() if not k.startswith("_")}
    profile["limits"] = {**profile["limits"], "max_file_analysis_seconds": 4}
    plan = Plan.make(pkg, profile=profile)
    assert run_plan(plan, workers=2, cache=False).to_dict()["verdict"] == "conformant"  # the control
    doc = run_plan(plan, workers=2, cache=False, work=faulty_work).to_dict()
    assert doc["verdict"] == "incomplete" and doc["summary"]["must_failed"] == []
    status = {e["index"]: e["status"] for e in doc["evidence"]}
    assert status[killed] == status[hung] == "error"
    assert [i for i, s in status.items() if s == "error"] == sorted([killed, hung])


def test_the_default_worker_count_can_come_from_the_environment(monkeypatch):
    """VNQR_CONFORMANCE_WORKERS gives the worker count when none is asked for (a runner that already uses every
    core sets 1); anything that is not a whole number from 1 up is ignored, and it never exceeds the usable cores."""
    from conformance.engine.run import ENV_WORKERS, default_workers, usable_cores

    cores = usable_cores()
    monkeypatch.delenv(ENV_WORKERS, raising=False)
    assert default_workers() == cores
    for raw, want in (("1", 1), (" 1 ", 1), ("0", cores), ("-2", cores), ("two", cores), ("1.5", cores), ("²", cores), ("١", cores),
                      (str(cores + 7), cores)):
        monkeypatch.setenv(ENV_WORKERS, raw)
        assert default_workers() == want, raw


def test_a_pool_that_breaks_while_tasks_are_handed_out_is_contained(tmp_path, monkeypatch):
    """A worker can die while the parent is still handing out tasks: the pool then refuses the next one
    (BrokenProcessPool from submit). The groups already handed out are run again alone, the others go on, and the
    run ends with every item judged as in a clean run (it once waited forever on the broken pool's shutdown)."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from conformance.engine import run as R

    plan = Plan.make(_package(tmp_path, {}))
    clean = _statuses(analyse_items(plan, 1))
    real_pool, made = R._pool, []

    class BreaksOnThirdSubmit(ProcessPoolExecutor):
        calls = 0

        def submit(self, *a, **k):
            type(self).calls += 1
            if type(self).calls == 3:
                raise BrokenProcessPool("a worker died while tasks were being handed out (injected)")
            return super().submit(*a, **k)

    def pool(workers):
        made.append(workers)
        if len(made) == 1:  # the first pool breaks; the ones that rerun the suspects are real
            ctx = R.multiprocessing.get_context("forkserver")
            return BreaksOnThirdSubmit(max_workers=workers, mp_context=ctx)
        return real_pool(workers)

    monkeypatch.setattr(R, "_pool", pool)
    t0 = time.monotonic()
    got = analyse_items(plan, 2)
    assert time.monotonic() - t0 < 120  # hang bound
    assert _statuses(got) == clean
    assert len(made) >= 3 and made[1] == 1  # the two groups handed out were rerun alone, each in its own pool
