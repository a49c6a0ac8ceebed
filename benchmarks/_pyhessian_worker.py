"""PyHessian's side of bench_pyhessian.py; runs in an interpreter that has torch and pyhessian.

    python _pyhessian_worker.py WEIGHTS.npz OUT.json

Reads the dense autoencoder's weights and probe set from ``WEIGHTS.npz`` (Keras layout), builds
the same network in PyTorch (784-64-32-784: ReLU, ReLU, sigmoid; BCE averaged over every pixel) and
writes PyHessian's top-1 (default tol 1e-3 and converged tol 1e-9), top-5, trace and density,
with their wall and CPU times and HVP counts, to ``OUT.json``. Never imported by the package.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import torch
from pyhessian import hessian


def _shim_torch_eig():
    """PyHessian's ``density`` calls ``torch.eig``, removed from PyTorch (torch 2.x keeps a stub
    that raises); replaced by a symmetric stand-in on ``torch.linalg.eigh``."""

    def eig(matrix, eigenvectors=False):
        values, vectors = torch.linalg.eigh(matrix)
        return torch.stack([values, torch.zeros_like(values)], dim=1), vectors

    torch.eig = eig


def _timed(fn, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(**kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(weights_path, out_path):
    _shim_torch_eig()
    torch.manual_seed(0)
    np.random.seed(0)
    data = np.load(weights_path)
    count = sum(1 for key in data.files if key.startswith("kernel_"))
    kernels = [data[f"kernel_{i}"] for i in range(count)]
    biases = [data[f"bias_{i}"] for i in range(count)]
    x = torch.tensor(data["x"], dtype=torch.float32)
    layers = []
    for i, (k, b) in enumerate(zip(kernels, biases)):
        lin = torch.nn.Linear(k.shape[0], k.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(k.T))
            lin.bias.copy_(torch.tensor(b))
        layers += [lin, torch.nn.Sigmoid() if i == count - 1 else torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers)
    criterion = torch.nn.BCELoss()
    loss = float(criterion(model(x), x))
    comp, setup_wall, setup_cpu = _timed(lambda: hessian(model, criterion, data=(x, x), cuda=False))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "loss": loss,
           "setup_wall": setup_wall, "setup_cpu": setup_cpu}

    from pyhessian.utils import hessian_vector_product

    v = [torch.randn_like(p) for p in comp.params]
    hessian_vector_product(comp.gradsH, comp.params, v)
    _, wall, cpu = _timed(lambda: [hessian_vector_product(comp.gradsH, comp.params, v)
                                   for _ in range(20)])
    out["hvp_wall"], out["hvp_cpu"] = wall / 20, cpu / 20

    for name, kwargs in (("top1_default", {"top_n": 1}),
                         ("top1_converged", {"top_n": 1, "tol": 1e-9, "maxIter": 500}),
                         ("top5_default", {"top_n": 5})):
        (values, _), wall, cpu = _timed(comp.eigenvalues, **kwargs)
        out[name] = {"values": [float(v) for v in values], "wall": wall, "cpu": cpu}
    samples, wall, cpu = _timed(lambda: comp.trace())
    out["trace_default"] = {"value": float(np.mean(samples)), "samples": len(samples),
                            "wall": wall, "cpu": cpu}
    (eigen, weights), wall, cpu = _timed(lambda: comp.density(iter=100, n_v=1))
    eigen, weights = np.asarray(eigen[0]), np.asarray(weights[0])
    out["density"] = {"wall": wall, "cpu": cpu, "top": float(eigen.max()),
                      "moments": [float(np.sum(weights * eigen ** k)) for k in (1, 2, 3)]}
    with open(out_path, "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
