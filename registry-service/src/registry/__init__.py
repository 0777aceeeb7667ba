"""Registry service: registry-office cases, civil-status records, review deadlines, worklists."""
