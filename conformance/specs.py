"""Load and validate the data files in specs/: catalogue, profile, JSON Schemas."""
from __future__ import annotations

import json
from functools import cache, lru_cache
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

    def __init__(self, file: str, json_path: str, message: str, message_vi: str | None = None):
        self.file, self.json_path, self.message = file, json_path, message
        self.message_vi = message_vi or f"tệp không dùng được ({message})"
        super().__init__(f"{file}: {json_path}: {message}")


def json_path_of(error: jsonschema.ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SPECS_DIR / name).read_text(encoding="utf-8"))


_TYPE_VI = {"string": "chuỗi ký tự", "number": "số", "integer": "số nguyên", "object": "đối tượng", "array": "danh sách",
            "boolean": "giá trị đúng/sai", "null": "giá trị rỗng"}


def schema_message_vi(e: jsonschema.ValidationError) -> str:
    """The Vietnamese of a schema violation, from its kind (jsonschema's own messages are English)."""
    kind, want, got = e.validator, e.validator_value, e.instance

    def types(v: Any) -> str:
        return " hoặc ".join(_TYPE_VI.get(t, str(t)) for t in (v if isinstance(v, list) else [v]))

    if kind == "required":
        missing = [k for k in want if not (isinstance(got, dict) and k in got)]
        return f"thiếu mục bắt buộc {', '.join(repr(k) for k in missing)}"
    if kind == "additionalProperties":
        known = set((e.schema or {}).get("properties", {}))
        extra = [k for k in got if k not in known] if isinstance(got, dict) else []
        return f"không cho phép mục {', '.join(repr(k) for k in extra)} (sai tên hoặc không có trong lược đồ)"
    if kind == "type":
        return f"{got!r} sai kiểu dữ liệu: cần {types(want)}"
    if kind == "enum":
        return f"{got!r} không thuộc các giá trị cho phép: {', '.join(repr(v) for v in want)}"
    if kind == "const":
        return f"{got!r} phải là {want!r}"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{got!r} nhỏ hơn mức tối thiểu {want}" + (" (không kể bằng)" if kind == "exclusiveMinimum" else "")
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{got!r} lớn hơn mức tối đa {want}" + (" (không kể bằng)" if kind == "exclusiveMaximum" else "")
    if kind == "pattern":
        return f"{got!r} không đúng mẫu {want}"
    if kind in ("minLength", "minItems", "minProperties"):
        return f"quá ngắn hoặc quá ít phần tử (tối thiểu {want})"
    if kind in ("maxLength", "maxItems", "maxProperties"):
        return f"quá dài hoặc quá nhiều phần tử (tối đa {want})"
    if kind == "format":
        return f"{got!r} không đúng định dạng {want}"
    if kind in ("oneOf", "anyOf"):
        keys, extra = _alternatives(e)
        if keys:
            return (f"cần đúng một trong các mục {' hoặc '.join(repr(k) for k in keys)}"
                    + (f"; mục không có trong lược đồ: {', '.join(repr(k) for k in extra)}" if extra else ""))
        return "không khớp với dạng nào được cho phép"
    return f"không đúng lược đồ (quy tắc {kind})"


def _alternatives(e: jsonschema.ValidationError) -> tuple[list[str], list[str]]:
    """The keys that tell a oneOf/anyOf's object forms apart (each form's required keys), and the keys of the
    instance that no form knows (a misspelt key is the usual cause)."""
    forms = [f for f in e.validator_value if isinstance(f, dict)] if isinstance(e.validator_value, list) else []
    keys = [k for f in forms for k in f.get("required", [])]
    known = {k for f in forms for k in (f.get("properties") or {})}
    extra = [k for k in e.instance if k not in known] if isinstance(e.instance, dict) and known else []
    return keys, extra


def schema_message_en(e: jsonschema.ValidationError) -> str:
    """jsonschema's English message, made specific where it is vague (a oneOf/anyOf of object forms)."""
    if e.validator in ("oneOf", "anyOf"):
        keys, extra = _alternatives(e)
        if keys:
            return (f"needs exactly one of the keys {' or '.join(repr(k) for k in keys)}"
                    + (f"; keys not in the schema: {', '.join(repr(k) for k in extra)}" if extra else ""))
    return str(e.message)


def validate(document: Any, schema_name: str, file: str) -> None:
    validator = jsonschema.Draft202012Validator(schema(schema_name))
    errors = sorted(validator.iter_errors(document), key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        e = errors[0]
        raise SpecError(file, json_path_of(e), schema_message_en(e), schema_message_vi(e))


MAX_DEPTH = 64  # no document of the suite nests deeper; a deeper one is refused before any schema check


class _Loader(yaml.SafeLoader):
    """YAML for files a user or vendor writes (profiles, waivers, campaigns): no implicit timestamps (dates stay
    strings, checked by the schemas), no aliases (a few hundred bytes of aliases can expand to gigabytes), and a key
    given twice in one mapping is an error, not a silent overwrite."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in this file",
                                              event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice in one mapping",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key {k!r} is given twice in one object")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def check_plain_data(doc: Any, file: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH and numbers that are not finite (.nan, .inf), naming the JSON
    path; iterative, so a hostile document cannot exhaust the stack."""
    import math

    stack: list[tuple[Any, str, int]] = [(doc, "$", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SpecError(file, path, f"nested deeper than {MAX_DEPTH} levels", f"lồng sâu quá {MAX_DEPTH} cấp")
        if isinstance(node, float) and not math.isfinite(node):
            raise SpecError(file, path, f"{node} is not a finite number", f"{node} không phải số hữu hạn")
        if isinstance(node, dict):
            stack.extend((v, f"{path}.{k}", depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node))


def parse_json_text(text: str, file: str) -> Any:
    """JSON from an untrusted file: duplicate keys, NaN/Infinity and hostile nesting are errors naming the file."""
    try:
        doc = json.loads(text, object_pairs_hook=_json_pairs, parse_constant=_no_constant)
    except RecursionError:
        raise SpecError(file, "$", f"nested deeper than {MAX_DEPTH} levels", f"lồng sâu quá {MAX_DEPTH} cấp") from None
    except ValueError as exc:
        raise SpecError(file, "$", f"not valid JSON: {exc}", f"không phải JSON hợp lệ: {exc}") from None
    check_plain_data(doc, file)
    return doc


def _read_yaml_or_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(str(path), "$", f"cannot read file: {exc.strerror or exc}",
                        f"không đọc được tệp: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SpecError(str(path), "$", "file is not UTF-8 text", "tệp không phải văn bản UTF-8") from None
    if path.suffix == ".json":
        return parse_json_text(text, str(path))
    try:
        doc = yaml.load(text, Loader=_Loader)
    except RecursionError:
        raise SpecError(str(path), "$", f"nested deeper than {MAX_DEPTH} levels",
                        f"lồng sâu quá {MAX_DEPTH} cấp") from None
    except yaml.YAMLError as exc:
        raise SpecError(str(path), "$", f"not valid YAML: {exc}", f"không phải YAML hợp lệ: {exc}") from None
    check_plain_data(doc, str(path))
    return doc


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
