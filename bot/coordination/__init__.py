"""Coordination across projects (issue 16): dependencies, and when they are at risk."""
