"""Checks, one module per requirement-ID prefix: general.py (GEN-*), payload.py (PAYLOAD-*), display.py and
display_live.py (DISPLAY-*), symbol.py (SYMBOL-*), privacy.py (PRIV-*). registry.py registers them, context.py
defines what they read.

`python -m conformance checks` lists every check with its requirement IDs and source location.
Every other module in this package is imported here, so a new module registers its checks by existing.
"""
import importlib
import pkgutil

_NOT_CHECKS = {"registry", "context"}

for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _m.name not in _NOT_CHECKS and not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
