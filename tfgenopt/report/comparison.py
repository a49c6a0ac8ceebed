"""The headline of ``tfgenopt compare``: which model family to pick, and one verdict row per family.

A *family record* is the JSON-able dict :func:`tfgenopt.comparison.compare` writes per family into
``summary.json["families"]``: ``fid``, ``kid``, ``coverage`` (or None), ``num_classes``,
``epochs``, ``train_cpu_s``, ``sample_cpu_s_per_image``, ``evaluations_per_image``,
``sampler`` and the family's own verdict (``status``, ``verdict``). :func:`pick_family` applies
the rule; :func:`comparison_verdict` returns what the page's headline shows.
"""

from __future__ import annotations

import math

from tfgenopt.report.verdict import fmt

__all__ = ["pick_family", "comparison_verdict", "family_value", "PICK_RULE"]

PICK_RULE = ("the lowest FID among the families whose samples cover every class of the data; "
             "if none covers them all, the highest coverage (then the lowest FID); without "
             "class labels, the lowest FID")


def _finite(v):
    return v is not None and math.isfinite(v)


def pick_family(families):
    """``(name, reason)``: the family to pick by :data:`PICK_RULE`, or ``(None, reason)``.

    Example:
        >>> pick_family({"gan": {"fid": 20.0, "coverage": 0.9},
        ...              "diffusion": {"fid": 30.0, "coverage": 1.0},
        ...              "vae": {"fid": 60.0, "coverage": 1.0}})[0]
        'diffusion'
    """
    scored = {k: f for k, f in families.items() if _finite(f.get("fid"))}
    if not scored:
        return None, "no family has a finite FID (every run diverged?)"
    with_cov = {k: f for k, f in scored.items() if _finite(f.get("coverage"))}
    if not with_cov:
        name = min(scored, key=lambda k: scored[k]["fid"])
        return name, f"the lowest FID ({fmt(scored[name]['fid'])}); no class labels, no coverage"
    full = {k: f for k, f in with_cov.items() if f["coverage"] >= 1.0 - 1e-9}
    if full:
        name = min(full, key=lambda k: full[k]["fid"])
        others = sorted(set(full) - {name})
        return name, (f"the lowest FID ({fmt(full[name]['fid'])}) among the families that cover "
                      "every class" + (f" (also {', '.join(others)})" if others else
                                       " (the only one that does)"))
    name = min(with_cov, key=lambda k: (-with_cov[k]["coverage"], with_cov[k]["fid"]))
    return name, (f"no family covers every class; the highest coverage "
                  f"({_coverage(with_cov[name])})")


def _coverage(f):
    n, c = f.get("num_classes"), f.get("coverage")
    if not _finite(c):
        return "-"
    return f"{round(c * n)}/{n} classes" if n else fmt(c)


def family_value(f):
    """The numbers of one family record in one line (what its verdict row shows).

    Example:
        >>> family_value({"fid": 12.345, "kid": 0.0123, "coverage": 1.0, "num_classes": 10,
        ...               "epochs": 7, "train_cpu_s": 60.2, "sample_cpu_s_per_image": 0.0042,
        ...               "evaluations_per_image": 20})
        'FID 12.3, KID 0.0123, 10/10 classes; 7 epochs in 60.2 CPU-s; sampling 0.0042 CPU-s per image (20 network evaluations)'
    """
    parts = [f"FID {fmt(f.get('fid'))}", f"KID {fmt(f.get('kid'))}"]
    if _finite(f.get("coverage")):
        parts.append(_coverage(f))
    return (", ".join(parts) + f"; {f.get('epochs')} epochs in {fmt(f.get('train_cpu_s'))} "
            f"CPU-s; sampling {fmt(f.get('sample_cpu_s_per_image'))} CPU-s per image "
            f"({f.get('evaluations_per_image')} network evaluation"
            f"{'s' if f.get('evaluations_per_image') != 1 else ''})")


def comparison_verdict(families, budget_s, data=""):
    """The headline of a comparison: the pick as the banner, one verdict row per family.

    Returns:
        ``{"status", "title", "text", "rows": [{"label", "value", "reading"}], "pick",
        "reason"}`` (what ``tfgenopt.report.build_report`` shows for ``summary["comparison"]``).

    Example:
        >>> v = comparison_verdict({"vae": {"fid": 5.0, "kid": 0.01, "epochs": 3,
        ...                                 "train_cpu_s": 10.0, "evaluations_per_image": 1,
        ...                                 "verdict": "Healthy"}}, 10)
        >>> v["title"], v["rows"][1]["label"]
        ('Pick vae', 'vae')
    """
    pick, reason = pick_family(families)
    rows = [{"label": "budget", "value": f"{fmt(budget_s)} CPU-s of training per family",
             "reading": "process CPU time (every core), checked between epochs; quality is "
                        "measured on the same extractor and sample count for every family"}]
    for name, f in families.items():
        reading = f"{f.get('verdict') or ''}: {f.get('verdict_text') or ''}".strip(": ")
        if f.get("sampler"):
            reading += f" Sampler {f['sampler']}."
        rows.append({"label": name, "value": family_value(f), "reading": reading, "key": name})
    if pick is None:
        return {"status": "bad", "title": "No pick", "text": f"No family to pick: {reason}.",
                "rows": rows, "pick": None, "reason": reason}
    return {"status": "good", "title": f"Pick {pick}",
            "text": f"For {data or 'this data'} at {fmt(budget_s)} CPU-s each: {reason}.",
            "rows": rows, "pick": pick, "reason": reason}
