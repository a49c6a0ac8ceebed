"""What several modules must agree on, in one place: metric keys, datasets, the ``every=k`` rule.

* :data:`QUALITY`: each quality metric ``QualityMonitor`` measures, declared once: its name
  (and aliases), the keys it writes with their directions and docs. ``METRICS``,
  ``QualityMonitor``'s metric -> keys map and the tuner's objective map derive from it
  (:func:`quality_metric`, :func:`quality_metric_of`).
* :data:`METRICS`: every ``logs`` key the package writes, its direction (``"min"``,
  ``"max"`` or ``None`` for a diagnostic that is not "better" on either side) and its producer.
  :func:`direction` is what ``EarlyStopping``, ``ReduceLROnPlateau``, ``search()`` and
  ``tfgenopt.evaluation.METRIC_MODES`` read.
* :data:`DATASETS`: the dataset names with their allowed image sizes, channels, classes, sample
  counts and raw pixel range; :data:`VALUE_RANGES` the ranges images are scaled to.
* :func:`is_due` / :func:`due_at_epoch_end`: when a callback with ``every=k`` fires. Epochs are
  counted from 1: with ``every=k`` it fires at the end of epochs ``k, 2k, 3k, ...`` and at the
  run's last epoch. Keras' ``on_epoch_end(epoch)`` passes a 0-based index, so epoch number
  ``n = epoch + 1`` (:func:`epoch_number`); the count is absolute, so a run resumed with
  ``initial_epoch`` keeps the same schedule.

This module sits at the bottom of the package: it imports nothing from ``tfgenopt`` (and no
TensorFlow), so every other module can read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Metric", "METRICS", "metric", "direction", "keys_by_producer",
    "QualityMetric", "QUALITY", "quality_metric", "quality_metric_of",
    "Dataset", "DATASETS", "VALUE_RANGES", "dataset", "image_sizes",
    "epoch_number", "is_due", "due_at_epoch_end", "due_epochs",
]


# --------------------------------------------------------------------------- metrics
@dataclass(frozen=True)
class Metric:
    """One ``logs`` key: its direction of improvement and the class or module that writes it.

    Args:
        key: the ``logs`` key.
        direction: ``"min"``, ``"max"``, or ``None`` (a diagnostic: monitoring it needs an
            explicit ``mode``).
        producer: what writes it, e.g. ``"tfgenopt.callbacks.QualityMonitor"``.
        doc: one line on what it measures.
    """

    key: str
    direction: str | None
    producer: str
    doc: str


_QM = "tfgenopt.callbacks.QualityMonitor"
_GAN = "tfgenopt.models.GAN"
_VAE = "tfgenopt.models.VAE"
_LL = "tfgenopt.callbacks.LossLandscape"
_ES = "tfgenopt.callbacks.EarlyStopping"
_LR = "tfgenopt.callbacks.LearningRateLogger"
_CM = "tfgenopt.callbacks.CollapseMonitor"


@dataclass(frozen=True)
class QualityMetric:
    """One quality metric of ``QualityMonitor``: the ONE place its name and keys are written.

    Args:
        name: the name ``QualityMonitor(metrics=...)`` takes, e.g. ``"kid"``.
        metrics: the :class:`Metric` of each ``logs`` key it writes (key, direction, producer,
            doc), in the order its measuring function returns the values.
        doc: one line on what it measures.
        aliases: other names accepted for it (``"precision"`` for ``"precision_recall"``).
    """

    name: str
    metrics: tuple
    doc: str
    aliases: tuple = ()

    @property
    def keys(self):
        """The ``logs`` keys it writes, in order."""
        return tuple(m.key for m in self.metrics)


def _quality(name, doc, *keys, aliases=()):
    """Declare a quality metric from ``(key, direction, doc)`` triples."""
    return QualityMetric(name, tuple(Metric(k, d, _QM, text) for k, d, text in keys), doc,
                         tuple(aliases))


QUALITY = {q.name: q for q in (
    _quality("fid", "Frechet distance between feature Gaussians",
             ("val_fid", "min", "Frechet distance of the samples' features to the real ones")),
    _quality("kid", "kernel inception distance (unbiased MMD, polynomial kernel)",
             ("val_kid", "min", "kernel inception distance (mean over subsets)"),
             ("val_kid_std", "min", "spread of KID over its subsets (lower: a surer value)")),
    _quality("precision_recall", "k-NN manifold precision, recall and density",
             ("val_precision", "max", "share of samples inside the real manifold"),
             ("val_recall", "max", "share of real samples inside the samples' manifold"),
             ("val_density", "max", "how many real neighbourhoods hold each sample (>1 dense)"),
             aliases=("precision", "recall")),
    _quality("coverage", "how many of the real classes the samples cover",
             ("val_coverage", "max",
              "share of real classes the samples cover (CollapseMonitor writes it too)"),
             ("val_class_kl", "min", "KL divergence of the real to the sampled class histogram"),
             ("val_confidence", "max", "mean top class probability of the samples")),
)}

METRICS = {m.key: m for m in (
    # QualityMonitor (tfgenopt/callbacks/quality.py): sample quality, declared in QUALITY.
    *(m for q in QUALITY.values() for m in q.metrics),
    # Models' train_step (and test_step with validation data: the same key with ``val_``).
    Metric("loss", "min", "keras.Model", "the model's training loss"),
    Metric("d_loss", "min", _GAN, "discriminator loss"),
    Metric("g_loss", "min", _GAN, "generator loss"),
    Metric("d_real", None, _GAN, "mean discriminator output on real data"),
    Metric("d_fake", None, _GAN, "mean discriminator output on generated data"),
    Metric("d_grad_norm", None, _GAN, "norm of the discriminator's gradient"),
    Metric("g_grad_norm", None, _GAN, "norm of the generator's gradient"),
    Metric("gp", "min", _GAN, "gradient penalty term"),
    Metric("r1", "min", _GAN, "R1 penalty term"),
    Metric("lecam", "min", _GAN, "LeCam regularizer term (compile(lecam=w))"),
    Metric("ada_p", None, _GAN, "ADA augmentation probability (compile(ada_target=t))"),
    Metric("reconstruction_loss", "min", _VAE, "reconstruction term of the VAE loss"),
    Metric("kl_loss", "min", _VAE, "KL term of the VAE loss"),
    Metric("beta", None, _VAE, "the VAE's current KL weight (set by KLWarmup)"),
    # CollapseMonitor (tfgenopt/callbacks/collapse.py; it also writes val_coverage).
    Metric("val_coverage_count", "max", _CM, "number of real classes the samples cover"),
    Metric("val_diversity", "max", _CM, "samples' feature spread relative to the real data's"),
    Metric("collapse", "min", _CM, "1.0 on an epoch judged collapsed, else 0.0"),
    Metric("collapse_remedies", None, _CM, "collapse remedies applied so far"),
    Metric("sample_diversity", "max", _CM, "root-mean-square spread of generated samples "
           "(CollapseMonitor(diversity_floor=...))"),
    # Callbacks' diagnostics.
    Metric("lr", None, _LR, "learning rate (``{name}_lr`` per optimizer: d_lr, g_lr)"),
    Metric("hessian_top", None, _LL, "top Hessian eigenvalue (``hessian_top_2``... for k > 1)"),
    Metric("hessian_trace", None, _LL, "Hutchinson estimate of the Hessian trace"),
    Metric("hessian_trace_std", None, _LL, "standard error of the trace estimate"),
    Metric("grad_noise_scale", None, _LL, "gradient noise scale (critical batch size)"),
    Metric("sharpness", None, _LL, "worst loss increase within a small ball"),
    Metric("rotation_index", None, _LL, "rotational share of the GAN's joint gradient field"),
)}

_MODEL_PRODUCERS = ("keras.Model", _GAN, _VAE)
_PLAYER_PREFIXED = {k for k, m in METRICS.items() if m.producer == _LL} - {"rotation_index"}

# Names outside the catalog (a user's own metrics): directions inferred from name tokens.
_MIN_TOKENS = ("loss", "fid", "kid", "divergence", "kl", "error", "mse", "mae", "distance",
               "perplexity")
_MAX_TOKENS = ("coverage", "precision", "recall", "accuracy", "acc", "density", "auc",
               "diversity", "psnr", "ssim", "confidence")


def metric(key):
    """The :class:`Metric` of a ``logs`` key, or ``None`` when the package never writes it.

    Besides the catalog's own keys this resolves the families the producers derive from them:
    ``val_*`` twins of model metrics (``val_d_loss``), per-player landscape keys
    (``d_hessian_top``), extra eigenvalues (``hessian_top_2``), per-optimizer learning rates
    (``g_lr``) and ``EarlyStopping``'s ``{monitor}_smoothed``.

    Args:
        key: a ``logs`` key.

    Returns:
        A :class:`Metric` whose ``key`` is ``key``, or ``None``.

    Example:
        >>> metric("val_density").direction, metric("val_d_loss").producer
        ('max', 'tfgenopt.models.GAN')
        >>> metric("my_metric") is None
        True
    """
    if not isinstance(key, str) or not key:
        raise TypeError(f"`key` must be a non-empty string; received {key!r}.")
    if key in METRICS:
        return METRICS[key]
    if key.endswith("_smoothed"):
        found = metric(key[: -len("_smoothed")])
        return None if found is None else Metric(key, found.direction, _ES,
                                                 f"smoothed {found.key}")
    found = None
    if key.startswith("val_") and key[4:] in METRICS:
        twin = METRICS[key[4:]]
        found = twin if twin.producer in _MODEL_PRODUCERS else None
    elif key.endswith("_lr"):
        found = METRICS["lr"]
    else:
        for name in (key, key[2:] if key[:2] in ("d_", "g_") else key):
            name = re.sub(r"^hessian_top_\d+$", "hessian_top", name)
            if name in _PLAYER_PREFIXED:
                found = METRICS[name]
                break
    if found is None:
        return None
    return Metric(key, found.direction, found.producer, found.doc)


def direction(key):
    """``"min"`` or ``"max"``: the direction of improvement of a ``logs`` key.

    Catalog keys (and their families, see :func:`metric`) take the catalog's direction; a
    catalog diagnostic without one (``d_real``, ``hessian_top``...) raises. Other names are
    read by their tokens: losses, FID, KID and divergence-like names (``kl``, ``error``,
    ``mse``...) are minimized; coverage, precision, recall, accuracy, density, diversity and
    confidence are maximized; a name holding ``loss`` is always minimized. Unknown names raise.

    Args:
        key: the ``logs`` key, e.g. ``"val_kid"`` or ``"val_accuracy"``.

    Returns:
        ``"min"`` or ``"max"``.

    Example:
        >>> direction("val_kid_std"), direction("val_confidence"), direction("val_accuracy")
        ('min', 'max', 'max')
    """
    found = metric(key)
    if found is not None:
        if found.direction is None:
            raise ValueError(
                f"{key!r} (written by {found.producer}: {found.doc}) has no better direction; "
                "pass `mode='min'` or `mode='max'` (or a keras_tuner.Objective) explicitly."
            )
        return found.direction
    name = key.lower()
    name = name[4:] if name.startswith("val_") else name
    if "loss" in name:
        return "min"
    parts = set(name.replace("-", "_").split("_"))
    for tokens, result in ((_MAX_TOKENS, "max"), (_MIN_TOKENS, "min")):
        for token in tokens:
            if token in parts or (len(token) > 3 and token in name):
                return result
    raise ValueError(
        f"Cannot infer whether {key!r} should go up or down; pass `mode='min'` or "
        "`mode='max'` (or a keras_tuner.Objective). Known keys: "
        f"{sorted(k for k, m in METRICS.items() if m.direction)}; other names with "
        f"{list(_MIN_TOKENS)} are minimized, names with {list(_MAX_TOKENS)} maximized."
    )


def keys_by_producer(producer):
    """The catalog keys a producer writes, in catalog order.

    Example:
        >>> keys_by_producer("tfgenopt.callbacks.QualityMonitor")[:3]
        ('val_fid', 'val_kid', 'val_kid_std')
    """
    return tuple(k for k, m in METRICS.items() if m.producer == producer)


def quality_metric(name):
    """The :class:`QualityMetric` called ``name`` (or one of its aliases).

    Args:
        name: ``"fid"``, ``"kid"``, ``"coverage"``, ``"precision_recall"``, ``"precision"``
            or ``"recall"``.

    Returns:
        A :class:`QualityMetric`; an unknown name raises ``ValueError`` listing the known ones.

    Example:
        >>> quality_metric("kid").keys, quality_metric("recall").name
        (('val_kid', 'val_kid_std'), 'precision_recall')
    """
    for q in QUALITY.values():
        if name == q.name or name in q.aliases:
            return q
    known = sorted(n for q in QUALITY.values() for n in (q.name, *q.aliases))
    raise ValueError(f"Unknown quality metric {name!r}; known: {known}.")


def quality_metric_of(key):
    """The :class:`QualityMetric` that writes ``logs`` key ``key``, or ``None``.

    This is the tuner's objective map: ``search(objective="val_kid")`` adds a
    ``QualityMonitor(metrics=("kid",))``.

    Example:
        >>> quality_metric_of("val_kid_std").name, quality_metric_of("val_loss")
        ('kid', None)
    """
    for q in QUALITY.values():
        if key in q.keys:
            return q
    return None


# --------------------------------------------------------------------------- datasets
@dataclass(frozen=True)
class Dataset:
    """A dataset the loaders know: sizes, shape and pixel range.

    Args:
        name: the name ``tfgenopt.data.load`` and the CLI take.
        loader: the function in ``tfgenopt.data`` that loads it.
        native_size: side of the stored images in pixels.
        image_sizes: the ``image_size`` values the loader accepts (resized from native).
        channels: colour channels.
        num_classes: number of classes.
        samples: ``{split: count}`` of the stored files.
        raw_range: ``(low, high)`` of the stored pixel values.
    """

    name: str
    loader: str
    native_size: int
    image_sizes: tuple
    channels: int
    num_classes: int
    samples: dict
    raw_range: tuple


DATASETS = {d.name: d for d in (
    Dataset("digits", "load_digits", 8, (8, 16, 28, 32), 1, 10, {"all": 1797}, (0.0, 16.0)),
    Dataset("mnist", "load_mnist", 28, (28, 32), 1, 10, {"train": 60000, "test": 10000},
            (0.0, 255.0)),
    Dataset("fashion_mnist", "load_fashion_mnist", 28, (28, 32), 1, 10,
            {"train": 60000, "test": 10000}, (0.0, 255.0)),
)}

#: Ranges the loaders scale images to: ``(0, 1)`` for sigmoid outputs, ``(-1, 1)`` for tanh.
VALUE_RANGES = ((0.0, 1.0), (-1.0, 1.0))


def dataset(name):
    """The :class:`Dataset` called ``name``; an unknown name raises ``ValueError`` listing them.

    Example:
        >>> dataset("mnist").image_sizes
        (28, 32)
    """
    if name not in DATASETS:
        raise ValueError(f"`dataset` must be one of {sorted(DATASETS)}; received {name!r}.")
    return DATASETS[name]


def image_sizes(name=None):
    """The image sizes one dataset accepts, or (``name=None``) those any dataset accepts.

    Example:
        >>> image_sizes("digits"), image_sizes()
        ((8, 16, 28, 32), (8, 16, 28, 32))
    """
    if name is not None:
        return dataset(name).image_sizes
    return tuple(sorted({s for d in DATASETS.values() for s in d.image_sizes}))


# --------------------------------------------------------------------------- every=k
def _check_every(every):
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"`every` must be an integer >= 1; received {every!r}.")


def epoch_number(epoch):
    """The 1-based epoch number of the 0-based index Keras passes to ``on_epoch_end``.

    Example:
        >>> epoch_number(0)
        1
    """
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"`epoch` must be a 0-based epoch index >= 0; received {epoch!r}.")
    return epoch + 1


def is_due(epoch, every):
    """Whether 1-based epoch number ``epoch`` is due for ``every=k``: ``k, 2k, 3k, ...``.

    Args:
        epoch: the epoch number, counted from 1 (``epoch_number(index)`` in callbacks).
        every: the period ``k >= 1``.

    Returns:
        ``True`` when ``epoch`` is a multiple of ``every``.

    Example:
        >>> [n for n in range(1, 8) if is_due(n, 3)]
        [3, 6]
    """
    _check_every(every)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise ValueError(f"`epoch` must be an epoch number >= 1; received {epoch!r}.")
    return epoch % every == 0


def due_at_epoch_end(epoch, every, epochs=None):
    """The rule of every callback with ``every=``: fire at the end of this epoch?

    True at epoch numbers ``k, 2k, 3k, ...`` (:func:`is_due`) and at the last epoch of the run
    (epoch number ``epochs``), so the final weights are always measured.

    Args:
        epoch: the 0-based index Keras passes to ``on_epoch_end``.
        every: the period ``k >= 1``.
        epochs: the run's ``epochs`` (``callback.params["epochs"]``); ``None`` when unknown.

    Returns:
        ``True`` when the callback should fire.

    Example:
        >>> [i for i in range(7) if due_at_epoch_end(i, 3, epochs=7)]  # numbers 3, 6, 7
        [2, 5, 6]
    """
    number = epoch_number(epoch)
    return is_due(number, every) or (epochs is not None and number == epochs)


def due_epochs(every, epochs, initial_epoch=0):
    """The 1-based epoch numbers a callback with ``every=k`` fires at in ``fit(epochs=...)``.

    Example:
        >>> due_epochs(4, 10), due_epochs(4, 10, initial_epoch=5)
        ((4, 8, 10), (8, 10))
    """
    return tuple(i + 1 for i in range(initial_epoch, epochs)
                 if due_at_epoch_end(i, every, epochs))
