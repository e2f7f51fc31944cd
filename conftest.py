# Root conftest: registers the conformance pytest plugin (options --candidate, --profile, --out, --show-pii, ...).
import os

from hypothesis import settings

pytest_plugins = ["conformance.plugin"]

# CI runs the property tests with a fixed derivation of examples (reproducible landings); local runs explore.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
