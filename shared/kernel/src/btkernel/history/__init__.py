"""The tamper-evident history of a service's database (docs/adr/0030-tamper-evident-history.md): the hash chain
of every stream (`chain`), the ledger and its signed seals (`ledger`), `verify`, the audit of personal-data reads
(`audit`) and the background work of a running service (`monitor`). `python -m btkernel.history verify`."""

from __future__ import annotations

# Tables no service role may change or delete from: only INSERT and SELECT are granted (btdeploy.postgres).
APPEND_ONLY_TABLES = ("events", "history_journal", "history_ledger", "history_seals")
