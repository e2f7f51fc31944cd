"""Load and validate the data files in specs/: catalogue, profile, JSON Schemas."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

# In this repository: the top-level specs/ folder; in an installed wheel: conformance/_specs (copied by setup.py).
_HERE = Path(__file__).resolve().parent
SPECS_DIR = _HERE / "_specs" if (_HERE / "_specs").is_dir() else _HERE.parent / "specs"
DEFAULT_PROFILE = SPECS_DIR / "profile.default.yaml"


class SpecError(Exception):
    """A spec or profile data file is unusable. Carries the file and the JSON path of the problem."""

    def __init__(self, file: str, json_path: str, message: str):
        self.file, self.json_path, self.message = file, json_path, message
        super().__init__(f"{file}: {json_path}: {message}")


def json_path_of(error: jsonschema.ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


@lru_cache(maxsize=None)
def schema(name: str) -> dict[str, Any]:
    return json.loads((SPECS_DIR / name).read_text(encoding="utf-8"))


def validate(document: Any, schema_name: str, file: str) -> None:
    validator = jsonschema.Draft202012Validator(schema(schema_name))
    errors = sorted(validator.iter_errors(document), key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        e = errors[0]
        raise SpecError(file, json_path_of(e), e.message)


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay strings, checked by the schemas (a bad date is then a clear
    schema error with its JSON path, not a parser crash)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml_or_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(str(path), "$", f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SpecError(str(path), "$", "file is not UTF-8 text") from None
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_Loader)  # noqa: S506
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SpecError(str(path), "$", f"not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None


@lru_cache(maxsize=1)
def load_catalogue_document() -> dict[str, Any]:
    path = SPECS_DIR / "requirements.yaml"
    doc = _read_yaml_or_json(path)
    validate(doc, "requirements.schema.json", str(path))
    ids = [r["id"] for r in doc["requirements"]]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise SpecError(str(path), "$.requirements", f"duplicate requirement IDs: {sorted(dupes)}")
    return doc


def load_catalogue() -> dict[str, dict[str, Any]]:
    """Requirement ID -> requirement entry, in catalogue order."""
    return {r["id"]: r for r in load_catalogue_document()["requirements"]}


def level_of(requirement: str, remark: str | None = None) -> str:
    """The level (MUST/SHOULD/MAY) of a requirement, or of one of its documented remarks."""
    req = load_catalogue()[requirement]
    if remark is not None:
        for r in req.get("remarks") or []:
            if r["id"] == remark:
                return str(r["level"])
        raise KeyError(f"{requirement} has no remark {remark!r} in specs/requirements.yaml")
    return str(req["level"])


def load_profile(path: str | Path | None = None) -> dict[str, Any]:
    p = Path(path) if path else DEFAULT_PROFILE
    doc = _read_yaml_or_json(p)
    validate(doc, "profile.schema.json", str(p))
    doc = dict(doc)
    doc["_path"] = str(p)
    return doc
