"""The symbol analyser on a public, independently made corpus: zxing-cpp's QR sample images (tests/corpora/
zxing-cpp-qrcode, Apache-2.0: photographs, screenshots, generated, rotated and structured-append symbols) checked
against their sidecars (expected text from the project's .txt files; version / ECC / mask read by zxing-cpp and,
where noted, confirmed by OpenCV's grid size, the project's .result.txt or this suite's format-information read).
Nothing is downloaded."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from conformance.symbol import analyse_image  # noqa: E402

CORPUS = ROOT / "tests" / "corpora" / "zxing-cpp-qrcode"
SETS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def _items(set_name: str) -> list[tuple[Path, dict]]:
    out = []
    for sc in sorted((CORPUS / set_name).glob("*.json")):
        out.append((sc.with_name(sc.name[: -len(".json")]), json.loads(sc.read_text(encoding="utf-8"))))
    return out


def test_corpus_is_complete_with_licence():
    assert (CORPUS / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    assert "zxing-cpp" in (CORPUS / "NOTICE").read_text(encoding="utf-8")
    assert SETS == [f"qrcode-{i}" for i in range(1, 8)]
    items = [it for s in SETS for it in _items(s)]
    assert len(items) >= 140
    for img, sc in items:
        assert img.is_file() and sc["image"] == img.name and sc["source"]["licence"] == "Apache-2.0"
        assert sc["expected_text"] is not None, img


@pytest.mark.parametrize("set_name", SETS)
def test_analyser_on_corpus_set(set_name):
    problems = []
    for img, sc in _items(set_name):
        an = analyse_image(img)
        where = f"{set_name}/{img.name}"
        if an.error:
            problems.append(f"{where}: error {an.error}")
            continue
        texts = {s.text for s in an.symbols}
        if sc["zxing_cpp_reads_expected"]:
            want = [s["text"] for s in sc["symbols"]] if "structured_append" in sc else [sc["expected_text"]]
            if not set(want) & texts:
                problems.append(f"{where}: expected text not read")
        for want in sc["symbols"]:
            got = next((s for s in an.symbols if s.text == want["text"]), None)
            if got is None:
                problems.append(f"{where}: symbol {want['text'][:30]!r} not reported")
                continue
            if (got.ecc, got.version, got.mask) != (want["ecc"], want["version"], want["mask"]):
                problems.append(f"{where}: ecc/version/mask {(got.ecc, got.version, got.mask)} != sidecar")
            g = got.grid or {}
            if got.version and g.get("modules") != 17 + 4 * got.version:
                problems.append(f"{where}: module grid {g.get('modules')} disagrees with version {got.version}")
            if g.get("confident") and (g.get("ecc"), g.get("version"), g.get("mask")) != (
                    want["ecc"], want["version"], want["mask"]):
                problems.append(f"{where}: confident grid read {(g.get('ecc'), g.get('version'), g.get('mask'))} "
                                "is wrong")
            if "format-info grid read" in want["confirmed_by"] and not g.get("confident"):
                problems.append(f"{where}: grid read no longer confident")
            if got.module_px is None or got.quiet_zone_modules is None or got.polarity is None:
                problems.append(f"{where}: measurements missing")
            elif not 0.5 <= got.module_px <= 40 or not 0 <= got.quiet_zone_modules <= 10:
                problems.append(f"{where}: implausible module {got.module_px} px / quiet zone "
                                f"{got.quiet_zone_modules}")
    assert not problems, "\n".join(problems)


def test_analyser_reads_every_image_bare_zxing_cpp_reads():
    """The analyser's primary is zxing-cpp: it must not lose a read zxing-cpp makes on the whole image."""
    lost = []
    for set_name in SETS:
        for img, sc in _items(set_name):
            if not sc["zxing_cpp_reads_expected"]:
                continue
            texts = {s.text for s in analyse_image(img).symbols}
            if not texts & {s["text"] for s in sc["symbols"]}:
                lost.append(f"{set_name}/{img.name}")
    assert not lost, lost


def test_inverted_and_nested_symbols():
    an = analyse_image(CORPUS / "qrcode-2" / "qr-inv-1.webp")  # .result.txt: isInverted=true
    (s,) = an.symbols
    assert s.polarity == "light-on-dark"
    an = analyse_image(CORPUS / "qrcode-2" / "16.webp")  # a symbol inside another one's quiet-zone-free logo
    sc = json.loads((CORPUS / "qrcode-2" / "16.webp.json").read_text(encoding="utf-8"))
    assert {s.text for s in an.symbols} == {s["text"] for s in sc["symbols"]}
