"""Reporting periods: cadences read in a person's timezone, the current period of a project at
an instant, and this period's state (the one rule every surface asks)."""
