"""The :class:`Objective`: a scalar loss of a fixed probe set as a function of variables.

The point being probed is substituted for the variables inside a ``keras.StatelessScope`` in
compiled functions (:mod:`tfgenopt.landscape._engine`), so nothing is ever assigned.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfgenopt._validation import check_array, check_choice, check_int
from tfgenopt.landscape import _engine

__all__ = ["Objective"]


def _as_tensors(name, data):
    """Nested arrays -> nested float/int tensors with a common, non-empty leading dimension."""
    if data is None:
        raise ValueError(f"`{name}` is required (a probe set of arrays); received None.")
    if isinstance(data, tf.data.Dataset):
        raise TypeError(
            f"`{name}` must be arrays (a fixed probe set), not a tf.data.Dataset; take a fixed "
            "sample first, e.g. `x_val[:512]`.")
    leaves = tf.nest.flatten(data)
    if not leaves:
        raise ValueError(f"`{name}` is empty.")
    converted = []
    for leaf in leaves:
        arr = check_array(name, leaf.numpy() if hasattr(leaf, "numpy") else leaf, min_ndim=1)
        converted.append(tf.constant(arr))
    sizes = {int(t.shape[0]) for t in converted}
    if len(sizes) != 1:
        raise ValueError(f"Every array of `{name}` must have the same number of samples; "
                         f"received sizes {sorted(sizes)}.")
    return tf.nest.pack_sequence_as(data, converted)


class Objective:
    """A scalar loss of a fixed probe set, as a function of a list of ``keras.Variable``s.

    Args:
        fn: ``fn(data) -> scalar`` or a dict of scalars with a ``"loss"`` key (the other
            entries are extra metrics reported by the slices). Must use Keras variables
            through Keras layers/ops so a point can be substituted for them.
        variables: the ``keras.Variable``s the probes move (the "parameters").
        data: the probe set: an array, or a tuple/list/dict of arrays with a common first
            dimension; passed to ``fn`` as tensors of the same structure.
        batch_size: evaluate ``fn`` on chunks of this many samples and average them weighted
            by chunk size (for losses that are means over samples); ``None`` uses one chunk.
        name: a label for figures and logs.
        strategy: how the points of one call are evaluated: ``"loop"`` (a compiled
            ``tf.map_fn`` loop; the default, fastest on CPU in ``bench_landscape.py``),
            ``"loop_xla"`` (the same loop compiled with XLA: faster where elementwise work
            such as a large BCE dominates, slower for convolutions on CPU),
            ``"vectorize"`` (one batched ``tf.vectorized_map`` pass, more memory) or
            ``"auto"`` (the loop until the objective has had 64 points to evaluate in all,
            then time the three once and keep the fastest). Settable later as
            ``obj.strategy``.

    Attributes:
        linear_head: a :class:`~tfgenopt.landscape._linear_head.LinearHead` when the first
            layer is linear in its weights (set by :func:`~tfgenopt.landscape.objective` for
            plain models): evaluations of many points then compute that layer's output once
            per call for the origin and each direction instead of once per point. ``None``
            (the default; assign it to compare) evaluates every point in full.

    Example:
        >>> import keras, numpy as np
        >>> w = keras.Variable(np.ones(3, "float32"))
        >>> obj = Objective(lambda x: keras.ops.sum(w * w * x), [w], np.ones((1, 3), "float32"))
        >>> round(obj.evaluate()["loss"], 3)
        3.0
    """

    def __init__(self, fn, variables, data, batch_size=None, name="loss", strategy="loop"):
        if not callable(fn):
            raise TypeError(f"`fn` must be callable; received {fn!r}.")
        variables = list(variables)
        if not variables:
            raise ValueError("`variables` is empty; there is nothing to probe.")
        for v in variables:
            if not isinstance(v, keras.Variable):
                raise TypeError(
                    "`variables` must be keras.Variable objects (model.trainable_variables); "
                    f"received {type(v).__name__}.")
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, minimum=1)
        self.fn = fn
        self.variables = variables
        self.data = _as_tensors("data", data)
        self.batch_size = batch_size
        self.name = str(name)
        self.strategy = check_choice("strategy", strategy, _engine.STRATEGIES)
        self.linear_head = None
        self._compiled = {}

    # ------------------------------------------------------------------ shapes and weights
    @property
    def num_samples(self):
        """Number of samples in the probe set."""
        return int(tf.nest.flatten(self.data)[0].shape[0])

    @property
    def num_params(self):
        """Total number of scalar parameters of ``variables``."""
        return int(sum(np.prod(v.shape, dtype=np.int64) for v in self.variables))

    def weights(self):
        """A copy of the current values of ``variables`` as a list of NumPy arrays."""
        return [np.array(keras.ops.convert_to_numpy(v.value), copy=True) for v in self.variables]

    def check_weights(self, name, weights):
        """Validate a list of arrays shaped like ``variables``; returns it as float arrays."""
        if weights is None:
            return self.weights()
        weights = list(weights)
        if len(weights) != len(self.variables):
            raise ValueError(f"`{name}` must have one array per probed variable "
                             f"({len(self.variables)}); received {len(weights)}.")
        out = []
        for w, v in zip(weights, self.variables):
            w = np.asarray(keras.ops.convert_to_numpy(w))
            if tuple(w.shape) != tuple(v.shape):
                raise ValueError(f"`{name}` has an array of shape {w.shape} where variable "
                                 f"{v.path!r} has shape {tuple(v.shape)}.")
            if not np.all(np.isfinite(w)):
                raise ValueError(f"`{name}` contains NaN or infinite values.")
            out.append(w.astype(v.dtype, copy=False))
        return out

    def flatten(self, arrays):
        """Concatenate per-variable arrays into one float64 vector."""
        return np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])

    def unflatten(self, vector):
        """Split a flat vector into arrays shaped (and typed) like ``variables``."""
        out, start = [], 0
        for v in self.variables:
            size = int(np.prod(v.shape, dtype=np.int64))
            out.append(np.reshape(vector[start:start + size], v.shape).astype(v.dtype))
            start += size
        return out

    def subset(self, indices):
        """The probe data restricted to ``indices`` (same structure, as tensors)."""
        idx = tf.constant(np.asarray(indices, dtype=np.int64))
        return tf.nest.map_structure(lambda t: tf.gather(t, idx), self.data)

    # ------------------------------------------------------------------ evaluations
    def point_tensors(self, point=None, name="point"):
        """Validate ``point`` once and return it as tensors (pass those to repeated probes).

        Args:
            point: list of arrays shaped like ``variables``; None for the current weights.
            name: the argument name used in error messages.

        Returns:
            A list of ``tf.Tensor``; the other methods accept it without re-checking.
        """
        if point is not None and all(isinstance(w, tf.Tensor) for w in point) and \
                len(point) == len(self.variables) and all(
                    tuple(w.shape) == tuple(v.shape) for w, v in zip(point, self.variables)):
            return list(point)
        return [tf.constant(w) for w in self.check_weights(name, point)]

    def _point(self, point):
        return self.point_tensors(point)

    def evaluate(self, point=None):
        """The loss (and extra metrics) at ``point`` (default: the current weights).

        Args:
            point: list of arrays shaped like ``variables``, or None.

        Returns:
            ``{"loss": float, ...}``.
        """
        out = _engine.evaluate_fn(self)(self._point(point), self.data)
        return {k: float(v) for k, v in out.items()}

    def basis(self, directions, origin=None):
        """``linear_head``'s output at ``origin`` and at each direction ([] without a head).

        :meth:`evaluate_points` computes it per call; a caller that evaluates one plane in
        several calls (as ``surface_2d`` does, a row at a time) computes it once and passes it.

        Args:
            directions: K lists of arrays shaped like ``variables``.
            origin: list of arrays (default: the current weights).

        Returns:
            A list of K + 1 tensors, or ``[]``.
        """
        if self.linear_head is None:
            return []
        points = [self._point(origin)] + [self._point(d) for d in directions]
        return _engine.basis_fn(self)(points, self.data)

    def evaluate_points(self, coefficients, directions, origin=None, basis=None):
        """The loss at ``origin + sum_k c[i, k] * directions[k]`` for every row ``i``.

        Args:
            coefficients: ``(m, K)`` array of coefficients.
            directions: K lists of arrays shaped like ``variables``.
            origin: list of arrays (default: the current weights).
            basis: :meth:`basis` of the same ``directions`` and ``origin``, if already
                computed (None computes it).

        Returns:
            ``{"loss": (m,) array, ...}``.
        """
        coefficients = np.asarray(coefficients, dtype=np.float32)
        dirs = [self._point(d) for d in directions]
        if coefficients.ndim != 2 or coefficients.shape[1] != len(dirs):
            raise ValueError(f"`coefficients` must have shape (m, {len(dirs)}); "
                             f"received {coefficients.shape}.")
        origin = self._point(origin)
        if basis is None:
            basis = self.basis(dirs, origin)
        args = (tf.constant(coefficients), origin, dirs, self.data, basis)
        strategy = self.strategy
        if strategy == "auto":  # the loop, until enough points make timing worth it
            strategy = _engine.auto_strategy(self, len(dirs), args)
        out = _engine.points_fn(self, len(dirs), strategy)(*args)
        return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}

    def gradient(self, point=None, data=None):
        """``(loss, gradient)`` at ``point`` on ``data`` (default: the probe set).

        Returns:
            A float and a list of NumPy arrays shaped like ``variables``.
        """
        loss, grads = _engine.gradient_fn(self)(self._point(point),
                                               self.data if data is None else data)
        return float(loss), [g.numpy() for g in grads]

    def hvp(self, vector, point=None, method="reverse"):
        """The Hessian-vector product ``H(point) @ vector`` of the loss, flat in and out.

        Args:
            vector: flat vector of length ``num_params``.
            point: list of arrays (default: the current weights).
            method: ``"reverse"`` (double backprop) or ``"forward"`` (forward-over-reverse).

        Returns:
            A flat float64 NumPy vector.
        """
        check_choice("method", method, ("reverse", "forward"))
        vector = np.asarray(vector)
        if vector.shape != (self.num_params,):
            raise ValueError(f"`vector` must have shape ({self.num_params},); "
                             f"received {vector.shape}.")
        fn = _engine.hvp_fn(self, method)
        out = fn(self._point(point), tf.constant(vector, dtype=self.variables[0].dtype),
                 self.data)
        return out.numpy().astype(np.float64)
