"""Diffusion: recipes at equal CPU time against the keras.io DDIM, training/sampling speed, memory.

Data (32 px, the keras.io U-Net needs sides divisible by 8): the bundled digits
(``tg.data.load_digits(image_size=32)``: 1,437 training images in [0, 1], one channel) and
``tg.data.make_shapes(5000, image_size=32, seed=0)`` (RGB, 12 classes), both as arrays in [0, 1].

``train``: every (dataset, recipe, seed) trains from scratch in its own process (one TF thread,
``--jobs`` side by side) until it has used a budget of *CPU time* (``time.process_time``, the
time spent sampling left out); at each checkpoint it saves ``N_SAMPLES`` samples (seed fixed):
the EMA network's, and for ``keras_io`` also the raw network's (its EMA of 0.999 without warm-up
samples noise for thousands of steps; the score takes the better of the two).
``score``: classes covered (share >= 2% of the samples, of 10 / 12), FID and KID on the
*domain* extractor of each dataset (``tg.evaluation.domain_extractor``, cached), per checkpoint,
then a table (mean ± sd over seeds).

Recipes (all on 32/64/96/128-wide depth-2 U-Nets, batch 64):
* ``keras_io``: ``benchmarks/_keras_io_ddim.py``, the example itself (its network, its
  ``train_step`` and EMA loop, its 20-step DDIM sampler);
* ``default``: ``tg.models.Diffusion(tg.builders.unet(...))`` + ``compile()`` (no arguments),
  sampled with ``generate()``'s defaults;
* candidates (``RECIPES``): one change each from the default, named by what they set.

``speed``: the same keras.io U-Net trained by the keras.io ``train_step`` and by
``tg.models.Diffusion`` (default arguments on both sides), steps per CPU-second after a warm-up
epoch of the same plan; sampling images/s per network evaluation (20 DDIM steps both); peak RSS of
``generate(1000)`` at 32 px.

Usage:
    nice -n 5 python benchmarks/bench_diffusion.py train --datasets digits --seeds 0 \
        --recipes keras_io,default,vp_v_minsnr,edm --checkpoints 300,600 --out runs/bench_diff
    # this session's screening (16 px digits, 500 samples; see docs/diffusion.md):
    nice -n 5 python benchmarks/bench_diffusion.py train --datasets digits --seeds 0 \
        --recipes keras_io,flow,vp_v_minsnr,edm --checkpoints 600,1200 --image-size 16 \
        --samples 500 --out runs/bench_diff16
    python benchmarks/bench_diffusion.py score --out runs/bench_diff
    nice -n 5 python benchmarks/bench_diffusion.py speed
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

N_SAMPLES = int(os.environ.get("BENCH_SAMPLES", 1000))
MIN_SHARE = 0.02
BATCH = 64
WIDTHS = (32, 64, 96, 128)
# name -> (Diffusion kwargs, compile kwargs, unet kwargs); "default" is compile() as is.
RECIPES = {
    "default": ({}, {}, {}),
    "flow": ({}, {"formulation": "flow"}, {}),
    "vp_eps": ({}, {"formulation": "vp"}, {}),
    "vp_v_minsnr": ({}, {"formulation": "vp", "target": "v", "weighting": "min_snr"}, {}),
    "edm": ({}, {"formulation": "edm"}, {}),
    "flow_noema_warmup": ({}, {"formulation": "flow", "ema_warmup": False}, {}),
    "flow_narrow": ({}, {"formulation": "flow"}, {"widths": (16, 32, 48, 64)}),
    "flow_batchnorm": ({}, {"formulation": "flow"}, {"normalization": "batch"}),
}


def dataset(name, size=None):
    import numpy as np

    import tfgenopt as tg

    size = size or int(os.environ.get("BENCH_SIZE", 32))
    if name == "digits":
        x, y = tg.data.load_digits(image_size=size, validation_split=0.0, return_labels=True)
        return np.asarray(x, "float32"), np.asarray(y), 10
    x, y = tg.data.make_shapes(5000, image_size=size, seed=0)
    return x.astype("float32") / 255.0, y, len(tg.data.SHAPE_CLASSES)


def build(recipe, seed, x):
    import keras

    import tfgenopt as tg

    keras.utils.set_random_seed(seed)
    if recipe == "keras_io":
        from _keras_io_ddim import build as keras_io

        return keras_io(x, seed)
    model_kw, compile_kw, net_kw = RECIPES[recipe]
    net = tg.builders.unet(x.shape[1:], **{"widths": WIDTHS, "seed": seed, **net_kw})
    model = tg.models.Diffusion(net, value_range=(0.0, 1.0), seed=seed, **model_kw)
    model.compile(**compile_kw)
    return model


def draw(model, recipe, seed):
    """``{"ema": samples}`` (and ``"raw"`` for keras_io) as uint8."""
    import numpy as np

    out = {"ema": model.generate(N_SAMPLES, seed=seed)}
    if recipe == "keras_io":
        out["raw"] = model.generate(N_SAMPLES, seed=seed, use_ema=False)
    return {k: np.clip(np.rint(np.nan_to_num(v) * 255), 0, 255).astype("uint8")
            for k, v in out.items()}


def worker(name, recipe, seed, checkpoints, out):
    import keras
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("BENCH_THREADS", 1)))
    tf.config.threading.set_inter_op_parallelism_threads(1)
    x, _, _ = dataset(name)
    model = build(recipe, seed, x)
    pending, rows = list(checkpoints), []
    state = {"eval": 0.0, "start": time.process_time()}

    class Budget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            used = time.process_time() - state["start"] - state["eval"]
            finite = all(np.isfinite(v) for v in (logs or {}).values() if isinstance(v, float))
            while pending and (used >= pending[0] or not finite):
                t0 = time.process_time()
                budget = pending.pop(0)
                path = os.path.join(out, f"{name}-{recipe}-s{seed}-{budget}.npz")
                np.savez_compressed(path, **draw(self.model, recipe, 10_000 + seed))
                rows.append({"budget": budget, "cpu_used": round(used, 1), "epochs": epoch + 1,
                             "steps": (epoch + 1) * -(-len(x) // BATCH), "finite": bool(finite),
                             "sample_cpu_s": round(time.process_time() - t0, 1), "path": path})
                state["eval"] += time.process_time() - t0
            if not pending:
                self.model.stop_training = True

    model.fit(x, batch_size=BATCH, epochs=1_000_000, verbose=0, callbacks=[Budget()])
    return rows


def run_train(args):
    os.makedirs(args.out, exist_ok=True)
    tasks = [(d, r, s) for s in args.seeds for d in args.datasets for r in args.recipes]
    running, env = [], dict(os.environ, BENCH_THREADS=str(args.threads),
                            BENCH_SIZE=str(args.image_size), BENCH_SAMPLES=str(args.samples))
    log = open(os.path.join(args.out, "train.jsonl"), "a")
    while tasks or running:
        while tasks and len(running) < args.jobs:
            name, recipe, seed = tasks.pop(0)
            cmd = [sys.executable, os.path.abspath(__file__), "worker", "--dataset", name,
                   "--recipe", recipe, "--seed", str(seed), "--out", args.out,
                   "--checkpoints", ",".join(map(str, args.checkpoints))]
            running.append(((name, recipe, seed), subprocess.Popen(
                cmd, stdout=subprocess.PIPE, env=env, text=True)))
        time.sleep(2)
        for item in list(running):
            (name, recipe, seed), proc = item
            if proc.poll() is None:
                continue
            running.remove(item)
            lines = proc.stdout.read().strip().splitlines()
            if proc.returncode or not lines:
                print(f"{name} {recipe} seed {seed}: FAILED (exit {proc.returncode})", flush=True)
                continue
            for row in json.loads(lines[-1]):
                row.update(dataset=name, recipe=recipe, seed=seed, image_size=args.image_size,
                           samples=args.samples)
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(json.dumps(row), flush=True)


def _spread(values, digits=1):
    values = [v for v in values if v == v]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {sd:.{digits}f}" if values else "nan"


def run_score(args):
    import numpy as np

    import tfgenopt as tg

    log = os.path.join(args.out, "train.jsonl")
    rows = [json.loads(line) for line in open(log)] if os.path.exists(log) else []
    done = {r["path"] for r in rows}
    for path in sorted(glob.glob(os.path.join(args.out, "*-s*-*.npz"))):
        if path not in done:  # a checkpoint of a run stopped before it reported
            name, rest = os.path.basename(path)[:-4].split("-", 1)
            recipe, seed, budget = rest.rsplit("-", 2)
            rows.append({"dataset": name, "recipe": recipe, "seed": int(seed[1:]),
                         "budget": int(budget), "steps": float("nan"), "path": path,
                         "image_size": args.image_size})
    extractors = {}
    for row in rows:
        name = row["dataset"]
        if name not in extractors:
            real, labels, k = dataset(name, row.get("image_size", 32))
            ext = tg.evaluation.domain_extractor(real, labels)
            extractors[name] = (ext, ext.features(real, value_range=(0.0, 1.0)), k)
        ext, real_feats, k = extractors[name]
        saved = np.load(row["path"])
        best = None
        for which in saved.files:
            x = saved[which].astype("float32") / 255.0
            feats, probs = ext.predict(x, value_range=(0.0, 1.0))
            hist = np.bincount(probs.argmax(1), minlength=k) / len(x)
            score = {"which": which, "classes": int((hist >= MIN_SHARE).sum()),
                     "fid": float(tg.evaluation.fid(real_feats, feats)),
                     "kid": float(tg.evaluation.kid(real_feats, feats, subsets=10,
                                                    subset_size=500).mean)}
            if best is None or score["fid"] < best["fid"]:
                best = score
        row.update(best)
        print(f"{row['dataset']:6s} {row['recipe']:18s} seed {row['seed']} {row['budget']:>5} "
              f"CPU-s ({row['steps']} steps): classes {row['classes']:2d}/{k} FID "
              f"{row['fid']:7.2f} KID {row['kid']:7.4f} [{row['which']}]", flush=True)
    print("\n| data | recipe | CPU-s | seeds | steps | classes, mean (min) | FID | KID |\n"
          "|---|---|---|---|---|---|---|---|")
    for key in sorted({(r["dataset"], r["recipe"], r["budget"]) for r in rows}):
        sel = [r for r in rows if (r["dataset"], r["recipe"], r["budget"]) == key]
        classes = [r["classes"] for r in sel]
        print(f"| {key[0]} | {key[1]} | {key[2]} | {len(sel)} | "
              f"{_spread([r['steps'] for r in sel], 0)} | {statistics.fmean(classes):.1f} "
              f"({min(classes)}) | {_spread([r['fid'] for r in sel])} | "
              f"{_spread([r['kid'] for r in sel], 4)} |")
    with open(os.path.join(args.out, "scores.json"), "w") as f:
        json.dump(rows, f, indent=1)


def _rate(model, x, epochs):
    """Steps per process-CPU second of ``epochs`` epochs after one warm-up epoch."""
    model.fit(x, batch_size=BATCH, epochs=1, verbose=0)  # traces the same plan
    t0 = time.process_time()
    model.fit(x, batch_size=BATCH, epochs=epochs, verbose=0)
    return epochs * -(-len(x) // BATCH) / (time.process_time() - t0)


def run_speed(args):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    from _keras_io_ddim import build as keras_io
    from _keras_io_ddim import get_network

    import tfgenopt as tg

    x = dataset("digits")[0][:args.images]
    rates = {"keras_io": [], "tfgenopt": []}
    for rep in range(args.repeats):
        ours = tg.models.Diffusion(get_network(32, 1), value_range=(0.0, 1.0), seed=rep)
        ours.compile()
        for name, model in (("keras_io", keras_io(x, rep)), ("tfgenopt", ours)):
            rates[name].append(_rate(model, x, args.epochs))
            print(f"{name}: {rates[name][-1]:.2f} steps/CPU-s", flush=True)
    a, b = (statistics.median(rates[k]) for k in ("keras_io", "tfgenopt"))
    print(f"train step, keras.io U-Net, batch {BATCH}, {args.threads} thread(s): keras.io {a:.2f}"
          f" vs tfgenopt {b:.2f} steps per CPU-s (median of {args.repeats}): ratio {b / a:.2f}")
    # Sampling: 20 DDIM steps on the same network, images per CPU-second per evaluation.
    ref = keras_io(x, 0)
    ours = tg.models.Diffusion(ref.ema_network, ema=None, value_range=(0.0, 1.0))
    ours.compile(formulation="vp")
    speeds, n = {}, args.sample_images
    for name, fn in (("keras_io", lambda: ref.generate(n, seed=0, steps=20)),
                     ("tfgenopt", lambda: ours.generate(n, seed=0, sampler="ddim", steps=20))):
        fn()
        t0 = time.process_time()
        fn()
        speeds[name] = n * 20 / (time.process_time() - t0)
    print(f"sampling, 20 DDIM steps, {n} images: keras.io {speeds['keras_io']:.1f} vs tfgenopt "
          f"{speeds['tfgenopt']:.1f} image-evaluations per CPU-s: ratio "
          f"{speeds['tfgenopt'] / speeds['keras_io']:.2f}")
    code = ("import resource, tfgenopt as tg;"
            "m = tg.models.Diffusion(tg.builders.unet((32, 32, 3)), value_range=(0.0, 1.0));"
            "m.compile(); m.generate(8, seed=0, steps=2);"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
            "m.generate(1000, seed=0, steps=2);"
            "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    before, after = map(int, subprocess.run([sys.executable, "-c", code], capture_output=True,
                                            text=True, check=True).stdout.split()[-2:])
    # The peak is set by one batch (256 images): the step count does not change it (2 here).
    print(f"generate(1000) at 32x32x3 (default U-Net and sampler, batch 256): peak RSS "
          f"{after / 1024:.0f} MiB, {max(after - before, 0) / 1024:.0f} MiB above the process "
          f"after a warm-up generate(8)")
    print(f"(ru_maxrss of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode")
    t = sub.add_parser("train")
    t.add_argument("--datasets", type=lambda s: s.split(","), default=["digits", "shapes"])
    t.add_argument("--recipes", type=lambda s: s.split(","), default=["keras_io", "default"])
    t.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")], default=[0, 1, 2])
    t.add_argument("--checkpoints", type=lambda s: [int(v) for v in s.split(",")],
                   default=[300, 600])
    t.add_argument("--jobs", type=int, default=2)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--out", default="runs/bench_diffusion")
    t.add_argument("--image-size", type=int, default=32)
    t.add_argument("--samples", type=int, default=N_SAMPLES)
    w = sub.add_parser("worker")
    w.add_argument("--dataset")
    w.add_argument("--recipe")
    w.add_argument("--seed", type=int)
    w.add_argument("--checkpoints", type=lambda s: [int(v) for v in s.split(",")])
    w.add_argument("--out")
    s = sub.add_parser("score")
    s.add_argument("--out", default="runs/bench_diffusion")
    s.add_argument("--image-size", type=int, default=32, help="of runs that did not report")
    v = sub.add_parser("speed")
    v.add_argument("--threads", type=int, default=1)
    v.add_argument("--epochs", type=int, default=2)
    v.add_argument("--repeats", type=int, default=3)
    v.add_argument("--images", type=int, default=640)
    v.add_argument("--sample-images", type=int, default=256)
    args = p.parse_args(argv)
    if args.mode == "worker":
        print(json.dumps(worker(args.dataset, args.recipe, args.seed, args.checkpoints, args.out)))
    elif args.mode == "train":
        run_train(args)
    elif args.mode == "score":
        run_score(args)
    elif args.mode in (None, "speed"):
        run_speed(args if args.mode else p.parse_args(["speed"]))


if __name__ == "__main__":
    main()
