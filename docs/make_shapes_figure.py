"""Draw docs/figures/shapes.png: 4 samples of each of the 12 classes of ``tg.data.make_shapes``.

    python docs/make_shapes_figure.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tfgenopt as tg


def main():
    x, y = tg.data.make_shapes(240, image_size=32, seed=0)
    order = np.concatenate([np.flatnonzero(y == c)[:4] for c in range(12)])
    grid = x[order].reshape(12, 4, 32, 32, 3).transpose(1, 0, 2, 3, 4).reshape(48, 32, 32, 3)
    fig = tg.plotting.plot_image_grid(grid.astype("float32") / 255, ncols=12, value_range=(0, 1),
                                      scale=0.06)
    path = Path(__file__).resolve().parent / "figures" / "shapes.png"
    tg.plotting.save_figure(fig, str(path))
    from PIL import Image

    with Image.open(path) as img:
        img.convert("RGB").quantize(colors=96).save(path, optimize=True)
    print(path, path.stat().st_size // 1024, "kB")


if __name__ == "__main__":
    main()
