"""The metric sanity suite: does an extractor's FID / KID see damage done to real images?

An extractor is worth trusting on a data set only if its distances grow as real images are made
worse. :func:`check_extractor` splits the real images into two halves: a reference half and a
test half that is damaged step by step (Gaussian pixel noise, Gaussian blur, dropping classes),
and measures FID and KID of each damaged test half against the reference. A check passes when
both metrics increase at every step (KID within its standard error, since near 0 the unbiased
estimator scatters around the true value) *and* the worst damage moves FID well above the
undamaged real-vs-real value (``min_ratio`` times it: the step must stand out of the split's
own noise); the result holds the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tfgenopt._validation import check_array, check_float, check_int
from tfgenopt.evaluation import extractors
from tfgenopt.evaluation.domain import _prepare
from tfgenopt.evaluation.fid import fid
from tfgenopt.evaluation.kid import kid

__all__ = ["check_extractor", "ExtractorCheck"]

NOISE = (0.0, 0.05, 0.1, 0.2)
BLUR = (0.0, 0.5, 1.0, 2.0)
DROP = (0, 1, 3, 5)


@dataclass
class ExtractorCheck:
    """The result of :func:`check_extractor`: ``passed``, the ``rows`` and each check's verdict.

    ``rows`` is a list of dicts ``{"check", "level", "fid", "kid", "kid_se"}`` (``kid_se``: the
    standard error of KID over its subsets); ``checks`` maps
    ``"noise"``, ``"blur"``, ``"drop_classes"`` to True (monotone), False, or None (skipped:
    no labels). ``str()`` gives a Markdown table.
    """

    rows: list = field(default_factory=list)
    checks: dict = field(default_factory=dict)

    @property
    def passed(self):
        """True when every check that ran passed (monotone and sensitive enough)."""
        ran = [v for v in self.checks.values() if v is not None]
        return bool(ran) and all(ran)

    def table(self):
        """The rows as a Markdown table (check, level, FID, KID, monotone)."""
        lines = ["| check | level | FID | KID | check passed |", "|---|---|---|---|---|"]
        for row in self.rows:
            ok = self.checks.get(row["check"])
            lines.append(f"| {row['check']} | {row['level']:g} | {row['fid']:.4g} | "
                         f"{row['kid']:.4g} | {'yes' if ok else 'NO'} |")
        for name, ok in self.checks.items():
            if ok is None:
                lines.append(f"| {name} | - | - | - | skipped (no labels) |")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _gaussian_blur(x, sigma):
    """Separable Gaussian blur of (n, h, w, c) images, reflect padding."""
    if sigma == 0:
        return x
    radius = max(1, int(np.ceil(3 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k /= k.sum()
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (radius, radius)
        p = np.pad(x, pad, mode="reflect")
        out = np.zeros_like(x)
        for i, w in enumerate(k):
            sl = [slice(None)] * 4
            sl[axis] = slice(i, i + x.shape[axis])
            out += w * p[tuple(sl)]
        x = out
    return x


def _metrics(ref_feats, extractor, images, seed, kid_subsets):
    feats = extractor.features(images, value_range=(0.0, 1.0))
    m = min(len(ref_feats), len(feats), 1000)
    k = kid(ref_feats, feats, subsets=kid_subsets, subset_size=m, seed=seed)
    return fid(ref_feats, feats), k.mean, k.std / np.sqrt(kid_subsets)


def check_extractor(images, extractor=None, labels=None, noise=NOISE, blur=BLUR, drop=DROP,
                    value_range=None, max_images=2000, kid_subsets=20, min_ratio=2.0, seed=0):
    """Run the metric sanity suite of an extractor on real images; return its table.

    The images (at most ``max_images``, a seeded sample) are split in two halves, stratified
    by label. FID and KID of the second half against the first are measured as the second is
    damaged: Gaussian noise of std ``noise`` (pixels in [0, 1], clipped), a Gaussian blur of
    std ``blur`` pixels, and (with labels) dropping ``drop`` classes (the same number of
    images, drawn from the remaining classes; the dropped sets are nested). Each check passes
    when both metrics increase from level to level (FID strictly; KID up to its standard error
    over subsets, and strictly from the first level to the last) and the last level's FID is at
    least ``min_ratio`` times the undamaged one (an untrained CNN, for example, sees noise
    and blur but barely sees a missing class).

    Args:
        images: real images ``(n, h, w[, c])`` (n >= 20), any value range.
        extractor: anything ``tfgenopt.evaluation.extractors.get`` takes; ``"domain"``
            trains (or loads) the domain extractor on these images and labels.
        labels: ``(n,)`` integer classes; needed for the class-dropping check.
        noise, blur, drop: the increasing levels of each check (start with 0).
        value_range: pixel range of ``images``; None infers it.
        max_images: cap on the images used (speed).
        kid_subsets: KID subsets per measurement.
        min_ratio: how far (a factor) the worst damage must lift FID above the undamaged
            real-vs-real value.
        seed: seed of the sample, the split, the noise and the dropped classes.

    Returns:
        An :class:`ExtractorCheck` (``passed``, ``checks``, ``rows``; ``str()`` is a table).

    Example:
        Not run as a doctest: it trains a domain extractor first.

        >>> x, y = tg.data.make_shapes(600, image_size=16)  # doctest: +SKIP
        >>> check_extractor(x, "domain", labels=y).passed  # doctest: +SKIP
        True
    """
    x, y = _prepare(images, labels, value_range)
    if len(x) < 20:
        raise ValueError(f"`images` needs at least 20 images for the sanity suite; received "
                         f"{len(x)}.")
    max_images = check_int("max_images", max_images, minimum=20)
    min_ratio = check_float("min_ratio", min_ratio, 1.0)
    seed = check_int("seed", seed)
    levels = {}
    for name, values, cast in (("noise", noise, float), ("blur", blur, float),
                               ("drop_classes", drop, int)):
        v = [cast(a) for a in check_array(name if name != "drop_classes" else "drop",
                                          np.asarray(values, np.float64), min_ndim=1)]
        if len(v) < 2 or v[0] != 0 or any(b <= a for a, b in zip(v, v[1:])):
            raise ValueError(f"`{name if name != 'drop_classes' else 'drop'}` must be at least "
                             f"2 increasing levels starting at 0; received {values!r}.")
        levels[name] = v
    if y is not None and levels["drop_classes"][-1] >= len(np.unique(y)):
        raise ValueError(f"`drop` removes up to {levels['drop_classes'][-1]} classes but the "
                         f"labels have {len(np.unique(y))}; at least one must remain.")
    ext = extractors.get(extractor, real=x, labels=y)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(x))[:max_images]
    x = x[idx]
    y = None if y is None else y[idx]
    if y is None:
        a, b = np.arange(0, len(x), 2), np.arange(1, len(x), 2)
    else:
        order = np.argsort(y, kind="stable")
        a, b = order[0::2], order[1::2]
    ref = ext.features(x[a], value_range=(0.0, 1.0))
    test = x[b]
    result = ExtractorCheck()

    def run(name, level_values, damage):
        values = []
        for level in level_values:
            f, k, k_se = _metrics(ref, ext, damage(level), seed, kid_subsets)
            values.append((f, k, k_se))
            result.rows.append({"check": name, "level": level, "fid": f, "kid": k,
                                "kid_se": k_se})
        # FID strictly up at every step; KID up, or down by less than its standard error
        # (near 0, the unbiased estimator's own noise), and strictly up overall.
        monotone = all(f2 > f1 and k2 > k1 - max(s1, s2) for (f1, k1, s1), (f2, k2, s2)
                       in zip(values, values[1:])) and values[-1][1] > values[0][1]
        result.checks[name] = bool(monotone and values[-1][0] >= min_ratio * values[0][0])

    noise_draw = rng.standard_normal(test.shape).astype(np.float32)
    run("noise", levels["noise"], lambda s: np.clip(test + s * noise_draw, 0.0, 1.0))
    run("blur", levels["blur"], lambda s: _gaussian_blur(test, s))
    if y is None:
        result.checks["drop_classes"] = None
    else:
        yb = y[b]
        classes = rng.permutation(np.unique(yb))
        keep_n = int(min((~np.isin(yb, classes[:k])).sum() for k in levels["drop_classes"]))

        def dropped(k):
            pool = np.flatnonzero(~np.isin(yb, classes[:k]))
            return test[np.random.default_rng(seed + k).choice(pool, keep_n, replace=False)]

        run("drop_classes", levels["drop_classes"], dropped)
    return result
