"""Kill and resume: `tfgenopt train` and `tfgenopt tune` killed with SIGKILL resume exactly.

Each test runs the command once killed and rerun, and once uninterrupted. Only the killed run is
a subprocess (SIGKILL needs a process of its own); the rerun and the uninterrupted run call
``tfgenopt.cli.main`` in the test's process, which already has TensorFlow loaded (a subprocess
costs a TensorFlow start-up each). The rerun still starts from nothing but the killed run's
files. The kill waits for a marker the run writes (the backup pointer after an epoch, the
oracle's record of a started trial), so it lands mid-run rather than after a guessed sleep; the
test then checks that the kill really interrupted the run before comparing the results.
"""

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg", "CUDA_VISIBLE_DEVICES": ""}
CLI = [sys.executable, "-m", "tfgenopt"]
TIMEOUT = 420  # seconds; generous: a loaded 2-core machine starts TensorFlow slowly


def run_here(argv, capsys):
    """Run the CLI to completion in this process (no TensorFlow start-up); return its stdout."""
    from tfgenopt.cli import main

    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, f"{argv} exited with {code}:\n{out.err[-3000:]}"
    return out.out


def kill_when(argv, cwd, ready):
    """Start the CLI, SIGKILL it as soon as ``ready()`` is true; return the exit status."""
    proc = subprocess.Popen(CLI + argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT
    try:
        while not ready():
            assert proc.poll() is None, (f"{argv} ended with {proc.returncode} before the "
                                         f"marker:\n{proc.stderr.read()[-3000:]}")
            assert time.monotonic() < deadline, "no marker within the time limit"
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def read_json(path):
    """The parsed file, or None while it is missing or incomplete."""
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def no_temp_files(root):
    """The temporary files of an atomic write left under ``root`` (none once a run ends)."""
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files
            if f.startswith(".tmp-")]


def result_of(stdout):
    return json.loads(stdout[stdout.index("{"):])


@pytest.mark.slow  # two TensorFlow processes (~25 s): make bench; make test resumes in process
class TestTrainResumes:  # (tests/models/test_gan_saving.py::TestCheckpoints)
    EPOCHS = 3

    @pytest.fixture(scope="class", autouse=True)
    def _warm_quality_classifier(self):
        """`train gan` measures KID with the digits classifier: train it once, in this process
        and this session's cache, instead of in each concurrent subprocess."""
        import tfgenopt as tg

        tg.evaluation.domain_classifier()
        ENV["TFGENOPT_CACHE"] = os.environ["TFGENOPT_CACHE"]
        yield
        ENV.pop("TFGENOPT_CACHE", None)

    def argv(self, tmp_path, name):
        return ["train", "gan", "--image-size", "8", "--epochs", str(self.EPOCHS),
                "--batch-size", "16", "--latent-dim", "4", "--patience", "50", "-v", "0",
                "--out", str(tmp_path / name), "--backup-dir", str(tmp_path / f"{name}-backup")]

    def test_killed_mid_epoch_resumes_with_the_same_optimizer_step_counts(self, tmp_path,
                                                                           capsys):
        import keras

        import tfgenopt as tg
        import tfgenopt.models  # noqa: F401  (registers GAN for load_model)

        x_train, _ = tg.data.load_digits(image_size=8, flatten=True)  # the command's split
        per_epoch = math.ceil(len(x_train) / 16)
        steps = {"d": self.EPOCHS * per_epoch, "g": self.EPOCHS * per_epoch}

        backup = tmp_path / "killed-backup"
        pointer = backup / "current.json"
        status = kill_when(self.argv(tmp_path, "killed"), tmp_path,
                           lambda: read_json(pointer) is not None)
        assert status == -signal.SIGKILL
        assert not (tmp_path / "killed" / "model.keras").exists()  # it was killed mid-run
        state = backup / read_json(pointer)["state"]
        saved_epoch = read_json(state / "training_metadata.json")["epoch"]
        assert 1 <= saved_epoch < self.EPOCHS
        with h5py.File(state / "latest.weights.h5", "r") as fh:  # a complete weights file
            assert len(fh.keys()) > 0

        resumed = result_of(run_here(self.argv(tmp_path, "killed"), capsys))
        assert resumed["first_epoch"] == saved_epoch + 1  # resumed, not restarted
        assert resumed["epochs_run"] == self.EPOCHS - saved_epoch
        assert resumed["optimizer_steps"] == steps  # those of an uninterrupted run
        assert not backup.exists()  # a finished run removes its backup
        model = keras.saving.load_model(tmp_path / "killed" / "model.keras")
        assert int(model.d_optimizer.iterations) == steps["d"]
        assert int(model.g_optimizer.iterations) == steps["g"]
        # history.json is the whole run's, not only the resumed epochs
        assert resumed["history_epochs"] == self.EPOCHS
        assert len(read_json(tmp_path / "killed" / "history.json")["d_loss"]) == self.EPOCHS
        assert no_temp_files(tmp_path) == []

    def test_a_backup_of_different_arguments_is_refused_before_any_work(self, tmp_path, capsys):
        from tfgenopt.cli import main

        argv = self.argv(tmp_path, "x")
        backup = tmp_path / "x-backup"
        backup.mkdir()
        (backup / "run.json").write_text(json.dumps({"epochs": 99}))
        (backup / "current.json").write_text(json.dumps({"state": "epoch-00001"}))
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert "backup_dir" in err and "different run" in err and "'epochs'" in err
        assert not (tmp_path / "x").exists()  # refused before the output folder was made

    def test_a_run_that_failed_before_its_first_backup_can_be_fixed_and_rerun(self, tmp_path):
        from tfgenopt.callbacks._backup import check_backup_run

        backup = tmp_path / "b"
        check_backup_run(backup, {"optimizer": "nope"})  # the run then failed: no backup
        check_backup_run(backup, {"optimizer": "adam"})  # the fixed rerun is not refused
        assert read_json(backup / "run.json") == {"optimizer": "adam"}


# seed = 1, not 0: Keras Tuner's oracle takes `seed or random.randint(...)`, so seed 0 would
# give the two runs different random hyperparameters.
TUNE_CONFIG = """
seed = 1
[model]
kind = "autoencoder"
[data]
dataset = "digits"
image_size = 8
limit = 128
[search]
tuner = "random"
max_trials = {trials}
objective = "val_loss"
early_stopping = false
[space]
epochs = 4
batch_size = 32
learning_rate = {{ min = 1e-4, max = 1e-2, sampling = "log" }}
units = [8, 16]
depth = 1
latent_dim = 4
[output]
directory = "{directory}"
project_name = "ae"
figures = false
"""


@pytest.mark.slow  # a killed search process and two searches (tests/tuning/test_search.py
class TestTuneResumes:  # ::TestResume resumes an interrupted search in make test)
    TRIALS = 3

    def config(self, tmp_path, name):
        path = tmp_path / f"{name}.toml"
        path.write_text(TUNE_CONFIG.format(trials=self.TRIALS, directory=tmp_path / name))
        return ["tune", str(path), "--resume", "--quiet"]

    @staticmethod
    def trials(project):
        """``{trial_id: (status, hyperparameter values, executions in history.json)}``."""
        out = {}
        for name in sorted(os.listdir(project)):
            if name.startswith("trial_"):
                trial = read_json(project / name / "trial.json")
                history = read_json(project / name / "history.json") or {"executions": []}
                out[trial["trial_id"]] = (trial["status"], trial["hyperparameters"]["values"],
                                          len(history["executions"]))
        return out

    def test_killed_mid_trial_resumes_without_losing_or_repeating_a_trial(self, tmp_path,
                                                                          capsys):
        project = tmp_path / "killed" / "ae"

        def second_trial_running():  # the oracle has recorded trial 1 as started
            if not (project / "trial_1").exists():  # a cheap test first: polled every 1 ms
                return False
            oracle = read_json(project / "oracle.json")
            return oracle is not None and "1" in oracle["ongoing_trials"].values()

        status = kill_when(self.config(tmp_path, "killed"), tmp_path, second_trial_running)
        assert status == -signal.SIGKILL
        at_kill = self.trials(project)
        running = [t for t, (status_, _, _) in at_kill.items() if status_ == "RUNNING"]
        completed = [t for t, (status_, _, _) in at_kill.items() if status_ == "COMPLETED"]
        assert "0" in completed and len(completed) < self.TRIALS  # the search was cut short
        # Killed mid-trial (trial 1, nearly always; the poll may see the marker late enough
        # that trial 1 had just ended, and then no trial is running): never more than one
        # trial in flight, and the one in flight has not finished.
        assert len(running) <= 1 and all(at_kill[t][2] == 0 for t in running)
        assert not (tmp_path / "killed" / "ae" / "results").exists()

        run_here(self.config(tmp_path, "whole"), capsys)
        whole = self.trials(tmp_path / "whole" / "ae")
        assert len(whole) == self.TRIALS
        assert {s for s, _, n in whole.values()} == {"COMPLETED"}
        assert {n for _, _, n in whole.values()} == {1}
        run_here(self.config(tmp_path, "killed"), capsys)
        resumed = self.trials(project)
        assert resumed.keys() == whole.keys()  # none lost, none added
        for trial_id, (status_, values, executions) in resumed.items():
            assert status_ == "COMPLETED" and executions == 1  # each trial ran to the end once
            assert values == whole[trial_id][1]  # the same hyperparameters, in the same order
        assert read_json(project / "oracle.json")["ongoing_trials"] == {}
        results = read_json(project / "results" / "results.json")
        assert sorted(r["trial_id"] for r in results["trials"]) == sorted(whole)
        assert (project / "results" / "trials.csv").read_text().count("\n") == self.TRIALS + 1
        for trial_id in resumed:
            with h5py.File(project / f"trial_{trial_id}" / "checkpoint.weights.h5", "r") as fh:
                assert len(fh.keys()) > 0
        assert no_temp_files(tmp_path) == []



class Crash(Exception):
    """Stands in for SIGKILL inside the process (what a kill leaves behind is the same)."""


class TestAtomicWrites:
    """The writers a resumed run trusts leave the old file or the new one, never half of one."""

    def test_a_writer_that_dies_midway_leaves_the_old_file_and_no_temporary(self, tmp_path):
        from tfgenopt._io import atomic_path, atomic_write_text

        path = atomic_write_text(tmp_path / "summary.json", '{"epoch": 1}')
        with pytest.raises(Crash):
            with atomic_path(path) as tmp:
                with open(tmp, "w") as fh:
                    fh.write('{"epo')  # half of the new content
                raise Crash
        assert read_json(path) == {"epoch": 1}
        assert os.listdir(tmp_path) == ["summary.json"]

    def test_an_object_json_cannot_encode_leaves_the_file_untouched(self, tmp_path):
        from tfgenopt._io import atomic_write_json

        path = atomic_write_json(tmp_path / "r.json", {"a": 1})
        with pytest.raises(TypeError):
            atomic_write_json(path, {"a": object()})
        assert read_json(path) == {"a": 1} and os.listdir(tmp_path) == ["r.json"]

    def test_a_backup_dying_mid_save_resumes_from_the_last_complete_epoch(self, tmp_path):
        import keras

        import tfgenopt as tg
        from tfgenopt.callbacks._backup import AtomicBackupAndRestore

        x = np.random.default_rng(0).random((32, 6)).astype("float32")

        def model():
            ae = tg.builders.dense_autoencoder(6, hidden=(3,), seed=0)
            ae.compile(keras.optimizers.SGD(0.1), "mse")
            return ae

        class DieInSecondSave(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:  # runs before the backup's own on_epoch_end: break its writer
                    def half_written(path, **kwargs):
                        with open(path, "wb") as fh:
                            fh.write(b"\x89HDF")
                        raise Crash
                    self.model.save_weights = half_written

        backup = tmp_path / "backup"
        first = model()
        with pytest.raises(Crash):
            first.fit(x, x, batch_size=8, epochs=4, verbose=0,
                      callbacks=[DieInSecondSave(), AtomicBackupAndRestore(backup)])
        assert read_json(backup / "current.json") == {"state": "epoch-00001"}
        resumed = model()
        history = resumed.fit(x, x, batch_size=8, epochs=4, verbose=0,
                              callbacks=[AtomicBackupAndRestore(backup)])
        assert history.epoch == [1, 2, 3]  # epoch 2 reruns from the epoch-1 backup
        assert int(resumed.optimizer.iterations) == 4 * 4  # as an uninterrupted run
        assert not backup.exists()

    def test_a_resumed_fit_keeps_the_whole_history_and_the_early_stopping_state(self, tmp_path):
        import keras

        import tfgenopt as tg
        from tfgenopt.callbacks._backup import AtomicBackupAndRestore

        x = np.random.default_rng(0).random((32, 6)).astype("float32")

        def fit(folder, *extra):
            ae = tg.builders.dense_autoencoder(6, hidden=(3,), seed=0)
            ae.compile(keras.optimizers.SGD(0.1), "mse")
            es = tg.callbacks.EarlyStopping(monitor="loss", patience=10, smoothing="ema",
                                            restore_best_weights=True)
            backup = AtomicBackupAndRestore(folder, stateful=[es])
            ae.fit(x, x, batch_size=8, epochs=4, verbose=0, shuffle=False,
                   callbacks=[*extra, es, backup])
            return ae, es, backup

        class CrashInThirdEpoch(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == 2:
                    raise Crash

        whole, whole_es, whole_backup = fit(tmp_path / "whole")
        with pytest.raises(Crash):
            fit(tmp_path / "killed", CrashInThirdEpoch())
        resumed, es, backup = fit(tmp_path / "killed")
        assert backup.epochs == whole_backup.epochs == [0, 1, 2, 3]  # the whole run's epochs
        assert backup.history.keys() == whole_backup.history.keys()
        for key, values in whole_backup.history.items():
            np.testing.assert_allclose(backup.history[key], values, rtol=1e-5)
        assert (es.best_epoch, es.wait) == (whole_es.best_epoch, whole_es.wait)
        assert es.best == pytest.approx(whole_es.best, rel=1e-5)  # smoothed: needs its state
        for a, b in zip(resumed.get_weights(), whole.get_weights()):  # best weights restored
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
        assert int(resumed.optimizer.iterations) == int(whole.optimizer.iterations) == 16


def children(pid):
    """The process ids of ``pid``'s children (Linux ``/proc``)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            found += [int(c) for c in fh.read().split()]
    return found


CLUSTER_TIMEOUT = 1500  # wall seconds: a cluster of TensorFlow processes on 2 shared cores


@pytest.mark.timeout(2 * CLUSTER_TIMEOUT)
@pytest.mark.slow  # two clusters of two workers (about 6 TensorFlow processes): ~2 min of CPU
class TestClusterResumes:
    EPOCHS = 3

    def argv(self, tmp_path):
        return ["train", "gan", "--image-size", "8", "--epochs", str(self.EPOCHS),
                "--batch-size", "16", "--latent-dim", "4", "--patience", "50", "-v", "0",
                "--workers", "2", "--out", str(tmp_path / "out"),
                "--backup-dir", str(tmp_path / "backup")]

    def test_a_killed_worker_s_rerun_resumes_the_cluster_from_the_last_backup(self, tmp_path):
        import tfgenopt as tg

        x_train, _ = tg.data.load_digits(image_size=8, flatten=True)
        per_epoch = math.ceil((len(x_train) - len(x_train) % 2) / 16)
        pointer = tmp_path / "backup" / "current.json"
        launcher = subprocess.Popen(CLI + self.argv(tmp_path), cwd=tmp_path, env=ENV,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + CLUSTER_TIMEOUT
        try:
            while read_json(pointer) is None:
                assert launcher.poll() is None, launcher.stderr.read()[-3000:]
                assert time.monotonic() < deadline, "no backup within the time limit"
                time.sleep(0.01)
            workers = children(launcher.pid)
            assert len(workers) == 2
            os.kill(workers[1], signal.SIGKILL)  # worker 1, not the chief
            status = launcher.wait(timeout=60)  # the launcher stops the chief and fails
        finally:
            if launcher.poll() is None:
                launcher.kill()
                launcher.wait()
            launcher.stderr.close()
        assert status != 0
        assert not (tmp_path / "out" / "model.keras").exists()
        saved = read_json(tmp_path / "backup" / read_json(pointer)["state"] /
                          "training_metadata.json")["epoch"]
        assert 1 <= saved < self.EPOCHS

        rerun = subprocess.run(CLI + self.argv(tmp_path), cwd=tmp_path, env=ENV, text=True,
                               capture_output=True, timeout=CLUSTER_TIMEOUT)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        resumed = result_of(rerun.stdout)
        assert resumed["first_epoch"] == saved + 1  # resumed, not restarted
        assert resumed["optimizer_steps"] == {"d": self.EPOCHS * per_epoch,
                                              "g": self.EPOCHS * per_epoch}
        assert resumed["history_epochs"] == self.EPOCHS  # the whole run's history.json
        assert len(read_json(tmp_path / "out" / "history.json")["d_loss"]) == self.EPOCHS
        assert resumed["cluster"]["workers"] == 2 and resumed["cluster"]["is_chief"]
        assert not (tmp_path / "backup").exists()
        assert {"curves.png", "history.json", "model.keras"} <= set(os.listdir(tmp_path / "out"))
        assert no_temp_files(tmp_path) == []


DIFFUSION_RUN = textwrap.dedent("""
    import json, os, signal, sys
    import keras, numpy as np
    import tfgenopt as tg
    from tfgenopt.callbacks._backup import AtomicBackupAndRestore

    folder, kill_at = sys.argv[1], int(sys.argv[2])
    keras.utils.set_random_seed(0)  # the same initial weights in every process
    x_in, level = keras.Input((4,)), keras.Input((1,))
    h = keras.layers.Dense(16, activation="swish")(keras.layers.Concatenate()([x_in, level]))
    model = tg.models.Diffusion(keras.Model([x_in, level], keras.layers.Dense(4)(h)), ema=0.9,
                                seed=0)
    model.compile()
    x = np.random.default_rng(0).uniform(-1, 1, (64, 4)).astype("float32")

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    history = model.fit(x, batch_size=16, epochs=4, verbose=0, shuffle=False,
                        callbacks=[Kill(), AtomicBackupAndRestore(folder)])
    print(json.dumps({"epochs": history.epoch, "iterations": int(model.optimizer.iterations),
                      "ema": [w.tolist() for w in model.ema_network.get_weights()],
                      "sample": model.generate(3, seed=1).tolist()}))
""")


@pytest.mark.slow  # 22 s of subprocesses: make bench
class TestDiffusionResumes:
    def test_a_sigkilled_fit_resumes_where_it_stopped(self, tmp_path, monkeypatch, capsys):
        script = tmp_path / "run.py"
        script.write_text(DIFFUSION_RUN)

        def run(folder, kill_at):
            return subprocess.run([sys.executable, str(script), str(folder), str(kill_at)],
                                  capture_output=True, text=True, env=ENV, timeout=TIMEOUT)

        killed = run(tmp_path / "backup", 2)
        assert killed.returncode == -signal.SIGKILL
        assert read_json(tmp_path / "backup" / "current.json") == {"state": "epoch-00002"}  # 2 done
        resumed = run(tmp_path / "backup", -1)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        out = json.loads(resumed.stdout.strip().splitlines()[-1])
        # The uninterrupted reference runs in this process (no TensorFlow start-up).
        monkeypatch.setattr(sys, "argv", ["run.py", str(tmp_path / "whole"), "-1"])
        capsys.readouterr()
        exec(compile(DIFFUSION_RUN, "run.py", "exec"), {"__name__": "run"})
        ref = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert out["epochs"] == [2, 3] and ref["epochs"] == [0, 1, 2, 3]
        assert out["iterations"] == ref["iterations"] == 16
        # Resumed from the epoch-2 weights, EMA and optimizer state: the last two epochs differ
        # from the uninterrupted run's only by their noise draws (Keras keeps a seed
        # generator's state out of the weights, so a resumed run draws fresh noise).
        for a, b in zip(out["ema"], ref["ema"]):
            np.testing.assert_allclose(a, b, atol=0.02)
        assert np.abs(np.asarray(out["sample"]) - np.asarray(ref["sample"])).max() < 0.1
