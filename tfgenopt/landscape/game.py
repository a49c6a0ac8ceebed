"""Probes of a game: the joint gradient field of several players, its rotation, path angles.

In a game every player descends its own loss in its own parameters; the stacked gradients
form the joint vector field ``F(theta)``. Its Jacobian ``J`` is symmetric for a single loss
(a Hessian) and antisymmetric for a purely rotational game (``min_x max_y x*y``). Two
indicators tell a user whether a GAN is converging or cycling:

* :func:`rotation_index`: ``sum |A u|^2 / (sum |A u|^2 + sum |S u|^2)`` over random ``u``,
  with ``S``, ``A`` the symmetric and antisymmetric parts of ``J``: 0 for a potential
  (minimization) problem, 1 for pure rotation;
* :func:`path_angle` (Berard et al. 2020, "A closer look at the optimization landscapes of
  GANs"): the cosine between ``F`` and the straight path between two checkpoints, at points
  along it. Minimization flips sharply from -1 to +1 at an optimum; rotation gives a bump
  near 0 around it.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfgenopt._validation import check_int
from tfgenopt.landscape import _engine
from tfgenopt.landscape.objectives import Objective, _is_gan, objective

__all__ = ["Game", "game", "rotation_index", "path_angle"]

_ZERO = tf.UnconnectedGradients.ZERO


class Game:
    """Several players, each an :class:`~tfgenopt.landscape.Objective` over its own variables.

    Args:
        players: ``{name: Objective}``; player ``i`` descends its loss in its variables.

    Example:
        >>> import keras, numpy as np
        >>> x, y = keras.Variable(1.0), keras.Variable(0.5)
        >>> d = np.zeros((1, 1), "float32")
        >>> g = Game({"x": Objective(lambda _: x * y, [x], d),
        ...           "y": Objective(lambda _: -x * y, [y], d)})
        >>> g.field().tolist()
        [0.5, -1.0]
    """

    def __init__(self, players):
        if not isinstance(players, dict) or not players:
            raise ValueError(f"`players` must be a non-empty dict of Objectives; received "
                             f"{players!r}.")
        for name, obj in players.items():
            if not isinstance(obj, Objective):
                raise TypeError(f"`players[{name!r}]` must be an Objective; received "
                                f"{type(obj).__name__}.")
        self.players = dict(players)
        self._compiled = {}

    @property
    def objectives(self):
        """The players' objectives, in order."""
        return list(self.players.values())

    def weights(self):
        """The current joint point: one list of arrays per player."""
        return [obj.weights() for obj in self.objectives]

    def flatten(self, point):
        """One flat float64 vector from a joint point."""
        return np.concatenate([obj.flatten(p) for obj, p in zip(self.objectives, point)])

    def unflatten(self, vector):
        """A joint point from one flat vector."""
        out, start = [], 0
        for obj in self.objectives:
            out.append(obj.unflatten(vector[start:start + obj.num_params]))
            start += obj.num_params
        return out

    def _tensors(self, point):
        point = self.weights() if point is None else point
        if len(point) != len(self.players):
            raise ValueError(f"`point` must hold one list of arrays per player "
                             f"({len(self.players)}); received {len(point)}.")
        return [[tf.constant(w) for w in obj.check_weights("point", p)]
                for obj, p in zip(self.objectives, point)]

    def _field(self, point):
        grads = []
        objs = self.objectives
        for i, obj in enumerate(objs):
            others = [(v, t) for j, o in enumerate(objs) if j != i
                      for v, t in zip(o.variables, point[j])]
            with tf.GradientTape() as tape:
                tape.watch(point[i])
                loss = _engine.call(obj, point[i], obj.data, extra_mapping=others)["loss"]
            grads += tape.gradient(loss, point[i], unconnected_gradients=_ZERO)
        return tf.concat([tf.reshape(tf.cast(g, tf.float64), [-1]) for g in grads], 0)

    def field(self, point=None):
        """The joint gradient field ``F`` at ``point`` (default: the current weights), flat."""
        fn = self._compiled.get("field")
        if fn is None:
            fn = self._compiled["field"] = tf.function(self._field)
        return fn(self._tensors(point)).numpy()

    def jacobian_products(self, u, point=None):
        """``(J @ u, J.T @ u)`` of the field's Jacobian at ``point``; ``u`` and results flat."""
        fn = self._compiled.get("jac")
        if fn is None:
            @tf.function
            def fn(point, tangents):
                flat_point = [t for p in point for t in p]
                flat_tangents = [t for p in tangents for t in p]
                with tf.GradientTape() as outer:
                    outer.watch(flat_point)
                    with tf.autodiff.ForwardAccumulator(flat_point, flat_tangents) as acc:
                        f = self._field(point)
                    ju = acc.jvp(f, unconnected_gradients=_ZERO)
                    dot = tf.reduce_sum(f * tf.concat(
                        [tf.reshape(tf.cast(t, tf.float64), [-1]) for t in flat_tangents], 0))
                jtu = outer.gradient(dot, flat_point, unconnected_gradients=_ZERO)
                jtu = tf.concat([tf.reshape(tf.cast(g, tf.float64), [-1]) for g in jtu], 0)
                return ju, jtu

            self._compiled["jac"] = fn
        tangents = [[tf.constant(a) for a in p] for p in self.unflatten(np.asarray(u))]
        ju, jtu = fn(self._tensors(point), tangents)
        return ju.numpy(), jtu.numpy()


def game(model, data=None, seed=0, batch_size=None):
    """The :class:`Game` of a GAN (discriminator and generator) or a one-player model.

    Args:
        model: a GAN, any model :func:`~tfgenopt.landscape.objective` accepts, or a Game.
        data: the probe set (images, or ``(images, labels)`` for a conditional GAN).
        seed: seed of the fixed latent batch, shared by both players.
        batch_size: evaluate the probe set in chunks of this size.

    Returns:
        A :class:`Game`.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> m.compile("sgd", "mse")
        >>> list(game(m, np.ones((4, 2), "float32")).players)
        ['model']
    """
    if isinstance(model, Game):
        return model
    if _is_gan(model):
        return Game({p: objective(model, data, player=p, batch_size=batch_size, seed=seed)
                     for p in ("discriminator", "generator")})
    return Game({"model": objective(model, data, batch_size=batch_size)})


def rotation_index(model, data=None, samples=4, point=None, seed=None):
    """How rotational the joint gradient field is: 0 for minimization, 1 for pure rotation.

    Args:
        model: a GAN, a :class:`Game`, or any model (a one-player game: always ~0).
        data: the probe set.
        samples: number of random Gaussian probe vectors ``u``.
        point: the joint point (one list of arrays per player); default the current weights.
        seed: seed of the probe vectors and of a GAN's latent batch.

    Returns:
        ``{"rotation": float, "antisymmetric_norm": float, "symmetric_norm": float}`` with the
        norms the root mean squares of ``|A u|`` and ``|S u|``.

    Example:
        >>> import keras, numpy as np
        >>> x, y = keras.Variable(1.0), keras.Variable(0.5)
        >>> d = np.zeros((1, 1), "float32")
        >>> g = Game({"x": Objective(lambda _: x * y, [x], d),
        ...           "y": Objective(lambda _: -x * y, [y], d)})
        >>> rotation_index(g, seed=0)["rotation"]
        1.0
    """
    samples = check_int("samples", samples, minimum=1)
    g = game(model, data, seed=0 if seed is None else seed)
    rng = np.random.default_rng(seed)
    n = sum(obj.num_params for obj in g.objectives)
    anti = sym = 0.0
    for _ in range(samples):
        u = rng.standard_normal(n)
        ju, jtu = g.jacobian_products(u, point)
        anti += float(np.sum(((ju - jtu) / 2) ** 2))
        sym += float(np.sum(((ju + jtu) / 2) ** 2))
    total = anti + sym
    return {"rotation": anti / total if total > 0 else 0.0,
            "antisymmetric_norm": float(np.sqrt(anti / samples)),
            "symmetric_norm": float(np.sqrt(sym / samples))}


def path_angle(model, data=None, weights_a=None, weights_b=None, alphas=None, seed=0,
               verbose=0):
    """Cosine between the joint gradient field and the path from checkpoint A to B.

    Args:
        model: a GAN, a :class:`Game`, or any model (a one-player game).
        data: the probe set.
        weights_a: the start checkpoint: one list of arrays per player (``Game.weights()``).
        weights_b: the end checkpoint; default the current weights.
        alphas: an int (that many points in ``[0, 1.5]``) or an array of path coefficients.
        seed: seed of a GAN's latent batch.
        verbose: 1 shows a progress bar.

    Returns:
        ``{"alphas", "cosine", "norm"}`` arrays: ``cosine[i]`` is the cosine between
        ``F(a + alphas[i] (b - a))`` and ``b - a``, ``norm[i]`` the norm of ``F`` there.

    Example:
        >>> import keras, numpy as np
        >>> w = keras.Variable(np.ones(2, "float32"))
        >>> g = Game({"w": Objective(lambda _: keras.ops.sum(w * w) / 2, [w],
        ...                          np.zeros((1, 1), "float32"))})
        >>> a = [[np.ones(2, "float32")]]; b = [[np.zeros(2, "float32")]]
        >>> path_angle(g, weights_a=a, weights_b=b, alphas=[0.5, 1.5])["cosine"].round(6).tolist()
        [-1.0, 1.0]
    """
    g = game(model, data, seed=seed)
    if weights_a is None:
        raise ValueError("`weights_a` is required: the start checkpoint, one list of arrays "
                         "per player (`game(model, data).weights()`).")
    if alphas is None:
        alphas = 31
    if isinstance(alphas, (int, np.integer)) and not isinstance(alphas, bool):
        alphas = np.linspace(0.0, 1.5, check_int("alphas", int(alphas), minimum=2))
    alphas = np.asarray(alphas, dtype=np.float64)
    a = g.flatten(g.weights() if weights_a is None else weights_a)
    b = g.flatten(g.weights() if weights_b is None else weights_b)
    delta = b - a
    dn = np.linalg.norm(delta)
    if dn == 0:
        raise ValueError("`weights_a` and `weights_b` are equal; the path has no direction.")
    bar = keras.utils.Progbar(len(alphas), unit_name="point") if verbose else None
    cosine, norm = np.empty(len(alphas)), np.empty(len(alphas))
    for i, alpha in enumerate(alphas):
        f = g.field(g.unflatten(a + alpha * delta))
        fn = np.linalg.norm(f)
        norm[i] = fn
        cosine[i] = float(f @ delta / (fn * dn)) if fn > 0 else 0.0
        if bar is not None:
            bar.update(i + 1)
    return {"alphas": alphas, "cosine": cosine, "norm": norm}
