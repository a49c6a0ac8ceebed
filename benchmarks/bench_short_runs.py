"""Short runs under ``steps_per_execution="auto"``: one batch per call vs Keras' loop of steps.

"auto" runs a ``fit`` of at most ``SHORT_RUN`` batches in all one batch per compiled call, and a
longer one ``AUTO_STEPS`` batches per call (``tfgenopt.models._execution``). This measures both
choices side by side on fresh models for runs of several lengths, so the threshold is a
measured break-even: the loop costs more to trace (the loop and its end-of-data test in the
graph) and less per batch. Models: the default-recipe ``GAN`` (dense, 28x28 digits), ``VAE``
and ``dense_autoencoder`` from the builders, each compiled with ``steps_per_execution=1`` and
with ``AUTO_STEPS`` explicitly (the two values "auto" chooses between), and with the default
("auto") as the third column. Batch 32 on flat 28x28 digits; each repetition builds every model
afresh, interleaved; medians of ``--reps`` of process CPU time for the whole first ``fit``
(tracing included), which a shared machine disturbs less than wall time.

Usage:
    python benchmarks/bench_short_runs.py [--reps 3] [--batches 8,16,64,128,256]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import tfgenopt as tg  # noqa: E402
from tfgenopt.models import _execution  # noqa: E402

BATCH = 32


def _model(kind, steps):
    if kind == "gan":
        model = tg.models.GAN(tg.builders.dense_generator(seed=0),
                              tg.builders.dense_discriminator(seed=1), latent_dim=100, seed=0)
        model.compile(steps_per_execution=steps)
    elif kind == "vae":
        model = tg.models.VAE(tg.builders.vae_encoder(784, latent_dim=2, seed=0),
                              tg.builders.vae_decoder(2, 784, seed=1), seed=0)
        model.compile("adam", steps_per_execution=steps)
    else:
        model = tg.builders.dense_autoencoder(seed=0)
        model.compile("adam", "binary_crossentropy", steps_per_execution=steps)
    return model


def _first_fit(kind, steps, x, batches):
    keras.backend.clear_session(free_memory=False)
    model = _model(kind, steps)
    per_epoch = min(batches, 32)  # batches per epoch; the run is `batches` in all
    data = x[: BATCH * per_epoch]
    epochs = -(-batches // per_epoch)
    args = (data,) if kind in ("gan", "vae") else (data, data)
    c0 = time.process_time()
    model.fit(*args, batch_size=BATCH, epochs=epochs, verbose=0)
    return time.process_time() - c0, model.steps_per_execution


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--batches", type=lambda s: [int(v) for v in s.split(",")],
                   default=[8, 16, 64, 128, 256])
    p.add_argument("--models", type=lambda s: s.split(","), default=["gan", "vae", "autoencoder"])
    args = p.parse_args(argv)
    x, _ = tg.data.load_digits(image_size=28, flatten=True)
    loop = _execution.AUTO_STEPS
    print(f"SHORT_RUN = {_execution.SHORT_RUN}, AUTO_STEPS = {loop}; CPU-s of a fresh model's "
          f"first fit, median of {args.reps}")
    print(f"{'model':12s} {'batches':>7s} {'1/call':>8s} {f'{loop}/call':>8s} {'auto':>8s} "
          f"{'auto chose':>10s} {'loop/1':>7s}")
    for kind in args.models:
        for batches in args.batches:
            times = {1: [], loop: [], "auto": []}
            chose = None
            for _ in range(args.reps):
                for steps in times:
                    seconds, used = _first_fit(kind, steps, x, batches)
                    times[steps].append(seconds)
                    if steps == "auto":
                        chose = used
            one, many, auto = (statistics.median(times[k]) for k in (1, loop, "auto"))
            print(f"{kind:12s} {batches:7d} {one:8.3f} {many:8.3f} {auto:8.3f} {chose:10d} "
                  f"{many / one:6.2f}x", flush=True)


if __name__ == "__main__":
    main()
