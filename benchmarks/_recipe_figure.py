"""The recipe table as a figure: classes covered and FID per recipe and CPU budget."""

from __future__ import annotations

import statistics

from matplotlib.figure import Figure


def recipe_figure(rows, names, budgets):
    """Two panels (classes covered, FID), one group of bars per recipe, one bar per budget."""
    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, 2)
    width = 0.8 / len(budgets)
    for panel, (key, label) in enumerate((("classes", "classes covered (of 10)"),
                                          ("fid", "FID on the digits extractor (log)"))):
        ax = axes[panel]
        for j, budget in enumerate(budgets):
            means, errs = [], []
            for name in names:
                vals = [r[key] for r in rows if r["recipe"] == name and r["budget"] == budget
                        and r[key] == r[key]]
                means.append(statistics.fmean(vals) if vals else 0.0)
                errs.append(statistics.stdev(vals) if len(vals) > 1 else 0.0)
            xs = [i + (j - (len(budgets) - 1) / 2) * width for i in range(len(names))]
            ax.bar(xs, means, width, yerr=errs, capsize=3,
                   label=f"{budget} CPU-s ({budget // 2} s on 2 cores)")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel(label)
        if key == "fid":
            ax.set_yscale("log")  # the recipes differ by two orders of magnitude
        if key == "classes":
            ax.set_ylim(0, 10.5)
            ax.axhline(10, color="grey", lw=0.8, ls="--")
        ax.legend(fontsize=7)
    fig.suptitle("GAN recipes on the bundled digits, equal CPU time (mean ± sd over seeds)")
    fig.tight_layout()
    return fig
