"""Every callback of the toolkit on a Diffusion model inside fit."""

import os

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.models import Diffusion, protocol


@pytest.fixture(scope="module")
def digits():
    return tg.data.load_digits(image_size=8, flatten=True)


def tiny_diffusion(seed=0, ema=0.9):
    x_in, level = keras.Input((64,)), keras.Input((1,))
    h = keras.layers.Dense(64, activation="swish")(keras.layers.Concatenate()([x_in, level]))
    net = keras.Model([x_in, level], keras.layers.Dense(64)(h))
    model = Diffusion(net, ema=ema, value_range=(0.0, 1.0), seed=seed)
    model.compile(steps=4)
    return model


class Snapshots(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(protocol.snapshot_networks(self.model))


class TestCallbacksOnDiffusion:
    def test_monitors_writers_and_schedulers_run_in_fit(self, digits, extractor, tmp_path):
        x_train, x_val = digits
        quality = tg.callbacks.QualityMonitor(x_val, metrics=("fid", "kid"), n_samples=100,
                                              kid_subsets=5, extractor=extractor)
        grid = tg.callbacks.SampleGrid(n=9, out_dir=str(tmp_path / "grids"), seed=0)
        board = tg.callbacks.TensorBoard(log_dir=str(tmp_path / "tb"))
        landscape = tg.callbacks.LossLandscape(x_val[:64], every=2, kind=("1d",), grid=5)
        plateau = tg.callbacks.ReduceLROnPlateau("val_loss", patience=1, factor=0.5)
        lr_log = tg.callbacks.LearningRateLogger()
        history = tiny_diffusion().fit(
            x_train, batch_size=128, epochs=2, validation_data=(x_val,), verbose=0,
            callbacks=[quality, grid, board, landscape, plateau, lr_log])
        logs = history.history
        assert np.all(np.isfinite(logs["val_kid"])) and logs["val_fid"][-1] > 0
        assert len(logs["val_loss"]) == 2 and len(logs["lr"]) == 2
        assert len(os.listdir(tmp_path / "grids")) == 2
        assert any(f.startswith("events") for _, _, files in os.walk(tmp_path / "tb")
                   for f in files)
        assert landscape.history, "the landscape probe measured nothing"

    def test_early_stopping_on_val_kid_restores_the_ema_network(self, digits, extractor):
        x_train, x_val = digits
        quality = tg.callbacks.QualityMonitor(x_val, metrics=("kid",), n_samples=100,
                                              kid_subsets=5, extractor=extractor)
        stop = tg.callbacks.EarlyStopping("val_kid", patience=1, restore_best_weights=True)
        snaps = Snapshots()
        model = tiny_diffusion()
        model.fit(x_train, batch_size=128, epochs=4, verbose=0, callbacks=[quality, stop, snaps])
        best = stop.best_epoch
        assert set(snaps.weights[best]) == {"network", "ema_network"}
        for name, net in model.networks().items():
            for got, want in zip(net.get_weights(), snaps.weights[best][name]):
                np.testing.assert_array_equal(got, want)

    def test_lr_finder_sweeps_the_optimizer(self, digits):
        finder = tg.callbacks.LRFinder(min_lr=1e-5, max_lr=1.0, steps=12)
        model = tiny_diffusion()
        model.fit(digits[0], batch_size=32, epochs=1, verbose=0, callbacks=[finder])
        result = finder.result
        assert len(result.lrs) >= 5 and result.lrs[-1] > 100 * result.lrs[0]
