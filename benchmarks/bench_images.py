"""RGB image folders: the DCGAN default recipe vs the keras.io DCGAN at equal CPU time; input path.

Data: ``tg.data.make_shapes(5000, image_size=S, seed=0)`` (``S`` = ``--image-size``, 32 or 64)
written by ``tg.data.write_image_folder`` as 5,000 SxS RGB PNGs in 12 class folders (4 shapes x 3
colours), read back with ``tg.data.load_images`` (so the folder path is what trains).

``train`` (the default mode): every (recipe, seed) trains from scratch in its own process until
it has used a budget of *CPU time* (``time.process_time``, all threads; the time spent drawing
samples is left out); at each checkpoint it saves 2,000 samples (seed fixed, EMA generator where
the recipe has one) to ``--out``. ``score`` then measures them on the *domain* extractor
(``tg.evaluation.domain_extractor`` trained on the labelled folder, cached): ``classes`` =
classes receiving at least 2% of the samples (of 12), FID and KID against the 5,000 real images.

Recipes, both on the same networks (``dcgan_generator`` / ``dcgan_discriminator`` at
(S, S, 3) with ``--base-filters``; the builders' default is 64):
* ``default``: ``tg.models.GAN(g, d, latent_dim=100)`` + ``compile()`` on ``load_images``
  batches in [-1, 1] (tanh output, the builders' default), batch 64;
* candidates, only with ``--recipes`` (``VARIANTS``; results: docs/own-images.md): ``default``
  with one change each: a minibatch-std layer in D (``default_mbstd``), ``r1=10`` / ``r1=0.1``
  (``default_r1x10`` / ``default_r1low``), no EMA generator (``default_noema``), D at 64 base
  filters / G at 16 (``default_d64`` / ``default_g16``), a linear generator output
  (``default_linear``), PacGAN packing in D (``default_pac2``), DiffAugment translation /
  colour + translation (``default_tr`` / ``default_ctr``), both packing and translation
  (``default_pac2_tr``), G's learning rate at D's 1e-3 (``default_glr``);
* ``keras_io``: the keras.io "DCGAN overriding train_step" example's recipe: its train_step
  (``benchmarks/_keras_io_gan.py``: fake labelled 1, real 0, 0.05 label noise, BCE), Adam 1e-4
  for both networks, data in [0, 1] with a sigmoid output, batch 64, latent 100.

``input``: ``fit`` steps/s of the default recipe fed a ``load_images`` dataset vs the same
images as in-memory arrays (``load_images(as_numpy=True)``), both with default arguments.
``rss``: peak RSS (``ru_maxrss``) of a process training the default recipe for 100 steps from a
50,000-image folder (streamed: its decoded size is over ``load_images``' cache limit).

Usage:
    nice -n 10 python benchmarks/bench_images.py train --seeds 0,1,2 --checkpoints 120,240
    python benchmarks/bench_images.py score
    # the README's table and figure (about 2 hours on 2 cores; docs/own-images.md):
    nice -n 5 python benchmarks/bench_images.py train --seeds 0,1,2 --base-filters 32 \
        --checkpoints 600,1200,1800,2400 --out runs/bench_3k
    python benchmarks/bench_images.py score --out runs/bench_3k
    python benchmarks/bench_images.py figure --budget 2400 --seed 0 --out runs/bench_3k
    # 64 px (issue 33's table; the builders' default 64 base filters):
    nice -n 5 python benchmarks/bench_images.py train --image-size 64 --seeds 0,1,2 \
        --checkpoints 1200,2400
    python benchmarks/bench_images.py score --image-size 64
    nice -n 10 python benchmarks/bench_images.py input
    nice -n 10 python benchmarks/bench_images.py rss
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

LATENT = 100
N_IMAGES = 5000
SIZE = 32  # --image-size: the images' and the networks' side (32 or 64)
N_SAMPLES = 2000
MIN_SHARE = 0.02
RECIPES = ("default", "keras_io")
# Candidate RGB recipes (run with --recipes; not in the default comparison): the default
# recipe plus one change each.
VARIANTS = {
    "default_mbstd": {"d": {"minibatch_std": True}},  # D sees each batch's spread
    "default_r1x10": {"compile": {"r1": 10.0}},  # a stronger R1
    "default_noema": {"gan": {"ema": None}},  # samples from the trained generator itself
    "default_d64": {"d": {"base_filters": 64}},  # D at the builders' default width
    "default_g16": {"g": {"base_filters": 16}},  # a narrower generator (measured: 1.25x the epochs per CPU-s)
    "default_linear": {"g": {"output_activation": None}},  # no tanh to saturate at -1
    "default_tr": {"compile": {"augment": "translation"}},  # DiffAugment translation
    "default_pac2": {"d": {"pack": 2}},  # PacGAN2: D judges pairs of samples
    "default_pac2_tr": {"d": {"pack": 2}, "compile": {"augment": "translation"}},
    "default_glr": {"compile": {"g_optimizer": {  # G at D's learning rate (1e-3)
        "class_name": "Adam", "config": {"learning_rate": 1e-3, "beta_1": 0.5}}}},
    "default_r1low": {"compile": {"r1": 0.1}},  # a weaker R1
    "default_ctr": {"compile": {"augment": "color,translation"}},  # DiffAugment color+translation
}


def folder(root, n=N_IMAGES, size=None):
    """The shapes PNG folder (written once, then reused), ``size`` px (default ``--image-size``)."""
    import tfgenopt as tg

    size = size or SIZE
    path = os.path.join(root, f"shapes-{n}-{size}px")
    if not os.path.isdir(path):
        x, y = tg.data.make_shapes(n, image_size=size, seed=0)
        tg.data.write_image_folder(x, y, path, class_names=tg.data.SHAPE_CLASSES)
    return path


def build(recipe, seed, base_filters):
    import keras

    import tfgenopt as tg

    keras.utils.set_random_seed(seed)
    shape = (SIZE, SIZE, 3)
    act = "sigmoid" if recipe == "keras_io" else "tanh"
    variant = VARIANTS.get(recipe, {})
    common = {"image_shape": shape, "base_filters": base_filters, "seed": seed}
    g = tg.builders.dcgan_generator(latent_dim=LATENT, **{**common, "output_activation": act,
                                                          **variant.get("g", {})})
    d = tg.builders.dcgan_discriminator(**{**common, **variant.get("d", {})})
    if recipe == "keras_io":
        from _keras_io_gan import KerasIOGAN

        model = KerasIOGAN(g, d, LATENT, seed=seed)
        model.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4))
        return model
    model = tg.models.GAN(g, d, latent_dim=LATENT, seed=seed, **variant.get("gan", {}))
    model.compile(**variant.get("compile", {}))
    return model


def samples(model, n, seed):
    """``n`` samples as uint8 RGB (EMA generator where there is one)."""
    import keras
    import numpy as np

    if hasattr(model, "generate"):
        x = (model.generate(n, seed=seed) + 1.0) / 2.0
    else:
        z = keras.random.normal((n, LATENT), seed=seed)
        x = np.asarray(model.generator.predict(z, batch_size=250, verbose=0))
    return np.clip(np.rint(np.nan_to_num(x, nan=0.0) * 255), 0, 255).astype("uint8")


def worker(recipe, seed, checkpoints, data, out, base_filters, batch):
    import keras
    import numpy as np
    import tensorflow as tf

    import tfgenopt as tg

    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("BENCH_THREADS", 1)))
    value_range = (0.0, 1.0) if recipe == "keras_io" else (-1.0, 1.0)
    ds = tg.data.load_images(data, image_size=SIZE, value_range=value_range, validation_split=0,
                             labels=None, batch_size=batch)
    model = build(recipe, seed, base_filters)
    pending, rows = list(checkpoints), []
    state = {"eval": 0.0, "start": time.process_time(), "steps": 0}

    class Budget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            used = time.process_time() - state["start"] - state["eval"]
            finite = all(np.isfinite(v) for v in (logs or {}).values() if isinstance(v, float))
            while pending and (used >= pending[0] or not finite):
                t0 = time.process_time()
                budget = pending.pop(0)
                path = os.path.join(out, f"{recipe}-f{base_filters}-s{seed}-{budget}.npz")
                np.savez_compressed(path, samples=samples(self.model, N_SAMPLES, 10_000 + seed))
                rows.append({"budget": budget, "cpu_used": round(used, 1), "epochs": epoch + 1,
                             "finite": bool(finite), "path": path})
                state["eval"] += time.process_time() - t0
            if not pending:
                self.model.stop_training = True

    model.fit(ds, epochs=1_000_000, verbose=0, callbacks=[Budget()])
    return rows


def run_train(args):
    os.makedirs(args.out, exist_ok=True)
    folder(args.out)
    tasks = [(r, s) for s in args.seeds for r in args.recipes]
    running = []
    env = dict(os.environ, BENCH_THREADS=str(args.threads))
    log = open(os.path.join(args.out, "train.jsonl"), "a")
    while tasks or running:
        while tasks and len(running) < args.jobs:
            recipe, seed = tasks.pop(0)
            cmd = [sys.executable, os.path.abspath(__file__), "worker", "--recipe", recipe,
                   "--seed", str(seed), "--checkpoints", ",".join(map(str, args.checkpoints)),
                   "--out", args.out, "--base-filters", str(args.base_filters),
                   "--batch", str(args.batch), "--image-size", str(SIZE)]
            running.append((recipe, seed, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                                           env=env, text=True)))
        time.sleep(1)
        for item in list(running):
            recipe, seed, proc = item
            if proc.poll() is None:
                continue
            running.remove(item)
            lines = proc.stdout.read().strip().splitlines()
            if proc.returncode or not lines:
                print(f"{recipe} seed {seed}: FAILED (exit {proc.returncode})", flush=True)
                continue
            for row in json.loads(lines[-1]):
                row.update(recipe=recipe, seed=seed, base_filters=args.base_filters,
                           batch=args.batch)
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(json.dumps(row), flush=True)


def _spread(values, digits=2):
    values = [v for v in values if v == v]
    if not values:
        return "nan"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {sd:.{digits}f}"


def run_score(args):
    import numpy as np

    import tfgenopt as tg

    data = folder(args.out)
    real, labels = tg.data.load_images(data, image_size=SIZE, value_range=(0, 1),
                                       validation_split=0, as_numpy=True)
    ext, info = tg.evaluation.domain_extractor(real, labels, return_info=True)
    print(f"domain extractor: val accuracy {info['val_accuracy']:.3f}, "
          f"{'trained' if info['trained'] else 'cached'} ({info['path']})", flush=True)
    real_feats = ext.features(real, value_range=(0.0, 1.0))
    log = os.path.join(args.out, "train.jsonl")
    rows = [json.loads(line) for line in open(log)] if os.path.exists(log) else []
    done = {r["path"] for r in rows}
    for path in sorted(glob.glob(os.path.join(args.out, "*-f*-s*-*.npz"))):
        if path not in done:  # a checkpoint of a run stopped before it reported (no epochs)
            recipe, f, s, budget = os.path.basename(path)[:-4].rsplit("-", 3)
            rows.append({"recipe": recipe, "base_filters": int(f[1:]), "seed": int(s[1:]),
                         "budget": int(budget), "epochs": float("nan"), "path": path})
    n_classes = len(tg.data.SHAPE_CLASSES)
    for row in rows:
        x = np.load(row["path"])["samples"].astype("float32") / 255.0
        feats, probs = ext.predict(x, value_range=(0.0, 1.0))
        hist = np.bincount(probs.argmax(1), minlength=n_classes) / len(x)
        row.update(classes=int((hist >= MIN_SHARE).sum()), shares=[round(float(h), 3) for h in hist],
                   fid=tg.evaluation.fid(real_feats, feats),
                   kid=tg.evaluation.kid(real_feats, feats, subsets=20, subset_size=1000).mean)
        print(f"{row['recipe']:9s} f{row['base_filters']} seed {row['seed']} {row['budget']:>4} "
              f"CPU-s: classes {row['classes']:2d}/{n_classes} FID {row['fid']:7.2f} "
              f"KID {row['kid']:6.3f} epochs {row['epochs']}; under {MIN_SHARE:.0%}: "
              f"{', '.join(n for n, h in zip(tg.data.SHAPE_CLASSES, hist) if h < MIN_SHARE)}",
              flush=True)
        row["fid"], row["kid"] = float(row["fid"]), float(row["kid"])
    print("\n| recipe | base filters | CPU-s | seeds | classes covered, mean (min) | FID | KID "
          "| epochs |\n|---|---|---|---|---|---|---|---|")
    keys = sorted({(r["recipe"], r["base_filters"], r["budget"]) for r in rows})
    for recipe, f, budget in keys:
        sel = [r for r in rows if (r["recipe"], r["base_filters"], r["budget"])
               == (recipe, f, budget)]
        classes = [r["classes"] for r in sel]
        print(f"| {recipe} | {f} | {budget} | {len(sel)} | {statistics.fmean(classes):.1f} "
              f"({min(classes)}) | {_spread([r['fid'] for r in sel])} "
              f"| {_spread([r['kid'] for r in sel], 3)} "
              f"| {_spread([r['epochs'] for r in sel], 1)} |")
    json.dump(rows, open(os.path.join(args.out, "scores.json"), "w"), indent=1)


def run_figure(args):
    """docs/figures/rgb_samples.png: 36 samples of each recipe at one budget and seed, with scores."""
    import numpy as np
    from matplotlib.figure import Figure

    import tfgenopt as tg

    scores = {(r["recipe"], r["seed"], r["budget"]): r
              for r in json.load(open(os.path.join(args.out, "scores.json")))}
    recipes = [r for r in args.recipes if (r, args.seed, args.budget) in scores]
    fig = Figure(figsize=(3.2 * len(recipes), 3.6))
    for ax, recipe in zip(fig.subplots(1, len(recipes), squeeze=False)[0], recipes):
        row = scores[(recipe, args.seed, args.budget)]
        x = np.load(row["path"])["samples"][:36]
        ax.imshow(tg.plotting.image_grid_array(x, ncols=6, value_range=(0, 255)))
        ax.set_title(f"{recipe}: {row['classes']}/{len(tg.data.SHAPE_CLASSES)} classes, "
                     f"FID {row['fid']:.0f}", fontsize=9)
        ax.axis("off")
    fig.suptitle(f"{args.budget} CPU-s, seed {args.seed}: EMA samples (default), generator "
                 "(keras_io)", fontsize=9)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "figures",
                        "rgb_samples.png" if SIZE == 32 else f"rgb_samples_{SIZE}px.png")
    tg.plotting.save_figure(fig, path)
    from PIL import Image  # a palette PNG: a third of the size

    with Image.open(path) as img:
        img.convert("RGB").quantize(colors=128).save(path, optimize=True)
    print(os.path.normpath(path))


def run_input(args):
    """Steps per CPU-second: ``fit`` on a load_images dataset vs the same images as arrays."""
    import tensorflow as tf

    import tfgenopt as tg

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    data = folder(args.out)
    ds = tg.data.load_images(data, image_size=SIZE, validation_split=0, labels=None)
    x = tg.data.load_images(data, image_size=SIZE, validation_split=0, labels=None, as_numpy=True)
    rates = {"folder": [], "arrays": []}
    for rep in range(args.reps):
        for name, inputs in (("folder", ds), ("arrays", x)):
            model = build("default", 0, args.base_filters)
            model.fit(inputs, epochs=1, steps_per_epoch=5, verbose=0)  # trace and warm up
            t0 = time.process_time()
            model.fit(inputs, epochs=1, steps_per_epoch=args.steps, verbose=0)
            rates[name].append(args.steps / (time.process_time() - t0))
            print(f"rep {rep} {name}: {rates[name][-1]:.3f} steps/CPU-s", flush=True)
    f, a = statistics.median(rates["folder"]), statistics.median(rates["arrays"])
    print(f"median steps/CPU-s: folder {f:.3f}, arrays {a:.3f}, ratio folder/arrays {f / a:.3f}")


def run_rss(args):
    """Peak RSS of training from a 50,000-image folder, in a fresh subprocess."""
    data = folder(args.out, n=50_000)
    here = os.path.dirname(os.path.abspath(__file__))
    code = (f"import resource, sys, tensorflow as tf; sys.path.insert(0, {here!r});"
            "import bench_images as b, tfgenopt as tg;"
            f"tf.config.threading.set_intra_op_parallelism_threads({args.threads});"
            f"ds = tg.data.load_images({data!r}, image_size={SIZE}, validation_split=0, labels=None);"
            f"b.SIZE = {SIZE}; m = b.build('default', 0, {args.base_filters});"
            f"m.fit(ds, epochs=1, steps_per_epoch={args.steps}, verbose=0);"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    kib = int(out[-1])
    print(f"peak RSS training {args.steps} steps from 50,000 PNGs: {kib / 1024 ** 2:.2f} GiB")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", nargs="?", default="train",
                   choices=("train", "score", "input", "rss", "figure", "worker"))
    p.add_argument("--recipes", type=lambda s: s.split(","), default=list(RECIPES))
    p.add_argument("--recipe")
    p.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")], default=[0, 1, 2])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=int, default=900, help="figure: the checkpoint to draw")
    p.add_argument("--checkpoints", type=lambda s: [int(v) for v in s.split(",")],
                   default=[120, 240])
    p.add_argument("--base-filters", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--image-size", type=int, default=32, choices=(32, 64),
                   help="side of the shapes images and of both recipes' networks")
    p.add_argument("--out", default=None,
                   help="default runs/bench_images (32 px) or runs/bench_images_64px")
    args = p.parse_args(argv)
    global SIZE
    SIZE = args.image_size
    args.out = args.out or os.path.join(
        "runs", "bench_images" if SIZE == 32 else f"bench_images_{SIZE}px")
    if args.mode == "worker":
        rows = worker(args.recipe, args.seed, args.checkpoints, folder(args.out), args.out,
                      args.base_filters, args.batch)
        print(json.dumps(rows))
        return
    {"train": run_train, "score": run_score, "input": run_input, "rss": run_rss,
     "figure": run_figure}[args.mode](args)
    print(f"(peak RSS of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2:.2f} GiB)")


if __name__ == "__main__":
    main()
