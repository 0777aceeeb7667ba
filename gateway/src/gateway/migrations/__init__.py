"""SQL migrations of the gateway's own database (bt_gateway), applied at start by btkernel.db.migrate."""
