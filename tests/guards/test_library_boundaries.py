"""The three libraries under `shared/` keep their direction (ADR 0020): the kernel (`btkernel`) knows no service
and no civil-registration concept, so importing every one of its modules loads nothing of `civreg`; the working
calendar (`workcal`) is generic and loads neither. Each check runs in a fresh interpreter, so what another test
imported cannot hide a dependency."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import btkernel
import workcal

_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("btkernel", "workcal", "civreg"))))
"""


def _all_modules(package: object) -> list[str]:
    name = package.__name__  # type: ignore[attr-defined]
    path = package.__path__  # type: ignore[attr-defined]
    return [name] + [m.name for m in pkgutil.walk_packages(path, prefix=name + ".")]


def _loaded_after_importing(modules: list[str]) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(out.stdout))


def test_every_kernel_module_imports_without_civil_registration() -> None:
    modules = _all_modules(btkernel)
    # The probe must really have walked the kernel, down to its I/O modules and the composition root.
    assert {"btkernel.service", "btkernel.access", "btkernel.consumer", "btkernel.events.base"} <= set(
        modules
    )
    loaded = _loaded_after_importing(modules)
    assert "btkernel.service" in loaded
    assert not {m for m in loaded if m.split(".")[0] == "civreg"}


def test_the_working_calendar_imports_neither_the_kernel_nor_civil_registration() -> None:
    modules = _all_modules(workcal)
    assert "workcal.durations" in modules
    loaded = _loaded_after_importing(modules)
    assert "workcal.durations" in loaded
    assert {m.split(".")[0] for m in loaded} == {"workcal"}


@pytest.mark.parametrize("library", ["btkernel", "workcal"])
def test_the_probe_sees_a_dependency_when_there_is_one(library: str) -> None:
    # civreg stands on both: the same probe reports them, so an empty answer above is not the probe's blindness.
    loaded = _loaded_after_importing(["civreg.events", "civreg.terms"])
    assert library in {m.split(".")[0] for m in loaded}
