"""The read model: what every surface reads instead of recomputing each project per click."""
