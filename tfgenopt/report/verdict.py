"""The headline of a run: what was trained, how it ended, and the verdict numbers with a reading.

A *run record* (:func:`run_record`) is the small JSON-able dict every report starts from: the
model and recipe in one line, the data, the wall time, the epochs and why they stopped, the
restored epoch and the per-epoch curves. :func:`verdict` reads it and returns the status
(healthy, still improving, collapsed, diverged...) and one row per verdict number, each with a
one-line reading. It works on any data: the class count, image shape and metric keys come from
the record, and metrics that were not measured are left out.
"""

from __future__ import annotations

import math

__all__ = ["run_record", "verdict", "fmt"]

# The quality keys a headline shows, in order, with their direction of improvement.
QUALITY = (("val_coverage", "max", "coverage"), ("val_fid", "min", "FID"),
           ("val_kid", "min", "KID"), ("val_precision", "max", "precision"),
           ("val_recall", "max", "recall"))
LOSS_KEYS = ("d_loss", "g_loss", "loss", "val_loss")
# Samples whose pixel diversity is below this share of the data's are called collapsed.
COLLAPSE_DIVERSITY = 0.05


def fmt(value, digits=3):
    """``value`` rounded to ``digits`` significant digits for a person (None -> ``"-"``).

    Example:
        >>> fmt(0.28651562789827023), fmt(265.71), fmt(1234.5), fmt(7.4e-05), fmt(3)
        ('0.287', '266', '1234', '7.4e-05', '3')
    """
    if value is None:
        return "-"
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    value = float(value)
    if not math.isfinite(value):
        return "NaN" if value != value else ("inf" if value > 0 else "-inf")
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.{max(digits - 1, 1)}g}"
    if abs(value) >= 10 ** digits:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def _finite(v):
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def run_record(history, *, model, recipe="", data="", wall_s=None, epochs=None, stop_reason=None,
               restored_epoch=None, monitor=None, num_classes=None, diversity=None,
               rarest_classes=None):
    """The run record a report's headline is built from (plain JSON types only).

    Args:
        history: ``{key: [value per epoch]}`` (a ``keras.callbacks.History`` works too).
        model: the model in a few words (``"GAN: dense generator 100->784, dense critic"``).
        recipe: the training recipe in a few words (optimizers, penalties...).
        data: the data in a few words (name, counts, image shape, classes).
        wall_s: wall-clock seconds of the training.
        epochs: the epoch budget.
        stop_reason: why training stopped (None: the budget ran out).
        restored_epoch: the epoch (from 1) whose weights were restored at the end, or None.
        monitor: the key early stopping watched.
        num_classes: the data's class count (shows coverage as "k/n classes").
        diversity: pixel diversity of generated samples divided by the data's (1: as varied
            as the data, 0: one repeated image), or None.
        rarest_classes: the classes rarest in the data with their shares at the last
            measurement, ``[{"class": name, "share", "data_share", "covered"}]`` (as
            ``QualityMonitor.class_shares`` holds them, class indices or names), or None.

    Returns:
        A dict for :func:`verdict` and ``summary.json``.

    Example:
        >>> run = run_record({"loss": [1.0, 0.5]}, model="autoencoder", epochs=2)
        >>> run["epochs_run"], run["stop_reason"]
        (2, 'budget: completed 2 epochs')
    """
    history = dict(getattr(history, "history", history))
    curves = {}
    for key, values in history.items():
        try:
            curves[key] = [None if v is None or not math.isfinite(float(v)) else float(v)
                           for v in values]
        except (TypeError, ValueError):  # non-numeric logs (arrays, strings) are not curves
            continue
    epochs_run = max((len(v) for v in curves.values()), default=0)
    return {"model": str(model), "recipe": str(recipe), "data": str(data),
            "wall_s": None if wall_s is None else round(float(wall_s), 1),
            "epochs": epochs_run if epochs is None else int(epochs), "epochs_run": epochs_run,
            "stop_reason": stop_reason or f"budget: completed {epochs_run} epochs",
            "restored_epoch": None if restored_epoch is None else int(restored_epoch),
            "monitor": monitor, "num_classes": None if num_classes is None else int(num_classes),
            "diversity": None if diversity is None else float(diversity),
            "rarest_classes": None if rarest_classes is None else [
                {"class": str(r["class"]), "share": float(r["share"]),
                 "data_share": float(r["data_share"]), "covered": bool(r["covered"])}
                for r in rarest_classes],
            "curves": curves}


def _best(values, mode):
    """``(index, value)`` of the best finite value (first occurrence), or None."""
    pts = [(i, v) for i, v in enumerate(values) if _finite(v)]
    if not pts:
        return None
    pick = min if mode == "min" else max
    value = pick(v for _, v in pts)
    return next(p for p in pts if p[1] == value)


def _first_nonfinite(run):
    for key in LOSS_KEYS:
        for i, v in enumerate(run["curves"].get(key, [])):
            if v is None:
                return key, i + 1
    return None


def _coverage_text(value, n):
    return f"{round(value * n)}/{n} classes" if n else f"{fmt(value)}"


def _quality_rows(run):
    rows, facts = [], {}
    last_epoch = run["epochs_run"]
    n = run.get("num_classes")
    for key, mode, label in QUALITY:
        values = run["curves"].get(key)
        best = _best(values or [], mode)
        if best is None:
            continue
        first = next(v for v in values if _finite(v))
        last = next(v for v in reversed(values) if _finite(v))
        i, b = best
        facts[key] = {"first": first, "best": b, "best_epoch": i + 1, "last": last}
        if key == "val_coverage":
            value = f"{_coverage_text(last, n)} (best {_coverage_text(b, n)}, epoch {i + 1})"
            missing = round((1 - last) * n) if n else None
            if last >= 0.999:
                reading = "every class of the data appears among the samples"
            elif missing is not None:
                reading = (f"{missing} of {n} classes never appear among the samples: "
                           + ("the generator has not learned most of the data yet"
                              if last <= 0.5 else "missing modes (or not learned yet)"))
            else:
                reading = "some classes of the data never appear among the samples"
        else:
            value = f"{fmt(first)} → {fmt(b)} (best, epoch {i + 1})"
            if last != b:
                value += f", last {fmt(last)}"
            improving = (i + 1 == last_epoch or last == b) and b != first
            if improving and run["stop_reason"].startswith("budget"):
                reading = "still improving at the last epoch: more epochs would help"
            elif b == first:
                reading = "never better than at the first measurement"
            elif improving:
                reading = "improving until the end"
            else:
                reading = f"best at epoch {i + 1}, not better after it"
        rows.append({"label": label, "value": value, "reading": reading, "key": key})
    return rows, facts


def verdict(run):
    """The status and the verdict rows of a run record (see :func:`run_record`).

    Returns:
        ``{"status": "good" | "warn" | "bad", "title": "Healthy" | "Still improving" |
        "Not there yet" | "Collapsed" | "Diverged" | ..., "text": one sentence,
        "rows": [{"label", "value", "reading"}]}``.

    Example:
        >>> run = run_record({"g_loss": [1.0, float("nan")]}, model="GAN")
        >>> v = verdict(run)
        >>> v["status"], v["title"]
        ('bad', 'Diverged')
    """
    rows = []
    wall = run.get("wall_s")
    epochs_text = f"{run['epochs_run']} of {run['epochs']} epochs"
    if wall is not None:
        epochs_text += f" in {_duration(wall)}"
    stop = run["stop_reason"]
    rows.append({"label": "trained", "value": epochs_text, "reading": _stop_reading(stop)})
    quality, facts = _quality_rows(run)
    if not quality:  # no sample-quality metric: the validation loss is the verdict number
        for key in ("val_loss", "val_g_loss", "loss"):
            best = _best(run["curves"].get(key) or [], "min")
            if best:
                values = run["curves"][key]
                first = next(v for v in values if _finite(v))
                quality.append({"label": key, "value": f"{fmt(first)} → {fmt(best[1])} "
                                f"(best, epoch {best[0] + 1})",
                                "reading": "lower is better", "key": key})
                break
    rows += quality
    rare = run.get("rarest_classes")
    if rare:
        missing = [r["class"] for r in rare if not r["covered"]]
        rows.append({"label": "rarest classes", "value": ", ".join(
            f"{r['class']} {r['share']:.1%} (data {r['data_share']:.1%})" for r in rare),
            "reading": "share of the samples (and of the data) of the data's rarest classes: "
            + (f"{', '.join(missing)} not covered, too rare among the samples" if missing
               else "each is covered"), "key": "rarest_classes"})
    div = run.get("diversity")
    if div is not None:
        rows.append({"label": "diversity", "value": f"{div:.2f} × the data's",
                     "reading": "pixel spread across samples relative to the data's: " + (
                         "nearly identical samples, mode collapse" if div < COLLAPSE_DIVERSITY
                         else "much less varied than the data (noise-like or few modes)"
                         if div < 0.3 else "less varied than the data" if div < 0.7
                         else "about as varied as the data")})
    restored = run.get("restored_epoch")
    rows.append({"label": "restored", "value": "-" if restored is None else f"epoch {restored}",
                 "reading": "the final weights are the last epoch's" if restored is None else
                 (f"weights of the best {run.get('monitor') or 'monitored'} epoch were put back"
                  if restored != run["epochs_run"] else "the best epoch was the last one")})
    status, title, text = _status(run, facts)
    return {"status": status, "title": title, "text": text, "rows": rows}


def _duration(seconds):
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _stop_reading(stop):
    low = stop.lower()
    if low.startswith("budget"):
        return "the epoch budget ran out (early stopping did not fire)"
    if "diverg" in low or "non-finite" in low:
        return "stopped because training diverged"
    if "collapse" in low:
        return "stopped because the generator collapsed"
    return f"stopped early: {stop}"


def _status(run, facts):
    stop = run["stop_reason"].lower()
    bad = _first_nonfinite(run)
    if bad or "diverg" in stop or "non-finite" in stop:
        where = f"{bad[0]} became NaN/inf at epoch {bad[1]}" if bad else run["stop_reason"]
        return "bad", "Diverged", f"Training diverged: {where}. Lower the learning rates."
    div = run.get("diversity")
    cov = facts.get("val_coverage")
    n = run.get("num_classes")
    if "collapse" in stop or (div is not None and div < COLLAPSE_DIVERSITY):
        why = [f"sample diversity {div:.2f} of the data's"] if div is not None else []
        if cov:
            why.append(f"{_coverage_text(cov['last'], n)} covered")
        return "bad", "Collapsed", ("The generator collapsed: " + ", ".join(why or [stop])
                                   + ". Its samples are (nearly) one image.")
    if cov and cov["best"] >= 0.8 and cov["last"] <= 0.5 * cov["best"]:
        return "bad", "Collapsed", (f"Coverage fell from {_coverage_text(cov['best'], n)} "
                                   f"(epoch {cov['best_epoch']}) to "
                                   f"{_coverage_text(cov['last'], n)}: mode collapse.")
    main = facts.get("val_kid") or facts.get("val_fid")
    improving = bool(main) and main["best_epoch"] == run["epochs_run"] and \
        main["best"] != main["first"] and stop.startswith("budget")
    if cov and cov["last"] < 0.8:
        return "warn", "Not there yet", (
            f"Only {_coverage_text(cov['last'], n)} covered after {run['epochs_run']} epochs"
            + ("; quality is still improving: train longer." if improving else "."))
    if improving:
        return "warn", "Still improving", "Quality was still improving at the last epoch: " \
            "more epochs would help."
    if main or cov:
        return "good", "Healthy", "The samples cover the data and quality has levelled off."
    return "good", "Finished", "Training finished without divergence."
