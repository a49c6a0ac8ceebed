"""What each ``tfgenopt`` subcommand runs: :func:`main` parses the flags, then calls one handler.

A user mistake (a bad flag, an unknown name, a missing file) ends with exit code 2 and one
line on stderr, never a traceback. The console script enters through ``_tfgenopt_entry``,
which imports TensorFlow with its start-up noise filtered before ``import tfgenopt``;
:func:`main` itself leaves the environment and TensorFlow alone.
"""

from __future__ import annotations

import json
import os
import sys

from tfgenopt import distribute
from tfgenopt._io import file_in_the_way
from tfgenopt.cli import diagnose, images, launch, train, train_diffusion, tune
from tfgenopt.cli.parser import UsageError, build_parser
from tfgenopt.comparison import compare
from tfgenopt.demo import run_demo
from tfgenopt.report import build_report

__all__ = ["main", "COMMANDS"]


def main(argv=None):
    """Run the ``tfgenopt`` command line ``argv`` (None: ``sys.argv[1:]``); returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        args.argv = None if argv is None else list(argv)  # what --workers starts again
        _check_out(args)
    except UsageError as err:
        print(f"{err}", file=sys.stderr)
        return 2
    try:
        return int(COMMANDS[args.command](args) or 0)
    except (ValueError, TypeError, OSError, UsageError) as err:  # OSError: e.g. an unwritable --out
        message = " ".join(str(err).split())  # one line, even for a message with a listing
        print(f"tfgenopt {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tfgenopt: interrupted", file=sys.stderr)
        return 130


def _check_out(args):
    """Refuse an ``--out`` that a file blocks, before any work (and before --workers start)."""
    out = getattr(args, "out", None)
    blocker = None if out is None else file_in_the_way(out)
    if blocker is not None:
        what = "is a file" if os.path.abspath(blocker) == os.path.abspath(out) else (
            f"lies under {blocker!r}, which is a file")
        raise UsageError(f"tfgenopt {args.command}: error: argument --out: {out!r} {what}; "
                         "--out names a folder (created if missing).")


def _options(args):
    """The parsed flags as keyword arguments of a command function (``--batch-size``: ``batch_size``)."""
    return {k: v for k, v in vars(args).items() if k not in ("command", "argv")}


def _cmd_demo(args):
    if args.images:
        summary = images.demo_images(args.images, out=args.out, image_size=args.image_size,
                                     epochs=args.epochs, seed=args.seed, quick=args.quick,
                                     verbose=args.verbose, background=args.background)
        print(f"report: {summary['report']}  sanity suite passed: {summary['sanity_passed']}  "
              f"stop: {summary['gan']['stop_reason']}")
        return 0
    summary = run_demo(args.out, dataset=args.dataset, epochs=args.epochs, seed=args.seed,
                       quick=args.quick, verbose=args.verbose)
    print(f"report: {os.path.join(args.out, 'report.html')}  stop: {summary['gan']['stop_reason']}")
    return 0


def _cmd_train(args):
    if args.kind == "diffusion":
        return _train_diffusion(args)
    if args.widths is not None:
        raise UsageError(f"--widths applies to `diffusion` only; received kind {args.kind!r}.")
    if args.images:
        if args.kind != "gan":
            raise UsageError(f"--images trains `gan` and `diffusion` only; received kind "
                             f"{args.kind!r}.")
        if args.workers > 1 or args.backup_dir or os.environ.get("TF_CONFIG"):
            raise UsageError("--images trains in one process without backups: --workers, "
                             "--backup-dir and TF_CONFIG apply to --dataset runs only.")
        options = _options(args)
        options["image_size"] = args.image_size or 32
        result = images.train_gan_images(options.pop("images"), **options)
        print(json.dumps({k: v for k, v in result.items() if not k.startswith("_")}, indent=2))
        return 0
    workers = args.workers
    config = os.environ.get("TF_CONFIG")
    if workers > 1 and args.batch_size % workers:
        raise UsageError(f"`--batch-size` (the global batch) must be a multiple of --workers "
                         f"{workers}; received {args.batch_size}.")
    if config:  # a task of a cluster: the one TF_CONFIG describes
        cluster = distribute.check_tf_config(config)["cluster"]
        size = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
        if workers not in (1, size):
            raise UsageError(f"`--workers` {workers} does not match the {size} workers of "
                             "TF_CONFIG; leave --workers out when TF_CONFIG is set.")
    elif workers > 1:  # start the local workers; their chief prints the result
        return launch.launch(sys.argv[1:] if args.argv is None else args.argv, workers)
    args.image_size = args.image_size or 28
    options = _options(args)
    options.pop("images", None)
    options.pop("background", None)
    result = train.train(**options)
    print(json.dumps(result, indent=2))
    return 0


def _train_diffusion(args):
    if args.workers > 1 or args.backup_dir or os.environ.get("TF_CONFIG"):
        raise UsageError("train diffusion runs in one process without backups: --workers, "
                         "--backup-dir and TF_CONFIG apply to gan, vae and autoencoder runs.")
    if args.latent_dim is not None:
        raise UsageError("--latent-dim does not apply to diffusion (it has no latent code).")
    options = _options(args)
    options["image_size"] = args.image_size or 32
    for key in ("kind", "workers", "backup_dir", "latent_dim"):
        options.pop(key)
    result = train_diffusion.train_diffusion(**options)
    print(json.dumps(result, indent=2))
    return 0


def _cmd_compare(args):
    summary = compare(**_options(args))
    print(f"report: {summary['report']}  pick: {summary['pick']} ({summary['reason']})")
    return 0


def _cmd_lr_find(args):
    result = diagnose.lr_find_command(**_options(args))
    print(json.dumps(result, indent=2))
    return 0


def _cmd_landscape(args):
    result = diagnose.landscape_command(**_options(args))
    print(json.dumps(result, indent=2))
    return 0


def _cmd_tune(args):
    return tune.run(args)


def _cmd_report(args):
    print(build_report(args.run_dir))
    return 0


COMMANDS = {
    "demo": _cmd_demo,
    "train": _cmd_train,
    "compare": _cmd_compare,
    "lr-find": _cmd_lr_find,
    "landscape": _cmd_landscape,
    "tune": _cmd_tune,
    "report": _cmd_report,
}
