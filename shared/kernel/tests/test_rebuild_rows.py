"""`btkernel.rebuild_rows.json_text`: JSON's own types encoded as the connections' codec encodes them (up to
spacing), and a column that mixes encoded and unencoded values refused (issue 13 P3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from btkernel.rebuild_rows import JsonText, _encoded, json_text

CONTENT: dict[str, Any] = {
    "record_id": "rec-1",
    "child_name": {"surname": "Ахметов", "first_name": "Әлихан", "patronymic": None},
    "parent_iins": ["900101400123", "880202300456"],
    "seq": 12,
    "share": 0.5,
    "annulled": False,
    "quote": 'a "quoted" \\ path\n',
}


def test_json_text_is_the_codecs_json_up_to_spacing() -> None:
    text = json_text(CONTENT)
    assert isinstance(text, JsonText)
    assert json.loads(text) == json.loads(json.dumps(CONTENT, ensure_ascii=False, default=str)) == CONTENT


def test_a_column_is_encoded_when_all_its_values_are_and_refused_when_mixed() -> None:
    assert _encoded([("a", json_text({})), ("b", None)], 1)
    assert not _encoded([("a", {}), ("b", None)], 1)
    with pytest.raises(ValueError, match="mixes"):
        _encoded([("a", json_text({})), ("b", {"x": 1})], 1)
