"""Per-trial overhead of ``tfgenopt.tuning.search`` over the plain ``model.fit`` of each trial.

Both sides run the same trials (the dense 784-64-32-784 autoencoder on the bundled digits,
same hyperparameters, same epochs, same early stopping): ``search`` adds Keras Tuner's
oracle, trial files, best-epoch checkpoints, the learning-curve files and the result table.
Repeats are interleaved in one process; the table reports medians and the ratio of wall
time (the target) and, less sensitive to other jobs on a shared machine, of the process's
CPU time (all threads).

    python benchmarks/bench_tuning.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner  # noqa: E402

import tfgenopt as tg  # noqa: E402

OVERRIDES = {"optimizer": "adam", "batch_size": 64, "units": 64, "depth": 1, "latent_dim": 32,
             "normalization": "none", "kernel_initializer": "glorot_uniform",
             # a hair-thin range: every trial is new to the oracle, all cost the same.
             "learning_rate": {"min": 1e-3, "max": 1.0001e-3}}


def _clock():
    return time.perf_counter(), time.process_time()


def _since(start):
    now = _clock()
    return now[0] - start[0], now[1] - start[1]


def plain_fits(hm, trials, x, x_val):
    """Build and fit each trial's model directly (what a hand-written loop would do)."""
    start = _clock()
    for i in range(trials):
        hp = keras_tuner.HyperParameters()
        hm.values(hp)  # register the space (no model), then set the value the oracle draws
        hp.values["learning_rate"] = 1e-3 + i * 1e-8
        model = hm.build(hp)  # one build and compile per trial, as in a hand-written loop
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
        hm.fit(hp, model, x, validation_data=x_val, callbacks=[stop])
    return _since(start)


def searched(hm, trials, x, x_val, folder):
    start = _clock()
    result = tg.tuning.search(hm, x, x_val, max_trials=trials, directory=folder,
                              overwrite=True, seed=0, verbose=0)
    elapsed = _since(start)
    assert set(result.statuses().values()) == {"COMPLETED"}, result.failed()
    assert len(result.trials) == trials
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats (3)")
    parser.add_argument("--trials", type=int, default=None, help="trials per search (3)")
    args = parser.parse_args(argv)
    epochs, trials, repeats = (2, 2, 2) if args.quick else (5, 3, 3)
    trials, repeats = args.trials or trials, args.repeats or repeats
    x, x_val = tg.data.load_digits(image_size=28, flatten=True)
    hm = tg.tuning.AutoencoderHyperModel(784, overrides=dict(OVERRIDES, epochs=epochs), seed=0)
    folder = tempfile.mkdtemp(prefix="bench_tuning_")
    try:
        plain_fits(hm, 1, x, x_val)  # warm up TensorFlow
        plain, tuned = [], []
        for _ in range(repeats):  # interleaved
            plain.append(plain_fits(hm, trials, x, x_val))
            tuned.append(searched(hm, trials, x, x_val, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def per_trial(runs, i):
        return statistics.median(run[i] / trials for run in runs)

    p, s = per_trial(plain, 0), per_trial(tuned, 0)
    pc, sc = per_trial(plain, 1), per_trial(tuned, 1)
    print(f"autoencoder 784-64-32-784 on digits ({len(x)} samples), {epochs} epochs/trial, "
          f"{trials} trials/search, {repeats} interleaved repeats (median s per trial)")
    print(f"{'implementation':<34}{'s/trial':>10}{'ratio':>8}{'cpu s/trial':>13}{'ratio':>8}")
    print(f"{'plain build + model.fit':<34}{p:>10.3f}{1.0:>8.2f}{pc:>13.3f}{1.0:>8.2f}")
    print(f"{'tfgenopt.tuning.search':<34}{s:>10.3f}{s / p:>8.2f}{sc:>13.3f}{sc / pc:>8.2f}")
    print(f"overhead per trial: {100 * (s / p - 1):+.1f}% wall (target < 10%), "
          f"{100 * (sc / pc - 1):+.1f}% cpu")


if __name__ == "__main__":
    main()
