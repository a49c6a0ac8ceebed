"""The first ``fit`` of a fresh model: tfgenopt's builder model vs the same plain ``keras.Model``.

``tg.builders.dense_autoencoder()`` (a ``tfgenopt.models.FunctionalModel``: the optimizer is
built before ``fit``, so the first trace of the train step creates no variable and runs once)
against ``keras.Model`` on the same layers (Keras defers Adam's slot variables into that first
trace, and a ``tf.function`` that creates variables is traced twice). Both: default
``compile(Adam(1e-3), "binary_crossentropy")`` and default ``fit`` arguments on 512 flat 28x28
digits, one epoch (which is start-up dominated: the trace is most of it). Each repetition builds
both models afresh, interleaved; medians of ``--reps``; ``cpu ratio`` compares process CPU time,
which a shared machine disturbs less than wall time.

Usage:
    python benchmarks/bench_first_fit.py [--reps 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import tfgenopt as tg  # noqa: E402


def _models():
    ours = tg.builders.dense_autoencoder(seed=0)
    plain = keras.Model(ours.inputs, ours.outputs)  # the same layers, Keras' own Model
    plain = keras.models.clone_model(plain)
    return {"tfgenopt": ours, "keras.Model": plain}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args(argv)
    x, _ = tg.data.load_digits(image_size=28, flatten=True)
    x = x[:512]
    wall = {"tfgenopt": [], "keras.Model": []}
    cpu = {"tfgenopt": [], "keras.Model": []}
    for _ in range(args.reps):
        for name, model in _models().items():
            model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
            t0, c0 = time.perf_counter(), time.process_time()
            model.fit(x, x, epochs=1, verbose=0)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            keras.backend.clear_session(free_memory=False)
    for name in wall:
        print(f"{name:12s} first fit: {statistics.median(wall[name]):.3f} s wall, "
              f"{statistics.median(cpu[name]):.3f} s CPU (median of {args.reps})")
    w = statistics.median(wall["keras.Model"]) / statistics.median(wall["tfgenopt"])
    c = statistics.median(cpu["keras.Model"]) / statistics.median(cpu["tfgenopt"])
    print(f"ratio keras.Model / tfgenopt: {w:.2f}x wall, {c:.2f}x CPU")


if __name__ == "__main__":
    main()
