"""Reference data of the fee service (a package so the YAML ships with it), read once per process."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from fees.domain.mrp import MrpTable


@cache
def mrp_table() -> MrpTable:
    """The shipped MRP table (`mrp.yaml`)."""
    text = resources.files(__name__).joinpath("mrp.yaml").read_text(encoding="utf-8")
    return MrpTable.model_validate(yaml.safe_load(text))
