"""The portfolio: its file (parse, validate, import, export), administration in Slack (add,
edit, close, grant) with its audit, and the archive of a closed project."""
