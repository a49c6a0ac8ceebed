"""Multi-worker GAN training on one machine: 1 worker vs 2 workers on loopback, same global batch.

Each configuration trains the toolkit's dense digits GAN (``tfgenopt train gan``'s model:
784-dim data, latent 100, default compile) for a fixed number of steps with the same global
batch. "1 worker" is a plain process (no strategy); "2 workers" are two processes forming a
``MultiWorkerMirroredStrategy`` over 127.0.0.1 (ring all-reduce), each computing half of every
batch. The first epoch (tracing, the cluster's start) is excluded; the timed part is the
following ``--steps`` steps. Reported per configuration: steps/s and samples/s (wall time of
the timed part, on the chief) and the CPU seconds each process spent in it
(``time.process_time``), then the ratio 2 workers / 1 worker.

On a machine with fewer cores than workers x threads the workers compete for the same cores,
so this measures the overhead of the cluster, not a speed-up; a real cluster gives each
worker its own host (or GPU).

    python benchmarks/bench_workers.py [--steps 60] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tfgenopt.cli.launch import free_ports, local_tf_config  # noqa: E402

SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    from tfgenopt import distribute
    strategy = distribute.strategy_from_tf_config()  # the default strategy without TF_CONFIG
    import keras, numpy as np
    import tfgenopt as tg
    from tfgenopt.recommended import make_model

    steps, batch = int(sys.argv[1]), int(sys.argv[2])
    x, _ = tg.data.load_digits(flatten=True)
    n = steps * batch
    x = np.concatenate([x] * (n // len(x) + 1))[:n]

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.wall, self.cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.wall = time.perf_counter() - self.wall
                self.cpu = time.process_time() - self.cpu

    with strategy.scope():
        gan = make_model("gan", x.shape[1], seed=0)
    clock = Clock()
    gan.fit(x, batch_size=batch, epochs=2, verbose=0, callbacks=[clock])
    print(json.dumps({"wall": clock.wall, "cpu": clock.cpu,
                      "replicas": strategy.num_replicas_in_sync,
                      "steps_per_execution": int(gan.steps_per_execution)}))
""")


def run(workers, steps, batch, script):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES="")
    env.pop("TF_CONFIG", None)
    ports = free_ports(workers)
    procs = []
    for i in range(workers):
        worker_env = dict(env, TF_CONFIG=local_tf_config(ports, i)) if workers > 1 else env
        procs.append(subprocess.Popen([sys.executable, script, str(steps), str(batch)],
                                      env=worker_env, stdout=subprocess.PIPE, text=True))
    outs = []
    for p in procs:
        out, _ = p.communicate(timeout=1800)
        if p.returncode:
            raise SystemExit(f"a worker of the {workers}-worker run failed ({p.returncode})")
        outs.append(json.loads(out.strip().splitlines()[-1]))
    chief = outs[0]
    return {"workers": workers, "steps_per_s": steps / chief["wall"],
            "samples_per_s": steps * batch / chief["wall"],
            "cpu_s": [round(o["cpu"], 2) for o in outs],
            "steps_per_execution": chief["steps_per_execution"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps (one epoch)")
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        script = os.path.join(folder, "worker.py")
        with open(script, "w") as fh:
            fh.write(SCRIPT)
        rows = [run(n, args.steps, args.batch_size, script) for n in (1, 2)]
    print(f"dense digits GAN, global batch {args.batch_size}, {args.steps} timed steps, "
          f"{os.cpu_count()} CPU cores on this machine")
    print(f"{'workers':>8} {'steps/s':>9} {'samples/s':>10} {'CPU s per process':>18} "
          f"{'steps/call':>10}")
    for r in rows:
        print(f"{r['workers']:>8} {r['steps_per_s']:>9.1f} {r['samples_per_s']:>10.0f} "
              f"{str(r['cpu_s']):>18} {r['steps_per_execution']:>10}")
    print(f"ratio 2 workers / 1 worker: steps/s x{rows[1]['steps_per_s'] / rows[0]['steps_per_s']:.2f}, "
          f"CPU s (all processes) x{sum(rows[1]['cpu_s']) / sum(rows[0]['cpu_s']):.2f}")


if __name__ == "__main__":
    main()
