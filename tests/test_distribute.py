"""tfgenopt.distribute: MultiWorkerMirroredStrategy on loopback, TF_CONFIG checks.

A cluster needs processes of its own (the strategy must exist before TensorFlow's runtime
starts), so the training tests run scripts: one process with ``MirroredStrategy`` over two
logical CPUs (the reference) and two worker processes on loopback forming a
``MultiWorkerMirroredStrategy`` cluster. Both train the same tiny GAN on the same data with the
same global batch and seeds. (The per-replica noise test shares the MirroredStrategy process
of tests/models/test_gan_distribution.py.)
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tfgenopt.distribute as D

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES="")
TIMEOUT = 900  # wall seconds: this machine's 2 cores are shared

# What both the reference and the workers run once their strategy exists.
COMMON = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras, tensorflow as tf
    import tfgenopt as tg

    class Probe(tg.models.GAN):
        local = []  # a worker's own (not reduced) d_loss of every training step
        tracing_train_step = False

        def train_step(self, data):
            self.tracing_train_step = True
            try:
                return super().train_step(data)
            finally:
                self.tracing_train_step = False

        def _record(self, values):
            # One replica per process under MWMS (py_function in MirroredStrategy's replica
            # threads can deadlock); validation steps are not recorded.
            if self.tracing_train_step and tg.distribute.in_multi_worker_mode():
                tf.py_function(lambda v: Probe.local.append(float(v)), [values["d_loss"]], [])
            return super()._record(values)

    def make_gan():
        g = tg.builders.dense_generator(latent_dim=4, hidden=(8,), output_dim=16, seed=0)
        d = tg.builders.dense_discriminator(input_dim=16, hidden=(8,), seed=1)
        gan = Probe(g, d, latent_dim=4, ema=0.5, seed=3)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.05),
                    g_optimizer=keras.optimizers.SGD(0.05), loss="wasserstein",
                    gradient_penalty=1.0, instance_noise=0.1, jit_compile=False)
        return gan

    rng = np.random.default_rng(0)
    x, x_val = rng.random((64, 16)).astype("float32"), rng.random((32, 16)).astype("float32")

    def train_gan(strategy):
        with strategy.scope():
            gan = make_gan()
        hist = gan.fit(x, batch_size=16, epochs=2, validation_data=(x_val,), verbose=0).history
        weights = {f"{n}/{i}": w for n, net in gan.networks().items()
                   for i, w in enumerate(net.get_weights())}
        return gan, {k: [float(v) for v in vs] for k, vs in hist.items()}, weights

    def train_others(strategy):
        with strategy.scope():
            vae = tg.models.VAE(tg.builders.vae_encoder(16, latent_dim=2, hidden=(8,), seed=0),
                                tg.builders.vae_decoder(2, 16, hidden=(8,), seed=1), seed=2)
            vae.compile(keras.optimizers.SGD(0.05), jit_compile=False)
            ae = tg.builders.dense_autoencoder(16, hidden=(8,), seed=0)
            ae.compile(keras.optimizers.SGD(0.05), "mse", jit_compile=False)
            x_in, level = keras.Input((16,)), keras.Input((1,))
            h = keras.layers.Dense(8, kernel_initializer=keras.initializers.GlorotUniform(0))(
                keras.layers.Concatenate()([x_in, level]))
            dm = tg.models.Diffusion(keras.Model([x_in, level], keras.layers.Dense(
                16, kernel_initializer=keras.initializers.GlorotUniform(1))(h)),
                value_range=(0.0, 1.0), seed=2)
            dm.compile(optimizer=keras.optimizers.SGD(0.05), jit_compile=False)
        out = {"vae": vae.fit(x, batch_size=16, epochs=1, verbose=0).history["loss"],
               "diffusion": dm.fit(x, batch_size=16, epochs=1, verbose=0).history["loss"],
               "ae_arrays": ae.fit(x, x, batch_size=16, epochs=1, verbose=0, shuffle=False).history["loss"]}
        ds = tf.data.Dataset.from_tensor_slices((x, x)).batch(16)
        out["ae_dataset"] = ae.fit(ds, epochs=1, verbose=0).history["loss"]
        digest = lambda m: float(sum(np.abs(w).sum() for w in m.get_weights()))
        return {k: [float(v) for v in vs] for k, vs in out.items()}, {
            "vae": digest(vae), "ae": digest(ae), "diffusion": digest(dm.network)}
""")

MIRRORED = textwrap.dedent("""
    import faulthandler; faulthandler.dump_traceback_later(%d, exit=True)
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
""") + COMMON + textwrap.dedent("""
    out_dir = sys.argv[1]

    with strategy.scope():
        bad = make_gan()
    try:
        bad.fit(x, batch_size=15, epochs=1, verbose=0)
        bad_batch = None
    except ValueError as e:
        bad_batch = str(e)
    untouched = int(bad.d_optimizer.iterations.numpy()) == 0
    gan, hist, weights = train_gan(strategy)
    np.savez(f"{out_dir}/mirrored.npz", **weights)
    others, digests = train_others(strategy)
    print(json.dumps({"history": hist,
                      "iterations": int(gan.d_optimizer.iterations.numpy()),
                      "bad_batch": bad_batch, "untouched": untouched, "others": others}))
""")

WORKER = textwrap.dedent("""
    import faulthandler; faulthandler.dump_traceback_later(%d, exit=True)
    import sys
    import tfgenopt.distribute as D
    strategy = D.strategy_from_tf_config()  # before any TensorFlow op
""") + COMMON + textwrap.dedent("""
    out_dir, index = sys.argv[1], int(sys.argv[2])
    report = D.global_batch_report(16, strategy)
    gan, hist, weights = train_gan(strategy)
    np.savez(f"{out_dir}/worker{index}.npz", **weights)
    others, digests = train_others(strategy)
    print(json.dumps({"history": hist, "local": Probe.local, "report": report,
                      "iterations": int(gan.d_optimizer.iterations.numpy()),
                      "others": others, "digests": digests}))
""")


def free_ports(n):
    """``n`` ports on 127.0.0.1 that are free right now."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tf_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def run_script(text, tmp, args=(), env=None):
    path = tmp / f"script-{abs(hash(text))}.py"
    path.write_text(text)
    return subprocess.Popen([sys.executable, str(path), str(tmp), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or ENV, cwd=ROOT)


def result(proc):
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-4000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The MirroredStrategy reference and a two-worker cluster, run side by side."""
    tmp = tmp_path_factory.mktemp("distribute")
    ports = free_ports(2)
    procs = [run_script(MIRRORED % (TIMEOUT - 60), tmp)]
    procs += [run_script(WORKER % (TIMEOUT - 60), tmp, [i],
                         dict(ENV, TF_CONFIG=tf_config(ports, i)))
              for i in range(2)]
    mirrored, *workers = [result(p) for p in procs]
    weights = {name: dict(np.load(tmp / f"{name}.npz"))
               for name in ("mirrored", "worker0", "worker1")}
    return {"mirrored": mirrored, "workers": workers, "weights": weights}


@pytest.mark.timeout(2 * TIMEOUT)
@pytest.mark.slow  # three TensorFlow processes, about 2 min of CPU on this machine
class TestMultiWorker:
    def test_both_workers_end_with_identical_weights(self, runs):
        w0, w1 = runs["weights"]["worker0"], runs["weights"]["worker1"]
        assert w0.keys() == w1.keys() and len(w0) > 0
        for key in w0:
            np.testing.assert_array_equal(w0[key], w1[key])

    def test_the_weights_equal_mirrored_strategy_over_two_cpus(self, runs):
        ref, w0 = runs["weights"]["mirrored"], runs["weights"]["worker0"]
        assert ref.keys() == w0.keys()
        for key in ref:
            np.testing.assert_allclose(w0[key], ref[key], rtol=1e-4, atol=1e-5, err_msg=key)
        assert runs["workers"][0]["iterations"] == runs["mirrored"]["iterations"] == 8

    def test_the_logged_d_loss_is_the_mean_over_the_workers(self, runs):
        w0, w1 = runs["workers"]
        local = np.array([w0["local"], w1["local"]])  # 2 epochs x 4 steps, per worker
        assert local.shape == (2, 8)
        assert np.abs(local[0] - local[1]).max() > 1e-4  # the workers' values differ
        per_epoch = local.reshape(2, 2, 4).mean(axis=(0, 2))
        for w in (w0, w1):
            np.testing.assert_allclose(w["history"]["d_loss"], per_epoch, rtol=1e-5)
            assert all(np.isfinite(w["history"]["val_d_loss"]))
        np.testing.assert_allclose(w0["history"]["d_loss"],
                                   runs["mirrored"]["history"]["d_loss"], rtol=1e-4)

    def test_vae_diffusion_and_functional_models_train_on_arrays_and_datasets(self, runs):
        w0, w1 = runs["workers"]
        assert w0["digests"] == w1["digests"]
        for key, losses in w0["others"].items():
            assert np.all(np.isfinite(losses)), key
            np.testing.assert_allclose(losses, runs["mirrored"]["others"][key], rtol=1e-4)

    def test_the_global_batch_report_names_the_cluster(self, runs):
        reports = [w["report"] for w in runs["workers"]]
        assert [r["is_chief"] for r in reports] == [True, False]
        assert {(r["workers"], r["replicas"], r["per_replica_batch"]) for r in reports} == {
            (2, 2, 8)}

    def test_a_global_batch_that_does_not_divide_is_refused_before_a_step(self, runs):
        message = runs["mirrored"]["bad_batch"]
        assert message is not None and "batch_size" in message and "15" in message
        assert runs["mirrored"]["untouched"]


GOOD = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
        "task": {"type": "worker", "index": 1}}


class TestTFConfig:
    @pytest.mark.parametrize("text, words", [
        ("{not json", "not valid JSON"),
        ('["a"]', "'cluster' object"),
        ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', "non-empty"),
        ('{"cluster": {"worker": ["hostonly"]}, "task": {"type": "worker", "index": 0}}',
         "'host:port'"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "'type'"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
         "task index 1"),
    ])
    def test_a_malformed_tf_config_raises_one_clear_error(self, text, words):
        with pytest.raises(ValueError, match="TF_CONFIG") as info:
            D.strategy_from_tf_config({"TF_CONFIG": text})
        assert words in str(info.value)
        assert "TF_CONFIG" not in os.environ

    def test_a_port_in_use_is_reported_before_the_strategy_starts(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            config = {"cluster": {"worker": [f"127.0.0.1:{port}", "127.0.0.1:1"]},
                      "task": {"type": "worker", "index": 0}}
            with pytest.raises(ValueError, match=f"127.0.0.1:{port} is already in use"):
                D.strategy_from_tf_config({"TF_CONFIG": json.dumps(config)})
        assert "TF_CONFIG" not in os.environ

    def test_the_chief_is_worker_zero_or_the_chief_task(self):
        assert not D.is_chief({"TF_CONFIG": json.dumps(GOOD)})
        assert D.is_chief({"TF_CONFIG": json.dumps({**GOOD, "task": {"type": "worker",
                                                                      "index": 0}})})
        chief = {"cluster": {"chief": ["a:1"], "worker": ["b:1"]},
                 "task": {"type": "worker", "index": 0}}
        assert not D.is_chief({"TF_CONFIG": json.dumps(chief)})
        assert D.is_chief({})

    def test_a_worker_writes_into_a_temporary_folder_removed_afterwards(self, tmp_path):
        with D.chief_dir(str(tmp_path / "out"), {"TF_CONFIG": json.dumps(GOOD)}) as folder:
            assert folder != str(tmp_path / "out")
            open(os.path.join(folder, "model.keras"), "w").close()
        assert not os.path.exists(folder) and not (tmp_path / "out").exists()


class TestCommandLine:
    """``tfgenopt train --workers`` / ``TF_CONFIG`` mistakes: exit 2, one line, no files."""

    def fails(self, tmp_path, capsys, *extra):
        from tfgenopt.cli import main

        argv = ["train", "gan", "--image-size", "8", "--epochs", "1", "-v", "0",
                "--out", str(tmp_path / "out"), "--backup-dir", str(tmp_path / "b"), *extra]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert os.listdir(tmp_path) == []  # no output folder, no backup folder
        return err

    def test_a_global_batch_that_does_not_divide_by_the_workers(self, tmp_path, capsys):
        err = self.fails(tmp_path, capsys, "--workers", "2", "--batch-size", "15")
        assert "--batch-size" in err and "15" in err and "--workers 2" in err

    def test_a_malformed_tf_config(self, tmp_path, capsys, monkeypatch):
        monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["nohost"]}}')
        assert "'host:port'" in self.fails(tmp_path, capsys)

    def test_workers_that_do_not_match_tf_config(self, tmp_path, capsys, monkeypatch):
        monkeypatch.setenv("TF_CONFIG", json.dumps(GOOD))
        assert "--workers" in self.fails(tmp_path, capsys, "--workers", "3")

    def test_a_port_in_use(self, tmp_path, capsys, monkeypatch):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            monkeypatch.setenv("TF_CONFIG", json.dumps(
                {"cluster": {"worker": [f"127.0.0.1:{port}", "127.0.0.1:1"]},
                 "task": {"type": "worker", "index": 0}}))
            assert "already in use" in self.fails(tmp_path, capsys)
