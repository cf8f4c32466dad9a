"""`/pmo` verbs: see bot/verbs.py (filled in by its feature)."""
