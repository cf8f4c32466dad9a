"""People and their load (issue 15): who is over-allocated, month by month."""
