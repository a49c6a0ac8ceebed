"""``tfgenopt train --workers N``: start N local workers of one ``MultiWorkerMirroredStrategy``.

For trying multi-worker training on one machine: each worker is the same command in its own
process, with a ``TF_CONFIG`` naming free ports on 127.0.0.1. The chief's output is the
command's; the other workers' stderr is shown only if they fail. When one worker dies (an
error, ``SIGKILL``), the others are stopped (they would wait for it forever) and the command
exits with that worker's status, so rerunning it with ``--backup-dir`` resumes the cluster.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

__all__ = ["free_ports", "local_tf_config", "launch"]


def free_ports(n, host="127.0.0.1"):
    """``n`` distinct TCP ports on ``host`` that are free right now.

    Example:
        >>> len(set(free_ports(2)))
        2
    """
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def local_tf_config(ports, index, host="127.0.0.1"):
    """The ``TF_CONFIG`` JSON of worker ``index`` of a cluster on ``host``'s ``ports``.

    Example:
        >>> json.loads(local_tf_config([1, 2], 1))["task"]
        {'type': 'worker', 'index': 1}
    """
    return json.dumps({"cluster": {"worker": [f"{host}:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def launch(argv, workers, env=None):
    """Run ``python -m tfgenopt *argv`` as ``workers`` local workers; return the exit code.

    Args:
        argv: the command line (``["train", "gan", ...]``), the same for every worker.
        workers: the number of worker processes (worker 0 is the chief).
        env: the environment of the workers (``os.environ`` by default).

    Returns:
        0 when every worker succeeded, else the status of the first that failed.
    """
    env = dict(os.environ if env is None else env)
    ports = free_ports(workers)
    procs, logs = [], []
    try:
        for i in range(workers):
            log = None if i == 0 else tempfile.TemporaryFile(mode="w+")
            logs.append(log)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "tfgenopt", *argv],
                env={**env, "TF_CONFIG": local_tf_config(ports, i)},
                stdout=None if i == 0 else subprocess.DEVNULL,
                stderr=None if i == 0 else log))
        while True:
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                i, code = failed[0]
                _stop(procs)
                if i > 0:
                    logs[i].seek(0)
                    tail = logs[i].read()[-3000:].strip()
                    print(f"tfgenopt: worker {i} exited with {code}" + (
                        f":\n{tail}" if tail else ""), file=sys.stderr)
                return code if code > 0 else 128 - code
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.05)
    except KeyboardInterrupt:
        _stop(procs)
        return 130
    finally:
        _stop(procs)
        for log in logs:
            if log is not None:
                log.close()
