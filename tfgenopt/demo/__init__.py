"""The main job (``tfgenopt demo`` / ``make demo``): every instrument on one offline run.

On the bundled digits (28x28, flattened) it (1) finds a learning rate with the LR range test,
(2) trains the default GAN recipe with a QualityMonitor, early stopping on KID, sample
grids and loss-landscape / curvature probes, (3) trains the classic dense autoencoder and a VAE
with early stopping, (4) compares SGD, Adam, RMSprop and Adagrad on the autoencoder and
(5) writes ``report.html`` and ``summary.json`` with the figures beside them. Each part is a
function of :mod:`tfgenopt.demo.sections` (and :mod:`tfgenopt.demo.gan`) that returns a
:class:`~tfgenopt.demo.sections.Section`: its figures, its summary and its report entry.
"""

from __future__ import annotations

import os

from tfgenopt import catalog, data, report
from tfgenopt._io import make_dir
from tfgenopt._validation import check_int
from tfgenopt.demo import gan, sections
from tfgenopt.demo.sections import RunDir, Section

__all__ = ["run_demo", "write_demo_report", "SUMMARY_KEYS", "Section", "RunDir"]

SUMMARY_KEYS = ("config", "data", "headline", "lr_find", "gan", "autoencoder", "vae",
                "optimizer_comparison", "timings", "sections")


def write_demo_report(run, sections, config, title="tfgenopt demo"):
    """Write ``summary.json`` and ``report.html`` of ``sections`` (the GAN's run: headline).

    Args:
        run: the :class:`RunDir`.
        sections: :class:`Section` objects in report order.
        config: the run's settings (``summary["config"]``).
        title: the page title.

    Returns:
        The summary (a dict).
    """
    summary = {"title": title, "config": config, "timings": {}, "headline": None}
    headline_images = []
    for s in sections:
        if s.key == "autoencoder_vae":  # one section, two summary entries
            summary.update(s.summary)
        elif s.summary or s.key not in summary:
            summary[s.key] = s.summary
        if s.seconds:
            summary["timings"][s.key] = round(s.seconds, 2)
        if s.run is not None and summary["headline"] is None:
            summary["headline"] = s.run
        headline_images = s.headline_images + headline_images
    summary["sections"] = [s.report() for s in sections]
    summary["headline_images"] = headline_images
    report.write_summary(run.out, summary)
    report.build_report(run.out)
    return summary


def run_demo(out="runs/demo", dataset="digits", epochs=None, seed=0, quick=False, verbose=1):
    """Run the main job and write ``out/report.html`` + ``out/summary.json``; return the summary.

    Args:
        out: output directory.
        dataset: ``"digits"`` (bundled), ``"mnist"`` or ``"fashion_mnist"`` (from the cache).
        epochs: GAN epoch budget (default 300; 4 with ``quick``); the autoencoder and VAE get
            a third of it (at least 1), the optimizer comparison a tenth.
        seed: seed of the split, the weights and the noise.
        quick: a one-minute version (fewer epochs, fewer probes, smaller probe sets).
        verbose: 0 silent, 1 progress lines.

    Example:
        Not run as a doctest: the quick demo takes about a minute.

        >>> summary = run_demo("runs/demo", quick=True)  # doctest: +SKIP
        >>> summary["gan"]["stop_reason"]  # doctest: +SKIP
    """
    import keras

    epochs = check_int("epochs", epochs if epochs is not None else (4 if quick else 300),
                       minimum=1)
    keras.utils.set_random_seed(seed)
    make_dir(out, "out")
    run = RunDir(out, seed=seed, quick=quick, verbose=verbose)
    x_train, x_val = data.load(dataset, image_size=28, flatten=True, seed=seed)
    if quick:
        x_train, x_val = x_train[:512], x_val[:256]
    info = catalog.dataset(dataset)
    data_part = sections.data_section(run, x_train, x_val, dataset,
                                      image_shape=(28, 28, info.channels),
                                      num_classes=info.num_classes, value_range=(0.0, 1.0))
    lr = sections.lr_find_section(run, x_train, x_train.shape[1])
    gan_part = gan.gan_section(run, x_train, x_val, epochs, data=data_part.summary)
    side = sections.autoencoder_vae_section(run, x_train, x_val, lr.summary["used_lr"],
                                            max(1, epochs // 3))
    opt = sections.optimizer_section(run, x_train, x_val, max(1, epochs // 10))
    config = {"dataset": dataset, "epochs": epochs, "seed": seed, "quick": quick,
              "n_train": int(len(x_train)), "n_val": int(len(x_val))}
    summary = write_demo_report(run, [gan_part, gan_part.landscape, data_part, lr, side, opt],
                                config, title=f"tfgenopt demo: a GAN on {dataset}")
    run.say(f"[5/5] wrote {os.path.join(out, 'report.html')}")
    return summary
