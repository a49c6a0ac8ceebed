"""Which colours does the default DCGAN recipe draw on the shapes folder, by output channel?

Trains ``tg.models.GAN`` + ``compile()`` (DCGAN builders, 32 base filters, batch 64, one TF
thread) on the 5,000-image shapes folder of ``bench_images.py`` until the process has used
BUDGET CPU-seconds, then prints the share of 2,000 samples (EMA generator) holding a strong pure
red, green and blue shape (a pixel above 0.6 in that channel, below 0.4 in the other two) and
the maximum of each generator output channel. ``bgr`` trains on the folder with its channels
reversed and maps the samples back, which tells a colour-specific failure from a
channel-specific one (docs/own-images.md, "Why red was missing").

Usage:
    python benchmarks/_channel_check.py rgb 0 300 [--out runs/bench_images]
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("order", choices=("rgb", "bgr"))
    p.add_argument("seed", type=int)
    p.add_argument("budget", type=float)
    p.add_argument("--out", default=os.path.join("runs", "bench_images"),
                   help="bench_images.py's folder (its shapes folder is written there once)")
    args = p.parse_args()
    import keras
    import numpy as np
    import tensorflow as tf
    from bench_images import build, folder

    import tfgenopt as tg

    tf.config.threading.set_intra_op_parallelism_threads(1)
    ds = tg.data.load_images(folder(args.out), image_size=32, value_range=(-1, 1),
                             validation_split=0, labels=None, batch_size=64)
    if args.order == "bgr":
        ds = ds.map(lambda x: x[..., ::-1])
    gan = build("default", args.seed, base_filters=32)  # the benchmark's own default run
    start = time.process_time()

    class Budget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if time.process_time() - start > args.budget:
                self.model.stop_training = True

    history = gan.fit(ds, epochs=1_000_000, verbose=0, callbacks=[Budget()])
    raw = (np.asarray(gan.generate(2000, seed=10_000 + args.seed)) + 1) / 2
    s = raw[..., ::-1] if args.order == "bgr" else raw  # back to the data's colours

    def share(c):
        a, b = [i for i in range(3) if i != c]
        strong = (s[..., c] > 0.6) & (s[..., a] < 0.4) & (s[..., b] < 0.4)
        return round(float(np.mean(strong.any(axis=(1, 2)))), 3)

    print(json.dumps({"order": args.order, "seed": args.seed, "budget": args.budget,
                      "epochs": len(history.history["d_loss"]), "red": share(0),
                      "green": share(1), "blue": share(2),
                      "output_channel_max": [round(float(v), 2) for v in raw.max(axis=(0, 1, 2))]}))


if __name__ == "__main__":
    main()
