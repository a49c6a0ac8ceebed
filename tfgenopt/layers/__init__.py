"""Keras layers for generative models (serializable, registered under ``tfgenopt``)."""

from tfgenopt.layers.minibatch_stddev import MinibatchStdDev

__all__ = ["MinibatchStdDev"]
