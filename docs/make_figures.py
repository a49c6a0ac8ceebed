"""Copy a few figures of a demo run, downscaled, into docs/figures/ for the README.

    python docs/make_figures.py [RUN_DIR]     # default runs/demo (run `make demo` first)
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

FIGURES = {  # file in the run directory -> width in the README
    "gan_samples.png": 360,
    "gan_quality.png": 720,
    "landscape_d_slices.png": 720,
    "curvature.png": 720,
    "lr_find.png": 480,
    "optimizers.png": 720,
}


def main(run_dir="runs/demo"):
    run, out = Path(run_dir), Path(__file__).resolve().parent / "figures"
    out.mkdir(exist_ok=True)
    for name, width in FIGURES.items():
        with Image.open(run / name) as img:
            img = img.convert("RGB")
            height = round(img.height * width / img.width)
            small = img.resize((width, height), Image.LANCZOS)
            small.quantize(colors=128).save(out / name, optimize=True)  # plots need few colours
        print(f"{out / name}: {(out / name).stat().st_size // 1024} kB")


if __name__ == "__main__":
    main(*sys.argv[1:])
