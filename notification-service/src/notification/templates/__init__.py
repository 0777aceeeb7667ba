"""Jinja2 templates of the applicant-facing messages (a package so the .j2 files ship with it)."""
