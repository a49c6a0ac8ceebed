"""tfgenopt.cli: --help everywhere, one-line errors with exit code 2, real subcommands."""

import json

import pytest

from tfgenopt.cli import main

SUBCOMMANDS = ["demo", "train", "compare", "lr-find", "landscape", "tune", "report"]


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

    @pytest.mark.parametrize("sub", [["train", "gan"], ["lr-find", "autoencoder"], ["demo"]])
    def test_out_pointing_at_a_file_is_a_usage_error_naming_out(self, sub, tmp_path, capsys):
        target = tmp_path / "notes.txt"
        target.write_text("keep me")
        assert main([*sub, "--out", str(target)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Errno" not in err
        assert "argument --out" in err and f"{str(target)!r} is a file" in err
        assert target.read_text() == "keep me"

    def test_out_below_a_file_names_the_file_in_the_way(self, tmp_path, capsys):
        (tmp_path / "notes.txt").write_text("")
        assert main(["train", "gan", "--out", str(tmp_path / "notes.txt" / "run")]) == 2
        err = capsys.readouterr().err
        assert f"lies under {str(tmp_path / 'notes.txt')!r}, which is a file" in err

    def test_train_called_from_python_raises_value_error_naming_out(self, tmp_path):
        from tfgenopt.cli.train import train

        target = tmp_path / "notes.txt"
        target.write_text("")
        with pytest.raises(ValueError, match="`--out` must be a folder.*which is a file"):
            train("gan", image_size=8, epochs=1, out=str(target), verbose=0)

    # `python -m tfgenopt --version`: tests/test_import_side_effects.py
    # ::test_python_dash_m_tfgenopt_runs_the_command (in its one fresh process).


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
        report = (out / "report.html").read_text()  # the same headline as the demo's report
        assert result["report"] == str(out / "report.html") and "2 of 2 epochs" in report

    @pytest.mark.slow  # the GAN case runs in make test
    def test_landscape_probes_a_saved_autoencoder(self, tmp_path, capsys):
        import keras

        import tfgenopt as tg

        ae = tg.builders.dense_autoencoder(64, hidden=(16, 8))
        ae.compile("adam", "binary_crossentropy")
        x, _ = tg.data.load_digits(flatten=True)
        ae.fit(x[:64], x[:64], epochs=1, verbose=0)  # a trained model: its optimizer is built
        path = tmp_path / "ae.keras"
        ae.save(path)
        code = main(["landscape", str(path), "--image-size", "8", "--kind", "1d", "2d", "hessian",
                     "--grid", "5", "--probe-size", "64", "--out", str(tmp_path / "ls"),
                     "-v", "0"])
        assert code == 0
        text = capsys.readouterr().out
        result = json.loads(text[text.index("{"):])
        expected = keras.saving.load_model(path).evaluate(x[:64], x[:64], verbose=0)
        assert result["slice_loss_at_0"] == pytest.approx(expected, rel=1e-4)
        assert result["surface_min"] <= result["slice_loss_at_0"] + 1e-6
        assert result["hessian_top"] > 0
        assert (tmp_path / "ls" / "surface.png").exists()

    def test_landscape_probes_each_player_of_a_saved_gan(self, tmp_path, capsys):
        import tfgenopt as tg

        gan = tg.models.GAN(tg.builders.dense_generator(8, hidden=(16,), output_dim=64),
                            tg.builders.dense_discriminator(64, hidden=(16,)), latent_dim=8,
                            seed=0)
        gan.compile()
        x, _ = tg.data.load_digits(flatten=True)
        gan.fit(x[:128], epochs=1, batch_size=32, verbose=0)
        gan.save(tmp_path / "gan.keras")
        code = main(["landscape", str(tmp_path / "gan.keras"), "--image-size", "8", "--kind",
                     "hessian", "--probe-size", "64", "--out", str(tmp_path / "ls"), "-v", "0"])
        assert code == 0
        text = capsys.readouterr().out
        result = json.loads(text[text.index("{"):])
        assert {"discriminator_hessian_top", "generator_hessian_top"} <= set(result)

    def test_lr_find_command_suggests_a_rate_and_saves_the_figure(self, tmp_path, capsys):
        code = main(["lr-find", "autoencoder", "--image-size", "8", "--steps", "30",
                     "--out", str(tmp_path), "-v", "0"])
        assert code == 0
        text = capsys.readouterr().out
        result = json.loads(text[text.index("{"):])
        assert 1e-6 <= result["suggested_lr"] <= 1.0
        assert (tmp_path / "lr_find.png").exists()

    def test_missing_model_file_is_a_one_line_error(self, tmp_path, capsys):
        assert main(["landscape", str(tmp_path / "none.keras")]) == 2
        assert "does not exist" in capsys.readouterr().err
