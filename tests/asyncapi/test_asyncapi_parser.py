"""The partner AsyncAPI document is valid for the official AsyncAPI parser (@asyncapi/parser, pinned in this
folder's package-lock.json and run by validate.mjs), and the parser does catch a broken document."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civreg.partners import asyncapi

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "validate.mjs"


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the pinned parser installed (`npm ci` from the lock when node_modules is missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node, "Node.js is needed to run the official AsyncAPI parser"
    assert npm, "npm is needed to install the official AsyncAPI parser"
    if not (HERE / "node_modules" / "@asyncapi" / "parser").is_dir():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return node


def _validate(node: str, *files: Path) -> tuple[int, list[dict[str, Any]], str]:
    done = subprocess.run(
        [node, str(SCRIPT), *map(str, files)], cwd=HERE, capture_output=True, text=True, timeout=300
    )
    diagnostics = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, diagnostics, done.stderr


def _errors(diagnostics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in diagnostics if d["severity"] == "Error"]


def test_the_committed_and_the_generated_document_are_valid(node: str, tmp_path: Path) -> None:
    generated = tmp_path / "generated.yaml"
    generated.write_text(asyncapi.to_yaml(asyncapi.generate()), encoding="utf-8")
    as_json = tmp_path / "generated.json"  # what the gateway serves at /partners/asyncapi.json
    as_json.write_text(asyncapi.to_json(asyncapi.generate()), encoding="utf-8")

    code, diagnostics, stderr = _validate(node, asyncapi.DOCUMENT, generated, as_json)

    assert code == 0, stderr + json.dumps(_errors(diagnostics), indent=2, ensure_ascii=False)
    assert _errors(diagnostics) == []
    # Warnings would be things a partner engineer trips over (an unused component, a missing description).
    assert [d for d in diagnostics if d["severity"] == "Warning"] == []


def _bad_action(doc: dict[str, Any]) -> None:
    next(iter(doc["operations"].values()))["action"] = "consume"  # AsyncAPI 3 knows send and receive


def _dangling_channel(doc: dict[str, Any]) -> None:
    next(iter(doc["operations"].values()))["channel"] = {"$ref": "#/channels/no-such-agency"}


def _payload_not_a_schema(doc: dict[str, Any]) -> None:
    next(iter(doc["components"]["messages"].values()))["payload"]["type"] = "record"


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_bad_action, "action"),
        (_dangling_channel, "no-such-agency"),
        (_payload_not_a_schema, "payload"),
    ],
)
def test_the_parser_refuses_a_broken_document(
    node: str, tmp_path: Path, breakage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    doc = copy.deepcopy(asyncapi.generate())
    breakage(doc)
    broken = tmp_path / "broken.yaml"
    broken.write_text(asyncapi.to_yaml(doc), encoding="utf-8")

    code, diagnostics, stderr = _validate(node, broken)

    assert code == 1, stderr
    found = " ".join(f"{d['path']} {d['message']}" for d in _errors(diagnostics))
    assert expected in found, found
