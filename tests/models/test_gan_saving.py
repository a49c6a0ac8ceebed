"""GAN saving: config and `.keras` round-trips with both optimizers, EMA, checkpoints, resume."""

import os

import keras
import numpy as np
import pytest

from tests.helpers import check_config_roundtrip, check_keras_roundtrip, tiny_gan
from tfgenopt.models.recipe import G_LEARNING_RATE

LATENT, DIM = 4, 12


def make_gan(ema=0.9, num_classes=None, **compile_kwargs):
    gan = tiny_gan(latent_dim=LATENT, dim=DIM, ema=ema, num_classes=num_classes, compile=False)
    gan.compile(**{"d_optimizer": keras.optimizers.Adam(2e-4, beta_1=0.5),
                   "g_optimizer": "rmsprop", **compile_kwargs})
    return gan


@pytest.fixture
def x(rng):
    return rng.random((32, DIM)).astype("float32")


def generate(seed=5, **kwargs):
    return lambda model, _: model.generate(6, seed=seed, **kwargs)


@pytest.fixture(scope="module")
def checkpointed(tmp_path_factory):
    """``(gan, path)``: ``make_gan()`` after two epochs on the ``x`` of these tests with a
    ``ModelCheckpoint`` writing ``path``. Read only: each test saves and reloads the GAN on its
    own (one trains the reloaded copy further)."""
    path = os.fspath(tmp_path_factory.mktemp("checkpoint") / "ckpt.keras")
    keras.utils.set_random_seed(0)
    gan = make_gan()
    gan.fit(np.random.default_rng(0).random((32, DIM)).astype("float32"), batch_size=8,
            epochs=2, verbose=0,
            callbacks=[keras.callbacks.ModelCheckpoint(path, monitor="g_loss", mode="min")])
    return gan, path


class TestConfig:
    def test_config_round_trip(self):
        clone = check_config_roundtrip(make_gan())
        assert clone.latent_dim == LATENT and clone.ema == 0.9

    def test_compile_config_names_the_recipe(self):
        config = make_gan(loss="hinge", r1=2.0, r1_every=4, d_steps=2).get_compile_config()
        assert config["loss"] == "hinge" and config["r1_every"] == 4 and config["d_steps"] == 2
        assert config["d_optimizer"]["class_name"] == "Adam"


class TestKerasRoundTrip:
    def test_reload_gives_identical_generate_output_and_no_warning(self, checkpointed, tmp_path):
        gan, _ = checkpointed
        loaded = check_keras_roundtrip(gan, None, tmp_path, call=generate())
        np.testing.assert_array_equal(loaded.generate(6, seed=5, use_ema=False),
                                      gan.generate(6, seed=5, use_ema=False))

    def test_both_optimizers_keep_iterations_and_slots(self, x, tmp_path):
        gan = make_gan(gradient_penalty=1.0, d_steps=2)
        gan.fit(x, batch_size=8, verbose=0)
        loaded = check_keras_roundtrip(gan, None, tmp_path, call=generate())
        assert int(loaded.d_optimizer.iterations) == 8
        assert int(loaded.g_optimizer.iterations) == 4
        assert isinstance(loaded.g_optimizer, keras.optimizers.RMSprop)
        for name in ("d_optimizer", "g_optimizer"):
            got, want = getattr(loaded, name).variables, getattr(gan, name).variables
            assert len(got) == len(want) > 2
            for a, b in zip(got, want):
                np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert loaded.get_compile_config()["d_steps"] == 2

    def test_reloaded_model_keeps_training_from_its_state(self, checkpointed, x, tmp_path):
        gan, _ = checkpointed
        assert int(gan.g_optimizer.iterations) == 8
        loaded = check_keras_roundtrip(gan, None, tmp_path, call=generate())
        loaded.fit(x, batch_size=8, verbose=0)
        assert int(loaded.g_optimizer.iterations) == 12

    def test_learning_rate_schedules_round_trip_per_optimizer(self, x, tmp_path):
        schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=2, decay_rate=0.5)
        gan = make_gan(d_optimizer=keras.optimizers.Adam(schedule))
        gan.fit(x, batch_size=8, verbose=0)
        loaded = check_keras_roundtrip(gan, None, tmp_path, call=generate())
        assert float(loaded.d_optimizer.learning_rate) == pytest.approx(1e-3 * 0.5 ** 2)
        assert float(loaded.g_optimizer.learning_rate) == pytest.approx(G_LEARNING_RATE)  # a name

    @pytest.mark.slow  # tests/models/test_gan.py trains a conditional GAN in make test
    def test_conditional_gan_round_trips(self, rng, tmp_path):
        gan = make_gan(num_classes=3)
        gan.fit(rng.random((16, DIM)), rng.integers(0, 3, 16), batch_size=8, verbose=0)
        check_keras_roundtrip(gan, None, tmp_path, call=generate(labels=[0, 1, 2, 2, 1, 0]))


class InterruptAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


class TestCheckpoints:
    def test_backup_and_restore_resumes_with_the_same_optimizer_step_counts(self, x, tmp_path):
        backup = os.fspath(tmp_path / "backup")
        gan = make_gan()
        with pytest.raises(RuntimeError, match="interrupted"):
            gan.fit(x, batch_size=8, epochs=4, verbose=0,
                    callbacks=[keras.callbacks.BackupAndRestore(backup), InterruptAfter(1)])
        assert int(gan.d_optimizer.iterations) == 8
        saved_d = gan.discriminator.get_weights()
        resumed = make_gan()
        hist = resumed.fit(x, batch_size=8, epochs=4, verbose=0,
                           callbacks=[keras.callbacks.BackupAndRestore(backup)])
        assert len(hist.history["d_loss"]) == 2  # epochs 3 and 4 only
        assert int(resumed.d_optimizer.iterations) == 16
        assert int(resumed.g_optimizer.iterations) == 16
        assert not np.allclose(saved_d[0], resumed.discriminator.get_weights()[0])

    def test_model_checkpoint_writes_a_loadable_keras_file(self, checkpointed):
        _, path = checkpointed  # 2 epochs with ModelCheckpoint(path, monitor="g_loss")
        loaded = keras.saving.load_model(path)
        assert int(loaded.g_optimizer.iterations) in (4, 8)
        assert loaded.ema_generator is not None
