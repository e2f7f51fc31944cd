"""The data path points one way: capture -> symbol -> payload -> checks -> engine -> reports -> front ends.

Every import inside the package (also the lazy ones inside functions) is read from the source, and a module may only
import from its own layer or the ones before it. A new top-level module must be given a layer here.
"""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "conformance"

LAYERS: dict[str, int] = {
    # shared rules and vocabulary, used by every layer
    "rules": 0, "words": 0, "clock": 0, "exits": 0, "specs": 0, "model": 0, "subproc": 0, "outdir": 0,
    "capture": 1,  # evidence in: packages, live capture, image decoding
    "symbol": 2,  # locate, decode, measure
    "payload": 3,  # parse, validate
    "ocr": 4, "recording": 5,  # screen text, screen recordings
    "checks": 6,  # one short function per requirement
    "engine": 7,  # plan, analyse, judge
    "reports": 8, "waivers": 8,
    "refapp": 8,  # the reference candidate app (a test subject built on the payload rules)
    # front ends
    "cli": 9, "live_cli": 9, "bundle": 9, "campaign": 9, "plugin": 9, "test_conformance": 9, "__main__": 9,
    "__init__": 9,
}
# benchmark scripts that sit next to the code they measure may use anything
EXEMPT = ("bench",)


def _top(module: str) -> str:
    return module.split(".")[1] if module.startswith("conformance.") else ""


def _imports(path: Path, root: Path = PKG.parent) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import of the package in a file under `root`."""
    pkg_parts = list(path.relative_to(root).parts[:-1])  # the package the file is in
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            names = [name] if name != "conformance" else [f"conformance.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out += [(node.lineno, n) for n in names if n.startswith("conformance.")]
    return out


def _layer_of(path: Path, pkg: Path = PKG) -> str:
    rel = path.relative_to(pkg)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_every_top_level_module_has_a_layer():
    tops = {_layer_of(p) for p in PKG.rglob("*.py")}
    assert not tops - set(LAYERS), f"give these modules a layer in {__file__}: {sorted(tops - set(LAYERS))}"


def test_imports_point_one_way():
    wrong = []
    for path in sorted(PKG.rglob("*.py")):
        if path.stem.startswith(EXEMPT):
            continue
        src = _layer_of(path)
        for line, name in _imports(path):
            dst = _top(name)
            if dst in LAYERS and dst != src and LAYERS[dst] > LAYERS[src]:
                wrong.append(f"{path.relative_to(PKG.parent)}:{line} ({src}, layer {LAYERS[src]}) imports {name} "
                             f"(layer {LAYERS[dst]})")
    assert not wrong, "imports against the data path:\n" + "\n".join(wrong)


def test_the_layer_check_sees_a_wrong_import(tmp_path):
    # the test above must be able to fail: a symbol module importing from the checks layer is caught
    fake = tmp_path / "conformance" / "symbol" / "probe.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from conformance.checks import registry\n    from ..engine import plan\n"
                    "    from . import decode\n", encoding="utf-8")
    found = [n for _, n in _imports(fake, tmp_path)]
    assert found == ["conformance.checks", "conformance.engine", "conformance.symbol"]
    layer = LAYERS[_layer_of(fake, tmp_path / "conformance")]
    assert [LAYERS[_top(n)] > layer for n in found] == [True, True, False]
