"""Input path: `fit` fed NumPy arrays vs `tfgenopt.data.as_dataset` vs a naive tf.data pipeline.

Side by side in one process, interleaved repeats, median steps/s, ratios against NumPy arrays.
Models: the classic dense autoencoder and the dense GAN (tfgenopt.models.GAN) on the bundled
digits at 28x28.

    python benchmarks/bench_input.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfgenopt as tg  # noqa: E402


def naive(x, batch_size, seed=0):
    """The pipeline users copy: element-wise shuffle, then batch."""
    return (tf.data.Dataset.from_tensor_slices(x).shuffle(4096, seed=seed)
            .batch(batch_size).prefetch(tf.data.AUTOTUNE))


def make_ae():
    model = tg.builders.dense_autoencoder(seed=0)
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    return model, True


def make_gan():
    gan = tg.models.GAN(tg.builders.dense_generator(seed=0), tg.builders.dense_discriminator(seed=1),
                        latent_dim=100, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    return gan, False


def timed_fit(model, supervised, feed, x, batch_size, epochs):
    if feed == "numpy":
        args = (x, x) if supervised else (x,)
        kwargs = {"batch_size": batch_size, "shuffle": True}
    elif feed == "as_dataset":
        args = (tg.data.as_dataset(x, x if supervised else None, batch_size=batch_size),)
        kwargs = {"shuffle": False}
    else:
        data = tf.data.Dataset.from_tensor_slices((x, x) if supervised else x)
        args = (data.shuffle(4096, seed=0).batch(batch_size).prefetch(tf.data.AUTOTUNE),)
        kwargs = {"shuffle": False}
    model.fit(*args, epochs=1, verbose=0, **kwargs)  # warm-up: tracing and first iterators
    steps = epochs * int(np.ceil(len(x) / batch_size))
    start = time.perf_counter()
    model.fit(*args, epochs=epochs, verbose=0, **kwargs)
    return steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats, epochs = (2, 2) if args.quick else (5, 5)
    x = tg.data.load_digits(image_size=28, flatten=True, validation_split=0.0)
    batch_size = 32
    feeds = ("numpy", "as_dataset", "naive")
    print(f"{len(x)} digits, batch {batch_size}, {epochs} epochs x {repeats} repeats (median)")
    print(f"{'model':<12}{'feed':<12}{'steps/s':>10}{'vs numpy':>10}")
    for name, make in (("autoencoder", make_ae), ("dense GAN", make_gan)):
        models = {feed: make() for feed in feeds}
        rates = {feed: [] for feed in feeds}
        for _ in range(repeats):
            for feed in feeds:
                model, supervised = models[feed]
                rates[feed].append(timed_fit(model, supervised, feed, x, batch_size, epochs))
        base = statistics.median(rates["numpy"])
        for feed in feeds:
            med = statistics.median(rates[feed])
            print(f"{name:<12}{feed:<12}{med:>10.0f}{med / base:>10.2f}")


if __name__ == "__main__":
    main()
