"""The portfolio digest leadership reads: its model, how it is composed and loaded, the
consistency flags, the chart, and the messages it becomes."""
