"""Slack action and callback ids, shared by what renders a surface and what handles it."""

OPEN_REPORT = "prompt.open_report"  # button on a prompt DM: opens the status modal
SUBMIT_REPORT = "report.submit"  # callback_id of the status modal
