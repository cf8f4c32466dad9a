"""PMO Bot: the product's logic (cadences, reports, digests, permissions, the tick)."""
