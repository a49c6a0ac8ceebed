"""The ``tfgenopt`` command's flags: :func:`build_parser` and the checks of single values.

A bad flag raises :class:`UsageError` (one line, exit code 2 from :func:`tfgenopt.cli.main`),
never argparse's usage dump.
"""

from __future__ import annotations

import argparse

from tfgenopt import catalog
from tfgenopt.cli import tune
from tfgenopt.data.image_modes import check_background
from tfgenopt.version import __version__

__all__ = ["build_parser", "UsageError", "MODEL_KINDS", "TRAIN_KINDS", "DATASETS"]

MODEL_KINDS = ("gan", "vae", "autoencoder")
TRAIN_KINDS = MODEL_KINDS + ("diffusion",)
DATASETS = tuple(catalog.DATASETS)


class UsageError(Exception):
    """A mistake in the command line: reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2, no usage dump
        raise UsageError(f"{self.prog}: {message}")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _widths(text):
    """``--widths``: comma-separated positive integers (the U-Net's filters per resolution)."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas "
                                         f"(e.g. 32,64,96,128), got {text!r}")
    return values


def _background(text):
    """``--background``: a colour name or ``R,G,B`` (ints in 0..255)."""
    value = tuple(int(v) if v.strip().isdigit() else v for v in text.split(",")) \
        if "," in text else text
    if value == "keep":
        raise argparse.ArgumentTypeError("'keep' (4 channels) is for load_images; the --images "
                                         "DCGAN trains on 1 or 3 channels: pass a colour")
    try:
        return check_background(value)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _background_arg(p):
    p.add_argument("--background", type=_background, default="white", metavar="COLOUR",
                   help="with --images: where transparent pixels go, a name (white, black, gray) "
                        "or R,G,B (default white)")


def _data_args(p, image_size=28):
    p.add_argument("--dataset", choices=DATASETS, default="digits",
                   help="bundled digits (offline) or a cached keras.datasets set")
    sizes = tuple(sorted(set(catalog.image_sizes()) | {64}))
    p.add_argument("--image-size", type=int, default=image_size, choices=sizes,
                   help="image side in pixels (default %(default)s; mnist and fashion_mnist: "
                        f"{catalog.image_sizes('mnist')}; 64 with --images)")
    p.add_argument("--seed", type=int, default=0, help="seed of data split, weights and noise")


def build_parser():
    """The argument parser of the ``tfgenopt`` command (every subcommand has ``--help``)."""
    parser = _Parser(prog="tfgenopt",
                     description="Train, diagnose and tune generative Keras models.")
    parser.add_argument("--version", action="version", version=f"tfgenopt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("demo", help="the main job on the bundled digits; writes a report")
    p.add_argument("--out", default="runs/demo", help="output directory (default %(default)s)")
    p.add_argument("--dataset", choices=DATASETS, default="digits")
    p.add_argument("--epochs", type=_positive_int, default=None,
                   help="GAN epoch budget (default 40, 4 with --quick)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a one-minute version")
    p.add_argument("--images", default=None, metavar="DIR",
                   help="a folder of images (one subfolder per class): DCGAN on it, quality on "
                        "a domain extractor trained on it, and its metric sanity table")
    p.add_argument("--image-size", type=int, default=32, choices=(8, 16, 28, 32, 64),
                   help="with --images: image side in pixels (default %(default)s)")
    _background_arg(p)
    p.add_argument("-v", "--verbose", type=int, default=1, choices=(0, 1, 2))

    p = sub.add_parser(
        "train", help="train a GAN, diffusion model, VAE or autoencoder and save it",
        description="gan: GAN(dense g, dense d, latent_dim=100) with GAN.compile()'s measured "
                    "recipe (only the flags given override it); diffusion: Diffusion(U-Net) "
                    "with Diffusion.compile()'s default recipe on images (32 px by default). "
                    "Both: QualityMonitor (FID, KID) and early stopping on smoothed val_kid; "
                    "sample grids, samples.png, quality.png and report.html.")
    p.add_argument("kind", choices=TRAIN_KINDS)
    _data_args(p, image_size=None)  # None: 28 for --dataset, 32 for --images and diffusion
    p.add_argument("--images", default=None, metavar="DIR",
                   help="gan and diffusion: train on a folder of images (one subfolder per "
                        "class) instead of --dataset (the GAN: DCGAN builders); quality on a "
                        "domain extractor; writes report.html")
    p.add_argument("--widths", type=_widths, default=None, metavar="W1,W2,...",
                   help="diffusion only: the U-Net's widths (default: the builder's 32,64,96,"
                        "128, cut to fit --image-size)")
    _background_arg(p)
    p.add_argument("--epochs", type=_positive_int, default=10)
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--optimizer", default=None,
                   help="any keras.optimizers name (default: the recipe's Adam; both GAN players)")
    p.add_argument("--lr", type=_positive_float, default=None,
                   help="learning rate (GAN: both players; default: the recipe's)")
    p.add_argument("--loss", default=None, help="GAN adversarial loss (default non_saturating);"
                                                " diffusion: mse or mae (default: the recipe's)")
    p.add_argument("--ema", type=float, default=None,
                   help="GAN generator / diffusion EMA decay (default the model's; 0 turns it "
                        "off)")
    p.add_argument("--latent-dim", type=_positive_int, default=None)
    p.add_argument("--patience", type=_positive_int, default=None,
                   help="early-stopping patience in epochs (default: GAN max(4 * every, 10) on "
                        "val_kid, else 5 on val_loss)")
    p.add_argument("--out", default="runs/train")
    p.add_argument("--backup-dir", default=None,
                   help="back up every epoch here; rerunning the same command resumes a killed run")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="train on N local worker processes (MultiWorkerMirroredStrategy on "
                        "127.0.0.1); with TF_CONFIG set, this process is that cluster's task")
    p.add_argument("-v", "--verbose", type=int, default=1, choices=(0, 1, 2))

    p = sub.add_parser(
        "compare", help="GAN vs diffusion vs VAE on the same data and CPU budget; one report",
        description="Trains the GAN, diffusion and VAE defaults on the same images for the same "
                    "CPU budget each, scores them on one extractor and writes report.html with "
                    "the family to pick.")
    p.add_argument("--dataset", choices=DATASETS, default="digits")
    p.add_argument("--images", default=None, metavar="DIR",
                   help="a folder of images (one subfolder per class) instead of --dataset")
    p.add_argument("--budget", type=_positive_float, required=True, metavar="SECONDS",
                   help="CPU seconds of training per family (process time, all cores)")
    p.add_argument("--image-size", type=int, default=32, choices=(8, 16, 28, 32, 64),
                   help="image side in pixels (default %(default)s)")
    p.add_argument("--widths", type=_widths, default=None, metavar="W1,W2,...",
                   help="the diffusion U-Net's widths (default: the builder's, cut to fit)")
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--n-samples", type=_positive_int, default=None,
                   help="samples per quality measurement (default: validation images, <= 1000)")
    p.add_argument("--seed", type=int, default=0)
    _background_arg(p)
    p.add_argument("--out", default="runs/compare")
    p.add_argument("-v", "--verbose", type=int, default=1, choices=(0, 1, 2))

    p = sub.add_parser("lr-find", help="learning-rate range test; prints the suggested rate")
    p.add_argument("kind", choices=MODEL_KINDS)
    _data_args(p)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--min-lr", type=_positive_float, default=1e-6)
    p.add_argument("--max-lr", type=_positive_float, default=1.0)
    p.add_argument("--steps", type=_positive_int, default=100)
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--out", default="runs/lr_find")
    p.add_argument("-v", "--verbose", type=int, default=1, choices=(0, 1, 2))

    p = sub.add_parser("landscape", help="probe a saved .keras model's loss landscape")
    p.add_argument("model", help="path of a .keras file")
    _data_args(p)
    p.add_argument("--kind", nargs="+", default=["1d", "2d", "hessian"],
                   choices=("1d", "2d", "hessian", "trace", "noise_scale", "sharpness"))
    p.add_argument("--grid", type=_positive_int, default=11)
    p.add_argument("--probe-size", type=_positive_int, default=256)
    p.add_argument("--out", default="runs/landscape")
    p.add_argument("-v", "--verbose", type=int, default=1, choices=(0, 1, 2))

    p = sub.add_parser("tune", help="run a Keras Tuner search described by a TOML file")
    tune.add_arguments(p)

    p = sub.add_parser("report", help="rebuild report.html from a run directory")
    p.add_argument("run_dir")
    return parser
