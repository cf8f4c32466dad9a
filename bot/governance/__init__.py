"""Governance: what leadership is asked to decide, and what it decided (issue 13)."""
