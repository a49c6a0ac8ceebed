"""Write the Colab-ready notebooks from the cell sources below (outputs stripped).

    python notebooks/build.py          # rewrite notebooks/*.ipynb
    python notebooks/build.py --check  # exit 1 if a notebook differs from its source here

Every notebook opens with an "Open in Colab" badge, an install cell that is skipped when
tfgenopt is already importable, and a QUICK switch: the tests set TFGENOPT_NOTEBOOK_QUICK=1 to
shrink every run to seconds.
"""

from __future__ import annotations

import json
import pathlib
import sys

REPO = "tfgenopt/tfgenopt"
HERE = pathlib.Path(__file__).resolve().parent

INSTALL = '''# Install on Colab (skipped when tfgenopt is already installed, as in the test suite).
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("tfgenopt") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           "tfgenopt @ git+https://github.com/%s"])''' % REPO

SETUP = '''import os

QUICK = os.environ.get("TFGENOPT_NOTEBOOK_QUICK") == "1"  # the tests shrink runs to seconds
import keras
import numpy as np

import tfgenopt as tg

keras.utils.set_random_seed(0)
print("tfgenopt", tg.__version__, "| keras", keras.__version__, "| quick:", QUICK)'''


def badge(name):
    url = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{name}"
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({url})")


def notebook(name, title, intro, cells):
    """A notebook dict: badge + title, install, setup, then ``cells`` ("md"/"code", text)."""
    all_cells = [("md", f"{badge(name)}\n\n# {title}\n\n{intro}"), ("code", INSTALL),
                 ("code", SETUP)] + list(cells)
    out = []
    for i, (kind, text) in enumerate(all_cells):
        source = text.strip("\n").splitlines(keepends=True)
        cell_id = f"cell-{i:02d}"
        if kind == "md":
            out.append({"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source})
        else:
            out.append({"cell_type": "code", "execution_count": None, "id": cell_id,
                        "metadata": {}, "outputs": [], "source": source})
    return {
        "cells": out,
        "metadata": {
            "colab": {"provenance": []},
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def notebooks():
    from notebooks_src import NOTEBOOKS  # noqa: PLC0415  (sibling module with the cell texts)

    return {name: notebook(name, *spec) for name, spec in NOTEBOOKS.items()}


def main(argv):
    sys.path.insert(0, str(HERE))
    check = "--check" in argv
    stale = []
    for name, nb in notebooks().items():
        path = HERE / name
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("out of date:", ", ".join(stale), "- run python notebooks/build.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
