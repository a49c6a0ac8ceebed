"""Keras callbacks that watch a run and act on it; thin layers over the modules they call."""

__all__ = []
