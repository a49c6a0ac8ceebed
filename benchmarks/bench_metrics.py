"""FID / KID speed: tfgenopt.evaluation vs plain textbook implementations, side by side.

FID: ours (two symmetric eigendecompositions, float64) vs ``scipy.linalg.sqrtm(S1 @ S2)``.
KID: ours (in-place kernel, symmetric Gram products) vs a plain per-subset NumPy version.
Both on 10,000 feature vectors of dimension 2,048 (``--quick``: 2,000 x 512), repeats
interleaved in one process. Run: ``python benchmarks/bench_metrics.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402

from tfgenopt.evaluation import fid, kid  # noqa: E402


def plain_fid(a, b):
    """The textbook FID: covariances, then scipy.linalg.sqrtm of their product."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def plain_kid(a, b, subsets, subset_size, seed):
    """A plain KID: three kernel matrices per subset, diagonals removed by subtraction."""
    rng = np.random.default_rng(seed)
    d, m = a.shape[1], subset_size
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        values.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                      + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def features(n, d, seed):
    """Two correlated, non-negative 'activation-like' feature sets of shape (n, d), float64."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    a = np.maximum(rng.normal(size=(n, d)) @ mix, 0.0)
    b = np.maximum(rng.normal(size=(n, d)) @ mix * 1.1 + 0.05, 0.0)
    return a, b


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 x 512 features, 1 repeat")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    n, d = (2000, 512) if args.quick else (10000, 2048)
    repeats = args.repeats or (1 if args.quick else 3)
    subsets, subset_size = (10, 1000) if args.quick else (100, 1000)
    a, b = features(n, d, seed=0)
    cases = {
        "FID": (lambda: fid(a, b), lambda: plain_fid(a, b)),
        "KID": (lambda: kid(a, b, subsets, subset_size, seed=0)[0],
                lambda: plain_kid(a, b, subsets, subset_size, seed=0)[0]),
    }
    print(f"features: {n} x {d} float64; KID: {subsets} subsets of {subset_size}; "
          f"repeats: {repeats} (interleaved)")
    print(f"{'metric':<6} {'tfgenopt s':>11} {'plain s':>9} {'speed-up':>9} {'rel. diff':>10}")
    for name, (ours, plain) in cases.items():
        t_ours, t_plain = [], []
        for r in range(repeats):
            order = ((ours, t_ours), (plain, t_plain))
            for fn, sink in order if r % 2 == 0 else order[::-1]:
                seconds, value = timed(fn)
                sink.append((seconds, value))
        best_ours = min(t for t, _ in t_ours)
        best_plain = min(t for t, _ in t_plain)
        v_ours, v_plain = t_ours[0][1], t_plain[0][1]
        rel = abs(v_ours - v_plain) / max(abs(v_plain), 1e-300)
        print(f"{name:<6} {best_ours:>11.3f} {best_plain:>9.3f} {best_plain / best_ours:>8.2f}x "
              f"{rel:>10.1e}")


if __name__ == "__main__":
    main()
