"""JSON Schemas of the event catalogue, committed under shared/civreg/schemas/, and the backward-compatibility rule.

`python -m civreg.schemas write` regenerates them; `check` (and the test suite) fails when a committed schema
would change incompatibly: a consumer written against the old schema must still read every new event.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from civreg.events import CATALOGUE

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
CIVREG_PREFIX = "kz.civreg."


def generate() -> dict[str, dict[str, Any]]:
    out = {}
    for type_name, cls in sorted(CATALOGUE.items()):
        # The kernel's registry holds every Event subclass imported in this process, tests' own types included
        # (e.g. a test-only v2 for upcasting): the committed catalogue is civil registration's.
        if not type_name.startswith(CIVREG_PREFIX):
            continue
        schema = cls.model_json_schema(mode="serialization")
        schema["$id"] = f"urn:bir-tereze:event:{type_name}"
        schema["x-topic"] = cls.TOPIC
        out[type_name] = schema
    return out


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return _resolve(root["$defs"][ref.split("/")[-1]], root)
    return schema


def _types(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    s = _resolve(schema, root)
    if "anyOf" in s:
        return set().union(*(_types(x, root) for x in s["anyOf"]))
    if "type" in s:
        return {s["type"]} if isinstance(s["type"], str) else set(s["type"])
    return {"any"}


def _members(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The members of a union that refer to a named definition, by name."""
    return {
        m["$ref"].split("/")[-1]: m
        for m in schema.get("anyOf", [])
        if isinstance(m.get("$ref"), str) and m["$ref"].startswith("#/$defs/")
    }


def incompatibilities(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """Why `new` cannot replace `old` for existing consumers: a field removed, made optional where it was
    required, its type narrowed or changed, or a new required field (old producers' events would not validate)."""
    problems: list[str] = []
    _compare(old, old, new, new, path or "$", problems)
    return problems


def _compare(
    old: dict[str, Any],
    old_root: dict[str, Any],
    new: dict[str, Any],
    new_root: dict[str, Any],
    path: str,
    problems: list[str],
) -> None:
    o, n = _resolve(old, old_root), _resolve(new, new_root)
    old_types, new_types = _types(o, old_root), _types(n, new_root)
    if "any" not in new_types and not old_types <= new_types:
        problems.append(f"{path}: type changed from {sorted(old_types)} to {sorted(new_types)}")
        return
    old_props, new_props = o.get("properties", {}), n.get("properties", {})
    old_req, new_req = set(o.get("required", [])), set(n.get("required", []))
    for name in old_props:
        if name not in new_props:
            problems.append(f"{path}.{name}: removed")
        elif name in old_req and name not in new_req:
            problems.append(f"{path}.{name}: was required, now optional (consumers rely on it)")
        else:
            _compare(old_props[name], old_root, new_props[name], new_root, f"{path}.{name}", problems)
    for name in new_req - old_req:
        if name not in old_props:
            problems.append(f"{path}.{name}: new required field")
    if "items" in o and "items" in n:
        _compare(o["items"], old_root, n["items"], new_root, f"{path}[]", problems)
    # A union (the per-service details, ADR 0018; an optional nested model): each named member still there is
    # held to the same rules.
    new_members = _members(n)
    for name, member in _members(o).items():
        if name in new_members:
            _compare(member, old_root, new_members[name], new_root, f"{path}<{name}>", problems)
    if "enum" in o and "enum" in n and not set(n["enum"]) >= set(o["enum"]):
        problems.append(f"{path}: enum values removed")


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for type_name, schema in generate().items():
        path = directory / f"{type_name}.json"
        path.write_text(
            json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )
        written.append(path)
    return written


def check(directory: Path = SCHEMA_DIR) -> list[str]:
    """Every committed schema must still be satisfied compatibly, and every event type must be committed."""
    current = generate()
    problems = []
    for path in sorted(directory.glob("*.json")):
        type_name = path.name.removesuffix(".json")
        committed = json.loads(path.read_text(encoding="utf-8"))
        if type_name not in current:
            problems.append(
                f"{type_name}: published type removed from the catalogue (add a new version instead)"
            )
            continue
        problems += [f"{type_name} {p}" for p in incompatibilities(committed, current[type_name])]
    for type_name in current:
        if not (directory / f"{type_name}.json").exists():
            problems.append(f"{type_name}: schema not committed (run `make schemas`)")
    return problems


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "write":
        for p in write():
            print(p)
    else:
        found = check()
        print("\n".join(found) or "schemas compatible")
        sys.exit(1 if found else 0)
