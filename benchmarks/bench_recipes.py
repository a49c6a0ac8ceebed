"""GAN recipes at equal CPU time: class coverage, FID and KID on the bundled digits.

Every run trains one recipe from scratch on the 1,797 bundled digits (28x28) until it has used
a budget of *CPU time* (``time.process_time`` of its own process, all threads): 240 CPU-seconds
is "120 s on 2 cores". CPU time rather than wall time makes runs comparable on a shared
machine; the time spent measuring quality is excluded from the budget. At each checkpoint the
run draws 1,797 samples (the EMA generator where the recipe has one) and measures, on the
project's cached digits classifier (``tg.evaluation.get_extractor()``):

* ``classes``: digit classes that receive at least 2% of the samples (out of 10),
* ``fid`` / ``kid``: against the features of the 1,797 real digits (lower is better),
* ``d_acc``: the discriminator's accuracy on 512 real and 512 fresh fake images (1.0 means D
  wins outright, the "stuck at 100%" failure), and ``nan`` when any sample is not finite.

Recipes (``RECIPES``): ``keras_io`` is the keras.io "GAN overriding Model.train_step" example
(BCE with 0.05 label noise, one D step on the concatenated batch, Adam 3e-4 each) on the same
networks; ``default`` is ``tg.models.GAN(g, d, latent_dim=100)`` compiled with no arguments;
``named`` is the issue's first try (``ema=0.999``, ``compile(d_optimizer="adam",
g_optimizer="adam")``), the same as ``default`` now; ``old_default`` is what that meant before
this benchmark existed (Keras' Adam 1e-3/0.9 for both, no R1, EMA 0.999). The others change one
choice of the default (``keras_adam``: the optimizers as Keras resolves the names, with R1).

Usage:
    python benchmarks/bench_recipes.py                         # default table: 5 seeds, 60/120 s
    python benchmarks/bench_recipes.py --quick                 # 1 seed, 20 CPU-s: a smoke run
    python benchmarks/bench_recipes.py --recipes default,keras_io --seeds 0,1 --jobs 2
    python benchmarks/bench_recipes.py --out runs/recipes      # writes results.json and a figure
    python benchmarks/bench_recipes.py --data mnist            # MNIST from the Keras cache

With ``--data mnist`` / ``fashion_mnist`` every run trains on the 60,000 cached images and is
scored on 1,797 samples against the first 1,797 real images; the classes are still judged by
the digits classifier (meaningful for MNIST, only a diversity proxy for Fashion-MNIST).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LATENT = 100
DATA = ["digits"]  # the --data choice, passed on to the workers
N_CLASSES = 10
N_EVAL = 1797  # samples drawn and real images compared at each checkpoint
MIN_SHARE = 0.02

# name -> {"arch": "dense"|"dcgan", "g": builder kwargs, "d": builder kwargs, "gan": GAN kwargs,
#          "compile": compile kwargs (optimizers as [name, kwargs]), "batch": batch size}
RECIPES = {
    "keras_io": {"arch": "dense", "plain": True, "batch": 64},
    "old_default": {"arch": "dense", "gan": {"ema": 0.999}, "batch": 64,
                    "compile": {"d_optimizer": ["adam", {"learning_rate": 1e-3}],
                                "g_optimizer": ["adam", {"learning_rate": 1e-3}],
                                "loss": "non_saturating", "r1": 0.0, "r1_every": 1}},
    "named": {"arch": "dense", "gan": {"ema": 0.999}, "batch": 64,
              "compile": {"d_optimizer": "adam", "g_optimizer": "adam"}},
    # one change to the default each (measured with fewer seeds; see the README)
    "no_r1": {"arch": "dense", "batch": 64,
              "compile": {"d_optimizer": ["adam", {"learning_rate": 2e-4, "beta_1": 0.5}],
                          "g_optimizer": ["adam", {"learning_rate": 2e-4, "beta_1": 0.5}],
                          "r1": 0.0}},
    "keras_adam": {"arch": "dense", "batch": 64,
                   "compile": {"d_optimizer": ["adam", {"learning_rate": 1e-3}],
                               "g_optimizer": ["adam", {"learning_rate": 1e-3}]}},
    "mbstd": {"arch": "dense", "batch": 64, "d": {"minibatch_std": True}},
    "diffaug": {"arch": "dense", "batch": 64, "compile": {"augment": "color,translation,cutout"}},
    "ada": {"arch": "dense", "batch": 64,
            "compile": {"augment": "color,translation,cutout", "ada_target": 0.6}},
    "lecam": {"arch": "dense", "batch": 64, "compile": {"lecam": 0.1}},
    "ragan": {"arch": "dense", "batch": 64, "compile": {"loss": "relativistic_average"}},
    "default": {"arch": "dense", "batch": 64},
    "dcgan_default": {"arch": "dcgan", "batch": 64},
    "dcgan_keras_io": {"arch": "dcgan", "plain": True, "batch": 64},
}


def _optimizer(spec):
    import keras

    if isinstance(spec, list):
        name, kwargs = spec
        return keras.optimizers.get({"class_name": name, "config": kwargs})
    return spec


def build(recipe, seed):
    """The model of one recipe: ``tg.models.GAN`` or the keras.io-style plain GAN."""
    import keras

    import tfgenopt as tg

    keras.utils.set_random_seed(seed)
    if recipe["arch"] == "dense":
        g = tg.builders.dense_generator(latent_dim=LATENT, **recipe.get("g", {}))
        d = tg.builders.dense_discriminator(**recipe.get("d", {}))
    else:
        g = tg.builders.dcgan_generator(latent_dim=LATENT, image_shape=(28, 28, 1),
                                        output_activation="sigmoid",
                                        **recipe.get("g", {}))
        d = tg.builders.dcgan_discriminator(image_shape=(28, 28, 1),
                                            **recipe.get("d", {}))
    if recipe.get("plain"):
        from _keras_io_gan import KerasIOGAN

        model = KerasIOGAN(g, d, LATENT, seed=seed)
        model.compile(keras.optimizers.Adam(3e-4), keras.optimizers.Adam(3e-4))
        return model
    model = tg.models.GAN(g, d, latent_dim=LATENT, seed=seed, **recipe.get("gan", {}))
    kwargs = {k: _optimizer(v) for k, v in recipe.get("compile", {}).items()}
    model.compile(**kwargs)
    return model


def _samples(model, n, seed):
    import numpy as np

    if hasattr(model, "generate"):
        return model.generate(n, seed=seed)
    import keras

    z = keras.random.normal((n, LATENT), seed=seed)
    return np.asarray(model.generator.predict(z, batch_size=256, verbose=0))


def _d_accuracy(model, x, seed):
    import keras
    import numpy as np

    rng = np.random.default_rng(seed)
    real = x[rng.choice(len(x), 512, replace=False)]
    z = keras.random.normal((512, LATENT), seed=seed + 1)
    fake = model.generator(z, training=False)
    d = model.discriminator
    sign = 1.0 if getattr(model, "real_label_positive", True) else -1.0
    real_ok = sign * np.asarray(d(real, training=False)) > 0
    fake_ok = sign * np.asarray(d(fake, training=False)) < 0
    return float((real_ok.mean() + fake_ok.mean()) / 2)


def evaluate(model, x, real_features, extractor, seed):
    """Coverage (classes with >= 2% of 1,797 samples), FID, KID and D accuracy of ``model``."""
    import numpy as np

    import tfgenopt as tg

    samples = _samples(model, len(x), seed=10_000 + seed)
    if not np.all(np.isfinite(samples)):
        return {"nan": True, "classes": 0, "fid": float("nan"), "kid": float("nan"),
                "d_acc": float("nan")}
    probs = extractor.probabilities(samples, value_range=(0.0, 1.0))
    counts = np.bincount(probs.argmax(axis=1), minlength=N_CLASSES) / len(samples)
    feats = extractor.features(samples, value_range=(0.0, 1.0))
    kid = tg.evaluation.kid(real_features, feats, subsets=20, subset_size=500, seed=0)
    return {"nan": False, "classes": int((counts >= MIN_SHARE).sum()),
            "fid": float(tg.evaluation.fid(real_features, feats)),
            "kid": float(kid.mean), "d_acc": _d_accuracy(model, x, seed),
            "histogram": [round(float(c), 4) for c in counts]}


def worker(recipe, seed, checkpoints):
    """Train one recipe until the last checkpoint's CPU budget; return the measurements."""
    import keras
    import numpy as np
    import tensorflow as tf

    import tfgenopt as tg

    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("BENCH_THREADS", 2)))
    x_train = tg.data.load(os.environ.get("BENCH_DATA", "digits"), image_size=28,
                           flatten=recipe["arch"] == "dense", validation_split=0)
    x = x_train[:N_EVAL]  # digits: all of them; MNIST-sized data: the first 1,797 to score
    extractor = tg.evaluation.get_extractor()
    real_features = extractor.features(x, value_range=(0.0, 1.0))
    model = build(recipe, seed)
    results, pending = [], list(checkpoints)
    state = {"eval_cpu": 0.0, "start": None, "epochs": 0}

    class Budget(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            state["start"] = time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            state["epochs"] = epoch + 1
            used = time.process_time() - state["start"] - state["eval_cpu"]
            if logs and any(not np.isfinite(v) for v in logs.values()
                            if isinstance(v, float)):
                pending.clear()
            while pending and used >= pending[0]:
                t0 = time.process_time()
                row = evaluate(self.model, x, real_features, extractor, seed)
                row.update(budget=pending.pop(0), cpu_used=round(used, 1), epochs=epoch + 1)
                results.append(row)
                state["eval_cpu"] += time.process_time() - t0
            if not pending:
                self.model.stop_training = True

    model.fit(x_train, batch_size=recipe.get("batch", 64), epochs=1_000_000, verbose=0,
              callbacks=[Budget()])
    while pending:  # diverged (non-finite logs): the remaining checkpoints report it
        row = evaluate(model, x, real_features, extractor, seed)
        row.update(budget=pending.pop(0), cpu_used=None, epochs=state["epochs"], nan=True)
        results.append(row)
    return results


def run_all(names, recipes, seeds, checkpoints, jobs, threads):
    """Run every (recipe, seed) in subprocesses, ``jobs`` at a time; return all rows."""
    tasks = [(name, seed) for seed in seeds for name in names]  # interleaved
    running, rows = [], []
    env = dict(os.environ, BENCH_THREADS=str(threads), BENCH_DATA=DATA[0])
    here = os.path.dirname(os.path.abspath(__file__))
    while tasks or running:
        while tasks and len(running) < jobs:
            name, seed = tasks.pop(0)
            cmd = [sys.executable, os.path.join(here, "bench_recipes.py"), "--worker",
                   json.dumps(recipes[name]), "--seed", str(seed),
                   "--checkpoints", ",".join(map(str, checkpoints))]
            running.append((name, seed, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                                         env=env, text=True)))
        time.sleep(0.5)
        for item in list(running):
            name, seed, proc = item
            if proc.poll() is None:
                continue
            running.remove(item)
            out = proc.stdout.read().strip().splitlines()
            if proc.returncode != 0 or not out:
                print(f"  {name} seed {seed}: FAILED (exit {proc.returncode})", flush=True)
                continue
            for row in json.loads(out[-1]):
                rows.append({"recipe": name, "seed": seed, **row})
                print(f"  {name:16s} seed {seed} {row['budget']:>4} CPU-s: "
                      f"classes {row['classes']:2d}/10  FID {row['fid']:8.2f}  "
                      f"KID {row['kid']:7.3f}  D acc {row['d_acc']:.2f}  "
                      f"epochs {row['epochs']}", flush=True)
    return rows


def _spread(values, digits=2):
    values = [v for v in values if v == v]
    if not values:
        return "nan"
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def table(rows, names, checkpoints):
    """The README table: per recipe and budget, classes (min/mean), FID and KID mean ± sd."""
    lines = ["| recipe | CPU-s (= s on 2 cores) | classes covered, mean (min) | FID | KID "
             "| D acc | failures |", "|---|---|---|---|---|---|---|"]
    for name in names:
        for budget in checkpoints:
            sel = [r for r in rows if r["recipe"] == name and r["budget"] == budget]
            if not sel:
                continue
            classes = [r["classes"] for r in sel]
            fails = sum(r["nan"] or r["d_acc"] >= 0.99 for r in sel)
            lines.append(
                f"| {name} | {budget} ({budget // 2}) | {statistics.fmean(classes):.1f} "
                f"({min(classes)}) | {_spread([r['fid'] for r in sel])} "
                f"| {_spread([r['kid'] for r in sel], 3)} "
                f"| {statistics.fmean(r['d_acc'] for r in sel):.2f} | {fails}/{len(sel)} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="default,old_default,keras_io,dcgan_default")
    parser.add_argument("--define", action="append", default=[], metavar="NAME=JSON",
                        help="an extra recipe, e.g. 'lr=' + json of a RECIPES entry")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--checkpoints", default="120,240",
                        help="CPU-second budgets at which quality is measured")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time")
    parser.add_argument("--data", default="digits", choices=("digits", "mnist", "fashion_mnist"),
                        help="training data (MNIST / Fashion-MNIST from the Keras cache only)")
    parser.add_argument("--threads", type=int, default=2, help="TF threads per run")
    parser.add_argument("--quick", action="store_true", help="1 seed, 20 CPU-s")
    parser.add_argument("--out", default=None, help="folder for results.json and the figure")
    parser.add_argument("--from-results", default=None, metavar="JSON[,JSON]",
                        help="print the table (and with --out, draw the figure) of saved runs")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    checkpoints = [int(c) for c in args.checkpoints.split(",")]
    if args.worker:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        print(json.dumps(worker(json.loads(args.worker), args.seed, checkpoints)))
        return 0
    if args.from_results:
        rows = [r for path in args.from_results.split(",") for r in _load_rows(path)]
        names = list(dict.fromkeys(r["recipe"] for r in rows))
        checkpoints = sorted({r["budget"] for r in rows})
        print(table(rows, names, checkpoints))
        if args.out:
            _save_figure(rows, names, checkpoints, args.out)
        return 0
    if args.quick:
        args.seeds, checkpoints = "0", [20]
    recipes = dict(RECIPES)
    for item in args.define:
        key, _, spec = item.partition("=")
        recipes[key] = json.loads(spec)
    names = args.recipes.split(",")
    unknown = [n for n in names if n not in recipes]
    if unknown:
        parser.error(f"unknown recipes {unknown}; known: {sorted(recipes)}")
    import tfgenopt as tg

    DATA[0] = args.data
    tg.data.load(args.data, image_size=28, validation_split=0)  # a clear error if not cached
    tg.evaluation.get_extractor()  # train / load the cached classifier once, before the workers
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"recipes {names}, seeds {seeds}, CPU budgets {checkpoints} s, {args.jobs} at a time",
          flush=True)
    rows = run_all(names, recipes, seeds, checkpoints, args.jobs, args.threads)
    print(table(rows, names, checkpoints))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(rows, f, indent=1)
        _save_figure(rows, names, checkpoints, args.out)
    return 0


_LINE = re.compile(r"^\s+(\S+)\s+seed (\d+)\s+(\d+) CPU-s: classes\s+(\d+)/10\s+FID\s+(\S+)"
                   r"\s+KID\s+(\S+)\s+D acc (\S+)\s+epochs (\d+)")


def _load_rows(path):
    """Rows from a ``results.json``, or parsed from the printed lines of a run's log."""
    if path.endswith(".json"):
        with open(path) as f:
            return json.load(f)
    rows = []
    with open(path) as f:
        for line in f:
            m = _LINE.match(line)
            if m:
                fid = float(m[5])
                rows.append({"recipe": m[1], "seed": int(m[2]), "budget": int(m[3]),
                             "classes": int(m[4]), "fid": fid, "kid": float(m[6]),
                             "d_acc": float(m[7]), "epochs": int(m[8]), "nan": fid != fid})
    return rows


def _save_figure(rows, names, checkpoints, out):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _recipe_figure import recipe_figure

    os.makedirs(out, exist_ok=True)
    recipe_figure(rows, names, checkpoints).savefig(os.path.join(out, "recipes.png"), dpi=100)


if __name__ == "__main__":
    sys.exit(main())
