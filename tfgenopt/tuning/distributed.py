"""Distributed tuning with Keras Tuner's own chief/worker mode.

Keras Tuner reads three environment variables: ``KERASTUNER_TUNER_ID`` (``chief`` for the
process that holds the oracle, ``tuner0``, ``tuner1``... for workers),
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``. The chief serves the oracle over
gRPC (``grpcio`` and ``protobuf``, both dependencies of ``tensorboard``) and runs no trial;
each worker asks it for a trial, runs it, reports, and asks again until the budget is spent.
All processes must share the tuner ``directory`` (trial folders and checkpoints).

Run one chief and N workers, e.g. with the tuner scripts::

    tfgenopt tune examples/tune_autoencoder.toml --chief --port 8470 &
    tfgenopt tune examples/tune_autoencoder.toml --worker 0 --port 8470 &
    tfgenopt tune examples/tune_autoencoder.toml --worker 1 --port 8470
"""

from __future__ import annotations

import os
import socket
import time

from tfgenopt._validation import check_int
from tfgenopt.tuning._kt_adapter import oracle_server_parts

__all__ = ["distributed_env", "free_port", "serve_oracle", "wait_for_port", "role_of"]

ENV_KEYS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def free_port(ip="127.0.0.1"):
    """A TCP port that is free on ``ip`` right now (the OS picks it).

    Example:
        >>> 1024 < free_port() < 65536
        True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def wait_for_port(port, ip="127.0.0.1", timeout=60.0):
    """Block until something listens on ``ip:port``; ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex((ip, int(port))) == 0:
                return True
        time.sleep(0.1)
    raise TimeoutError(f"Nothing listens on {ip}:{port} after {timeout} s.")


def distributed_env(role, port, ip="127.0.0.1"):
    """The Keras Tuner environment variables of one process.

    Args:
        role: ``"chief"``, a worker number (``0`` -> ``"tuner0"``) or a worker id string.
        port: the chief's port.
        ip: the chief's address.

    Returns:
        A dict to merge into ``os.environ`` (or a subprocess' ``env``).

    Example:
        >>> distributed_env(1, 8470)["KERASTUNER_TUNER_ID"]
        'tuner1'
    """
    port = check_int("port", port, minimum=1, maximum=65535)
    if isinstance(role, int) and not isinstance(role, bool):
        role = f"tuner{check_int('role', role, minimum=0)}"
    if not isinstance(role, str) or not role:
        raise ValueError(f"`role` must be 'chief', a worker number or id; received {role!r}.")
    if role != "chief" and "chief" in role:
        raise ValueError(f"A worker id must not contain 'chief'; received {role!r}.")
    return {"KERASTUNER_TUNER_ID": role, "KERASTUNER_ORACLE_IP": str(ip),
            "KERASTUNER_ORACLE_PORT": str(port)}


def role_of(environ=None):
    """``"chief"``, ``"worker"`` or ``None`` (not distributed) from the environment."""
    env = os.environ if environ is None else environ
    if "KERASTUNER_ORACLE_IP" not in env:
        return None
    return "chief" if "chief" in env.get("KERASTUNER_TUNER_ID", "") else "worker"


def serve_oracle(tuner, poll_interval=0.2, timeout=None):
    """Serve ``tuner``'s oracle to the workers until every trial is done (the chief's job).

    Keras Tuner's own chief loop checks for the end only every 20 s once the budget is
    spent; this one polls every ``poll_interval`` seconds and can give up after ``timeout``.

    Args:
        tuner: a tuner built in the chief process (``KERASTUNER_TUNER_ID=chief``).
        poll_interval: seconds between checks.
        timeout: seconds before ``TimeoutError`` (``None``: wait forever).

    Returns:
        The tuner, whose oracle now holds every trial.

    Example:
        Not run as a doctest: it serves workers until the search ends.

        >>> serve_oracle(make_tuner(hm, max_trials=4))  # doctest: +SKIP
    """
    from concurrent import futures

    import grpc

    add_servicer_to_server, OracleServicer, exit_chief = oracle_server_parts()

    env = os.environ
    if role_of() != "chief":
        raise RuntimeError(
            "serve_oracle runs in the chief: set KERASTUNER_TUNER_ID=chief, "
            "KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT (see distributed_env)."
        )
    tuner.save()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = OracleServicer(tuner.oracle)
    add_servicer_to_server(servicer, server)
    server.add_insecure_port(f"{env['KERASTUNER_ORACLE_IP']}:{env['KERASTUNER_ORACLE_PORT']}")
    server.start()
    start = time.monotonic()
    try:
        while not (servicer.stop_triggered and exit_chief(tuner.oracle)):
            if timeout is not None and time.monotonic() - start > timeout:
                raise TimeoutError(f"The search did not finish within {timeout} s.")
            time.sleep(poll_interval)
    finally:
        server.stop(grace=1.0)
    return tuner
