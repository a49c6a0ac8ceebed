"""Tests of tfgenopt/tuning/distributed.py: one chief and two workers on 127.0.0.1."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import pytest

from tfgenopt.tuning import distributed

CONFIG = """
seed = 0
[model]
kind = "autoencoder"
[data]
dataset = "digits"
image_size = 8
limit = 300
[search]
tuner = "random"
max_trials = 4
[space]
epochs = 1
batch_size = 64
units = 16
depth = 1
normalization = "none"
optimizer = "adam"
learning_rate = { min = 1e-3, max = 1e-2, sampling = "log" }
[output]
directory = "{out}"
project_name = "dist"
figures = false
"""
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TestEnvironment:
    def test_worker_numbers_become_tuner_ids(self):
        env = distributed.distributed_env(0, 8470)
        assert env == {"KERASTUNER_TUNER_ID": "tuner0", "KERASTUNER_ORACLE_IP": "127.0.0.1",
                       "KERASTUNER_ORACLE_PORT": "8470"}

    def test_role_is_read_from_the_environment(self):
        assert distributed.role_of({}) is None
        assert distributed.role_of(distributed.distributed_env("chief", 1)) == "chief"
        assert distributed.role_of(distributed.distributed_env(3, 1)) == "worker"

    def test_bad_port_is_rejected(self):
        with pytest.raises(ValueError, match="`port` must be <= 65535; received 70000"):
            distributed.distributed_env("chief", 70000)

    def test_worker_id_cannot_contain_chief(self):
        with pytest.raises(ValueError, match="must not contain 'chief'"):
            distributed.distributed_env("chief1", 8000)

    def test_free_port_is_bindable_on_loopback(self):
        import socket

        port = distributed.free_port()
        assert 1024 < port < 65536
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # raises OSError if the port were taken
            assert s.getsockname() == ("127.0.0.1", port)
        with socket.socket() as held:  # a port in use is never handed out
            held.bind(("127.0.0.1", 0))
            held.listen()
            assert distributed.free_port() != held.getsockname()[1]


@pytest.mark.slow  # a chief and two worker processes, each starting TensorFlow
class TestChiefAndWorkers:
    def test_two_workers_share_the_trials_each_run_once(self, tmp_path):
        cfg = tmp_path / "dist.toml"
        cfg.write_text(textwrap.dedent(CONFIG).replace("{out}", str(tmp_path / "runs")))
        port = distributed.free_port()
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
        for key in distributed.ENV_KEYS:
            env.pop(key, None)
        cmd = [sys.executable, "-m", "tfgenopt", "tune", str(cfg), "--port", str(port),
               "--quiet"]
        procs = []
        try:
            chief = subprocess.Popen(cmd + ["--chief", "--timeout", "150"], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            procs.append(chief)
            distributed.wait_for_port(port, timeout=60)
            for wid in ("0", "1"):
                procs.append(subprocess.Popen(cmd + ["--worker", wid], env=env, cwd=ROOT,
                                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
            outputs = [p.communicate(timeout=170)[0].decode(errors="replace") for p in procs]
            codes = [p.returncode for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        assert codes == [0, 0, 0], "\n".join(o[-2000:] for o in outputs)
        with open(tmp_path / "runs" / "dist" / "results" / "trials.csv") as fh:
            rows = list(csv.DictReader(fh))
        assert sorted(r["trial_id"] for r in rows) == ["0", "1", "2", "3"]
        assert {r["status"] for r in rows} == {"COMPLETED"}
        assert {r["tuner_id"] for r in rows} == {"tuner0", "tuner1"}  # both workers ran trials
        with open(tmp_path / "runs" / "dist" / "oracle.json") as fh:
            run_times = json.load(fh)["run_times"]
        assert run_times == {"0": 1, "1": 1, "2": 1, "3": 1}  # every trial ran exactly once
