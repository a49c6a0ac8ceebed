"""Steps/s of ``tfgenopt.models.GAN.fit`` vs a plain keras.io-style ``train_step`` GAN.

Both train the same networks with the same recipe (non-saturating BCE summed over real and
fake, one D then one G update with fresh noise, Adam 2e-4/0.5 for each) on the same NumPy
arrays passed to ``fit`` the same way. The plain model is written here the way the keras.io
GAN examples write it (default ``compile``: one step per call); ours runs with the settings we
recommend for speed: ``steps_per_execution=32`` (its lean NumPy input path and its joined
real+fake discriminator call are always on). Rows: the dense 784 GAN, the 28x28 DCGAN, and the
DCGAN with ours under ``mixed_bfloat16`` (only where the CPU has AVX512-BF16).

Timings interleave the two implementations and take medians. ``ratio`` is by wall clock;
``cpu-time ratio`` compares the CPU time this process used, which other jobs on a shared
machine disturb much less. Before timing, one step from the same weights on the same batch
(with the same noise) must give the same losses (relative tolerance 1e-5 in float32, 5e-2 in
bfloat16): the speed-up is the same recipe, computed faster.

Usage:
    python benchmarks/bench_gan_step.py            # dense 784 GAN and 28x28 DCGAN
    python benchmarks/bench_gan_step.py --quick    # fewer, shorter repeats
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


@keras.saving.register_keras_serializable(package="bench")
class PlainGAN(keras.Model):
    """The keras.io DCGAN ``train_step``: sample z, update D on real+fake, then update G."""

    def __init__(self, generator, discriminator, latent_dim, fixed_noise=False, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = latent_dim
        self.fixed_noise = fixed_noise
        self.seed_generator = keras.random.SeedGenerator(0)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def noise(self, real):
        if self.fixed_noise:  # for the equivalence check only
            return tf.reshape(real, (tf.shape(real)[0], -1))[:, : self.latent_dim] * 2.0 - 1.0
        return keras.random.normal((tf.shape(real)[0], self.latent_dim), seed=self.seed_generator)

    def train_step(self, real):
        fake = self.generator(self.noise(real), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = (self.bce(tf.ones_like(real_logits), real_logits)
                      + self.bce(tf.zeros_like(fake_logits), fake_logits))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(self.noise(real), training=True),
                                             training=True)
            g_loss = self.bce(tf.ones_like(fake_logits), fake_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


class FixedNoiseGAN(tg.models.GAN):
    """Our GAN with the same deterministic noise as ``PlainGAN(fixed_noise=True)``."""

    def _batch_noise(self, x_real, labels):
        flat = tf.reshape(x_real, (tf.shape(x_real)[0], -1))
        return flat[:, : self.latent_dim] * 2.0 - 1.0


def networks(kind, latent_dim):
    if kind == "dense":
        return (tg.builders.dense_generator(latent_dim=latent_dim, seed=0),
                tg.builders.dense_discriminator(seed=1))
    return (tg.builders.dcgan_generator(latent_dim=latent_dim, image_shape=(28, 28, 1),
                                        base_filters=32, seed=0),
            tg.builders.dcgan_discriminator(image_shape=(28, 28, 1), base_filters=32, seed=1))


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def build(impl, kind, latent_dim, settings, fixed_noise=False, policy="float32"):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy if impl == "ours" else "float32")
    try:
        g, d = networks(kind, latent_dim)
    finally:
        keras.config.set_dtype_policy(previous)
    if impl == "plain":
        model = PlainGAN(g, d, latent_dim, fixed_noise=fixed_noise)
        model.compile(adam(), adam())
    else:
        cls = FixedNoiseGAN if fixed_noise else tg.models.GAN
        model = cls(g, d, latent_dim=latent_dim, seed=0)
        model.compile(d_optimizer=adam(), g_optimizer=adam(), **settings)
    return model


def cpu_has_bf16():
    """True when the CPU reports AVX512-BF16 (where mixed_bfloat16 pays off on CPU)."""
    try:
        with open("/proc/cpuinfo") as f:
            return "avx512_bf16" in f.read()
    except OSError:
        return False


def check_same_step(kind, x, latent_dim, settings, policy):
    """One step from the same weights and batch: the largest loss and weight differences."""
    batch = x[:64]
    plain = build("plain", kind, latent_dim, settings, fixed_noise=True)
    ours = build("ours", kind, latent_dim, settings, fixed_noise=True, policy=policy)
    h_plain = plain.fit(batch, batch_size=64, epochs=1, shuffle=False, verbose=0).history
    h_ours = ours.fit(batch, batch_size=64, epochs=1, shuffle=False, verbose=0).history
    loss_diff = max(abs(h_plain[k][0] - h_ours[k][0]) / abs(h_plain[k][0])
                    for k in ("d_loss", "g_loss"))
    w_diff = max(float(np.abs(a - b).max()) for a, b in zip(
        plain.generator.get_weights() + plain.discriminator.get_weights(),
        ours.generator.get_weights() + ours.discriminator.get_weights()))
    return loss_diff, w_diff


def time_fit(model, x, batch_size, epochs):
    """``(steps/s by wall clock, steps/s by this process' CPU time)`` of one ``fit`` call."""
    steps = epochs * int(np.ceil(len(x) / batch_size))
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x, batch_size=batch_size, epochs=epochs, verbose=0)
    return steps / (time.perf_counter() - wall), steps / (time.process_time() - cpu)


def run(kind, x, latent_dim, settings, policy, repeats, epochs, batch_size):
    """Median wall and CPU-time steps/s of both implementations, interleaved repeats."""
    models = {"plain": build("plain", kind, latent_dim, settings),
              "ours": build("ours", kind, latent_dim, settings, policy=policy)}
    for model in models.values():  # trace and warm up
        model.fit(x, batch_size=batch_size, epochs=1, verbose=0)
    rates = {impl: [] for impl in models}
    for _ in range(repeats):
        for impl, model in models.items():
            rates[impl].append(time_fit(model, x, batch_size, epochs))
    return {impl: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
            for impl, v in rates.items()}


ROWS = {  # name: (network, dtype policy of ours, relative loss tolerance of the step check)
    "dense": ("dense", "float32", 1e-5),
    "dcgan": ("dcgan", "float32", 1e-4),
    "dcgan-bf16": ("dcgan", "mixed_bfloat16", 5e-2),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--steps-per-execution", type=int, default=32)
    parser.add_argument("--jit", choices=("true", "false"), default="false")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow intra/inter-op threads (0: TF's default); 1 gives "
                             "steadier numbers on a machine shared with other jobs")
    args = parser.parse_args(argv)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    repeats = args.repeats or (3 if args.quick else 7)
    settings = {"steps_per_execution": args.steps_per_execution,
                "jit_compile": args.jit == "true"}
    latent_dim, batch_size = 100, 64
    rows = [r for r in args.rows.split(",") if r != "dcgan-bf16" or cpu_has_bf16()]
    print(f"GAN.fit {settings} vs plain keras.io train_step (steps_per_execution=1); "
          f"digits 28x28, batch {batch_size}, medians of {repeats} interleaved repeats; "
          f"{os.cpu_count()} CPUs, threads {args.threads or 'default'}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'row':11} {'plain/s':>8} {'ours/s':>8} {'ratio':>6} {'cpu-time ratio':>15} "
          f"{'step loss rel diff':>19}")
    clean_plain, notes = {}, []
    for row in rows:
        kind, policy, tol = ROWS[row]
        flat = kind == "dense"
        x = tg.data.load_digits(image_size=28, flatten=flat, validation_split=0.0,
                                value_range=(0.0, 1.0) if flat else (-1.0, 1.0))
        loss_diff, w_diff = check_same_step(kind, x, latent_dim, settings, policy)
        if loss_diff > tol:
            raise SystemExit(f"{row}: one step differs by {loss_diff:.2e} > {tol:.0e}; "
                             f"not the same recipe.")
        epochs = (2 if args.quick else 4) if flat else 1
        if not flat:
            x = x[: 640 if args.quick else 1280]
        med = run(kind, x, latent_dim, settings, policy, repeats, epochs, batch_size)
        print(f"{row:11} {med['plain'][0]:8.1f} {med['ours'][0]:8.1f} "
              f"{med['ours'][0] / med['plain'][0]:5.2f}x "
              f"{med['ours'][1] / med['plain'][1]:14.2f}x {loss_diff:19.1e}", flush=True)
        if policy == "float32":
            clean_plain[kind] = med["plain"][0]
        elif kind in clean_plain:
            notes.append(f"{row}: after bfloat16 kernels have run, float32 ops in the same "
                         f"process can run slower (seen with default threads), which would "
                         f"flatter this row; against the float32 plain of the '{kind}' row "
                         f"({clean_plain[kind]:.1f}/s): {med['ours'][0] / clean_plain[kind]:.2f}x.")
        keras.backend.clear_session()
    for note in notes:
        print(note)
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
