# Root conftest: registers the conformance pytest plugin (options --candidate, --profile, --out, --show-pii, ...).
pytest_plugins = ["conformance.plugin"]
