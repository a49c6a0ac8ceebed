"""The Hessian's eigenvalue density (``tfgenopt.landscape.hessian_spectrum``), one or per epoch."""

from __future__ import annotations

import matplotlib.cm as cm
import numpy as np

from tfgenopt.plotting._base import new_figure

__all__ = ["plot_hessian_spectrum"]


def _spectra(source, player):
    """``[(label, spectrum)]`` from one spectrum, a list of them, or a ``LossLandscape``."""
    if isinstance(source, dict) and "density" in source:
        return [(None, source)]
    records = getattr(source, "history", source)
    out = []
    for i, item in enumerate(records):
        if isinstance(item, dict) and "density" in item:
            out.append((f"#{i + 1}", item))
            continue
        spectra = item.get("spectra") or {}
        name = player if player is not None else next(iter(spectra), None)
        if name in spectra:
            out.append((f"epoch {item.get('epoch')}", spectra[name]))
    if not out:
        raise ValueError("No spectrum to draw: give a `hessian_spectrum` result, a list of "
                         "them, or a LossLandscape run with kind='spectrum'.")
    return out


def plot_hessian_spectrum(spectrum, player=None, log=True, title=None):
    """The eigenvalue density of the Hessian (log scale by default, as PyHessian draws it).

    Args:
        spectrum: a :func:`~tfgenopt.landscape.hessian_spectrum` result, a list of them, or a
            ``LossLandscape`` callback (or its ``history``) that ran ``kind="spectrum"``: one
            curve per epoch, darker = later.
        player: for a GAN's history, ``"discriminator"`` or ``"generator"`` (default: the
            first recorded).
        log: draw the density on a log axis (the bulk near 0 and the outliers both show).
        title: the axes title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> import numpy as np
        >>> g = np.linspace(-1, 2, 50)
        >>> fig = plot_hessian_spectrum({"grid": g, "density": np.exp(-g ** 2),
        ...                              "ritz_values": np.array([[0.0, 1.0]])})
    """
    items = _spectra(spectrum, player)
    fig, ax = new_figure(figsize=(6, 4))
    colors = cm.viridis(np.linspace(0.15, 0.9, len(items)))
    floor = 0.0
    for (label, item), color in zip(items, colors):
        density = np.asarray(item["density"], dtype=np.float64)
        floor = max(floor, density.max() * 1e-6)
        ax.plot(item["grid"], density + (floor if log else 0.0), color=color, label=label)
    last = np.asarray(items[-1][1].get("ritz_values", []), dtype=np.float64)
    if last.size and np.isfinite(last).any():
        ax.axvline(np.nanmax(last), color="0.5", ls=":", lw=1, label="top Ritz value")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    ax.set_title(title or "Hessian eigenvalue density (SLQ)")
    if len(items) > 1 or items[0][0] is not None or last.size:
        ax.legend(fontsize=8)
    return fig
