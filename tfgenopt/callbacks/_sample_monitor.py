"""``SampleMonitor``: what ``QualityMonitor`` and ``CollapseMonitor`` share.

Both draw samples from the model (``model.generate(n, seed=seed)`` or ``sample_fn``) at due
epochs, run them through a feature extractor beside a reference set of real images, and write
what they measured into ``logs``. Their common arguments (the reference and its labels,
``every``, ``n_samples``, ``extractor``, ``seed``, ``batch_size``, ``value_range``, ``verbose``,
``sample_fn``) are validated, kept and written into ``get_config`` here, once; so are the due
rule, the extractor loaded once and shared by deep copies, and the key withdrawal at the end.
"""

from __future__ import annotations

from tfgenopt import catalog
from tfgenopt._validation import check_array, check_int, check_value_range
from tfgenopt.callbacks._copy import deepcopy_sharing
from tfgenopt.callbacks._monitor import MonitorCallback
from tfgenopt.evaluation import extractors
from tfgenopt.models import protocol

__all__ = ["SampleMonitor"]

# Shared, not copied, by ``copy.deepcopy`` (Keras Tuner copies callbacks for every trial).
_SHARED = ("_real_x", "_real_y", "_extractor", "extractor", "sample_fn")


class SampleMonitor(MonitorCallback):
    """Base of the callbacks that measure generated samples against real ones.

    A :class:`MonitorCallback` of its own measurements (``monitor=None``). Subclasses name
    their reference argument in :attr:`reference_arg` (``"real_data"``, ``"x_reference"``),
    say whether it may be None in :attr:`reference_required`, call
    ``super().__init__(reference, labels, every, n_samples, extractor, seed, batch_size,
    value_range, verbose, sample_fn)`` and extend :meth:`get_config` with their own arguments.

    Args:
        reference: real images ``(n, ...)`` (at least 2), ``(images, labels)``, or None where
            the subclass allows it.
        labels: labels of the reference images (or pass ``(images, labels)``).
        every: measure at the end of epochs ``every``, ``2 * every``, ... (and the first and
            last epoch of the run: :meth:`_due`).
        n_samples: generated samples per measurement (None: the subclass' default).
        extractor: ``None`` (the cached digits classifier), a name or weights path, a
            ``keras.Model`` or a ``FeatureExtractor`` (see ``tfgenopt.evaluation.extractors``).
        seed: seed of the generated samples (the same every epoch).
        batch_size: images per forward pass of the extractor.
        value_range: pixel range of the images; None infers it.
        verbose: 1 shows progress and prints what the subclass acts on.
        sample_fn: a callable ``fn(n, seed)`` returning ``n`` samples, for a model without
            ``generate`` (see ``tfgenopt.models.protocol.sampler``).

    Example:
        >>> SampleMonitor(np.zeros((4, 2)), every=2).get_config()["every"]
        2
    """

    reference_arg = "real_data"
    reference_required = True

    def __init__(self, reference=None, labels=None, every=1, n_samples=None, extractor=None,
                 seed=0, batch_size=256, value_range=None, verbose=0, sample_fn=None):
        super().__init__(monitor=None, verbose=verbose)
        name = self.reference_arg
        if isinstance(reference, tuple) and len(reference) == 2 and labels is None:
            reference, labels = reference
        x = None
        if reference is not None or self.reference_required:
            x = check_array(name, reference)
            if x.shape[0] < 2:
                raise ValueError(f"`{name}` needs at least 2 samples; received {x.shape[0]}.")
        if labels is not None:
            if x is None:
                raise ValueError(f"`labels` needs `{name}`.")
            labels = check_array("labels", labels, min_ndim=1)
            if labels.shape[0] != x.shape[0]:
                raise ValueError(f"`labels` must have one entry per real sample of `{name}` "
                                 f"({x.shape[0]}); received {labels.shape[0]}.")
        self.every = check_int("every", every, minimum=1)
        self.n_samples = None if n_samples is None else check_int("n_samples", n_samples,
                                                                  minimum=2)
        self.seed = check_int("seed", seed)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.value_range = (None if value_range is None
                            else check_value_range("value_range", value_range))
        self.extractor = extractors.check(extractor)
        self.sample_fn = protocol.check_sample_fn(sample_fn)
        self._real_x, self._real_y = x, labels
        self._extractor = None
        self.evaluated_epochs = []

    def __deepcopy__(self, memo):
        return deepcopy_sharing(self, memo, _SHARED)

    def _due(self, epoch):
        """Measure now? Epochs ``every``, ``2 * every``, ... and the last
        (``tfgenopt.catalog.due_at_epoch_end``), and the run's first epoch, so the keys are in
        ``logs`` from the start for ``EarlyStopping`` and tuners."""
        return (not self.evaluated_epochs
                or catalog.due_at_epoch_end(epoch, self.every, (self.params or {}).get("epochs")))

    def _load_extractor(self):
        """The feature extractor, built or loaded on first use and kept (shared by copies)."""
        if self._extractor is None:
            self._extractor = extractors.get(self.extractor, real=self._real_x,
                                             labels=self._real_y)
        return self._extractor

    def on_train_end(self, logs=None):
        protocol.withdraw_keys(self.model, self)

    def get_config(self):
        """The common arguments (the reference under :attr:`reference_arg`); subclasses add
        theirs. Raises ``ValueError`` for an extractor object or a ``sample_fn``."""
        owner = type(self).__name__
        if not (self.extractor is None or isinstance(self.extractor, str)):
            raise ValueError(f"{owner}.get_config() can carry `extractor` only as a name or a "
                             "weights path, not a model object.")
        if self.sample_fn is not None:
            raise ValueError(f"{owner}.get_config() cannot carry `sample_fn` (a callable).")
        return {
            self.reference_arg: None if self._real_x is None else self._real_x.tolist(),
            "labels": None if self._real_y is None else self._real_y.tolist(),
            "every": self.every, "n_samples": self.n_samples, "extractor": self.extractor,
            "seed": self.seed, "batch_size": self.batch_size,
            "value_range": None if self.value_range is None else list(self.value_range),
            "verbose": self.verbose,
        }

    @classmethod
    def from_config(cls, config):
        """Rebuild a monitor from :meth:`get_config` (``keras.callbacks.Callback`` has none)."""
        return cls(**config)
