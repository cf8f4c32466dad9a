"""Money and schedule in numbers (issue 14): earned value from the weekly report."""
