"""Slack action and callback ids, shared by what renders a surface and what handles it."""

OPEN_REPORT = "prompt.open_report"  # button on a prompt DM: opens the status modal
SUBMIT_REPORT = "report.submit"  # callback_id of the status modal
NO_CHANGE = "prompt.no_change"  # button on a prompt DM: opens the "No change" confirmation
SKIP_PERIOD = "prompt.skip_period"  # button on a prompt DM: opens the "Skip this period" modal
CONFIRM_NO_CHANGE = "no_change.confirm"  # callback_id of the "No change" confirmation modal
SUBMIT_SKIP = "skip.submit"  # callback_id of the "Skip this period" modal
