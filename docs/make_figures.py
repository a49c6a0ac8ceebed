"""Copy a few figures of a demo run, downscaled, into docs/figures/ for the README.

    python docs/make_figures.py [RUN_DIR]     # default runs/demo (run `make demo` first)

With Chromium installed it also takes the first screen of the run's report (1280 x 900) as
docs/figures/report_first_screen.png.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
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
    screenshot(run / "report.html", out / "report_first_screen.png")


def screenshot(report, path, width=1280, height=900):
    """The first screen of ``report`` in headless Chromium, saved at 3/4 size in 128 colours."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium not found: no screenshot of the report")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        shot = Path(tmp) / "shot.png"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--window-size={width},{height}",
                        f"--screenshot={shot}", report.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
        with Image.open(shot) as img:  # 3/4 size: still legible, a third of the bytes
            img = img.convert("RGB").resize((width * 3 // 4, height * 3 // 4), Image.LANCZOS)
            img.quantize(colors=128).save(path, optimize=True)
    print(f"{path}: {path.stat().st_size // 1024} kB")
    return path


if __name__ == "__main__":
    main(*sys.argv[1:])
