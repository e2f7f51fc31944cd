"""The analysis cache (conformance/engine/cache.py): a re-run of unchanged evidence reuses the file analyses, the
cache never changes a result, and a damaged, foreign or hostile entry is ignored (the file is analysed again)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import conformance.engine.analysis
from conformance.cli import main
from conformance.engine import assess
from conformance.engine import cache as C
from conformance.engine.cache import AnalysisCache, decode, encode

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "candidates" / "example"
TODAY = "2025-11-27"
VOLATILE = ("generated_at", "duration_s")


def _doc(out: Path) -> dict:
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for k in VOLATILE:
        doc.pop(k)
    (doc.get("report") or {}).pop("issued_at", None)  # the time of issue of a filed report
    items = {p.name: p.read_text(encoding="utf-8") for p in sorted((out / "items").glob("*.json"))}
    return {"results": doc, "items": items}


def _cli(out: Path, *extra: str) -> dict:
    workers = [] if "--workers" in extra else ["--workers", "1"]
    assert main(["assess", str(EXAMPLE), "--out", str(out), "--quiet", "--today", TODAY, *workers, *extra]) == 0
    return _doc(out)


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / f"v{C.FORMAT}").glob("*/*.json"))


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv(C.ENV_DIR, str(d))
    monkeypatch.delenv(C.ENV_SWITCH, raising=False)
    return d


def _no_analysis(monkeypatch):
    """Make every image analysis fail loudly: a run that still succeeds read everything from the cache."""
    def boom(*a, **k):
        raise AssertionError("analysed although cached")

    monkeypatch.setattr(conformance.engine.analysis, "analyse_image_file", boom)
    monkeypatch.setattr(conformance.engine.analysis, "analyse_photo_file", boom)


def test_cold_warm_and_no_cache_give_the_same_documents(tmp_path, cache_dir, monkeypatch):
    cold = _cli(tmp_path / "cold", "--workers", "2")  # analysed on a pool of workers, which fill the cache
    entries = _entries(cache_dir)
    assert len(entries) == 4  # the example's four screenshots; payload files are not cached
    nocache = _cli(tmp_path / "nocache", "--no-cache")  # in this process, analysed again
    assert _entries(cache_dir) == entries
    with monkeypatch.context() as m:
        _no_analysis(m)
        warm = _cli(tmp_path / "warm")
    assert cold == warm == nocache


CHEAP = ("--check", "symbol_size", "--item", "0")  # one screenshot, no OCR


def test_no_cache_writes_nothing(tmp_path, cache_dir):
    _cli(tmp_path / "o", "--no-cache", *CHEAP)
    assert not cache_dir.exists()
    _cli(tmp_path / "o2", *CHEAP)
    assert len(_entries(cache_dir)) == 1


def test_cache_switched_off_by_the_environment(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setenv(C.ENV_SWITCH, "off")
    _cli(tmp_path / "o", *CHEAP)
    assert not cache_dir.exists()


def _signed(path: Path, body: bytes, key_file: Path) -> None:
    """Write an entry signed with the real key: what passes the checksum must still be exactly a valid entry."""
    import hashlib
    import hmac

    head = json.loads(path.read_bytes().partition(b"\n")[0])
    head["mac"] = hmac.new(key_file.read_bytes(), head["key"].encode() + b"\0" + body, hashlib.sha256).hexdigest()
    path.write_bytes(json.dumps(head).encode() + b"\n" + body)


def _damage(path: Path, how: str, key_file: Path) -> None:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n")
    if how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "flipped":
        i = len(head) + 1 + len(body) // 2
        path.write_bytes(raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1:])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "not json":
        path.write_bytes(b"\x80\x04\x95 pickle-like bytes \x00\xff" * 50)
    elif how == "huge":
        path.write_bytes(b"{" * (C.MAX_ENTRY_BYTES + 10))
    elif how == "forged":  # a plausible entry with a wrong value, signed with a guessed key
        doc = json.loads(body)
        doc["width"] = 99999
        import hashlib
        import hmac

        new = json.dumps(doc).encode()
        h = json.loads(head)
        h["mac"] = hmac.new(b"0" * 64, h["key"].encode() + b"\0" + new, hashlib.sha256).hexdigest()
        path.write_bytes(json.dumps(h).encode() + b"\n" + new)
    elif how == "foreign":  # another file's (valid, signed) entry under this key
        other = next(p for p in path.parent.parent.glob("*/*.json") if p != path)
        shutil.copyfile(other, path)
    elif how == "deep":
        _signed(path, b"[" * 100_000 + b"]" * 100_000, key_file)
    elif how == "unknown class":
        doc = json.loads(body)
        doc["screen"] = {"__dc": "Popen", "f": {"args": ["rm", "-rf", "/"]}}
        _signed(path, json.dumps(doc).encode(), key_file)
    elif how == "wrong types":
        doc = json.loads(body)
        doc["symbols"] = {"__t": [{"not": "a symbol"}]}
        _signed(path, json.dumps(doc).encode(), key_file)
    elif how == "nan":
        _signed(path, body.replace(b'"width":', b'"width":NaN,"w":', 1), key_file)
    else:
        raise ValueError(how)


SYMBOL_CHECKS = ["symbol_single_and_decodes", "symbol_decoders_agree", "symbol_error_correction",
                 "symbol_quiet_zone", "symbol_size", "symbol_polarity_contrast", "symbol_encoding_and_version",
                 "symbol_robust_to_degradation"]


def _symbols_only(cache) -> dict:
    """The symbol checks (with the SYMBOL-008 sweep) on the example's first two screenshots: no OCR, so cheap."""
    doc = assess(EXAMPLE, today=TODAY, workers=1, checks=SYMBOL_CHECKS, items=[0, 1], cache=cache).to_dict()
    for k in VOLATILE:
        doc.pop(k)
    return doc


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """(a cache folder holding the two screenshots' analyses, the document they give)."""
    d = tmp_path_factory.mktemp("filled") / "cache"
    doc = _symbols_only(d)
    assert len(_entries(d)) == 2
    return d, doc


@pytest.mark.parametrize("how", ["truncated", "flipped", "empty", "not json", "huge", "forged", "foreign", "deep",
                                 "unknown class", "wrong types", "nan"])
def test_damaged_or_hostile_entries_are_ignored(tmp_path, filled, how, monkeypatch):
    src, expected = filled
    d = tmp_path / "cache"
    shutil.copytree(src, d)
    entries = _entries(d)
    _damage(entries[0], how, d / C.KEY_FILE)
    assert _symbols_only(d) == expected
    # the damaged entry was replaced by a good one, and now both are used
    cache = AnalysisCache(d)
    assert all(cache.get(p.stem) is not None for p in _entries(d))
    _no_analysis(monkeypatch)
    assert _symbols_only(d) == expected


def test_a_damaged_key_disables_the_cache_without_failing(tmp_path, filled):
    src, expected = filled
    d = tmp_path / "cache"
    shutil.copytree(src, d)
    (d / C.KEY_FILE).write_bytes(b"short")
    assert _symbols_only(d) == expected
    assert AnalysisCache(d).get(_entries(d)[0].stem) is None


def test_an_unwritable_cache_folder_only_costs_time(tmp_path, filled):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert _symbols_only(blocker / "cache") == filled[1]


def test_the_key_names_exactly_one_computation():
    from conformance.specs import load_profile

    prof = load_profile(None)
    base = dict(sha256="ab" * 32, kind="screenshot", ppi=409.0, profile=prof, needs=frozenset({"symbols"}))
    k = AnalysisCache.key(**base)
    assert k == AnalysisCache.key(**base) and len(k) == 64
    other_profile = json.loads(json.dumps({k2: v for k2, v in prof.items()}))
    other_profile["symbol"]["min_degradations_passed"] += 1
    variants = [dict(base, sha256="cd" * 32), dict(base, kind="photo"), dict(base, ppi=410.0), dict(base, ppi=None),
                dict(base, needs=frozenset({"symbols", "screen_text"})), dict(base, profile=other_profile)]
    keys = {AnalysisCache.key(**v) for v in variants}
    assert k not in keys and len(keys) == len(variants)
    assert AnalysisCache.key(**dict(base, sha256=None)) is None
    # the profile's file name is not part of it, its content is
    assert AnalysisCache.key(**dict(base, profile={**prof, "_path": "/elsewhere.yaml"})) == k


def test_encoding_round_trips_types_and_rejects_anything_else():
    import numpy as np

    from conformance.ocr.reader import ScreenReading
    from conformance.symbol.analyse import SymbolReport

    value = {"t": (1, 2.5, None, "x"), "b": b"\x00\xff", 3: [True, float("nan")], "__x": 1,
             "np": np.float32(1.5), "arr": np.arange(6, dtype=np.uint8).reshape(2, 3),
             "s": SymbolReport(text="a", raw_bytes=b"a", corners=[[0.0, 1.0]]), "r": ScreenReading(text="t")}
    back = decode(json.loads(json.dumps(encode(value))))
    assert back["t"] == (1, 2.5, None, "x") and type(back["t"]) is tuple
    assert back["b"] == b"\x00\xff" and back[3][0] is True and np.isnan(back[3][1]) and back["__x"] == 1
    assert type(back["np"]) is np.float32 and back["np"] == np.float32(1.5)
    assert back["arr"].dtype == np.uint8 and back["arr"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["s"] == value["s"] and back["r"] == value["r"]
    with pytest.raises(TypeError):
        encode(object())
    with pytest.raises(TypeError):
        encode(Path("/x"))
    for bad in ({"__dc": "Path", "f": {}}, {"__dc": "SymbolReport", "f": {"nope": 1}}, {"__t": 1},
                {"__nd": "object", "shape": [1], "b64": ""}, {"__nd": "uint8", "shape": [4], "b64": "AAE="},
                {"__f": "1e999"}, {"__b": "not base64!"}, {"a": 1, "__t": []}, {"__d": [[{"k": 1}, 2]]}):
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do; AnalysisCache.get turns it into a miss
            decode(bad)


def test_pruning_keeps_the_folder_bounded(tmp_path):
    cache = AnalysisCache(tmp_path / "c")
    for i in range(20):
        assert cache.put(f"{i:02d}" + "0" * 62, {"i": i, "pad": "x" * 1000})
        os.utime(cache._path(f"{i:02d}" + "0" * 62), (1000 + i, 1000 + i))
    removed = cache.prune(max_bytes=10 * 1100)
    left = sorted(p.stem[:2] for p in (tmp_path / "c" / f"v{C.FORMAT}").glob("*/*.json"))
    assert removed >= 10 and left == [f"{i:02d}" for i in range(20 - len(left), 20)]  # the newest stay
    assert cache.get(f"{19:02d}" + "0" * 62) == {"i": 19, "pad": "x" * 1000}


def test_a_decoder_fault_is_not_remembered(tmp_path, cache_dir, monkeypatch):
    """A reference decoder that crashed is a fault of that run, not a fact of the file: nothing of that analysis is
    cached, and the next run decodes the screenshot again (SYMBOL-002 error, then pass)."""
    from conformance.symbol import decoders

    def crash(img):
        raise RuntimeError("injected decoder crash")

    def symbol_002() -> str:
        doc = assess(EXAMPLE, today=TODAY, workers=1, checks=["symbol_decoders_agree"]).to_dict()
        return next(r["status"] for r in doc["requirements"] if r["id"] == "SYMBOL-002")

    with monkeypatch.context() as m:
        m.setattr(decoders, "zbar_read", crash)
        assert symbol_002() == "error"
    assert _entries(cache_dir) == []
    assert symbol_002() == "pass"
    assert len(_entries(cache_dir)) == 4


def test_a_frame_that_could_not_be_read_is_not_remembered(tmp_path, cache_dir):
    """A multi-frame file whose second frame is truncated is judged on its first frame with a note naming the file:
    that analysis is not stored (the note names this file, and the next run may read further)."""
    import io

    from PIL import Image

    pkg = tmp_path / "pkg"
    shutil.copytree(EXAMPLE, pkg)
    buf = io.BytesIO()
    blank = Image.new("RGB", (300, 300), "white")
    blank.save(buf, "GIF", save_all=True, append_images=[blank.copy(), Image.new("RGB", (300, 300), "black")],
               duration=100)
    (pkg / "screens" / "late.gif").write_bytes(buf.getvalue()[: len(buf.getvalue()) * 7 // 10])
    manifest = json.loads((pkg / "candidate.json").read_text(encoding="utf-8"))
    manifest["evidence"].append({"file": "screens/late.gif", "subject": "s1", "mode": "default",
                                 "kind": "screenshot"})
    (pkg / "candidate.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    doc = assess(pkg, today=TODAY, workers=1, checks=["symbol_single_and_decodes"]).to_dict()
    late = next(e for e in doc["evidence"] if e["file"] == "screens/late.gif")
    assert "frame 2 could not be read" in json.dumps(late), late
    assert len(_entries(cache_dir)) == 4  # the example's four screenshots, not the truncated file
