"""Reference candidate app for live assessment (issue 4): `python -m conformance.refapp --port 0`."""
from .app import DEFAULT_TOKEN, DEFECT_ADAPTERS, DEFECTS, RefApp, RefAppConfig, create_app, unobservable  # noqa: F401
from .subjects import load_records  # noqa: F401
