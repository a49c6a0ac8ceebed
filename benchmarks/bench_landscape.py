"""Landscape probes vs their physical floors, side by side in one process.

* 2-D grid: ``tfgenopt.landscape.surface_2d`` (grid x grid points) vs the same number of plain
  compiled forward passes ``model(x, training=False)`` over the probe set (target <= 1.25x).
  A second floor, the same number of compiled forward passes *plus the loss* at the
  unperturbed weights, separates the cost of the loss itself from the probe's overhead.
  Both models' first layer is linear in its weights, so the grid computes its output once
  per grid row for the origin and the two directions (``obj.linear_head``); the "plain
  path" row evaluates every point in full (``obj.linear_head = None``) for comparison. The
  "XLA" row compiles the loop with XLA (``strategy="loop_xla"``), which fuses the loss's
  elementwise passes.
* HVP: one Hessian-vector product (double backprop and forward-over-reverse) vs one plain
  compiled gradient of ``model.compute_loss`` (target <= 3x).

Models: the classic dense autoencoder (784-64-32-784) on 512 digits and a DCGAN discriminator
(28x28x1) on 256 images. Repeats are interleaved; the table shows medians and ratios.

    python benchmarks/bench_landscape.py [--quick] [--threads N]
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
from tfgenopt import landscape as L  # noqa: E402

tf.get_logger().setLevel("ERROR")  # retracing notes: each probe object traces its own


def make_ae(n):
    x, _ = tg.data.load_digits(image_size=28, flatten=True)
    x = x[:n].astype("float32")
    model = tg.builders.dense_autoencoder(seed=0)
    model.compile("adam", "binary_crossentropy")
    return "dense autoencoder", model, (x, x)


def make_disc(n):
    x, _ = tg.data.load_digits(image_size=28)
    x = (x[:n].astype("float32") * 2 - 1)
    y = (np.arange(n) % 2).astype("float32")[:, None]
    model = tg.builders.dcgan_discriminator(image_shape=(28, 28, 1), base_filters=32, seed=0)
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    return "DCGAN discriminator", model, (x, y)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(name, model, data, grid, repeats):
    x, y = tf.constant(data[0]), tf.constant(data[1])
    obj = L.objective(model, data)  # default strategy: a compiled loop over the points
    xla = L.objective(model, data)
    xla.strategy = "loop_xla"  # the same loop compiled with XLA
    vec = L.objective(model, data)
    vec.strategy = "vectorize"
    plain = L.objective(model, data)
    plain.linear_head = None  # every point in full
    d1, d2 = L.random_directions(model, 2, seed=0)
    forward = tf.function(lambda x: model(x, training=False))
    loss_at_w = tf.function(lambda x, y: model.compute_loss(
        x=x, y=y, y_pred=model(x, training=False), training=False))
    variables = model.trainable_variables

    @tf.function
    def gradient(x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False), training=False)
        return tape.gradient(loss, variables)

    points = grid * grid
    inner = 10  # HVPs / gradients per timed job: single calls are too short to time alone
    v = np.random.default_rng(0).standard_normal(obj.num_params)
    w0 = obj.point_tensors()  # validated once, as Lanczos / Hutchinson do
    jobs = {
        "grid": lambda: L.surface_2d(obj, d1=d1, d2=d2, grid=grid),
        "grid xla": lambda: L.surface_2d(xla, d1=d1, d2=d2, grid=grid),
        "grid vectorize": lambda: L.surface_2d(vec, d1=d1, d2=d2, grid=grid),
        "grid plain": lambda: L.surface_2d(plain, d1=d1, d2=d2, grid=grid),
        "forward floor": lambda: [forward(x) for _ in range(points)][-1].numpy(),
        "loss floor": lambda: [loss_at_w(x, y) for _ in range(points)][-1].numpy(),
        "hvp reverse": lambda: [obj.hvp(v, w0, method="reverse") for _ in range(inner)],
        "hvp forward": lambda: [obj.hvp(v, w0, method="forward") for _ in range(inner)],
        "gradient": lambda: [[g.numpy() for g in gradient(x, y)] for _ in range(inner)],
    }
    for job in jobs.values():  # trace and warm up
        job()
        job()
    times = {k: [] for k in jobs}
    order = list(jobs)
    for r in range(repeats):
        for k in (order if r % 2 == 0 else order[::-1]):
            times[k].append(timed(jobs[k]))
    med = {k: statistics.median(t) for k, t in times.items()}
    rows = [
        (f"{grid}x{grid} grid (loop) / {points} fwd", med["grid"], med["forward floor"], 1.25),
        (f"{grid}x{grid} grid (loop, XLA) / {points} fwd", med["grid xla"],
         med["forward floor"], 1.25),
        (f"{grid}x{grid} grid (vectorize) / {points} fwd", med["grid vectorize"],
         med["forward floor"], 1.25),
        (f"{grid}x{grid} grid (loop, plain path) / {points} fwd", med["grid plain"],
         med["forward floor"], None),
        (f"{points} fwd+loss, unperturbed / {points} fwd", med["loss floor"],
         med["forward floor"], None),
        (f"{grid}x{grid} grid (loop) / {points} fwd+loss", med["grid"], med["loss floor"],
         None),
        ("HVP (double backprop) / gradient, per call", med["hvp reverse"] / inner,
         med["gradient"] / inner, 3.0),
        ("HVP (forward-over-reverse) / gradient", med["hvp forward"] / inner,
         med["gradient"] / inner, 3.0),
    ]
    print(f"\n{name}: {obj.num_params:,} parameters, probe set {obj.num_samples}")
    print(f"{'comparison':50s} {'probe s':>9s} {'floor s':>9s} {'ratio':>6s} {'target':>7s}")
    for label, a, b, target in rows:
        goal = "<=" + str(target) if target else "info"
        print(f"{label:50s} {a:9.4f} {b:9.4f} {a / b:6.2f} {goal:>7s}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grid, few repeats")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow intra/inter-op threads (0: TensorFlow's default)")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    grid, repeats = (7, 3) if args.quick else (21, 7)
    keras.utils.set_random_seed(0)
    bench(*make_ae(512), grid=grid, repeats=repeats)
    bench(*make_disc(256), grid=grid, repeats=repeats)


if __name__ == "__main__":
    main()
