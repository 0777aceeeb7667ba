"""The shape of issue 8 held by a test: the domain does no I/O and reads no clock; use cases import no web
framework, no driver and nothing of the API; SQL lives in the adapters only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "intake"
IO = {"asyncpg", "fastapi", "starlette", "aiokafka", "httpx"}
# Kernel modules that are I/O or the edge's: the domain reaches time and storage only through its callers.
EDGE = {"btkernel.clock", "btkernel.eventstore", "btkernel.problems", "btkernel.db", "btkernel.service"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _modules(layer: str) -> list[Path]:
    return sorted((SRC / layer).glob("*.py"))


def _roots(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


@pytest.mark.parametrize("path", _modules("domain"), ids=lambda p: p.name)
def test_the_domain_does_no_io_and_reads_no_clock(path: Path) -> None:
    names = _imports(path)
    assert not _roots(names) & IO
    assert not names & EDGE
    assert not {n for n in names if n.startswith(("intake.app", "intake.adapters", "intake.api"))}


@pytest.mark.parametrize("path", _modules("app"), ids=lambda p: p.name)
def test_use_cases_know_no_driver_framework_or_api(path: Path) -> None:
    names = _imports(path)
    assert not _roots(names) & IO
    assert not {n for n in names if n.startswith(("intake.api", "intake.adapters", "btkernel.problems"))}


@pytest.mark.parametrize(
    "path", [*_modules("api"), *_modules("app"), *_modules("domain")], ids=lambda p: p.name
)
def test_sql_is_written_only_in_the_adapters(path: Path) -> None:
    text = path.read_text()
    assert not any(verb in text for verb in ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM")), path.name
