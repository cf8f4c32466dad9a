"""Answers to `/pmo` questions: forgiving matching of what people type, and the views the
lookups show (status, lists, risks, blockers, history, what a PM owes)."""
