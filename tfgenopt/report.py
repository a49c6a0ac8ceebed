"""A run directory's report: ``summary.json`` plus PNG figures -> one ``report.html``.

The HTML embeds every figure as a base64 PNG, so the file is self-contained (it can be mailed
or opened from a notebook); the PNGs stay beside it for people who want them one by one.
"""

from __future__ import annotations

import base64
import html
import json
import os

from tfgenopt._io import atomic_write_json, atomic_write_text

__all__ = ["write_summary", "read_summary", "build_report"]


def _jsonable(value):
    """Convert NumPy scalars/arrays and tuples inside ``value`` into plain JSON types."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def write_summary(run_dir, summary):
    """Write ``summary`` (a dict) as ``run_dir/summary.json`` and return its path.

    Example:
        >>> write_summary("run", {"stop_reason": "patience"})
        'run/summary.json'
    """
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, "summary.json")
    return atomic_write_json(path, _jsonable(summary), indent=2, sort_keys=True)


def read_summary(run_dir):
    """Read ``run_dir/summary.json``; a missing file raises ``FileNotFoundError`` naming it."""
    path = os.path.join(run_dir, "summary.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"`run_dir` {run_dir!r} has no summary.json; is it a run directory?")
    with open(path, encoding="utf-8") as fh:
        try:
            summary = json.load(fh)
        except ValueError as exc:  # truncated or hand-edited: name the file, not just a column
            raise ValueError(f"{path!r} is not valid JSON: {exc}") from None
    if not isinstance(summary, dict):
        raise ValueError(f"{path!r} must hold a JSON object; received {type(summary).__name__}.")
    return summary


def _img(path, alt):
    with open(path, "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    return (f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(alt)}</figcaption></figure>")


def _table(rows):
    if not rows:
        return ""
    keys = list(rows[0])
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(k)))}</td>" for k in keys) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
figure{display:inline-block;margin:.5em;vertical-align:top}img{max-width:520px}
figcaption{font-size:.8em;color:#555}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.2em .6em;font-size:.9em}pre{background:#f5f5f5;padding:.5em}"""


def build_report(run_dir, title="tfgenopt report"):
    """Rebuild ``run_dir/report.html`` from ``summary.json`` and the PNGs listed in it.

    ``summary["sections"]`` is a list of ``{"title", "text", "figures": [relative PNG paths],
    "table": [row dicts]}``; anything else in the summary is shown as JSON at the end.

    Returns:
        The path of the report.

    Example:
        Not run as a doctest: it needs the run directory of ``tfgenopt demo`` (a few minutes).

        >>> build_report("runs/demo")  # doctest: +SKIP
        'runs/demo/report.html'
    """
    summary = read_summary(run_dir)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    for section in summary.get("sections", []):
        parts.append(f"<h2>{html.escape(section.get('title', ''))}</h2>")
        if section.get("text"):
            parts.append(f"<p>{html.escape(section['text'])}</p>")
        parts.append(_table(section.get("table") or []))
        for rel in section.get("figures", []):
            path = os.path.join(run_dir, rel)
            if os.path.exists(path):
                parts.append(_img(path, rel))
            else:
                parts.append(f"<p>missing figure: {html.escape(rel)}</p>")
    rest = {k: v for k, v in summary.items() if k != "sections"}
    parts.append("<h2>summary.json</h2><pre>"
                 + html.escape(json.dumps(rest, indent=2, sort_keys=True)) + "</pre>")
    parts.append("</body></html>")
    return atomic_write_text(os.path.join(run_dir, "report.html"), "\n".join(parts))
