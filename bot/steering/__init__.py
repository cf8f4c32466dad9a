"""The steering pack: the portfolio as an Excel workbook for a steering committee (issue 14)."""
