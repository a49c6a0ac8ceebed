"""The compiled functions behind every probe, cached per :class:`Objective`.

Each takes the point (a list of tensors, one per probed variable) as an argument and
substitutes it for the variables in a ``keras.StatelessScope``, so nothing is ever assigned
and one trace serves every point, direction and epoch (same shapes, same trace).
"""

from __future__ import annotations

import time

import keras
import tensorflow as tf

_ZERO = tf.UnconnectedGradients.ZERO


def _as_dict(out):
    if isinstance(out, dict):
        if "loss" not in out:
            raise ValueError(f"An objective returning a dict must have a 'loss' key; "
                             f"received keys {sorted(out)}.")
        return dict(out)
    return {"loss": out}


def call(obj, point, data, extra_mapping=(), fn=None):
    """Evaluate ``obj.fn`` (or ``fn``) on ``data`` with ``point`` in place of ``obj.variables``."""
    fn = obj.fn if fn is None else fn
    mapping = list(zip(obj.variables, point)) + list(extra_mapping)
    with keras.StatelessScope(state_mapping=mapping):
        n = tf.nest.flatten(data)[0].shape[0]
        size = obj.batch_size
        if size is None or n is None or size >= n:
            out = _as_dict(fn(data))
            return {k: tf.cast(tf.reshape(v, ()), tf.float64) for k, v in out.items()}
        total = {}
        for start in range(0, n, size):
            chunk = tf.nest.map_structure(lambda t, s=start: t[s:s + size], data)
            weight = min(size, n - start) / n
            for k, v in _as_dict(fn(chunk)).items():
                v = tf.cast(tf.reshape(v, ()), tf.float64) * weight
                total[k] = total[k] + v if k in total else v
        return total


def _cached(obj, key, build):
    fn = obj._compiled.get(key)
    if fn is None:
        fn = obj._compiled[key] = build()
    return fn


def _flat(tensors):
    return tf.concat([tf.reshape(t, [-1]) for t in tensors], axis=0)


def _split(obj, vector):
    sizes = [_prod(v.shape) for v in obj.variables]
    parts = tf.split(vector, sizes)
    return [tf.reshape(p, v.shape) for p, v in zip(parts, obj.variables)]


def _prod(shape):
    out = 1
    for s in shape:
        out *= int(s)
    return out


def evaluate_fn(obj):
    """``f(point, data) -> {name: scalar}``."""
    return _cached(obj, "evaluate", lambda: tf.function(
        lambda point, data: call(obj, point, data)))


def output_keys(obj):
    """The names ``obj.fn`` returns (``"loss"`` first), found by one evaluation."""
    keys = obj._compiled.get("keys")
    if keys is None:
        out = evaluate_fn(obj)(obj.point_tensors(), obj.data)
        keys = obj._compiled["keys"] = ["loss"] + sorted(k for k in out if k != "loss")
    return keys


STRATEGIES = ("auto", "vectorize", "loop", "loop_xla")
LOOPS = ("loop", "loop_xla")  # one point at a time: memory does not grow with the points


def basis_fn(obj):
    """``f(points, data) -> [first-layer output at each point]`` for ``obj.linear_head``."""
    head = obj.linear_head
    return _cached(obj, ("basis", head), lambda: tf.function(
        lambda points, data: [head.output(obj.variables, p, data) for p in points]))


def points_fn(obj, k, strategy="loop"):
    """``f(coeffs (m, k), origin, directions, data, basis) -> {name: (m,)}``: one compiled call.

    ``"loop"`` runs a compiled ``tf.map_fn`` loop, one point after another (least memory,
    fastest on CPU); ``"loop_xla"`` compiles the same loop with XLA (``jit_compile=True``),
    which fuses the loss's elementwise passes (faster on the dense autoencoder, slower on the
    convolutional discriminator in ``bench_landscape.py``; values agree to float round-off);
    ``"vectorize"`` evaluates the points as one batched pass (``tf.vectorized_map``; ops
    without a vectorized rule fall back to a loop). With an
    ``obj.linear_head``, ``basis`` holds the first layer's output at the origin and at each
    direction (:func:`basis_fn`) and each point runs the rest of the model on their
    combination; without one, ``basis`` is an empty list.
    """
    keys = output_keys(obj)
    head = obj.linear_head

    def build():
        signature = {name: tf.TensorSpec((), tf.float64) for name in keys}

        @tf.function(jit_compile=strategy == "loop_xla")
        def f(coeffs, origin, directions, data, basis):
            def one(c):
                point = []
                for i, w in enumerate(origin):
                    value = w
                    for j in range(k):
                        value = value + tf.cast(c[j], w.dtype) * directions[j][i]
                    point.append(value)
                if head is None:
                    out = call(obj, point, data)
                else:  # the first layer's output is linear in its weights
                    h = basis[0]
                    for j in range(k):
                        h = h + tf.cast(c[j], h.dtype) * basis[j + 1]
                    out = call(obj, point, (h, data), fn=head.fn)
                return {name: out[name] for name in keys}

            if strategy in LOOPS:
                return tf.map_fn(one, coeffs, fn_output_signature=signature,
                                 parallel_iterations=1)
            return tf.vectorized_map(one, coeffs)

        return f

    return _cached(obj, ("points", k, strategy, head), build)


# What "auto" times; an XLA compilation error (an op without an XLA kernel) drops that one.
CANDIDATES = ("vectorize", "loop", "loop_xla")
# "auto" times the candidates once an objective has this many points to evaluate in all (the
# current call's included); before that it runs the plain loop. Timing traces three functions
# and compiles one with XLA (~1-3 s on CPU), which a few short slices never repay (2026-12-07:
# three test files of short probes took 36 CPU-s with the loop forced vs 49 with the timing).
AUTO_AFTER_POINTS = 64


def auto_strategy(obj, k, args):
    """The strategy ``"auto"`` runs for this call of ``obj`` with ``args`` (see above)."""
    key, seen = ("strategy", k), ("points_seen", k)
    if key in obj._compiled:
        return obj._compiled[key]
    total = obj._compiled.get(seen, 0) + int(args[0].shape[0])
    obj._compiled[seen] = total
    if total < AUTO_AFTER_POINTS:
        return "loop"
    return choose_strategy(obj, k, args)


def choose_strategy(obj, k, args, candidates=CANDIDATES):
    """Time each strategy on ``args`` (after tracing, best of two) and remember the fastest."""
    key = ("strategy", k)
    if key not in obj._compiled:
        times = {}
        for name in candidates:
            fn = points_fn(obj, k, name)
            try:
                fn(*args)["loss"].numpy()  # trace (and compile)
            except tf.errors.OpError:
                if name != "loop_xla":
                    raise
                continue
            best = float("inf")
            for _ in range(2):
                start = time.perf_counter()
                fn(*args)["loss"].numpy()
                best = min(best, time.perf_counter() - start)
            times[name] = best
        obj._compiled[key] = min(times, key=times.get)
    return obj._compiled[key]


def gradient_fn(obj):
    """``f(point, data) -> (loss, [grad per variable])``."""

    def build():
        @tf.function
        def f(point, data):
            with tf.GradientTape() as tape:
                tape.watch(point)
                loss = call(obj, point, data)["loss"]
            return loss, tape.gradient(loss, point, unconnected_gradients=_ZERO)

        return f

    return _cached(obj, "gradient", build)


def hvp_fn(obj, method="reverse"):
    """``f(point, flat_vector, data) -> flat H @ v`` by double backprop or forward-over-reverse."""

    def build():
        @tf.function
        def f(point, vector, data):
            tangents = _split(obj, vector)
            if method == "forward":
                with tf.autodiff.ForwardAccumulator(point, tangents) as acc:
                    with tf.GradientTape() as tape:
                        tape.watch(point)
                        loss = call(obj, point, data)["loss"]
                    grads = tape.gradient(loss, point, unconnected_gradients=_ZERO)
                hv = acc.jvp(grads, unconnected_gradients=_ZERO)
            else:
                with tf.GradientTape() as outer:
                    outer.watch(point)
                    with tf.GradientTape() as inner:
                        inner.watch(point)
                        loss = call(obj, point, data)["loss"]
                    grads = inner.gradient(loss, point, unconnected_gradients=_ZERO)
                hv = outer.gradient(grads, point, output_gradients=tangents,
                                    unconnected_gradients=_ZERO)
            return _flat(hv)

        return f

    return _cached(obj, ("hvp", method), build)
