"""tfgenopt.report: summary.json and the self-contained HTML report."""

import json

import numpy as np
import pytest

from tfgenopt.plotting import plot_image_grid, save_figure
from tfgenopt.report import build_report, read_summary, write_summary


def test_summary_converts_numpy_values_and_nan(tmp_path):
    write_summary(tmp_path, {"a": np.float32(1.5), "b": np.arange(3), "c": float("nan")})
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data == {"a": 1.5, "b": [0, 1, 2], "c": None}


def test_report_embeds_every_listed_figure(tmp_path):
    save_figure(plot_image_grid(np.random.rand(4, 8, 8, 1)), tmp_path / "grid.png")
    write_summary(tmp_path, {"sections": [
        {"title": "Samples", "text": "four digits", "figures": ["grid.png"],
         "table": [{"metric": "fid", "value": 1.25}]}], "stop_reason": "patience"})
    html = (tmp_path / "report.html")
    build_report(tmp_path)
    text = html.read_text()
    assert text.count("data:image/png;base64,") == 1
    assert "<td>1.25</td>" in text and "stop_reason" in text


def test_missing_summary_names_the_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="summary.json"):
        read_summary(tmp_path)
