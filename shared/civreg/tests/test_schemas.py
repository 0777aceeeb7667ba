"""Published event schemas may only change compatibly; the committed schemas match the catalogue."""

import copy

from civreg import schemas


def test_committed_schemas_are_compatible_with_the_catalogue() -> None:
    assert schemas.check() == []


def _schema() -> dict:
    return copy.deepcopy(schemas.generate()["kz.civreg.application.submitted.v1"])


def test_removing_a_field_is_incompatible() -> None:
    old, new = _schema(), _schema()
    del new["properties"]["centre_id"]
    assert any("centre_id: removed" in p for p in schemas.incompatibilities(old, new))


def test_changing_a_type_is_incompatible() -> None:
    old, new = _schema(), _schema()
    new["properties"]["centre_id"] = {"type": "integer"}
    assert any("type changed" in p for p in schemas.incompatibilities(old, new))


def test_a_new_required_field_is_incompatible_but_an_optional_one_is_fine() -> None:
    old, new = _schema(), _schema()
    new["properties"]["extra"] = {"type": "string"}
    assert schemas.incompatibilities(old, new) == []
    new["required"] = [*new["required"], "extra"]
    assert any("extra: new required field" in p for p in schemas.incompatibilities(old, new))


def test_nested_changes_are_found_through_refs() -> None:
    old, new = _schema(), _schema()
    receipt = new["$defs"]["Receipt"]
    del receipt["properties"]["number"]
    assert any("receipt.number: removed" in p for p in schemas.incompatibilities(old, new))
