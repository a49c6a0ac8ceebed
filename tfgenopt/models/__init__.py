"""Training models (``keras.Model`` subclasses that own a ``train_step``) and their protocol."""

from tfgenopt.models import protocol

__all__ = ["protocol"]
