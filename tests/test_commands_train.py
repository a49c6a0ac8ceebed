"""`tfgenopt train gan` (tfgenopt/cli/train.py) trains what the library recommends."""

import json

import keras
import numpy as np
import pytest

import tfgenopt as tg
import tfgenopt.models  # noqa: F401  (registers GAN for load_model)
from tfgenopt.cli.train import train
from tfgenopt.evaluation import FeatureExtractor
from tfgenopt.recommended import make_model


def config(recipe):
    """A ``GANRecipe``'s public config without the optimizers' instance names (adam_1...)."""
    out = recipe.to_config()
    for key in ("d_optimizer", "g_optimizer"):
        out[key]["config"].pop("name")
    return out


def recipe(**overrides):
    """What ``GAN.compile(**overrides)`` trains: ``GANRecipe(**overrides)``'s config."""
    return config(tg.models.GANRecipe(**overrides))


@pytest.fixture(scope="module")
def extractor():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((64,))
    h = keras.layers.Dense(8, activation="relu", name="features")(inputs)
    return FeatureExtractor(keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h)))


def test_a_short_gan_run_uses_the_default_recipe_and_stops_on_val_kid(tmp_path, extractor):
    out = tmp_path / "gan"
    result = train(kind="gan", image_size=8, epochs=2, batch_size=128, latent_dim=8,
                            out=str(out), verbose=0, extractor=extractor)
    model = keras.saving.load_model(out / "model.keras")
    assert config(model.recipe) == recipe()
    assert model.ema == tg.models.GAN(model.generator, model.discriminator, 8).ema  # EMA on
    assert result["monitor"] == "val_kid"
    history = json.loads((out / "history.json").read_text())
    assert len(history["val_kid"]) == 2 and np.all(np.isfinite(history["val_kid"]))
    for name in ("samples.png", "quality.png", "curves.png"):
        assert (out / name).stat().st_size > 0, name
    assert sorted(p.name for p in (out / "samples").iterdir())[-1] == "samples_epoch0002.png"
    report = (out / "report.html").read_text()  # the demo's headline: KID first -> best
    assert "id='headline'" in report and "KID" in report and "2 of 2 epochs" in report
    json.dumps(result)  # printable


def test_only_the_flags_given_override_the_recipe():
    model = make_model("gan", 64, loss="hinge", latent_dim=8)
    assert config(model.recipe) == recipe(loss="hinge")
    model = make_model("gan", 64, lr=3e-4, ema=0.0, latent_dim=8)
    assert float(model.d_optimizer.learning_rate) == float(model.g_optimizer.learning_rate) \
        == pytest.approx(3e-4)
    assert model.ema is None and config(model.recipe)["r1"] == recipe()["r1"]


def test_command_functions_take_keyword_arguments():
    with pytest.raises(ValueError, match="`optimizer`.*'nope'"):
        make_model("gan", 64, optimizer="nope")
