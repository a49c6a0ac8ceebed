"""Callback costs: in-memory best-weights snapshots vs a file round trip; vectorized schedules.

Side by side in one process, interleaved repeats, median milliseconds and the ratio:

* keeping the best weights of every GAN network (generator, discriminator, EMA generator):
  ``EarlyStopping``'s in-memory ``get_weights``/``set_weights`` vs ``save_weights`` +
  ``load_weights`` of ``.weights.h5`` files (what a checkpoint callback does);
* evaluating a schedule over 10,000 steps for ``plot_schedule``: one vectorized call vs one
  call per step.

    python benchmarks/bench_callbacks.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfgenopt as tg  # noqa: E402
from tfgenopt.plotting.schedules import schedule_values  # noqa: E402


def make_gan():
    gan = tg.models.GAN(tg.builders.dcgan_generator(seed=0), tg.builders.dcgan_discriminator(seed=1),
                        latent_dim=100, ema=0.999, seed=0)
    gan.compile()
    return gan


def in_memory(nets):
    snap = {k: n.get_weights() for k, n in nets.items()}
    for k, n in nets.items():
        n.set_weights(snap[k])


def file_round_trip(nets, folder):
    for k, n in nets.items():
        n.save_weights(os.path.join(folder, f"{k}.weights.h5"))
    for k, n in nets.items():
        n.load_weights(os.path.join(folder, f"{k}.weights.h5"))


def per_step(schedule, steps):
    return np.array([float(schedule(s)) for s in range(steps)])


def timed(fn):
    t = time.perf_counter()
    fn()
    return 1e3 * (time.perf_counter() - t)


def compare(name, a, b, repeats):
    """Interleave ``a`` and ``b`` ``repeats`` times; print medians and the ratio b / a."""
    a(), b()  # warm-up
    ta, tb = [], []
    for _ in range(repeats):
        ta.append(timed(a))
        tb.append(timed(b))
    ma, mb = statistics.median(ta), statistics.median(tb)
    print(f"| {name:<34} | {ma:10.2f} | {mb:10.2f} | {mb / ma:7.1f}x |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and steps")
    args = parser.parse_args()
    repeats = 3 if args.quick else 15
    steps = 1000 if args.quick else 10000

    nets = make_gan().networks()
    params = sum(int(np.prod(w.shape)) for n in nets.values() for w in n.weights)
    schedule = tg.schedules.WarmupCosine(1e-3, steps, warmup_steps=steps // 10)
    print(f"GAN networks {sorted(nets)}: {params:,} values; schedule over {steps:,} steps; "
          f"keras {keras.__version__}")
    print("| comparison (ms, median)            |    ours    |   other    |  ratio  |")
    print("|------------------------------------|------------|------------|---------|")
    with tempfile.TemporaryDirectory() as folder:
        compare("best weights: memory vs .h5 files", lambda: in_memory(nets),
                lambda: file_round_trip(nets, folder), repeats)
    compare("schedule values: vector vs loop", lambda: schedule_values(schedule, steps),
            lambda: per_step(schedule, steps), max(2, repeats // 5))


if __name__ == "__main__":
    main()
