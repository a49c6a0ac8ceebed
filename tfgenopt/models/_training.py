"""Small training helpers shared by the GAN and the VAE: data, distribution, loss scaling."""

from __future__ import annotations

import copy

import keras
from keras import ops

#: The marker of a non-finite training loss (``tf.debugging.check_numerics`` message); the
#: ``fit`` of ``ArrayFitMixin`` turns the error into a ``FloatingPointError`` naming the step.
NONFINITE_LOSS = "tfgenopt: the training loss is not finite"


def nonfinite_error(model, error):
    """A ``FloatingPointError`` naming the step at which the training loss became non-finite.

    ``error`` is TensorFlow's ``InvalidArgumentError`` from the check in a ``train_step``; the
    step's update was not applied, so the weights are those of the last finite step.
    """
    opt = getattr(model, "optimizer", None)
    done = 0 if opt is None else int(keras.ops.convert_to_numpy(opt.iterations))
    return FloatingPointError(
        f"Training stopped at step {done + 1}: the loss became NaN or infinite there, and that "
        f"step was not applied (the weights are those after step {done}). Common causes: a "
        "learning rate too high, float16 overflow (keep the schedule in float32; use "
        "'mixed_bfloat16'), data with extreme values.")


def unpack(data):
    """``(x, y)`` from a ``fit`` batch: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
    return x, y


def num_replicas():
    """Replicas of the current ``tf.distribute`` strategy (1 outside one)."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def scale_for_replicas(loss):
    """Divide a per-replica mean loss by the replica count, so summed gradients average."""
    n = num_replicas()
    return loss if n == 1 else loss * (1.0 / n)


def wrap_loss_scale(opt, networks, name):
    """Wrap ``opt`` in a ``LossScaleOptimizer`` when any network computes in float16."""
    policies = [keras.config.dtype_policy().name] + [n.dtype_policy.name for n in networks]
    if "mixed_float16" in policies and not isinstance(opt, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(opt, name=f"{name}_loss_scale_optimizer")
    return opt


def loss_scale(opt):
    """The factor ``opt.scale_loss`` multiplies losses by (1 without loss scaling)."""
    if isinstance(opt, keras.optimizers.LossScaleOptimizer):
        return ops.cast(opt.dynamic_scale, "float32")
    factor = getattr(opt, "loss_scale_factor", None)
    return 1.0 if factor is None else float(factor)


def global_norm(grads):
    """The L2 norm of all gradients together (float32; None gradients count as zero)."""
    squares = [ops.sum(ops.square(ops.cast(g, "float32"))) for g in grads if g is not None]
    return ops.sqrt(ops.sum(ops.stack(squares))) if squares else ops.zeros((), "float32")


def gradient_norm(grads, opt):
    """Global L2 norm of the unscaled, whole-batch gradient from per-replica scaled ``grads``.

    Under ``tf.distribute`` this is the norm of one replica's gradient (an estimate of the
    global one); it is not all-reduced, to keep the step free of extra communication.
    """
    return global_norm(grads) * (num_replicas() / loss_scale(opt))


def objective(opt, loss):
    """What a tape differentiates: ``loss`` scaled for replicas and by ``opt``'s loss scale."""
    return opt.scale_loss(scale_for_replicas(loss))


def minimize(opt, tape, scaled_loss, variables):
    """Apply the gradients of ``scaled_loss`` (see :func:`objective`); return their norm."""
    grads = tape.gradient(scaled_loss, variables)
    opt.apply_gradients(zip(grads, variables))
    return gradient_norm(grads, opt)


def check_network(name, net):
    """Return ``net`` if it is a built Keras model/layer with known inputs, else raise."""
    if not isinstance(net, keras.layers.Layer):
        raise TypeError(f"`{name}` must be a keras.Model; received {type(net).__name__}.")
    if not net.built or not getattr(net, "inputs", None):
        raise ValueError(
            f"`{name}` must be a built functional keras.Model with known inputs (for example "
            f"from tfgenopt.builders, or keras.Model(inputs, outputs)); received {net.name!r}."
        )
    return net


def static_shape(tensor):
    """The shape of a Keras tensor without its batch axis, as a tuple."""
    return tuple(tensor.shape[1:])


def shapes_compatible(a, b):
    """True when two shapes (None = unknown) agree wherever both are known."""
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def check_sample_shape(x, network, name):
    """Raise a ``ValueError`` when ``x``'s sample shape does not fit ``network``'s first input."""
    want = static_shape(network.inputs[0])
    got = tuple(x.shape[1:])
    if not shapes_compatible(got, want):
        raise ValueError(f"The data has sample shape {got} but the {name} expects {want}.")


def update_trackers(trackers, values, skip_nonfinite=()):
    """Update ``trackers[key]`` (Mean metrics) with ``values[key]``.

    Keys in ``skip_nonfinite`` ignore non-finite values (a loss-scale overflow step, which the
    ``LossScaleOptimizer`` skips, should not turn an epoch's mean gradient norm into inf).
    """
    for key, value in values.items():
        if key in skip_nonfinite:
            finite = ops.isfinite(value)
            value = ops.where(finite, value, ops.zeros_like(value))
            trackers[key].update_state(value, sample_weight=ops.cast(finite, "float32"))
        else:
            trackers[key].update_state(value)


def networks_config(model, names):
    """The serialized networks ``{name: config}`` of ``model``, for its ``get_config``."""
    return {name: keras.saving.serialize_keras_object(getattr(model, name)) for name in names}


def from_networks_config(cls, config, names):
    """``cls(**config)`` after deserializing the networks ``names`` (inverse of the above)."""
    config = copy.deepcopy(config)  # deserializing consumes the nested dicts
    for name in names:
        config[name] = keras.saving.deserialize_keras_object(config[name])
    return cls(**config)
