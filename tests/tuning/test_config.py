"""Tests of tfgenopt/tuning/config.py and cli/tune.py: the TOML script end to end, bad configs."""

import argparse
import csv
import os
import textwrap

import pytest

from tfgenopt.cli import tune as cli
from tfgenopt.tuning.config import load_config, parse_config

GOOD = """
seed = 0
[model]
kind = "autoencoder"
[data]
dataset = "digits"
image_size = 8
limit = 400
[search]
tuner = "random"
max_trials = 2
pruner = "median"
[space]
epochs = 1
batch_size = 64
units = 32
depth = 1
normalization = "none"
optimizer = ["adam", "rmsprop"]
learning_rate = { min = 1e-3, max = 1e-2, sampling = "log" }
[output]
directory = "{out}"
project_name = "ae"
figures = true
"""


def _write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).replace("{out}", str(tmp_path / "runs")))
    return str(path)


def _args(*argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


class TestScript:
    def test_runs_end_to_end_and_writes_results(self, tmp_path, capsys):
        code = cli.run(_args(_write(tmp_path, GOOD), "--quiet"))
        assert code == 0
        out = tmp_path / "runs" / "ae" / "results"
        with open(out / "trials.csv") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 2 and {r["status"] for r in rows} == {"COMPLETED"}
        assert {r["optimizer"] for r in rows} <= {"adam", "rmsprop"}
        for name in ("results.json", "objective_vs_trial.png", "learning_curves.png",
                     "parallel_coordinates.png", "hyperparameter_importance.png"):
            assert (out / name).stat().st_size > 0

    @pytest.mark.slow  # ~5 s; tests/tuning/test_search.py::TestResume resumes in make test
    def test_resume_continues_with_a_larger_budget(self, tmp_path):
        path = _write(tmp_path, GOOD)
        assert cli.run(_args(path, "--quiet")) == 0
        bigger = _write(tmp_path, GOOD.replace("max_trials = 2", "max_trials = 3"), "c3.toml")
        assert cli.run(_args(bigger, "--quiet", "--resume")) == 0
        with open(tmp_path / "runs" / "ae" / "results" / "trials.csv") as fh:
            rows = list(csv.DictReader(fh))
        assert [r["trial_id"] for r in rows] == ["0", "1", "2"]


class TestBadConfigs:
    @pytest.mark.parametrize("old,new,match", [
        ("max_trials = 2", "max_trails = 2", "`search.max_trails` is not a known key"),
        ('tuner = "random"', 'tuner = "evolution"', "`search.tuner` must be one of"),
        ("min = 1e-3, max = 1e-2", "min = 1e-2, max = 1e-3",
         "`learning_rate` is an impossible range"),
        ("units = 32", "widths = 32", r"Unknown search-space key\(s\) \['widths'\]"),
        ('kind = "autoencoder"', 'kind = "diffusion"', "`model.kind` must be one of"),
        ("image_size = 8", "image_size = 9", "`data.image_size` must be one of"),
        ("max_trials = 2", "max_trials = 0", "`search.max_trials` must be >= 1"),
        ("seed = 0", "seed = 0\nepochs = 3", "`epochs` is not a known table or key"),
        ("limit = 400", 'limit = "all"', "`data.limit` must be Integral"),
        ('pruner = "median"', 'pruner = "hyper"', r"`search.pruner` must be one of \['median'\]"),
        ('dataset = "digits"', 'dataset = "mnist"', r"`data.image_size` must be one of \[28, 32\]"),
    ])
    def test_fails_before_training_naming_the_key(self, tmp_path, capsys, old, new, match):
        assert old in GOOD
        path = _write(tmp_path, GOOD.replace(old, new))
        with pytest.raises(ValueError, match=match):
            load_config(path)
        assert cli.run(_args(path, "--quiet")) == 2
        assert "tfgenopt tune: error:" in capsys.readouterr().err
        assert not os.path.exists(tmp_path / "runs")  # nothing trained, nothing written

    def test_missing_file_exits_2(self, tmp_path, capsys):
        assert cli.run(_args(str(tmp_path / "nope.toml"))) == 2
        assert "does not exist" in capsys.readouterr().err

    def test_invalid_toml_names_the_file(self, tmp_path):
        path = _write(tmp_path, "[model\nkind=1")
        with pytest.raises(ValueError, match="c.toml: not valid TOML"):
            load_config(path)

    def test_defaults_are_filled_in(self):
        cfg = parse_config({"model": {"kind": "autoencoder"}})
        assert cfg.search["tuner"] == "random" and cfg.data["image_size"] == 8
        assert cfg.data["flatten"] is True and cfg.output["figures"] is True


class TestExamples:
    @pytest.mark.parametrize("name", ["tune_autoencoder.toml"])
    def test_example_configs_are_valid(self, name):
        root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
        cfg = load_config(os.path.join(root, "examples", name))
        assert cfg.model["kind"] in ("autoencoder", "vae", "gan")


class TestArguments:
    def test_chief_and_worker_are_exclusive(self):
        with pytest.raises(SystemExit):
            _args("c.toml", "--chief", "--worker", "0")

    def test_worker_needs_a_port(self, tmp_path, monkeypatch, capsys):
        monkeypatch.delenv("KERASTUNER_ORACLE_PORT", raising=False)
        assert cli.run(_args(_write(tmp_path, GOOD), "--worker", "0")) == 2
        assert "`--port` is required" in capsys.readouterr().err
