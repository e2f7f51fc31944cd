"""results.json: validated against specs/results.schema.json, then written (UTF-8, indented)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from conformance.specs import SPECS_DIR

SCHEMA_PATH = SPECS_DIR / "results.schema.json"


class ResultsSchemaError(ValueError):
    """The results document breaks specs/results.schema.json: a bug in the suite, never the candidate's fault."""


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@lru_cache(maxsize=1)
def _item_validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/item_detail", "$defs": schema["$defs"]})


def validate_item_detail(detail: dict) -> None:
    """A per-item detail file's content (items/<index>.json) against $defs/item_detail."""
    errs = sorted(_item_validator().iter_errors(detail), key=lambda e: list(map(str, e.absolute_path)))
    if errs:
        where = "/".join(str(p) for p in errs[0].absolute_path) or "(root)"
        raise ResultsSchemaError(f"items/{detail.get('index')}.json does not match {SCHEMA_PATH.name} "
                                 f"$defs/item_detail ({len(errs)} problem(s)): {where}: {errs[0].message}")


def schema_errors(results: dict) -> list[str]:
    """Every schema violation as 'json/path: message' (empty when valid)."""
    out = []
    for err in sorted(_validator().iter_errors(results), key=lambda e: list(map(str, e.absolute_path))):
        path = "/".join(str(p) for p in err.absolute_path) or "(root)"
        out.append(f"{path}: {err.message}")
    return out


def validate_results(results: dict) -> None:
    errs = schema_errors(results)
    if errs:
        raise ResultsSchemaError(f"results.json does not match {SCHEMA_PATH.name} ({len(errs)} problem(s)): "
                                 + "; ".join(errs[:10]))


def _default(o: Any) -> Any:
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, (set, tuple)):
        return list(o)
    try:  # numpy scalars
        return o.item()
    except AttributeError:
        raise TypeError(f"not JSON serialisable: {type(o).__name__}") from None


def to_jsonable(results: dict) -> dict:
    """Round-trip through JSON so numpy scalars, tuples and Paths become plain JSON types."""
    return json.loads(json.dumps(results, default=_default, ensure_ascii=False, allow_nan=False))


# Lists written one element per line (an evidence item, a subject, a package file, a finding): indented, they would
# make results.json grow by a line per field of every item.
ONE_PER_LINE = frozenset({"evidence", "subjects", "files", "findings"})


def dumps_results(results: dict) -> str:
    """results.json text: indented, except that the elements of the ONE_PER_LINE lists take one line each."""
    def dump(v: Any, key: str | None, pad: str) -> str:
        if isinstance(v, dict) and v:
            inner = pad + "  "
            return "{\n" + ",\n".join(f"{inner}{json.dumps(k, ensure_ascii=False)}: {dump(x, k, inner)}"
                                       for k, x in v.items()) + f"\n{pad}}}"
        if isinstance(v, list) and v:
            inner = pad + "  "
            if key in ONE_PER_LINE:
                items = [inner + json.dumps(x, ensure_ascii=False) for x in v]
            else:
                items = [inner + dump(x, None, inner) for x in v]
            return "[\n" + ",\n".join(items) + f"\n{pad}]"
        return json.dumps(v, ensure_ascii=False)

    return dump(results, None, "") + "\n"


def write_results_json(results: dict, path: Path, *, validated: bool = False) -> Path:
    """Validate (unless the caller just did) and write results.json."""
    if not validated:
        validate_results(results)
    path.write_text(dumps_results(results), encoding="utf-8")
    return path
