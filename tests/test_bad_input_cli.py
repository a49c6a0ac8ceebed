"""Bad-input sweep of the ``tfgenopt`` command: exit code 2, one line on stderr, no traceback.

Each case runs :func:`tfgenopt.cli.main` in-process (no TensorFlow start-up per case) and
checks that the one error line names the argument or path at fault, and that the failed run
left nothing a rerun would trust (no model, history, summary, report or results file).

Unwritable output folders: the tests run as root in CI containers, where ``chmod`` does not
stop a write, so the "unwritable" ``--out`` is a path *below a regular file*
(``<file>/sub``): creating it fails with ``NotADirectoryError`` for any user.
"""

import os
import zipfile

import pytest

from tfgenopt.cli import main

TRUSTED = ("model.keras", "history.json", "summary.json", "report.html", "results.json",
           "trials.csv", "oracle.json", "lr_find.png", "curves.png")

TOML_OK = """
seed = 1
[model]
kind = "autoencoder"
[data]
image_size = 8
limit = 32
[search]
max_trials = 1
[space]
epochs = 1
"""


@pytest.fixture(autouse=True)
def _seed_everything():
    """Overrides the suite's per-test ``clear_session``: no case here trains a model."""
    yield


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The inputs of the sweep: a real saved model, corrupt files, configs, a plain file."""
    import tfgenopt as tg

    root = tmp_path_factory.mktemp("bad_cli")
    ae = tg.builders.dense_autoencoder(64, hidden=(4,), seed=0)
    ae.compile("adam", "mse")
    ae.save(root / "ok.keras")
    (root / "garbage.keras").write_bytes(os.urandom(256))
    (root / "empty.keras").write_bytes(b"")
    with zipfile.ZipFile(root / "notkeras.keras", "w") as zf:
        zf.writestr("readme.txt", "not a model")
    (root / "plain_file").write_text("a file, not a folder")
    (root / "corrupt.toml").write_text("[model\nkind = ")
    (root / "ok.toml").write_text(TOML_OK)
    configs = {
        "unknown_table": TOML_OK + "[extras]\nx = 1\n",
        "kind": TOML_OK.replace('"autoencoder"', '"rnn"'),
        "tuner": TOML_OK.replace("max_trials = 1", 'max_trials = 1\ntuner = "annealing"'),
        "image_size": TOML_OK.replace("image_size = 8", "image_size = 12"),
        "space": TOML_OK + "warp_factor = 9\n",
        "max_trials": TOML_OK.replace("max_trials = 1", "max_trials = 0"),
        "type": TOML_OK.replace("max_trials = 1", 'max_trials = "one"'),
        "no_model": "seed = 1\n",
    }
    for name, text in configs.items():
        (root / f"{name}.toml").write_text(text)
    run_dirs = {"corrupt": "{not json", "list": "[1, 2]"}
    for name, text in run_dirs.items():
        (root / f"run_{name}").mkdir()
        (root / f"run_{name}" / "summary.json").write_text(text)
    (root / "keras_home").mkdir()  # an empty Keras cache: mnist is "not downloaded"
    return root


def R(argv, fragment):
    """A case: ``argv`` with ``{root}`` / ``{out}`` placeholders, and the fragment it must name."""
    return (argv, fragment)


CASES = {
    # argparse: option values
    "train_unknown_kind": R(["train", "rnn"], "invalid choice"),
    "train_image_size": R(["train", "gan", "--image-size", "12"], "--image-size"),
    "train_epochs_zero": R(["train", "gan", "--epochs", "0"], "--epochs"),
    "train_epochs_text": R(["train", "gan", "--epochs", "ten"], "--epochs"),
    "train_lr_negative": R(["train", "gan", "--lr", "-1"], "--lr"),
    "train_unknown_option": R(["train", "gan", "--warp", "9"], "--warp"),
    "train_dataset": R(["train", "gan", "--dataset", "cifar10"], "--dataset"),
    "lr_find_steps": R(["lr-find", "autoencoder", "--steps", "-5"], "--steps"),
    "landscape_kind": R(["landscape", "{root}/ok.keras", "--kind", "4d"], "--kind"),
    "landscape_grid": R(["landscape", "{root}/ok.keras", "--grid", "0"], "--grid"),
    "demo_verbose": R(["demo", "--verbose", "5"], "--verbose"),
    # values only the command can check
    "train_optimizer": R(["train", "gan", "--image-size", "8", "--optimizer", "nope",
                          "--out", "{out}"], "`optimizer`"),
    "train_loss": R(["train", "gan", "--image-size", "8", "--loss", "nope", "--out", "{out}"],
                    "loss"),
    "train_ema": R(["train", "gan", "--image-size", "8", "--ema", "1.5", "--out", "{out}"],
                   "ema"),
    "train_mnist_not_cached": R(["train", "vae", "--dataset", "mnist", "--out", "{out}"],
                                "keras_home"),
    "lr_find_range": R(["lr-find", "autoencoder", "--image-size", "8", "--min-lr", "1",
                        "--max-lr", "0.1", "--out", "{out}"], "max_lr"),
    # unwritable output folders (a path below a regular file)
    "train_out_unwritable": R(["train", "gan", "--image-size", "8", "--out",
                               "{root}/plain_file/sub"], "plain_file/sub"),
    "train_backup_unwritable": R(["train", "gan", "--image-size", "8", "--out", "{out}",
                                  "--backup-dir", "{root}/plain_file/bk"], "plain_file/bk"),
    "lr_find_out_unwritable": R(["lr-find", "autoencoder", "--image-size", "8", "--out",
                                 "{root}/plain_file/sub"], "plain_file/sub"),
    "landscape_out_unwritable": R(["landscape", "{root}/ok.keras", "--image-size", "8",
                                   "--out", "{root}/plain_file/sub"], "plain_file/sub"),
    "tune_out_unwritable": R(["tune", "{root}/ok.toml", "--quiet", "--out",
                              "{root}/plain_file/sub"], "plain_file/sub"),
    "demo_out_unwritable": R(["demo", "--quick", "-v", "0", "--out", "{root}/plain_file/sub"],
                             "plain_file/sub"),
    "lr_find_optimizer": R(["lr-find", "autoencoder", "--image-size", "8", "--optimizer",
                            "nope", "--out", "{out}"], "`optimizer`"),
    # missing and corrupt files
    "landscape_model_is_a_folder": R(["landscape", "{root}/keras_home", "--out", "{out}"],
                                     "keras_home"),
    "landscape_missing_model": R(["landscape", "{root}/nope.keras", "--out", "{out}"],
                                 "nope.keras"),
    "landscape_garbage_model": R(["landscape", "{root}/garbage.keras", "--out", "{out}"],
                                 "garbage.keras"),
    "landscape_empty_model": R(["landscape", "{root}/empty.keras", "--out", "{out}"],
                               "empty.keras"),
    "landscape_zip_not_a_model": R(["landscape", "{root}/notkeras.keras", "--out", "{out}"],
                                   "notkeras.keras"),
    "report_missing_summary": R(["report", "{out}"], "summary.json"),
    "report_corrupt_summary": R(["report", "{root}/run_corrupt"], "summary.json"),
    "report_summary_not_a_table": R(["report", "{root}/run_list"], "summary.json"),
    "report_on_a_file": R(["report", "{root}/plain_file"], "plain_file"),
    "tune_missing_config": R(["tune", "{root}/nope.toml"], "nope.toml"),
    "tune_corrupt_toml": R(["tune", "{root}/corrupt.toml"], "corrupt.toml"),
    "tune_config_is_a_folder": R(["tune", "{root}/keras_home"], "keras_home"),
    "tune_unknown_table": R(["tune", "{root}/unknown_table.toml"], "extras"),
    "tune_unknown_kind": R(["tune", "{root}/kind.toml"], "model.kind"),
    "tune_unknown_tuner": R(["tune", "{root}/tuner.toml"], "search.tuner"),
    "tune_image_size": R(["tune", "{root}/image_size.toml"], "data.image_size"),
    "tune_unknown_hyperparameter": R(["tune", "{root}/space.toml"], "warp_factor"),
    "tune_max_trials_zero": R(["tune", "{root}/max_trials.toml"], "search.max_trials"),
    "tune_wrong_type": R(["tune", "{root}/type.toml"], "search.max_trials"),
    "tune_no_model": R(["tune", "{root}/no_model.toml"], "model.kind"),
}


def trusted_files(folder):
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs if f in TRUSTED)


@pytest.mark.parametrize("argv, fragment", CASES.values(), ids=CASES.keys())
def test_cli_mistake_exits_2_with_one_line_and_leaves_nothing_trusted(
        argv, fragment, files, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(files / "keras_home"))
    out = tmp_path / "out"
    argv = [a.format(root=files, out=out) for a in argv]
    before = trusted_files(files)
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert fragment.lower() in err.lower(), err
    assert trusted_files(tmp_path) == []
    assert trusted_files(files) == before


def test_the_cli_sweep_has_distinct_cases():
    assert len(CASES) >= 35 and len({tuple(a) for a, _ in CASES.values()}) == len(CASES)


def test_a_failed_tune_run_leaves_no_results(files, tmp_path, capsys):
    """A config mistake found before any trial: no project folder at all."""
    out = tmp_path / "tune"
    assert main(["tune", str(files / "space.toml"), "--out", str(out)]) == 2
    assert not out.exists()
    assert "warp_factor" in capsys.readouterr().err


def test_the_readme_reports_the_sweep_size():
    from tests.test_bad_input import C

    with open(os.path.join(os.path.dirname(__file__), "..", "docs", "reliability.md")) as fh:
        readme = " ".join(fh.read().split())
    total = len(C) + len(CASES)
    assert (f"{total} bad-input cases tried, {total} passed ({len(C)} through the Python API, "
            f"{len(CASES)} through the command line)") in readme


# Every subcommand that takes --out, with its other required arguments (none of it runs: the
# file in the way is refused first).
OUT_COMMANDS = {
    "demo": ["demo"],
    "train": ["train", "gan"],
    "compare": ["compare", "--budget", "1"],
    "lr-find": ["lr-find", "autoencoder"],
    "landscape": ["landscape", "model.keras"],
    "tune": ["tune", "config.toml"],
}


def test_every_command_with_out_is_in_the_out_sweep():
    from tfgenopt.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    with_out = {name for name, p in sub.choices.items()
                if any("--out" in a.option_strings for a in p._actions)}
    assert with_out == set(OUT_COMMANDS)


@pytest.mark.parametrize("argv", [*OUT_COMMANDS.values(), ["train", "diffusion"],
                                  ["train", "gan", "--images", "x"], ["demo", "--images", "x"]],
                         ids=lambda argv: " ".join(argv))
def test_out_pointing_at_a_file_exits_2_naming_out_and_the_file(argv, tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    assert main([*argv, "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Errno" not in err, err
    assert err.startswith(f"tfgenopt {argv[0]}: error: argument --out: {str(target)!r} is a file")
    assert "--out names a folder" in err
    assert target.read_text() == "keep me" and sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_tune_output_directory_of_the_config_pointing_at_a_file_exits_2_naming_it(
        tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    config = tmp_path / "c.toml"
    config.write_text(TOML_OK + f"[output]\ndirectory = {str(target)!r}\n")
    assert main(["tune", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Errno" not in err, err
    assert "`[output] directory` must be a folder" in err and "which is a file" in err
    assert target.read_text() == "keep me"
