"""Who may see or change what, and who is a PMO admin: checked on the server for every action."""
