"""Speed with no flags: tfgenopt's defaults vs keras.io-style models and the compiled-loop floor.

Each row trains the same networks with the same *training recipe* three ways, all fed NumPy
arrays through ``fit`` (the floor excepted) with execution arguments (``steps_per_execution``,
``jit_compile``) left at their defaults on both sides:

- ``keras.io``: the model as the keras.io examples write it (a ``keras.Model`` subclass with
  the plain ``train_step``, or a plain functional model), ``compile`` with its defaults;
- ``ours``: ``tfgenopt`` with its defaults (the recipe passed explicitly: non-saturating loss,
  Adam 2e-4/0.5, no penalty, no smoothing, no noise, no augmentation, no LeCam, no EMA, so a
  change of our default *recipe* does not change what is timed);
- ``floor``: our model's ``train_step`` looped over the same shuffled batches inside one
  ``tf.function`` per epoch (no ``fit``, no callbacks): what the step itself costs.

Rows: the seed's dense GAN (G 100-64-32-784, D 784-32-64-1, batch 128), the 28x28 DCGAN
(base 32 filters, batch 64), the dense VAE (784-64-32-2, batch 128) and the classic dense
autoencoder (784-64-32-784, ``compile("adam", "mse")``, batch 128) on the bundled digits.
Repeats are interleaved (the order rotates each repeat); the table shows medians of steps/s
and the ratios ours/keras.io and ours/floor, by wall clock and by this process' CPU time
(``time.process_time``; steadier on a machine shared with other jobs). Before timing, one GAN
step from the same weights with the same noise must give the keras.io losses (rel. 1e-4).

Usage:
    python benchmarks/bench_defaults.py            # 5 repeats, a few minutes
    python benchmarks/bench_defaults.py --quick    # 3 short repeats, under a minute or so
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_gan_step import PlainGAN, adam, check_same_step, networks  # noqa: E402
from keras import ops  # noqa: E402

import tfgenopt as tg  # noqa: E402
from tfgenopt.data.pipeline import array_dataset  # noqa: E402

LATENT = 100
# The keras.io GAN recipe, explicitly (execution arguments are *not* passed: defaults).
GAN_RECIPE = {"loss": "non_saturating", "gradient_penalty": 0.0, "r1": 0.0, "d_steps": 1,
              "label_smoothing": 0.0, "instance_noise": 0.0, "augment": None, "lecam": 0.0}


class PlainVAE(keras.Model):
    """The keras.io VAE ``train_step`` (reparameterize, sum-BCE reconstruction + KL)."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.seed_generator = keras.random.SeedGenerator(0)
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var = self.encoder(data)
            eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
            reconstruction = self.decoder(z_mean + ops.exp(0.5 * z_log_var) * eps)
            rec = ops.mean(ops.sum(keras.losses.binary_crossentropy(
                data[..., None], reconstruction[..., None]), axis=1))
            kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            total = rec + ops.mean(ops.sum(kl, axis=1))
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total)
        return {"loss": self.total_loss_tracker.result()}


def vae_networks():
    return (tg.builders.vae_encoder(784, latent_dim=2, seed=0),
            tg.builders.vae_decoder(2, 784, seed=1))


def make(row, impl):
    """A compiled model for ``row``; ``impl`` is "keras.io" or "ours" (the floor uses ours)."""
    if row in ("dense GAN", "DCGAN"):
        g, d = networks("dense" if row == "dense GAN" else "dcgan", LATENT)
        if impl == "keras.io":
            model = PlainGAN(g, d, LATENT)
            model.compile(adam(), adam())
        else:
            model = tg.models.GAN(g, d, latent_dim=LATENT, ema=None, seed=0)  # keras.io: no EMA
            model.compile(d_optimizer=adam(), g_optimizer=adam(), **GAN_RECIPE)
        return model
    if row == "VAE":
        model = PlainVAE(*vae_networks()) if impl == "keras.io" else tg.models.VAE(
            *vae_networks(), seed=0)
        model.compile(keras.optimizers.Adam(1e-3))
        return model
    ae = tg.builders.dense_autoencoder(seed=0)
    model = ae if impl == "ours" else keras.Model(ae.inputs, ae.outputs, name="plain_ae")
    model.compile("adam", "mse")
    return model


def fit_args(row, x):
    return (x, x) if row == "autoencoder" else (x,)


class Floor:
    """``model.train_step`` over one epoch of shuffled batches inside one ``tf.function``."""

    def __init__(self, model, row, x, batch_size):
        self.model = model
        supervised = row == "autoencoder"
        self.data = array_dataset(x, x if supervised else None, batch_size, shuffle=True,
                                  seed=0)
        steps = int(np.ceil(len(x) / batch_size))
        step = tf.autograph.experimental.do_not_convert(model.train_step)  # as Keras calls it

        @tf.function
        def epoch(iterator):  # a while loop (``for batch in ds`` would run as a slow reduce)
            for _ in tf.range(steps):
                step(next(iterator))

        self.epoch = epoch

    def fit(self, epochs):
        for _ in range(epochs):
            self.epoch(iter(self.data))


def timed(run, steps):
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return steps / (time.perf_counter() - wall), steps / (time.process_time() - cpu)


def bench_row(row, x, batch_size, epochs, repeats):
    """Median (wall, cpu) steps/s of keras.io, ours and the floor, interleaved repeats."""
    models = {impl: make(row, impl) for impl in ("keras.io", "ours", "floor")}
    floor = Floor(models["floor"], row, x, batch_size)
    runs = {impl: (lambda m=m, e=epochs: m.fit(*fit_args(row, x), batch_size=batch_size,
                                               epochs=e, verbose=0))
            for impl, m in models.items() if impl != "floor"}
    runs["floor"] = lambda: floor.fit(epochs)
    for impl in runs:  # trace and warm up
        models[impl].fit(*fit_args(row, x), batch_size=batch_size, epochs=1, verbose=0) \
            if impl != "floor" else floor.fit(1)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    rates = {impl: [] for impl in runs}
    order = list(runs)
    for r in range(repeats):
        for impl in order[r % 3:] + order[: r % 3]:
            rates[impl].append(timed(runs[impl], steps))
    return {impl: tuple(statistics.median(v[i] for v in rs) for i in (0, 1))
            for impl, rs in rates.items()}


ROWS = {  # row: (flatten, value range, batch size, epochs, quick epochs, samples)
    "dense GAN": (True, (0.0, 1.0), 128, 10, 4, None),
    "DCGAN": (False, (-1.0, 1.0), 64, 1, 1, 640),
    "VAE": (True, (0.0, 1.0), 128, 10, 4, None),
    "autoencoder": (True, (0.0, 1.0), 128, 10, 4, None),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 short repeats")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    print(f"Defaults on both sides (execution arguments not passed; same training recipe "
          f"passed explicitly); medians of {repeats} interleaved repeats; {os.cpu_count()} "
          f"CPUs, load average {os.getloadavg()[0]:.1f} at start")
    for row in args.rows.split(","):
        if row in ("dense GAN", "DCGAN"):
            kind = "dense" if row == "dense GAN" else "dcgan"
            flat, value_range = ROWS[row][:2]
            xs = tg.data.load_digits(image_size=28, flatten=flat, validation_split=0.0,
                                     value_range=value_range)
            diff, _ = check_same_step(kind, xs, LATENT, GAN_RECIPE, "float32")
            if diff > 1e-4:
                raise SystemExit(f"{row}: one step differs from keras.io by {diff:.1e}; "
                                 f"not the same recipe (did a default of GAN.compile change?)")
    header = (f"{'row':12} {'batch':>5} {'keras.io/s':>10} {'ours/s':>8} {'floor/s':>8} "
              f"{'ours/keras.io':>13} {'(cpu)':>6} {'ours/floor':>10} {'(cpu)':>6}")
    print(header)
    for row in args.rows.split(","):
        flat, value_range, batch_size, epochs, quick_epochs, n = ROWS[row]
        x = tg.data.load_digits(image_size=28, flatten=flat, validation_split=0.0,
                                value_range=value_range)[:n]
        med = bench_row(row, x, batch_size, quick_epochs if args.quick else epochs, repeats)
        k, o, f = med["keras.io"], med["ours"], med["floor"]
        print(f"{row:12} {batch_size:5d} {k[0]:10.1f} {o[0]:8.1f} {f[0]:8.1f} "
              f"{o[0] / k[0]:12.2f}x {o[1] / k[1]:5.2f}x {o[0] / f[0]:9.2f}x "
              f"{o[1] / f[1]:5.2f}x", flush=True)
        keras.backend.clear_session()
    print(f"load average {os.getloadavg()[0]:.1f} at end; ratios > 1 mean ours is faster")


if __name__ == "__main__":
    main()
