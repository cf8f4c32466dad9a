"""The status report: its form and validation, storing it in its period, the modal, the quick
answers (no change, skip) and late reports."""
