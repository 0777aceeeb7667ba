"""Printable documents of an application (issue 11): the receipt (S004 p.9(2)), the refusal receipt (services.md
§3.3) and the registry desk's registration mark (S004 p.9(1); S002/App.1 p.10) as PDF in Russian and Kazakh, each
with a QR code leading to the public verification page (docs/adr/0033-printable-documents.md).

`settings` (what a deployment configures), `codes` (the unguessable verification code), `fonts` (the TTF that
carries the Kazakh letters, loaded at start), `layout` (which fields a document prints, in which language),
`pdf` (the fields drawn on A4 with the QR), `verification` (what anyone may learn from a code), `use_cases` (the
reads, with the same site scoping as reading the application).
"""
