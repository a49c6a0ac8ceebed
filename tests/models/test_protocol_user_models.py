"""tfgenopt's callbacks on a user's own keras.io-style models (tests/kerasio.py), unchanged.

The protocol (tfgenopt/models/protocol.py) finds their networks, their real optimizers and a
way to sample from what the classes have: ``generator`` / ``discriminator`` / ``encoder`` /
``decoder`` attributes, ``d_optimizer`` / ``g_optimizer``, ``latent_dim``.
"""

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests import kerasio as K
from tfgenopt.evaluation import FeatureExtractor
from tfgenopt.models import protocol

SHAPES = {"dcgan": K.dcgan, "wgan_gp": K.wgan, "vae": K.vae}


def slow(*values):
    """A parametrize case that runs in ``make bench`` only (the other cases run in make test)."""
    return pytest.param(*values, marks=pytest.mark.slow)


@pytest.fixture(scope="module")
def digits():
    x, xv = tg.data.load_digits(image_size=8, flatten=True)
    return x[:64], xv[:32]


@pytest.fixture(scope="module")
def extractor():
    """A tiny softmax classifier (untrained: the callbacks' plumbing is tested, not quality)."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((K.DIM,))
    h = keras.layers.Dense(8, activation="relu", name="features")(inputs)
    return FeatureExtractor(keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h)))


def weights(net):
    return [w.copy() for w in net.get_weights()]


class TestProtocolFallbacks:
    def test_networks_are_the_network_attributes(self):
        assert list(protocol.networks(K.dcgan())) == ["generator", "discriminator"]
        assert list(protocol.networks(K.vae())) == ["encoder", "decoder"]

    def test_optimizers_are_the_real_ones_not_the_unused_compile_one(self):
        gan = K.dcgan()
        opts = protocol.optimizers(gan)
        assert list(opts) == ["d", "g"]
        assert opts["d"] is gan.d_optimizer and opts["g"] is gan.g_optimizer
        assert all(o is not gan.optimizer for o in opts.values())

    def test_a_vae_with_model_optimizer_keeps_it(self):
        vae = K.vae()
        assert protocol.optimizers(vae) == {"": vae.optimizer}

    def test_samples_come_from_the_generator_with_latent_noise(self):
        gan = K.dcgan()
        a, b = protocol.sample(gan, 5, seed=3), protocol.sample(gan, 5, seed=3)
        np.testing.assert_array_equal(a, b)
        z = keras.random.normal((5, K.LATENT), seed=3)
        np.testing.assert_allclose(a, keras.ops.convert_to_numpy(gan.generator(z)), atol=1e-6)

    def test_a_model_without_networks_is_told_what_to_add(self):
        with pytest.raises(TypeError, match="`generator`.*`latent_dim`.*sample_fn"):
            protocol.sampler(keras.Sequential([keras.layers.Dense(1)]))

    def test_an_unbuilt_generator_without_latent_dim_is_told_to_add_it(self):
        model = keras.Model()
        model.generator = keras.Sequential([keras.layers.Dense(4)])
        with pytest.raises(TypeError, match="add a `latent_dim` attribute"):
            protocol.sampler(model)

    def test_sample_fn_overrides_everything(self):
        out = protocol.sample(K.dcgan(), 3, seed=0, sample_fn=lambda n, seed: np.ones((n, 2)))
        assert out.shape == (3, 2) and out.dtype == np.float32


@pytest.mark.parametrize("shape", ["dcgan", slow("vae"), slow("wgan_gp")])  # ~3.5 s each
def test_every_callback_runs_in_fit(shape, digits, extractor, tmp_path):
    """One fit per keras.io shape with every callback, then the range test on the same model.

    ReduceLROnPlateau watches a loss with ``min_delta`` so large that no epoch improves on the
    first: it halves every real optimizer's rate at the end of epoch 2 (patience 0).
    """
    x, xv = digits
    model = SHAPES[shape]()
    gan = shape != "vae"
    opts = protocol.optimizers(model)
    start = {k: float(o.learning_rate) for k, o in opts.items()}
    unused = float(model.optimizer.learning_rate)
    snapshots = []
    grid = tg.callbacks.SampleGrid(n=4, out_dir=tmp_path)
    landscape = tg.callbacks.LossLandscape(xv[:16], kind=("1d",), grid=3, verbose=0)
    stop = tg.callbacks.EarlyStopping("val_kid", patience=5, restore_best_weights=True,
                                      verbose=0)
    callbacks = [
        tg.callbacks.QualityMonitor(xv, metrics=("kid",), n_samples=16, kid_subsets=2,
                                    extractor=extractor),
        stop,
        tg.callbacks.CollapseMonitor(xv, n_samples=16, extractor=extractor, start_epoch=9),
        grid, landscape,
        tg.callbacks.ReduceLROnPlateau("g_loss" if gan else "loss", mode="min", factor=0.5,
                                       patience=0, min_delta=1e9),
        tg.callbacks.LearningRateLogger(),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(
            [weights(n) for n in protocol.networks(model).values()]))]
    history = model.fit(x, epochs=2, batch_size=32, verbose=0, callbacks=callbacks).history
    # QualityMonitor, CollapseMonitor, SampleGrid, LossLandscape saw samples / both players.
    assert len(history["val_kid"]) == 2 and np.all(np.isfinite(history["val_kid"]))
    assert len(history["val_coverage_count"]) == 2
    assert len(grid.paths) == 2 and all(p.endswith(".png") for p in grid.paths)
    assert len(landscape.history) == 2
    assert sorted(landscape.history[-1]["slices"]) == (
        ["discriminator", "generator"] if gan else ["model"])
    # ReduceLROnPlateau drove every real optimizer, not the unused model.optimizer.
    assert list(opts) == (["d", "g"] if gan else [""])
    for name, opt in opts.items():
        assert float(opt.learning_rate) == pytest.approx(0.5 * start[name]), name
        key = protocol.lr_log_key(name)
        assert history[key][-1] == pytest.approx(float(opt.learning_rate))  # the real rates
    if gan:
        assert float(model.optimizer.learning_rate) == unused and "lr" not in history
    # EarlyStopping restored every network to its best epoch.
    for net, best in zip(protocol.networks(model).values(), snapshots[stop.best_epoch]):
        for got, want in zip(net.get_weights(), best):
            np.testing.assert_array_equal(got, want)
    # LRFinder (through lr_find) sweeps the same optimizers and leaves the model as it was.
    before = [weights(n) for n in protocol.networks(model).values()]
    result = tg.callbacks.lr_find(model, x, batch_size=32, steps=5, verbose=0)
    assert result.optimizers == tuple(opts)
    assert len(result.lrs) >= 2 and np.all(np.isfinite(result.losses))
    for net, old in zip(protocol.networks(model).values(), before):
        for got, want in zip(net.get_weights(), old):
            np.testing.assert_array_equal(got, want)
