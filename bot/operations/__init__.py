"""Running PMO Bot as a service: whether a process is alive and ready (health)."""
