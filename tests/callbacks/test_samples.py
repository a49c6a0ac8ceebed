"""Tests for tfgenopt/callbacks/samples.py: PNG grids of the expected pixel size and content."""

import copy
import glob
import os

import keras
import matplotlib.image
import numpy as np
import pytest

from tests.helpers import check_config_roundtrip, tiny_vae
from tests.helpers import tiny_gan as _tiny_gan
from tfgenopt.callbacks import SampleGrid
from tfgenopt.plotting import image_grid_array


def tiny_gan(seed=0):
    return _tiny_gan(hidden=(16,), seed=seed, net_seeds=(seed, seed), lr=1e-3)


def autoencoder():
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(64, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    return model


@pytest.fixture(scope="module")
def x16():
    return np.random.default_rng(0).uniform(size=(64, 16)).astype("float32")


@pytest.fixture(scope="module")
def x64(digits8):
    return digits8[0].reshape(len(digits8[0]), -1)[:64]


class TestGanGrids:
    def test_writes_png_every_n_epochs_and_at_the_last(self, tmp_path, x16):
        cb = SampleGrid(every=2, n=16, out_dir=tmp_path, seed=1)
        tiny_gan().fit(x16, epochs=5, batch_size=32, verbose=0, callbacks=[cb])
        names = sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "*.png")))
        assert names == ["samples_epoch0002.png", "samples_epoch0004.png",
                         "samples_epoch0005.png"]
        assert [e for e, _ in cb.grids] == [2, 4, 5]

    def test_png_has_expected_pixel_size_and_content(self, tmp_path, x16):
        gan = tiny_gan()
        cb = SampleGrid(every=1, n=16, out_dir=tmp_path, seed=3)
        gan.fit(x16, epochs=1, batch_size=32, verbose=0, callbacks=[cb])
        png = matplotlib.image.imread(cb.paths[-1])
        assert png.shape[:2] == (4 * (4 + 1) + 1, 4 * (4 + 1) + 1)  # 16 4x4 images, pad 1
        expected = image_grid_array(gan.generate(16, seed=3))[..., 0]
        np.testing.assert_allclose(png[..., 0], expected, atol=0.5 / 255 + 1e-6)

    def test_same_seed_gives_the_same_noise_batch(self, x16):
        gan = tiny_gan()
        cb = SampleGrid(n=9, seed=5)
        cb.set_model(gan)
        cb.on_train_begin()
        np.testing.assert_array_equal(cb.grid(), cb.grid())

    def test_tensorboard_image_summary_is_written(self, tmp_path, x16):
        import tensorflow as tf

        cb = SampleGrid(every=1, n=4, tensorboard_dir=tmp_path / "tb", seed=0)
        tiny_gan().fit(x16, epochs=2, batch_size=32, verbose=0, callbacks=[cb])
        events = glob.glob(str(tmp_path / "tb" / "events.out.tfevents.*"))
        assert len(events) == 1
        tags = [(v.tag, e.step) for e in tf.compat.v1.train.summary_iterator(events[0])
                for v in e.summary.value]
        assert tags == [("samples", 1), ("samples", 2)]

    def test_strip_stacks_every_grid(self, tmp_path, x16):
        cb = SampleGrid(every=1, n=4, out_dir=tmp_path, strip=True)
        tiny_gan().fit(x16, epochs=3, batch_size=32, verbose=0, callbacks=[cb])
        strip = matplotlib.image.imread(str(tmp_path / "samples_strip.png"))
        h = cb.grids[0][1].shape[0]
        assert strip.shape[:2] == (3 * h + 2 * 2, cb.grids[0][1].shape[1])


class TestReconstructions:
    def test_autoencoder_grid_shows_inputs_then_reconstructions(self, tmp_path, x64):
        model = autoencoder()
        cb = SampleGrid(every=1, n=8, out_dir=tmp_path, inputs=x64[:8])
        model.fit(x64, x64, epochs=1, batch_size=32, verbose=0, callbacks=[cb])
        png = matplotlib.image.imread(cb.paths[0])
        assert png.shape[:2] == (2 * (8 + 1) + 1, 8 * (8 + 1) + 1)
        recon = model.predict(x64[:8], verbose=0)
        expected = image_grid_array(np.concatenate([x64[:8], recon]), ncols=8,
                                    value_range=(0, 1))[..., 0]
        np.testing.assert_allclose(png[..., 0], expected, atol=0.5 / 255 + 1e-6)

    def test_vae_generates_by_default(self, tmp_path, x64):
        vae = tiny_vae(dim=64, hidden=(16,), net_seeds=(None, None), optimizer="adam")
        cb = SampleGrid(every=1, n=4, out_dir=tmp_path, seed=2)
        vae.fit(x64, epochs=1, batch_size=32, verbose=0, callbacks=[cb])
        np.testing.assert_allclose(cb.grids[0][1], image_grid_array(vae.generate(4, seed=2)))


class TestArguments:
    def test_plain_model_without_inputs_is_refused(self):
        cb = SampleGrid(n=4)
        cb.set_model(autoencoder())
        with pytest.raises(ValueError, match="inputs="):
            cb.on_train_begin()

    def test_reconstruct_mode_needs_inputs(self):
        with pytest.raises(ValueError, match="inputs"):
            SampleGrid(mode="reconstruct")

    def test_rejects_zero_every(self):
        with pytest.raises(ValueError, match="every"):
            SampleGrid(every=0)

    def test_config_roundtrip(self, tmp_path):
        check_config_roundtrip(SampleGrid(every=3, n=9, out_dir=str(tmp_path), seed=4,
                                          value_range=(-1, 1), strip=True))

    def test_deepcopy_shares_inputs_and_drops_writer(self, x64):
        cb = SampleGrid(inputs=x64[:4])
        cb._writer = object()
        clone = copy.deepcopy(cb)
        assert clone.inputs is cb.inputs and clone._writer is None
