"""A fast path for many points at once: a first layer that is linear in its own weights.

A ``Dense`` layer or a convolution without activation computes ``h(w) = x @ K + b``, which is
linear in its weights ``w = (K, b)``. On the plane ``w0 + a * d1 + b * d2`` its output over the
probe set is therefore ``h(w0) + a * h(d1) + b * h(d2)``: ``Objective.basis`` computes
those ``K + 1`` terms once per grid (``surface_2d`` passes them to every row's
``evaluate_points``) and every point runs only the rest of the model on their combination.
For the 784-64-32-784 autoencoder the first layer holds two thirds of the multiply-adds
of a forward pass.

The values equal the plain path's up to float round-off (the sum is taken after the layer,
not before). :func:`linear_head` only returns a head when that holds by construction: a
single-input, single-output ``Sequential`` or functional model whose input is read by exactly
one layer, of a type listed in ``LINEAR_LAYERS`` (exact type, so no overridden ``call``),
without activation, LoRA, quantization or mixed precision, whose weights are all probed.
Anything else (or ``obj.linear_head = None``) takes the plain path.
"""

from __future__ import annotations

import keras
import tensorflow as tf

__all__ = ["LinearHead", "linear_head", "LINEAR_LAYERS"]

# Layers whose output (activation aside) is linear in their weights: matmul/convolution + bias.
LINEAR_LAYERS = (
    keras.layers.Dense, keras.layers.EinsumDense,
    keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
    keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose,
    keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D,
)


class LinearHead:
    """The first layer of a model split off, with the loss of the rest of the model.

    Args:
        layer: the first layer (linear in its weights, reading the model input directly).
        indices: positions of the layer's variables in the objective's ``variables``.
        inputs: ``inputs(data) -> x``, the layer's input taken from a probe batch.
        fn: ``fn((h, data)) -> loss or dict``: the objective with ``h``, the layer's output
            on ``data``, in place of computing it.

    Example:
        >>> import keras, numpy as np
        >>> from tfgenopt import landscape
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
        ...                       keras.layers.Activation("relu"), keras.layers.Dense(1)])
        >>> m.compile("sgd", "mse")
        >>> obj = landscape.objective(m, np.ones((8, 3), "float32"))
        >>> obj.linear_head.layer is m.layers[0]
        True
    """

    def __init__(self, layer, indices, inputs, fn):
        self.layer = layer
        self.indices = list(indices)
        self.inputs = inputs
        self.fn = fn

    def output(self, variables, point, data):
        """The layer's output on ``data`` with its weights taken from ``point`` (a full list)."""
        mapping = [(variables[i], point[i]) for i in self.indices]
        with keras.StatelessScope(state_mapping=mapping):
            return self.layer(self.inputs(data))


def _first_layer(model):
    """The only layer reading the model's single input, or None."""
    inputs = model.inputs
    if len(inputs) != 1 or len(model.outputs) != 1:
        return None
    readers = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            seen = tf.nest.flatten(layer.input)
        except (AttributeError, ValueError):  # a shared layer has more than one input
            return None
        if any(t is inputs[0] for t in seen):
            readers.append(layer)
    return readers[0] if len(readers) == 1 and readers[0].input is inputs[0] else None


def _runs_its_graph(model):
    """Whether ``model.call`` is Keras' own ``Sequential`` / functional one (no override)."""
    for cls in type(model).__mro__:
        if cls.__name__ in ("Functional", "Sequential") and cls.__module__.startswith("keras"):
            return type(model).call is cls.call
    return False


def _is_linear(layer, variables):
    if type(layer) not in LINEAR_LAYERS:
        return False
    if getattr(layer, "activation", None) not in (None, keras.activations.linear):
        return False
    if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
        return False
    if layer.compute_dtype != layer.variable_dtype or layer.non_trainable_variables:
        return False
    return all(any(v is w for w in variables) for v in layer.variables)


def linear_head(model, variables, data, inputs, tail_loss):
    """A :class:`LinearHead` for a plain model, or None where the plain path must be taken.

    Args:
        model: a built ``keras.Model``.
        variables: the probed variables (``model.trainable_variables``).
        data: the probe set.
        inputs: ``inputs(data) -> x``, the model's input in a probe batch (one tensor;
            anything else gives None).
        tail_loss: ``tail_loss(y_pred, data) -> loss or dict``, the objective given the
            model's output on the probe batch ``data``.

    Returns:
        A :class:`LinearHead` or None.
    """
    x = inputs(data)
    if not isinstance(model, keras.Model) or not isinstance(x, tf.Tensor):
        return None
    try:
        layer = _first_layer(model)
    except (AttributeError, ValueError):  # subclassed models have no graph of layers
        return None
    if layer is None or not _is_linear(layer, variables):
        return None
    expected = model.inputs[0].shape
    if len(expected) != len(x.shape) or not x.dtype.is_floating or any(
            e is not None and e != s for e, s in zip(expected[1:], x.shape[1:])):
        return None
    if not _runs_its_graph(model):
        return None
    if layer.output is model.outputs[0]:
        tail = None  # the layer is the whole model
    else:
        try:
            tail = keras.Model(layer.output, model.outputs[0])
        except ValueError:  # the model input is also read past the first layer
            return None
    indices = [next(i for i, w in enumerate(variables) if w is v) for v in layer.variables]

    def fn(batch):
        h, data = batch
        return tail_loss(h if tail is None else tail(h, training=False), data)

    return LinearHead(layer, indices, inputs, fn)
