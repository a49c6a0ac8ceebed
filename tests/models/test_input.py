"""Tests for tfgenopt.models._input (the one fit) and its array pipeline, tfgenopt.data.pipeline."""

import numpy as np
import pytest

from tests.helpers import tiny_gan, tiny_vae
from tfgenopt.data.pipeline import array_dataset
from tfgenopt.models import GAN
from tfgenopt.models._input import can_use


class TestArrayDataset:
    def test_each_epoch_sees_every_sample_once_with_the_partial_batch_last(self):
        x = np.arange(10, dtype="float32")[:, None]
        ds = array_dataset(x, None, 4, shuffle=True, seed=0)
        epochs = [[b.numpy()[:, 0] for b in ds] for _ in range(2)]
        for batches in epochs:
            assert [len(b) for b in batches] == [4, 4, 2]
            np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(10))
        assert not np.array_equal(np.concatenate(epochs[0]), np.concatenate(epochs[1]))

    def test_labels_stay_paired_with_their_samples(self):
        x = np.arange(6, dtype="float32")[:, None]
        for xb, yb in array_dataset(x, np.arange(6) * 10, 4, shuffle=True, seed=1):
            np.testing.assert_array_equal(xb.numpy()[:, 0] * 10, yb.numpy())

    def test_without_shuffle_keeps_the_order(self):
        x = np.arange(5, dtype="float32")[:, None]
        got = np.concatenate([b.numpy()[:, 0] for b in array_dataset(x, None, 2, False)])
        np.testing.assert_array_equal(got, np.arange(5))

    @pytest.mark.parametrize("kwargs", [{"validation_split": 0.2}, {"steps_per_epoch": 3},
                                        {"sample_weight": np.ones(4)}])
    def test_options_it_does_not_handle_keep_keras_own_path(self, kwargs):
        args = {"validation_split": 0.0, "sample_weight": None, "class_weight": None,
                "steps_per_epoch": None, **kwargs}
        assert not can_use(np.ones((4, 2)), None, 2, args["validation_split"],
                           args["sample_weight"], args["class_weight"],
                           args["steps_per_epoch"])
        assert can_use(np.ones((4, 2)), None, 2, 0.0, None, None, None)


class TestGANFitOnArrays:
    def _gan(self):
        return tiny_gan(dim=6, steps_per_execution=4)

    def test_steps_per_epoch_is_ceil_n_over_batch_size(self, rng):
        gan = self._gan()
        hist = gan.fit(rng.random((10, 6)), batch_size=4, epochs=3, verbose=0)
        assert int(gan.g_optimizer.iterations) == 9 and len(hist.history["d_loss"]) == 3

    def test_validation_split_still_works_through_keras(self, rng):
        gan = self._gan()
        hist = gan.fit(rng.random((10, 6)), batch_size=4, validation_split=0.2, verbose=0)
        assert int(gan.g_optimizer.iterations) == 2 and "val_d_loss" in hist.history


    def test_fit_has_keras_explicit_signature(self):
        import inspect

        import keras

        assert (list(inspect.signature(GAN.fit).parameters)
                == list(inspect.signature(keras.Model.fit).parameters))

    def test_validation_arrays_are_batched_by_the_fit_batch_size(self, rng):
        import keras

        gan, sizes = self._gan(), []
        gan.compile(steps_per_execution=1)
        count = keras.callbacks.LambdaCallback(on_test_batch_end=lambda b, logs: sizes.append(b))
        gan.fit(rng.random((10, 6)), batch_size=4, validation_data=rng.random((10, 6)),
                validation_freq=1, callbacks=[count], verbose=0)
        assert sizes == [0, 1, 2] and int(gan.g_optimizer.iterations) == 3  # not one batch of 32


class TestVAEFitOnArrays:
    def test_vae_takes_the_same_path_and_counts_steps(self, rng):
        vae = tiny_vae(dim=6, hidden=(4,), optimizer="adam")
        vae.fit(rng.random((10, 6)), batch_size=4, epochs=2, verbose=0)
        assert int(vae.optimizer.iterations) == 6
