"""Keras Tuner's best-epoch checkpoint, written once per trial instead of once per epoch.

The callback itself is :class:`tfgenopt.callbacks._tuning.BestWeightsInMemory`; this module
wraps the trial's ``SaveBestEpoch`` in it, with Keras Tuner's writer.
"""

from __future__ import annotations

from tfgenopt.callbacks._tuning import BestWeightsInMemory
from tfgenopt.tuning._kt_adapter import SaveBestEpoch, write_checkpoint

__all__ = ["BestWeightsInMemory", "SaveBestEpoch", "defer_checkpoints"]


def defer_checkpoints(callbacks):
    """Wrap every Keras Tuner ``SaveBestEpoch`` in ``callbacks`` (a new list)."""
    return [BestWeightsInMemory(cb, write_checkpoint) if type(cb) is SaveBestEpoch else cb
            for cb in callbacks]
