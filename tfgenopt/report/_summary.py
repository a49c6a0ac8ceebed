"""``summary.json``: the raw numbers of a run directory, written atomically, read clearly."""

from __future__ import annotations

import json
import os

from tfgenopt._io import atomic_write_json

__all__ = ["write_summary", "read_summary", "write_history"]


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
    return atomic_write_json(path, _jsonable(summary), indent=2)  # key order = table column order


def write_history(run_dir, history):
    """Write a Keras ``History.history`` dict as ``run_dir/history.json``; return what was written.

    NumPy values become plain JSON numbers and NaN becomes ``null``; the write is atomic.

    Args:
        run_dir: the run directory (it must exist).
        history: ``{key: [value per epoch]}``, e.g. ``model.fit(...).history``.

    Returns:
        The JSON-safe dict (what ``plotting.plot_history`` can draw).

    Example:
        >>> import numpy as np, tempfile
        >>> write_history(tempfile.mkdtemp(), {"loss": [np.float32(0.5), float("nan")]})
        {'loss': [0.5, None]}
    """
    whole = _jsonable(history)
    atomic_write_json(os.path.join(run_dir, "history.json"), whole, indent=2)
    return whole


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
