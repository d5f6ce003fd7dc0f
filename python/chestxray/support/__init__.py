"""Shared support, below every layer: atomic writes, console lines and progress bars,
strict file reading, and the two tables R and Python both read (the findings,
findings.csv; the report's parameters, report_params.yml)."""
