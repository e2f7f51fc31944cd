"""One call into Tesseract: `data(image, lang, psm, whitelist)` -> the word table of `pytesseract.image_to_data`.

Two back ends, the same Tesseract (Debian's libtesseract and its tessdata):

* ``tesserocr`` (the C API, built against Debian's libtesseract-dev, see scripts/setup.sh): the engine is started
  once per process, thread and language set and kept loaded, so a call costs only the recognition (no process start,
  no model load: that was 60-120 ms per call with the command-line tool);
* ``pytesseract`` (spawns the `tesseract` command per call): used when tesserocr cannot be imported, or when
  ``CONFORMANCE_OCR_BACKEND=pytesseract`` (or `BACKEND` below) says so.

Both return Tesseract's TSV output (the same table the command line's ``tsv`` config writes), parsed into a dict of
columns (level, page_num, block_num, par_num, line_num, word_num, left, top, width, height, conf, text).
Errors raise `TesseractFailure` with the back end's message.
"""
from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

BACKEND = os.environ.get("CONFORMANCE_OCR_BACKEND", "auto")  # auto | tesserocr | pytesseract
_COLS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height",
         "conf", "text")
_APIS: dict[tuple[int, int, str], Any] = {}
_LOCK = threading.Lock()


class TesseractFailure(RuntimeError):
    pass


def _tesserocr():
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # Tesseract's OpenMP threads cost more CPU than they save here
    import tesserocr

    return tesserocr


def backend() -> str:
    """The back end `data` uses now: 'tesserocr' or 'pytesseract'."""
    if BACKEND == "pytesseract":
        return "pytesseract"
    try:
        _tesserocr()
        return "tesserocr"
    except Exception:
        if BACKEND == "tesserocr":
            raise
        return "pytesseract"


def _api(lang: str):
    key = (os.getpid(), threading.get_ident(), lang)  # never share an engine across a fork or between threads
    api = _APIS.get(key)
    if api is None:
        tesserocr = _tesserocr()
        try:
            api = tesserocr.PyTessBaseAPI(lang=lang)
        except Exception as exc:
            raise TesseractFailure(f"tesserocr could not start Tesseract with languages {lang!r}: {exc}") from exc
        with _LOCK:
            for k in [k for k in _APIS if k[0] != os.getpid()]:
                _APIS.pop(k, None)  # engines inherited from a parent process are never used (nor freed) here
            _APIS[key] = api
    return api


def _parse_tsv(tsv: str) -> dict[str, list]:
    out: dict[str, list] = {c: [] for c in _COLS}
    for row in tsv.splitlines():
        parts = row.split("\t")
        if len(parts) < 11 or not parts[0].isdigit():
            continue
        if len(parts) == 11:
            parts.append("")
        for c, v in zip(_COLS, parts[:12]):
            if c == "text":
                out[c].append(v)
            elif c == "conf":
                try:
                    out[c].append(float(v))
                except ValueError:
                    out[c].append(-1.0)
            else:
                try:
                    out[c].append(int(v))
                except ValueError:
                    out[c].append(0)
    return out


def data(gray: np.ndarray, lang: str, psm: int, whitelist: str | None = None) -> dict[str, list]:
    """Word table of one 8-bit grey image (dark text on light), page segmentation mode `psm`, optionally only the
    characters of `whitelist`."""
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    if backend() == "pytesseract":
        import pytesseract
        from PIL import Image

        cfg = f"--psm {psm}" + (f" -c tessedit_char_whitelist={whitelist}" if whitelist else "")
        try:
            d = pytesseract.image_to_data(Image.fromarray(gray), lang=lang, config=cfg,
                                          output_type=pytesseract.Output.DICT)
        except Exception as exc:
            raise TesseractFailure(f"{type(exc).__name__}: {exc}") from exc
        d["conf"] = [_num(c) for c in d.get("conf", [])]
        return d
    api = _api(lang)
    try:
        api.SetPageSegMode(int(psm))
        api.SetVariable("tessedit_char_whitelist", whitelist or "")
        h, w = gray.shape
        api.SetImageBytes(gray.tobytes(), w, h, 1, w)
        tsv = api.GetTSVText(0) or ""
    except Exception as exc:
        raise TesseractFailure(f"{type(exc).__name__}: {exc}") from exc
    finally:
        try:
            api.SetVariable("tessedit_char_whitelist", "")
            api.Clear()
        except Exception:  # noqa: BLE001
            pass
    return _parse_tsv(tsv)


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return -1.0
