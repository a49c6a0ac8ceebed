"""tfgenopt.cli: --help everywhere, one-line errors with exit code 2, real subcommands."""

import json
import subprocess
import sys

import pytest

from tfgenopt.cli import main

SUBCOMMANDS = ["demo", "train", "lr-find", "landscape", "tune", "report"]


class TestHelpAndErrors:
    @pytest.mark.parametrize("sub", SUBCOMMANDS)
    def test_every_subcommand_has_help(self, sub, capsys):
        with pytest.raises(SystemExit) as exc:
            main([sub, "--help"])
        assert exc.value.code == 0
        assert "usage: tfgenopt " + sub in capsys.readouterr().out

    @pytest.mark.parametrize("argv, fragment", [
        ([], "required"),
        (["fly"], "invalid choice"),
        (["train", "gan", "--epochs", "0"], "positive integer"),
        (["train", "rnn"], "invalid choice"),
        (["lr-find", "autoencoder", "--min-lr", "-1"], "positive number"),
        (["landscape", "model.keras", "--kind", "4d"], "invalid choice"),
    ])
    def test_bad_arguments_exit_2_with_one_line(self, argv, fragment, capsys):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert fragment in err and len(err.splitlines()) == 1

    def test_user_mistake_inside_a_command_is_one_line_not_a_traceback(self, tmp_path, capsys):
        assert main(["report", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "summary.json" in err and "Traceback" not in err

    def test_console_entry_point_runs_as_module(self):
        out = subprocess.run([sys.executable, "-m", "tfgenopt", "--version"],
                             capture_output=True, text=True, check=True)
        assert out.stdout.startswith("tfgenopt ")


class TestCommands:
    def test_train_autoencoder_saves_model_history_and_figures(self, tmp_path, capsys):
        out = tmp_path / "ae"
        code = main(["train", "autoencoder", "--image-size", "8", "--epochs", "2",
                     "--out", str(out), "-v", "0"])
        assert code == 0
        out_text = capsys.readouterr().out
        result = json.loads(out_text[out_text.index("{"):])
        assert (out / "model.keras").exists() and (out / "history.json").exists()
        assert (out / "curves.png").exists()
        assert result["val_loss"] < result["initial_val_loss"]
