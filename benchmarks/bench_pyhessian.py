"""tfgenopt's curvature probes vs PyHessian on the same weights: values and times side by side.

The dense autoencoder (784-64-32-784, 78,192 parameters) is trained 3 epochs on 512 digits with
BCE; its weights and the 512 digits go to a PyTorch copy of the network run by PyHessian in
another interpreter (``benchmarks/_pyhessian_worker.py``; PyHessian's removed ``torch.eig`` is
shimmed there). Both sides: one Hessian-vector product, the top eigenvalue (PyHessian's power
iteration at its default tol 1e-3 and converged at tol 1e-9; tfgenopt's Lanczos at its default
30 steps), the top 5, Hutchinson's trace and the SLQ spectrum (100 Lanczos steps, one start).
Times are wall and process CPU seconds (the machine is shared: CPU time is the steadier one).

torch and pyhessian are never dependencies of tfgenopt: point ``--torch-python`` (or the
environment variable ``TFGENOPT_TORCH_PYTHON``) at an interpreter that has both, e.g.
``python3 -m venv /work/venvs/torch; /work/venvs/torch/bin/pip install torch==2.13.0 pyhessian``.
Without one the benchmark prints what it would compare and exits 0 (``make bench`` runs it).

    python benchmarks/bench_pyhessian.py [--torch-python PATH] [--n 512]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfgenopt as tg  # noqa: E402
from tfgenopt import landscape as L  # noqa: E402

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pyhessian_worker.py")


def find_torch_python(given):
    """An interpreter with torch and pyhessian, or None."""
    candidates = [given, os.environ.get("TFGENOPT_TORCH_PYTHON"), sys.executable]
    for path in candidates:
        if not path or not (os.path.exists(path) or shutil.which(path)):
            continue
        probe = subprocess.run([path, "-c", "import torch, pyhessian"], capture_output=True)
        if probe.returncode == 0:
            return path
    return None


def timed(fn, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def trained_autoencoder(n):
    keras.utils.set_random_seed(0)
    x, _ = tg.data.load_digits(image_size=28, flatten=True)
    x = x[:n].astype("float32")
    model = tg.builders.dense_autoencoder(seed=0)
    model.compile("adam", "binary_crossentropy")
    model.fit(x, x, epochs=3, batch_size=32, verbose=0)
    return model, x


def tfgenopt_side(model, x):
    obj = L.objective(model, (x, x))
    out = {"loss": obj.evaluate()["loss"], "params": obj.num_params}
    rng = np.random.default_rng(0)
    v = rng.standard_normal(obj.num_params)
    obj.hvp(v)
    _, wall, cpu = timed(lambda: [obj.hvp(v) for _ in range(20)])
    out["hvp_wall"], out["hvp_cpu"] = wall / 20, cpu / 20
    for name, kwargs in (("top1_default", {"k": 1}), ("top5_default", {"k": 5}),
                         ("top1_reference", {"k": 1, "iterations": 150})):
        values, wall, cpu = timed(L.hessian_eigenvalues, obj, seed=0, **kwargs)
        out[name] = {"values": values.tolist(), "wall": wall, "cpu": cpu}
    trace, wall, cpu = timed(lambda: L.hessian_trace(obj, samples=32, seed=0))
    out["trace_default"] = dict(trace, wall=wall, cpu=cpu)
    out["trace_reference"] = L.hessian_trace(obj, samples=256, seed=1)
    spec, wall, cpu = timed(lambda: L.hessian_spectrum(obj, steps=100, runs=1, seed=0))
    out["density"] = {"wall": wall, "cpu": cpu, "top": float(np.nanmax(spec["ritz_values"])),
                      "moments": spec["moments"].tolist()}
    return out


def report(ours, theirs):
    ref = ours["top1_reference"]["values"][0]
    print(f"parameters {ours['params']}; BCE loss tfgenopt {ours['loss']:.6f}"
          + (f" / torch {theirs['loss']:.6f}" if theirs else ""))
    print(f"converged reference top-1 (Lanczos, 150 steps): {ref:.7f}")
    rows = [("HVP (one)", None, None, ours["hvp_wall"], ours["hvp_cpu"],
             theirs and theirs["hvp_wall"], theirs and theirs["hvp_cpu"])]

    def eig_row(label, mine, other):
        a = ours[mine]["values"]
        b = theirs[other]["values"] if theirs else None
        rows.append((label, a, b, ours[mine]["wall"], ours[mine]["cpu"],
                     theirs and theirs[other]["wall"], theirs and theirs[other]["cpu"]))

    eig_row("top-1 (defaults)", "top1_default", "top1_default")
    if theirs:
        rows.append(("top-1 PyHessian tol 1e-9", None, theirs["top1_converged"]["values"], None,
                     None, theirs["top1_converged"]["wall"], theirs["top1_converged"]["cpu"]))
    eig_row("top-5 (defaults)", "top5_default", "top5_default")
    t = ours["trace_default"]
    rows.append(("trace", [t["trace"]], theirs and [theirs["trace_default"]["value"]], t["wall"],
                 t["cpu"], theirs and theirs["trace_default"]["wall"],
                 theirs and theirs["trace_default"]["cpu"]))
    d = ours["density"]
    rows.append(("spectrum (100 steps)", d["moments"], theirs and theirs["density"]["moments"],
                 d["wall"], d["cpu"], theirs and theirs["density"]["wall"],
                 theirs and theirs["density"]["cpu"]))

    def fmt(values):
        return "-" if values is None else ", ".join(f"{v:.6g}" for v in values)

    def sec(value):
        return "-" if value is None else f"{value:.4f}"

    print(f"{'quantity':26s} {'tfgenopt':>40s} {'PyHessian':>40s} "
          f"{'tfg wall/cpu s':>16s} {'PyH wall/cpu s':>16s} {'cpu ratio':>9s}")
    for label, a, b, tw, tc, pw, pc in rows:
        ratio = f"{pc / tc:.2f}x" if tc and pc else "-"
        print(f"{label:26s} {fmt(a):>40s} {fmt(b):>40s} {sec(tw) + '/' + sec(tc):>16s} "
              f"{sec(pw) + '/' + sec(pc):>16s} {ratio:>9s}")
    top = ours["top1_default"]["values"][0]
    print(f"tfgenopt top-1 relative error vs reference: {abs(top - ref) / abs(ref):.2e}")
    if theirs:
        for key in ("top1_default", "top1_converged"):
            value = theirs[key]["values"][0]
            print(f"PyHessian {key} relative error vs reference: {abs(value - ref) / abs(ref):.2e}")
        print(f"PyHessian top-5 as returned (unsorted?): {fmt(theirs['top5_default']['values'])}")
        print(f"PyHessian trace used {theirs['trace_default']['samples']} samples; "
              f"spectrum moments mean(lambda^k), k=1..3")
    print(f"tfgenopt trace {t['trace']:.3f} +- {t['std_error']:.3f} (95% CI "
          f"[{t['ci_low']:.3f}, {t['ci_high']:.3f}], 32 samples); 256-sample reference "
          f"{ours['trace_reference']['trace']:.3f} +- {ours['trace_reference']['std_error']:.3f}")
    print("cpu ratio = PyHessian CPU seconds / tfgenopt CPU seconds (>1: tfgenopt faster)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default=None)
    parser.add_argument("--n", type=int, default=512)
    args = parser.parse_args()
    python = find_torch_python(args.torch_python)
    model, x = trained_autoencoder(args.n)
    ours = tfgenopt_side(model, x)
    print("tfgenopt side:", json.dumps(ours), flush=True)  # before the (slow) torch side
    theirs = None
    if python is None:
        print("PyHessian side skipped: no interpreter with torch and pyhessian (pass "
              "--torch-python or set TFGENOPT_TORCH_PYTHON); tfgenopt's numbers only.")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            weights = os.path.join(tmp, "weights.npz")
            dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
            arrays = {"x": x}
            for i, layer in enumerate(dense):
                arrays[f"kernel_{i}"], arrays[f"bias_{i}"] = layer.get_weights()
            np.savez(weights, **arrays)
            result = os.path.join(tmp, "pyhessian.json")
            subprocess.run([python, WORKER, weights, result], check=True)
            with open(result) as fh:
                theirs = json.load(fh)
        print(f"PyHessian side: torch {theirs['torch']} with {theirs['threads']} threads")
    report(ours, theirs)


if __name__ == "__main__":
    main()
