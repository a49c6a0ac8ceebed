"""Keras layers for generative models (serializable, registered under ``tfgenopt``)."""

from tfgenopt.layers.embedding import SinusoidalEmbedding
from tfgenopt.layers.lecam import LeCamEMA
from tfgenopt.layers.minibatch_stddev import MinibatchStdDev
from tfgenopt.layers.pack import Pack

__all__ = ["LeCamEMA", "MinibatchStdDev", "Pack", "SinusoidalEmbedding"]
