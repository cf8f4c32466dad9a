"""Prioritisation (issue 15): scoring the projects for a ranked portfolio."""
