"""Slack action and callback ids, shared by what renders a surface and what handles it."""

OPEN_REPORT = "prompt.open_report"  # button on a prompt DM: opens the status modal
SUBMIT_REPORT = "report.submit"  # callback_id of the status modal
NO_CHANGE = "prompt.no_change"  # button on a prompt DM: opens the "No change" confirmation
SKIP_PERIOD = "prompt.skip_period"  # button on a prompt DM: opens the "Skip this period" modal
CONFIRM_NO_CHANGE = "no_change.confirm"  # callback_id of the "No change" confirmation modal
SUBMIT_SKIP = "skip.submit"  # callback_id of the "Skip this period" modal
HOME_OPEN_REPORT = "home.open_report"  # App Home button: opens the status modal (value: project id)
HOME_REMIND = "home.remind"  # App Home button for admins: reminds the PM (value: project id)
HOME_SUBMIT_REPORT = "home.report.submit"  # callback_id of a status modal opened from Home or /pmo
PROJECT_SAVE = "project.save"  # callback_id of the add/edit project modal (/pmo project add|edit)
PROJECT_CLOSE = "project.close"  # callback_id of the closing modal (/pmo project close KEY)
DECIDE = "decision.open"  # Decide… button on an ask (digest, /pmo status): value the decision id
SUBMIT_DECISION = "decision.submit"  # callback_id of the decision modal
ACTION_DONE = "action.done"  # Done button on an action (DM, App Home): value the action id
# "Add as a blocker" button on a dependency's DM: value "<downstream project id>:<subject>"
DEPENDENCY_BLOCKER = "dependency.blocker"
# Stage gates and change requests (issue 17)
GATE_SUBMIT = "stage.gate.submit"  # callback_id of /pmo gate's checklist modal
CHANGE_SUBMIT = "stage.change.submit"  # callback_id of /pmo change's modal
# The buttons of an approver's DM (value: the request id), each opening the decision modal
STAGE_APPROVE = "stage.approve"
STAGE_APPROVE_WITH_CONDITIONS = "stage.approve_with_conditions"
STAGE_REJECT = "stage.reject"
STAGE_WITHDRAW = "stage.withdraw"  # the asker's side withdraws a request still waiting
STAGE_DECIDE_SUBMIT = "stage.decide.submit"  # callback_id of an approver's decision modal
