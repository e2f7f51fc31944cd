#!/usr/bin/env python3
"""Speed, memory and output size of a whole assessment (issue 10), and accuracy before/after. Not a timed test.

Cases (--cases, comma-separated; default r,100,1000,stages,accuracy):

  r         R = wall time of `vnqr-conformance assess` on a 60-screenshot package (30 fictitious subjects x 2
            modes, 1080x2340 PNG, --no-cache, default reports, default worker count) / wall time of a bare
            process that loads the same files with OpenCV and decodes them with zxing-cpp, both run here one after
            the other (--repeat alternating rounds, the best of each). Parts: interpreter and imports, analysis
            (run_plan: worker start, every item, subject and package checks), reports (write_reports and the
            document the CLI prints from), the rest (package loading, summary).
  100, 1000, 5000
            the same CLI on 50 / 500 / 2,500 subjects x 2 modes. 100 and 1,000 have a distinct screenshot per item;
            5,000 repeats the 1,000 screenshots of 500 subjects five times under new subject ids (items naming one
            file are analysed once: it measures the per-item cost of everything but the image analysis), unless
            --distinct-5000. Wall time, CPU time of the whole process tree, peak RSS and PSS summed over the
            process tree (workers, fork server, Tesseract), output sizes.
  warm      the 1,000 case again with a warm analysis cache (the vendor's re-run of unchanged screenshots).
  devices   each photo and recording fixture package (fixtures/candidates/photo-*, recording-*) through the whole
            command: wall and CPU time.
  stages    CPU per screenshot by stage on the 60 files, in one process: load + symbol analysis, screen OCR
            (Python side, and Tesseract's own processes), SYMBOL-008 sweep, the rest.
  accuracy  every fixture candidate's statuses against its expected.json, and the screen-text corpora's
            pass/fail/review counts (python -m conformance.ocr.bench), for this tree and for --baseline.
  per-image the symbol layer per image against a bare PIL/OpenCV load + zxing-cpp decode (the old benchmark).

Packages are generated once into --work (default /tmp/vnqr-bench) by scripts/benchpkg.py and reused. The machine
is shared: every figure is printed with the 1-minute load average before and after it; CPU figures hold under
load where wall times do not.

    .venv/bin/python scripts/benchmark.py [--cases ...] [--workers N] [--baseline REV] [--tree DIR] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from benchpkg import make_package  # noqa: E402
from benchtree import TreeStats, folder_size, run_measured  # noqa: E402

PY = sys.executable
TODAY = "2024-06-01"
SCALE = {"100": (50, None), "1000": (500, None), "5000": (2500, 500)}


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def loads(st: TreeStats) -> str:
    return f"load {st.load_before[0]:.1f}->{st.load_after[0]:.1f}"


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    return {"cpu": cpu, "usable_cores": len(os.sched_getaffinity(0)), "memory_gb": round(mem, 1),
            "python": platform.python_version(), "platform": platform.platform()}


# ------------------------------------------------------------------------------------------------ children
CHILD_ASSESS = r"""
import json, sys, time
T0 = time.perf_counter()
tree, pkg, out, workers, cache = sys.argv[1:6]
sys.path.insert(0, tree)
import conformance.cli as cli, conformance.engine as E
assert cli.__file__.startswith(tree), cli.__file__
t_import = time.perf_counter() - T0
mark = {}
run_plan = E.run_plan
def timed(*a, **k):
    t, c = time.perf_counter(), time.process_time()
    try:
        return run_plan(*a, **k)
    finally:
        mark["analysis"] = (time.perf_counter() - t, time.process_time() - c)
        mark["after_analysis"] = (time.perf_counter(), time.process_time())
E.run_plan = timed
argv = ["assess", pkg, "--out", out, "--quiet", "--today", "TODAY"]
if workers != "default":
    argv += ["--workers", workers]
import inspect
if cache == "off" and "--no-cache" in inspect.getsource(cli):
    argv += ["--no-cache"]
rc = cli.main(argv)
end = (time.perf_counter(), time.process_time())
if "after_analysis" not in mark:  # the command stopped before the analysis (its exit code says why)
    print(json.dumps({"rc": rc, "import_s": t_import, "total_s": time.perf_counter() - T0, "phases": {}}))
    raise SystemExit(0)
a0 = mark["after_analysis"]
# reports: from the end of run_plan to the end of the command (results document, masking, every report file)
phases = {"analysis": {"wall_s": mark["analysis"][0], "parent_cpu_s": mark["analysis"][1]},
          "reports": {"wall_s": end[0] - a0[0], "parent_cpu_s": end[1] - a0[1]}}
print(json.dumps({"rc": rc, "import_s": t_import, "total_s": time.perf_counter() - T0, "phases": phases}))
""".replace("TODAY", TODAY)

CHILD_BARE = r"""
import sys, time, json
T0 = time.perf_counter()
import cv2, zxingcpp
files = sys.argv[1:]
n = 0
for p in files:
    img = cv2.imread(p, cv2.IMREAD_GRAYSCALE)
    n += len(zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain))
print(json.dumps({"decoded": n, "files": len(files), "total_s": time.perf_counter() - T0}))
"""


def _last_json(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON result in the child's output:\n{text[-2000:]}")


def run_assess(tree: Path, pkg: Path, out: Path, *, workers: str = "default", cache: str = "off",
               cache_dir: Path | None = None) -> tuple[TreeStats, dict[str, Any]]:
    if out.exists():
        shutil.rmtree(out)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if cache_dir is not None:
        env["VNQR_CONFORMANCE_CACHE_DIR"] = str(cache_dir)
    st = run_measured([PY, "-c", CHILD_ASSESS, str(tree), str(pkg), str(out), workers, cache], env=env, cwd=tree)
    if st.returncode != 0:
        raise RuntimeError(f"assess child failed ({st.returncode}): {st.stderr[-3000:]}")
    info = _last_json(st.stdout)
    return st, info


def run_bare(files: list[Path]) -> tuple[TreeStats, dict[str, Any]]:
    st = run_measured([PY, "-c", CHILD_BARE, *map(str, files)])
    if st.returncode != 0:
        raise RuntimeError(f"bare child failed: {st.stderr[-2000:]}")
    return st, _last_json(st.stdout)


def output_sizes(out: Path) -> dict[str, Any]:
    sizes = {}
    for name in ("results.json", "report.html", "junit.xml", "allure-results", "items"):
        p = out / name
        if p.exists():
            b, n = folder_size(p)
            sizes[name] = {"bytes": b, "files": n}
    return sizes


def fmt_sizes(s: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v['bytes'] / 1e6:.2f} MB" + (f" ({v['files']} files)" if v["files"] > 1 else "")
                     for k, v in s.items())


def verdict_of(out: Path) -> str:
    try:
        return json.loads((out / "results.json").read_text(encoding="utf-8"))["verdict"]
    except (OSError, ValueError, KeyError):
        return "?"


# ------------------------------------------------------------------------------------------------ cases
def case_r(a: argparse.Namespace, tree: Path, report: dict[str, Any]) -> None:
    pkg = make_package(a.work / f"pkg-{a.r_subjects}x2", a.r_subjects)
    files = sorted((pkg / "screens").glob("*.png"))
    best_bare: TreeStats | None = None
    best: tuple[TreeStats, dict[str, Any]] | None = None
    for rnd in range(a.repeat):
        bst, binfo = run_bare(files)
        print(f"  round {rnd + 1}: bare OpenCV load + zxing-cpp, {len(files)} files: wall {bst.wall_s:.2f} s, "
              f"cpu {bst.cpu_s:.2f} s, decoded {binfo['decoded']}  ({loads(bst)})", flush=True)
        ast, ainfo = run_assess(tree, pkg, a.work / "out-r", workers=a.workers)
        print(f"  round {rnd + 1}: assess --no-cache: wall {ast.wall_s:.2f} s, cpu {ast.cpu_s:.1f} s (tree), "
              f"peak RSS {ast.mb(ast.peak_rss):.0f} MB / PSS {ast.mb(ast.peak_pss):.0f} MB  ({loads(ast)})",
              flush=True)
        if best_bare is None or bst.wall_s < best_bare.wall_s:
            best_bare = bst
        if best is None or ast.wall_s < best[0].wall_s:
            best = (ast, ainfo)
    assert best_bare is not None and best is not None
    ast, ainfo = best
    ph = ainfo["phases"]
    analysis = ph.get("analysis", {}).get("wall_s", 0.0)
    reports = ph.get("reports", {}).get("wall_s", 0.0)
    startup = ainfo["import_s"]
    rest = ast.wall_s - analysis - reports - startup
    r = ast.wall_s / best_bare.wall_s
    sizes = output_sizes(a.work / "out-r")
    print(f"R = {ast.wall_s:.2f} s / {best_bare.wall_s:.2f} s = {r:.1f}  (target <= 3; best of {a.repeat})")
    print(f"  parts: interpreter+imports {startup:.2f} s, analysis {analysis:.2f} s, reports {reports:.2f} s, "
          f"rest {rest:.2f} s; tree CPU {ast.cpu_s:.1f} s = {1000 * ast.cpu_s / len(files):.0f} ms per screenshot; "
          f"bare CPU {best_bare.cpu_s:.2f} s; verdict {verdict_of(a.work / 'out-r')}")
    print(f"  outputs: {fmt_sizes(sizes)}")
    report["r"] = {"R": r, "assess_wall_s": ast.wall_s, "bare_wall_s": best_bare.wall_s, "assess_cpu_s": ast.cpu_s,
                   "bare_cpu_s": best_bare.cpu_s, "startup_s": startup, "analysis_s": analysis,
                   "reports_s": reports, "rest_s": rest, "peak_rss_mb": ast.mb(ast.peak_rss),
                   "peak_pss_mb": ast.mb(ast.peak_pss), "load": [ast.load_before[0], ast.load_after[0]],
                   "sizes": sizes, "verdict": verdict_of(a.work / "out-r")}


def case_scale(a: argparse.Namespace, tree: Path, report: dict[str, Any], name: str, *, cache: str = "off",
               label: str | None = None) -> None:
    subjects, distinct = SCALE[name]
    if name == "5000" and a.distinct_5000:
        distinct = None
    pkg = make_package(a.work / (f"pkg-{subjects}x2" + (f"-d{distinct}" if distinct else "")), subjects, distinct)
    items = 2 * subjects
    files = 2 * (distinct or subjects)
    out = a.work / f"out-{name}"
    cache_dir = None
    if cache == "warm":
        cache_dir = a.work / "cache-warm"
        if not (cache_dir / ".filled").exists():
            shutil.rmtree(cache_dir, ignore_errors=True)
            st0, _ = run_assess(tree, pkg, out, workers=a.workers, cache="on", cache_dir=cache_dir)
            print(f"  cold run filling the cache: wall {st0.wall_s:.1f} s, cpu {st0.cpu_s:.1f} s  ({loads(st0)})")
            (cache_dir / ".filled").write_text("1")
        cache = "on"
    st, info = run_assess(tree, pkg, out, workers=a.workers, cache=cache, cache_dir=cache_dir)
    ph = info["phases"]
    sizes = output_sizes(out)
    label = label or f"{items} items"
    rep = f" ({files} distinct files)" if files != items else ""
    print(f"{label}{rep}: wall {st.wall_s:.1f} s, tree CPU {st.cpu_s:.1f} s ({1000 * st.cpu_s / items:.0f} ms/item), "
          f"analysis {ph.get('analysis', {}).get('wall_s', 0):.1f} s, reports {ph.get('reports', {}).get('wall_s', 0):.1f}"
          f" s (parent CPU {ph.get('reports', {}).get('parent_cpu_s', 0):.1f} s); peak RSS {st.mb(st.peak_rss):.0f} MB"
          f" / PSS {st.mb(st.peak_pss):.0f} MB over <= {st.max_procs} processes, parent {st.mb(st.peak_top_rss):.0f}"
          f" MB  ({loads(st)})", flush=True)
    print(f"  outputs: {fmt_sizes(sizes)}; verdict {verdict_of(out)}", flush=True)
    report[label] = {"items": items, "distinct_files": files, "wall_s": st.wall_s, "cpu_s": st.cpu_s,
                     "phases": ph, "import_s": info["import_s"], "peak_rss_mb": st.mb(st.peak_rss),
                     "peak_pss_mb": st.mb(st.peak_pss), "peak_parent_rss_mb": st.mb(st.peak_top_rss),
                     "max_procs": st.max_procs, "load": [st.load_before[0], st.load_after[0]], "sizes": sizes,
                     "verdict": verdict_of(out)}


STAGES = r"""
import json, resource, sys, time
tree, pkg = sys.argv[1:3]
sys.path.insert(0, tree)
import conformance.ocr as O, conformance.symbol as S, conformance.payload as P
from conformance.engine.plan import Plan
from conformance.engine import run as RUN
T = {}
def cpu():
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), c.ru_utime + c.ru_stime
def wrap(mod, name, key):
    f = getattr(mod, name)
    def g(*a, **k):
        s0, c0 = cpu(); r = f(*a, **k); s1, c1 = cpu()
        t = T.setdefault(key, [0.0, 0.0]); t[0] += s1 - s0; t[1] += c1 - c0
        return r
    setattr(mod, name, g)
wrap(S, "analyse_image", "load + symbols")
wrap(S, "robustness", "SYMBOL-008 sweep")
wrap(O, "read_screen", "screen OCR")
wrap(O, "judge_display", "display judgement")
wrap(P, "validate_payload", "payload")
plan = Plan.make(pkg, today="TODAY")
names = [s.name for s in plan.specs if s.scope == "evidence"]
tasks = [[plan.task(it) for it in g] for g in plan.groups()]
s0, c0 = cpu()
for t in tasks:
    RUN.analyse_and_check(t, names)
s1, c1 = cpu()
n = len(plan.items())
print(json.dumps({"items": n, "self_ms": 1000 * (s1 - s0) / n, "children_ms": 1000 * (c1 - c0) / n,
                  "stages": {k: [1000 * a / n, 1000 * b / n] for k, (a, b) in T.items()}}))
""".replace("TODAY", TODAY)


def case_stages(a: argparse.Namespace, tree: Path, report: dict[str, Any]) -> None:
    pkg = make_package(a.work / "pkg-30x2", 30)
    env = dict(os.environ, VNQR_CONFORMANCE_CACHE="off")
    st = run_measured([PY, "-c", STAGES, str(tree), str(pkg)], env=env, cwd=tree)
    if st.returncode != 0:
        raise RuntimeError(st.stderr[-3000:])
    info = _last_json(st.stdout)
    total = info["self_ms"] + info["children_ms"]
    print(f"stages ({info['items']} screenshots, one process, CPU per screenshot; {loads(st)}): total {total:.0f} ms "
          f"= this process {info['self_ms']:.0f} ms + Tesseract processes {info['children_ms']:.0f} ms")
    for k, (own, kids) in info["stages"].items():
        print(f"  {k:20s} {own:7.1f} ms" + (f" + Tesseract {kids:6.1f} ms" if kids else "")
              + f"   ({100 * (own + kids) / total:4.1f} %)")
    report["stages"] = info


def case_devices(a: argparse.Namespace, tree: Path, report: dict[str, Any]) -> None:
    """Each photo and recording fixture package through the whole command (issue 13: at most 60 s on 2 cores)."""
    root = tree / "fixtures" / "candidates"
    for pkg in sorted(p for p in root.iterdir() if p.name.startswith(("photo-", "recording-"))
                      and (p / "candidate.json").is_file()):
        items = len(json.loads((pkg / "candidate.json").read_text(encoding="utf-8"))["evidence"])
        st, _ = run_assess(tree, pkg, a.work / f"out-{pkg.name}", workers=a.workers)
        print(f"  {pkg.name}: {items} items, wall {st.wall_s:.1f} s, tree CPU {st.cpu_s:.1f} s, verdict "
              f"{verdict_of(a.work / f'out-{pkg.name}')}  ({loads(st)})", flush=True)
        report.setdefault("devices", {})[pkg.name] = {"items": items, "wall_s": st.wall_s, "cpu_s": st.cpu_s}


# ------------------------------------------------------------------------------------------------ accuracy
ACCURACY = r"""
import json, sys
tree = sys.argv[1]
sys.path.insert(0, tree)
from pathlib import Path
from conformance.engine import assess
root = Path(tree) / "fixtures" / "candidates"
out = {}
for d in sorted(p for p in root.iterdir() if (p / "expected.json").exists()):
    exp = json.loads((d / "expected.json").read_text(encoding="utf-8"))
    kw = {"workers": 1}
    import inspect
    if "cache" in inspect.signature(assess).parameters:
        kw["cache"] = False
    doc = assess(d, today=exp.get("today"), **kw).to_dict()
    got = {r["id"]: r["status"] for r in doc["requirements"]}
    bad = {k: [v, got.get(k)] for k, v in exp["statuses"].items() if got.get(k) != v}
    evs = {e["file"]: e["status"] for e in doc["evidence"]}
    bad_ev = {k: [v, evs.get(k)] for k, v in (exp.get("evidence_status") or {}).items() if evs.get(k) != v}
    out[d.name] = {"verdict": [exp["verdict"], doc["verdict"]], "statuses": len(exp["statuses"]),
                   "mismatch": bad, "evidence_mismatch": bad_ev}
print(json.dumps(out))
"""


def baseline_tree(ref: str, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)  # no file of another revision may stay behind
    dest.mkdir(parents=True, exist_ok=True)
    tar = dest / "tree.tar"
    with tar.open("wb") as fh:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref, "conformance", "specs", "fixtures", "tests/support"],
                       check=True, stdout=fh)
    with tarfile.open(tar) as tf:
        tf.extractall(dest, filter="data")
    tar.unlink()
    return dest


def fixture_accuracy(tree: Path) -> dict[str, Any]:
    env = dict(os.environ, VNQR_CONFORMANCE_CACHE="off")
    p = subprocess.run([PY, "-c", ACCURACY, str(tree)], capture_output=True, text=True, env=env, cwd=tree,
                       timeout=7200)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-3000:])
    return _last_json(p.stdout)


def ocr_corpora(tree: Path) -> dict[str, Any]:
    env = dict(os.environ, VNQR_CONFORMANCE_CACHE="off", PYTHONPATH=str(tree))
    p = subprocess.run([PY, "-m", "conformance.ocr.bench"], capture_output=True, text=True, env=env, cwd=tree,
                       timeout=7200)
    out = p.stdout
    start = out.rfind("\n{")
    if start < 0:
        raise RuntimeError(f"conformance.ocr.bench failed ({p.returncode}): {(out + p.stderr)[-3000:]}")
    counts: dict[str, Any] = json.loads(out[start:])
    return counts


def summarise_corpora(c: dict[str, Any]) -> str:
    def g(k: str) -> Any:  # an older tree's bench may not count everything
        return c.get(k, "?")

    ocr = g("ocr_cpu_ms_mean") if "ocr_cpu_ms_mean" in c else g("tesseract_cpu_ms_mean")
    return (f"conformant screens: {g('conformant_judgements')} judgements, {g('conformant_pass')} pass, "
            f"{g('conformant_review')} review, {g('conformant_fail')} fail; defects: {g('defect_judgements')} "
            f"judgements, {g('defect_fail')} fail, {g('defect_review')} review, {g('defect_pass')} pass, "
            f"{g('defect_side_fail')} failed on the other field; OCR {ocr} ms CPU mean per screen")


def summarise_accuracy(res: dict[str, Any]) -> str:
    n = len(res)
    ok = sum(1 for v in res.values() if not v["mismatch"] and not v["evidence_mismatch"]
             and v["verdict"][0] == v["verdict"][1])
    statuses = sum(v["statuses"] for v in res.values())
    wrong = sum(len(v["mismatch"]) for v in res.values())
    lines = [f"{ok}/{n} fixture candidates exactly as expected; {statuses - wrong}/{statuses} requirement statuses"]
    for name, v in res.items():
        if v["mismatch"] or v["evidence_mismatch"] or v["verdict"][0] != v["verdict"][1]:
            lines.append(f"    {name}: verdict {v['verdict'][1]} (expected {v['verdict'][0]}) "
                         + ", ".join(f"{k} {g} (expected {e})" for k, (e, g) in v["mismatch"].items())
                         + "".join(f", item {k} {g} (expected {e})" for k, (e, g) in v["evidence_mismatch"].items()))
    return "\n".join(lines)


def case_accuracy(a: argparse.Namespace, tree: Path, report: dict[str, Any]) -> None:
    trees = [("this tree", tree)]
    if a.baseline:
        trees.insert(0, (f"baseline {a.baseline[:12]}", baseline_tree(a.baseline, a.work / "baseline-tree")))
    for label, t in trees:
        t0 = time.perf_counter()
        res = fixture_accuracy(t)
        print(f"accuracy, {label} ({time.perf_counter() - t0:.0f} s, {load()}): {summarise_accuracy(res)}", flush=True)
        report.setdefault("accuracy", {})[label] = res
        if not a.no_ocr_corpora:
            t0 = time.perf_counter()
            counts = ocr_corpora(t)
            print(f"  screen-text corpora, {label} ({time.perf_counter() - t0:.0f} s): {summarise_corpora(counts)}",
                  flush=True)
            report.setdefault("ocr_corpora", {})[label] = counts


# ------------------------------------------------------------------------------------------------ per image
def case_per_image(a: argparse.Namespace) -> None:
    """Median per-image cost of conformance.symbol.analyse_image vs a bare load + zxing-cpp decode."""
    import cv2
    import zxingcpp

    from conformance.symbol import analyse_image

    pkg = make_package(a.work / "pkg-30x2", 30)
    full, bare = [], []
    for p in sorted((pkg / "screens").glob("*.png")):
        t = time.process_time()
        img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
        zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain)
        bare.append(1000 * (time.process_time() - t))
        t = time.process_time()
        analyse_image(p)
        full.append(1000 * (time.process_time() - t))
    mf, mb = statistics.median(full), statistics.median(bare)
    print(f"per image (CPU, {len(full)} screenshots, {load()}): analyse_image median {mf:.1f} ms, bare OpenCV load "
          f"+ zxing-cpp {mb:.1f} ms, ratio {mf / mb:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="r,100,1000,stages,accuracy",
                    help="comma-separated: r, 100, 1000, 5000, warm, stages, devices, accuracy, per-image "
                         "(see above)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "vnqr-bench")
    ap.add_argument("--workers", default="default", help="--workers for assess (default: the CLI's default)")
    ap.add_argument("--repeat", type=int, default=2, help="alternating rounds of the R case (best of each)")
    ap.add_argument("--r-subjects", type=int, default=30, help="subjects of the R package (x 2 screenshots)")
    ap.add_argument("--tree", type=Path, default=ROOT, help="code tree to measure (default: this one)")
    ap.add_argument("--baseline", default=None,
                    help="git revision for the accuracy 'before' figures (default: git merge-base HEAD main; '' none)")
    ap.add_argument("--distinct-5000", action="store_true", help="5,000 distinct screenshots (slow to generate)")
    ap.add_argument("--no-ocr-corpora", action="store_true", help="accuracy: fixture candidates only")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    if a.baseline is None:
        a.baseline = subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], capture_output=True,
                                    text=True).stdout.strip()
    a.work.mkdir(parents=True, exist_ok=True)
    tree = a.tree.resolve()
    report: dict[str, Any] = {"machine": machine(), "tree": str(tree)}
    m = report["machine"]
    print(f"machine: {m['cpu']}, {m['usable_cores']} usable cores, {m['memory_gb']} GB, Python {m['python']}; "
          f"tree {tree}; {load()}", flush=True)
    for case in [c.strip() for c in a.cases.split(",") if c.strip()]:
        print(f"\n== {case}  ({load()}, {time.strftime('%H:%M:%S')})", flush=True)
        if case == "r":
            case_r(a, tree, report)
        elif case in SCALE:
            case_scale(a, tree, report, case)
        elif case == "warm":
            case_scale(a, tree, report, "1000", cache="warm", label="1000 items, warm cache")
        elif case == "stages":
            case_stages(a, tree, report)
        elif case == "devices":
            case_devices(a, tree, report)
        elif case == "accuracy":
            case_accuracy(a, tree, report)
        elif case == "per-image":
            case_per_image(a)
        else:
            ap.error(f"unknown case {case!r}")
    if "100 items" in report and "1000 items" in report:
        w1, w10 = report["100 items"]["wall_s"], report["1000 items"]["wall_s"]
        c1, c10 = report["100 items"]["cpu_s"], report["1000 items"]["cpu_s"]
        print(f"\nlinearity: 1,000 items / (10 x 100 items): wall {w10 / (10 * w1):.2f}, CPU {c10 / (10 * c1):.2f} "
              "(target within 0.90..1.10)")
    if a.json:
        a.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
