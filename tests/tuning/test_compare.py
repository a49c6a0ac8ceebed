"""Tests of tfgenopt/tuning/compare.py: the same model trained with four optimizers."""

import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.tuning import compare_optimizers


def _build():
    return tg.builders.dense_autoencoder(64, hidden=(16, 8), seed=0)


@pytest.fixture(scope="module")
def data():
    xt, xv = tg.data.load_digits(image_size=8, flatten=True)
    return xt[:256], xv[:64]


class TestCompareOptimizers:
    def test_returns_one_history_per_optimizer_and_a_side_by_side_figure(self, data):
        histories, fig = compare_optimizers(_build, data[0], validation_data=data[1],
                                            loss="binary_crossentropy", epochs=2, verbose=0)
        assert list(histories) == ["sgd", "adam", "rmsprop", "adagrad"]
        for hist in histories.values():
            assert len(hist["loss"]) == 2 and len(hist["val_loss"]) == 2
        assert [ax.get_title() for ax in fig.axes] == ["loss", "val_loss"]
        assert len(fig.axes[0].get_lines()) == 4

    def test_runs_start_from_identical_weights(self, data):
        # With a vanishing learning rate nothing moves, so every optimizer sees the same loss.
        histories, _ = compare_optimizers(_build, data[0], loss="binary_crossentropy",
                                          learning_rates=1e-12, epochs=1, verbose=0)
        losses = [h["loss"][0] for h in histories.values()]
        np.testing.assert_allclose(losses, losses[0], rtol=1e-5)

    def test_adam_lowers_the_loss(self, data):
        histories, _ = compare_optimizers(_build, data[0], optimizers=("adam",),
                                          learning_rates={"adam": 1e-2},
                                          loss="binary_crossentropy", epochs=3, verbose=0)
        assert histories["adam"]["loss"][-1] < histories["adam"]["loss"][0]

    def test_unknown_optimizer_is_rejected(self, data):
        with pytest.raises(ValueError, match="`optimizers` must be one of"):
            compare_optimizers(_build, data[0], optimizers=("adam", "lion"), loss="mse")

    def test_learning_rates_for_unlisted_optimizer_are_rejected(self, data):
        with pytest.raises(ValueError, match=r"`learning_rates` has keys \['sgd'\]"):
            compare_optimizers(_build, data[0], optimizers=("adam",),
                               learning_rates={"sgd": 0.1}, loss="mse")

    def test_uncompiled_model_needs_a_loss(self, data):
        with pytest.raises(ValueError, match="`loss` is None"):
            compare_optimizers(_build, data[0], epochs=1, verbose=0)
