"""CPUBudget: stop training once it has spent a number of CPU seconds; measure quality on the way.

``tfgenopt compare`` gives every model family the same budget with it: the process CPU time
(``time.process_time``: every thread of the process, so two busy cores count two seconds per
second of wall time) spent inside training epochs, checked between epochs.
"""

from __future__ import annotations

import time

import keras

from tfgenopt._validation import check_float, check_int
from tfgenopt.models import protocol

__all__ = ["CPUBudget"]


class CPUBudget(keras.callbacks.Callback):
    """Stop ``fit`` once its epochs have used ``seconds`` of process CPU time.

    The clock runs from this callback's ``on_epoch_begin`` to its ``on_epoch_end``: put it
    first in ``callbacks`` so that what other callbacks do at the end of an epoch (and the
    quality measurements below) is not counted. The budget is checked between epochs, so the
    last epoch may overshoot it by up to one epoch (:attr:`cpu_s` says how much was used).

    With a ``monitor`` (a ``tfgenopt.callbacks.QualityMonitor`` that is *not* itself in
    ``callbacks``), quality is measured at the end of the first epoch, after each further
    ``seconds / measurements`` of training and at the end of training; each measurement is kept
    in :attr:`records` with the CPU seconds and epochs at which it was taken, and its values go
    into ``logs`` (carried between measurements, as ``QualityMonitor`` does).

    Args:
        seconds: the budget in CPU seconds (> 0).
        monitor: a ``QualityMonitor`` to measure with, or None.
        measurements: how many evenly spaced measurements the budget gets (besides the first).
        verbose: 1 prints one line when the budget stops training.

    Attributes:
        cpu_s: CPU seconds used by the epochs so far.
        records: ``[{"epoch", "cpu_s", <the monitor's keys>...}]``, one per measurement.
        stopped_epoch: the epoch (from 1) after which the budget stopped training, or None.

    Example:
        >>> budget = CPUBudget(0.5)
        >>> h = vae.fit(x, epochs=10_000, batch_size=32, verbose=0, callbacks=[budget])
        >>> budget.cpu_s >= 0.5, len(h.epoch) == budget.stopped_epoch < 10_000
        (True, True)
    """

    def __init__(self, seconds, monitor=None, measurements=8, verbose=0):
        super().__init__()
        self.seconds = check_float("seconds", seconds, 0.0, min_inclusive=False)
        self.measurements = check_int("measurements", measurements, minimum=1)
        if monitor is not None and not callable(getattr(monitor, "measure", None)):
            raise TypeError(f"`monitor` must be a QualityMonitor (with a `measure()` method) or "
                            f"None; received {type(monitor).__name__}.")
        self.monitor = monitor
        self.verbose = check_int("verbose", verbose, minimum=0)
        self._reset()

    def _reset(self):
        self.cpu_s = 0.0
        self.records = []
        self.stopped_epoch = None
        self._last = {}
        self._start = None
        self._epoch = None
        self._measured_epoch = None

    def on_train_begin(self, logs=None):
        self._reset()
        if self.monitor is not None:
            self.monitor.set_model(self.model)
            self.monitor.on_train_begin()

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.process_time()

    def _measure(self, epoch):
        self._last = self.monitor.measure()
        self._measured_epoch = epoch
        self.records.append({"epoch": int(epoch) + 1, "cpu_s": round(self.cpu_s, 3),
                             **self._last})

    def on_epoch_end(self, epoch, logs=None):
        if self._start is not None:
            self.cpu_s += time.process_time() - self._start
        self._epoch = epoch
        spent = self.cpu_s >= self.seconds
        if self.monitor is not None:
            step = self.seconds / self.measurements
            due = not self.records or spent or self.cpu_s >= len(self.records) * step
            if due:
                self._measure(epoch)
            protocol.set_carried_keys(self.model, () if due else self._last)
            if logs is not None:
                logs.update(self._last)
        if spent:
            self.model.stop_training = True
            self.stopped_epoch = int(epoch) + 1
            if self.verbose:
                print(f"CPUBudget: {self.cpu_s:.1f} of {self.seconds:g} CPU seconds used after "
                      f"epoch {epoch + 1}; training stops.")

    def on_train_end(self, logs=None):
        if self.monitor is None:
            return
        if self._epoch is not None and self._measured_epoch != self._epoch:
            self._measure(self._epoch)  # ended by the epoch count: measure the final weights
        self.monitor.on_train_end()
