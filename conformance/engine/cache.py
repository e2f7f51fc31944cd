"""Optional persistent cache of the subject-independent analysis of evidence files.

A vendor who re-runs the suite on unchanged screenshots gets them back without decoding or OCR: the cache stores
what conformance/engine/analysis.py computed for one file (the symbols and their measurements, the screen
reading, the SYMBOL-008 degradation rows of the chosen symbol; never the image), keyed by

    (the file's SHA-256, evidence kind, suite version + a hash of the analysing code and of the analysers'
     versions, a hash of the whole profile, the device ppi, the inputs computed)

so an entry is only ever reused for exactly the same computation, and a result never depends on the cache.

Location: $VNQR_CONFORMANCE_CACHE_DIR, else $XDG_CACHE_HOME/vnqr-conformance, else ~/.cache/vnqr-conformance.
`--no-cache` (or VNQR_CONFORMANCE_CACHE=off) bypasses it. Subject-dependent analyses (screen recordings, whose
frames are judged against the subject's record) and payload files (cheap) are not cached.

An entry is local data, never trusted: it is plain JSON (no pickle), authenticated with an HMAC-SHA-256 under a
random key kept in the cache folder (0600), carries its full key (compared on reading), is bounded in size, and
is rebuilt only into an allow-list of types (conformance.symbol's SymbolReport, conformance.ocr's ScreenReading
and plain data). A missing, truncated, corrupted, foreign or hostile entry is ignored (the file is analysed again
and the entry rewritten); no error in the cache can fail an assessment. The folder is pruned to
$VNQR_CONFORMANCE_CACHE_MAX_MB (default 512) megabytes, oldest entries first.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import math
import os
import secrets
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

ENV_DIR = "VNQR_CONFORMANCE_CACHE_DIR"
ENV_SWITCH = "VNQR_CONFORMANCE_CACHE"  # "off" / "0" / "no": no cache
ENV_MAX_MB = "VNQR_CONFORMANCE_CACHE_MAX_MB"
FORMAT = 1
MAX_ENTRY_BYTES = 4 << 20  # an entry larger than this is not written, and not read
MAX_DEPTH = 64  # nesting bound when rebuilding an entry
KEY_FILE = "key"

# Code whose output an entry holds: any change to these files makes every old entry unreachable.
_CODE = ("conformance/symbol", "conformance/ocr", "conformance/engine/analysis.py", "conformance/engine/cache.py")
_LIBRARIES = ("zxing-cpp", "opencv-python-headless", "numpy", "pillow", "pyzbar", "pytesseract")


def default_dir() -> Path:
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "vnqr-conformance"


def enabled_by_environment() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() not in ("off", "0", "no", "false")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Suite version, the analysing code's sources, the analysers' library versions and Tesseract's version."""
    from importlib import metadata

    import conformance

    h = hashlib.sha256(f"format {FORMAT}\0suite {conformance.__version__}\0".encode())
    pkg_root = Path(conformance.__file__).resolve().parent.parent
    for rel in _CODE:
        p = pkg_root / rel
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(pkg_root)).encode() + b"\0")
            h.update(hashlib.sha256(f.read_bytes()).digest())
    for name in _LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=-\0".encode())
    h.update(f"tesseract={_tesseract_version()}\0".encode())
    return h.hexdigest()


def _tesseract_version() -> str:
    try:
        import pytesseract

        return str(pytesseract.get_tesseract_version())
    except Exception:  # noqa: BLE001 - no Tesseract: OCR reports its own error, which is what gets cached
        return "-"


def profile_fingerprint(profile: Mapping[str, Any]) -> str:
    """The whole profile (its file path aside), canonical JSON."""
    data = {k: v for k, v in profile.items() if not str(k).startswith("_")}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=True, default=str).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------ encoding
class _Reject(ValueError):
    """An entry that is not exactly what this module writes."""


_ND_DTYPES = ("bool", "uint8", "int16", "uint16", "int32", "int64", "float32", "float64")


def _allowed_classes() -> dict[str, type]:
    from conformance.ocr.reader import ScreenReading
    from conformance.symbol.analyse import SymbolReport

    return {"SymbolReport": SymbolReport, "ScreenReading": ScreenReading}


def encode(obj: Any) -> Any:
    """Plain JSON for the allowed types, tagged so that decode() gives back equal objects of the same types."""
    import numpy as np

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int) and type(obj) is int:
        return obj
    if isinstance(obj, float) and type(obj) is float:
        return obj if math.isfinite(obj) else {"__f": repr(obj)}
    if isinstance(obj, np.generic):
        dt = str(obj.dtype)
        if dt not in _ND_DTYPES:
            raise TypeError(f"numpy {dt} is not cached")
        return {"__np": dt, "v": encode(obj.item())}
    if isinstance(obj, np.ndarray):
        dt = str(obj.dtype)
        if dt not in _ND_DTYPES:
            raise TypeError(f"numpy {dt} is not cached")
        return {"__nd": dt, "shape": list(obj.shape),
                "b64": base64.b64encode(np.ascontiguousarray(obj).tobytes()).decode("ascii")}
    if isinstance(obj, (bytes, bytearray)):
        return {"__b": base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, tuple):
        return {"__t": [encode(v) for v in obj]}
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    if isinstance(obj, dict):
        if all(type(k) is str and not k.startswith("__") for k in obj):
            return {k: encode(v) for k, v in obj.items()}
        return {"__d": [[encode(k), encode(v)] for k, v in obj.items()]}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if _allowed_classes().get(name) is not type(obj):
            raise TypeError(f"{type(obj).__qualname__} is not cached")
        return {"__dc": name, "f": {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    raise TypeError(f"{type(obj).__qualname__} is not cached")


def decode(data: Any, depth: int = 0) -> Any:
    """The inverse of encode(); anything else raises _Reject."""
    if depth > MAX_DEPTH:
        raise _Reject("too deep")
    if data is None or isinstance(data, (bool, str, int)):
        return data
    if isinstance(data, float):
        if not math.isfinite(data):
            raise _Reject("non-finite float")
        return data
    if isinstance(data, list):
        return [decode(v, depth + 1) for v in data]
    if not isinstance(data, dict):
        raise _Reject(f"unexpected {type(data).__name__}")
    tags = [k for k in data if k.startswith("__")]
    if not tags:
        return {k: decode(v, depth + 1) for k, v in data.items()}
    import numpy as np

    tag = tags[0]
    if tag == "__f" and set(data) == {"__f"} and data["__f"] in ("nan", "inf", "-inf"):
        return float(data["__f"])
    if tag == "__np" and set(data) == {"__np", "v"} and data["__np"] in _ND_DTYPES:
        v = decode(data["v"], depth + 1)
        if not isinstance(v, (bool, int, float)):
            raise _Reject("numpy scalar")
        return np.array(v, dtype=data["__np"])[()]
    if tag == "__nd" and set(data) == {"__nd", "shape", "b64"} and data["__nd"] in _ND_DTYPES:
        shape = data["shape"]
        if not (isinstance(shape, list) and len(shape) <= 4 and all(type(n) is int and 0 <= n for n in shape)):
            raise _Reject("array shape")
        raw = base64.b64decode(_str(data["b64"]), validate=True)
        arr = np.frombuffer(raw, dtype=data["__nd"])
        if arr.size != math.prod(shape):
            raise _Reject("array size")
        return arr.reshape(shape).copy()
    if tag == "__b" and set(data) == {"__b"}:
        return base64.b64decode(_str(data["__b"]), validate=True)
    if tag == "__t" and set(data) == {"__t"} and isinstance(data["__t"], list):
        return tuple(decode(v, depth + 1) for v in data["__t"])
    if tag == "__d" and set(data) == {"__d"} and isinstance(data["__d"], list):
        out = {}
        for pair in data["__d"]:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise _Reject("dict pair")
            k = decode(pair[0], depth + 1)
            if not isinstance(k, (str, int, float, bool, tuple, type(None))):
                raise _Reject("dict key")
            out[k] = decode(pair[1], depth + 1)
        return out
    if tag == "__dc" and set(data) == {"__dc", "f"} and isinstance(data["f"], dict):
        cls = _allowed_classes().get(_str(data["__dc"]))
        if cls is None:
            raise _Reject("class")
        names = {f.name for f in dataclasses.fields(cls)}
        if set(data["f"]) != names:
            raise _Reject("fields")
        return cls(**{k: decode(v, depth + 1) for k, v in data["f"].items()})
    raise _Reject(f"tag {tag}")


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise _Reject("string expected")
    return v


# ------------------------------------------------------------------------------------------------ the cache
class AnalysisCache:
    """One cache folder. get()/put() never raise: a problem means a miss (or an entry not written)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self._key: bytes | None = None
        self.hits = self.misses = self.rejected = self.written = 0

    # -- key --------------------------------------------------------------------------------------------------
    @staticmethod
    def key(*, sha256: str | None, kind: str, ppi: float | None, profile: Mapping[str, Any],
            needs: frozenset[str] | set[str]) -> str | None:
        """The entry key of one analysis (None: not cacheable, e.g. a file without a content hash)."""
        if not sha256:
            return None
        parts = {"sha256": sha256, "kind": kind, "code": code_fingerprint(), "profile": profile_fingerprint(profile),
                 "ppi": None if ppi is None else repr(float(ppi)), "needs": sorted(needs)}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / f"v{FORMAT}" / key[:2] / f"{key}.json"

    def _secret(self, create: bool) -> bytes | None:
        if self._key is not None:
            return self._key
        p = self.root / KEY_FILE
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            if not create:
                return None
            try:
                self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(secrets.token_hex(32).encode())
            except FileExistsError:
                pass
            except OSError:
                return None
            return self._secret(create=False)
        except OSError:
            return None
        if len(data) != 64:
            return None  # a damaged key: the cache is unusable (every entry is a miss, none is written)
        self._key = data
        return data

    def _mac(self, secret: bytes, key: str, body: bytes) -> str:
        return hmac.new(secret, key.encode() + b"\0" + body, hashlib.sha256).hexdigest()

    # -- entries ------------------------------------------------------------------------------------------------
    def has(self, key: str | None) -> bool:
        return key is not None and self._path(key).is_file()

    def get(self, key: str | None) -> Any:
        """The cached value of `key`, or None (missing, or not exactly an entry this module wrote for it)."""
        if key is None:
            return None
        try:
            secret = self._secret(create=False)
            path = self._path(key)
            if secret is None or not path.is_file():
                self.misses += 1
                return None
            with path.open("rb") as f:
                raw = f.read(MAX_ENTRY_BYTES + 1)
            if len(raw) > MAX_ENTRY_BYTES:
                raise _Reject("too large")
            head, sep, body = raw.partition(b"\n")
            if not sep:
                raise _Reject("no header")
            header = json.loads(head)
            if not (isinstance(header, dict) and header.get("key") == key and header.get("format") == FORMAT
                    and isinstance(header.get("mac"), str)):
                raise _Reject("header")
            if not hmac.compare_digest(header["mac"], self._mac(secret, key, body)):
                raise _Reject("mac")
            value = decode(json.loads(body, parse_constant=_no_constant))
        except Exception:  # noqa: BLE001 - whatever is wrong with an entry, it is not used
            self.rejected += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str | None, value: Any) -> bool:
        if key is None:
            return False
        try:
            body = json.dumps(encode(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            secret = self._secret(create=True)
            if secret is None or len(body) > MAX_ENTRY_BYTES - 512:
                return False
            head = json.dumps({"format": FORMAT, "key": key, "mac": self._mac(secret, key, body)}).encode()
            path = self._path(key)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(head + b"\n" + body)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except Exception:  # noqa: BLE001 - a cache that cannot be written is only slower
            return False
        self.written += 1
        return True

    def prune(self, max_bytes: int | None = None) -> int:
        """Delete the oldest entries (by modification time) until the folder holds at most max_bytes; returns the
        number deleted."""
        if max_bytes is None:
            try:
                max_bytes = int(float(os.environ.get(ENV_MAX_MB, "512")) * (1 << 20))
            except ValueError:
                max_bytes = 512 << 20
        try:
            files = []
            for p in (self.root / f"v{FORMAT}").glob("*/*.json"):
                try:
                    st = p.stat()
                except OSError:
                    continue
                files.append((st.st_mtime, st.st_size, p))
        except OSError:
            return 0
        total = sum(s for _, s, _ in files)
        removed = 0
        for _, size, p in sorted(files):
            if total <= max_bytes:
                break
            try:
                p.unlink()
            except OSError:
                continue
            total -= size
            removed += 1
        return removed


def _no_constant(name: str) -> Any:
    raise _Reject(f"JSON constant {name}")


def open_cache(setting: bool | str | os.PathLike[str] | None = None) -> AnalysisCache | None:
    """The cache to use: `False` none, a path that folder, `None`/`True` the default folder unless the environment
    switches it off."""
    if setting is False:
        return None
    if setting is None or setting is True:
        if not enabled_by_environment():
            return None
        return AnalysisCache(default_dir())
    return AnalysisCache(Path(setting))
