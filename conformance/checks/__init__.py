"""Checks, one module per requirement-ID prefix: general.py (GEN-*), payload.py (PAYLOAD-*), display.py and
display_live.py (DISPLAY-*), symbol.py (SYMBOL-*), privacy.py (PRIV-*).

`python -m conformance checks` lists every check with its requirement IDs and source location.
Every module in this package is imported here, so a new module registers its checks by existing.
"""
import importlib
import pkgutil

for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _m.name != "registry" and not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
