"""A run directory's report: ``summary.json`` plus PNG figures -> one ``report.html``.

The page opens with the verdict of the run (:func:`verdict` of a :func:`run_record`), then the
sections with their figures embedded as base64 PNG, so the file is self-contained (it can be
mailed or opened from a notebook); the PNGs stay beside it, and ``summary.json`` holds the raw
numbers.
"""

from tfgenopt.report._summary import read_summary, write_history, write_summary
from tfgenopt.report.describe import describe_data, describe_model, describe_recipe
from tfgenopt.report.html import build_report, write_report
from tfgenopt.report.run import sample_diversity_ratio, write_training_report
from tfgenopt.report.verdict import fmt, run_record, verdict

__all__ = ["write_summary", "read_summary", "build_report", "write_report", "run_record",
           "verdict", "fmt", "describe_model", "describe_recipe", "describe_data",
           "sample_diversity_ratio", "write_training_report", "write_history"]
