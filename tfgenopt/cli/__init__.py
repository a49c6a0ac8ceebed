"""The ``tfgenopt`` command: ``demo | train | compare | lr-find | landscape | tune | report``.

:func:`main` runs a command line and returns its exit code (2 for a user mistake, with one
line on stderr). The modules, one per part of the command:

- ``parser``: the flags (:func:`build_parser`, :class:`UsageError`);
- ``dispatch``: :func:`main` and the handler of each subcommand;
- ``train``: ``train gan | vae | autoencoder`` on a dataset;
- ``train_diffusion``: ``train diffusion``;
- ``images``: ``train gan --images DIR`` and ``demo --images DIR`` (a DCGAN on a folder);
- ``watchers``: the quality watchers every generative ``train`` runs;
- ``diagnose``: ``lr-find`` and ``landscape``;
- ``tune``: ``tune CONFIG.toml`` (one process of a distributed search with ``--chief`` or
  ``--worker``);
- ``launch``: ``train --workers N`` (local worker processes).

The console script enters through ``_tfgenopt_entry``, which imports TensorFlow quietly
before ``import tfgenopt``; ``python -m tfgenopt`` and ``python -m tfgenopt.cli`` run the
same command.
"""

from tfgenopt.cli.dispatch import main
from tfgenopt.cli.parser import UsageError, build_parser

__all__ = ["main", "build_parser", "UsageError"]
