"""Metrics of the continuous-improvement report (issue 8): pure polars, one module per subject."""
