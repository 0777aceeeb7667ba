"""The verification page speaks the languages intake names for the document (ADR 0039): ru and ky for a Kyrgyz
centre's, ru and kk otherwise and for an answer from before intake named them."""

from __future__ import annotations

from gateway import verify

FOUND = {
    "title": {"ru": "Расписка о приёме документов", "ky": "Документтерди кабыл алуу тууралуу тил кат"},
    "number": "KG-1",
    "issued_at": "2026-03-02T23:30:00+06:00",
    "issuing_site": {"name": {"ru": "Белек", "ky": "Белек айылы"}},
    "status_name": {"ru": "Документы приняты", "ky": "Документтер кабыл алынды"},
}


def test_a_kyrgyz_document_is_verified_in_russian_and_kyrgyz() -> None:
    langs = verify._languages({**FOUND, "languages": ["ru", "ky"]})
    assert langs == ("ru", "ky")
    page = verify._page(200, {lang: verify._facts(FOUND, lang) for lang in langs}).body.decode()
    assert '<section lang="ky">' in page
    assert "Документти текшерүү" in page
    assert "Документтер кабыл алынды" in page
    assert "02.03.2026 23:30" in page
    assert '<section lang="kk">' not in page


def test_an_answer_without_languages_or_with_unknown_ones_is_russian_and_kazakh() -> None:
    assert verify._languages(FOUND) == ("ru", "kk")
    assert verify._languages({**FOUND, "languages": ["xx"]}) == ("ru", "kk")
