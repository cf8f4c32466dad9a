"""Jinja2 templates producing Block Kit, one folder per language."""
