"""tfgenopt/callbacks/collapse.py: CollapseMonitor on fake models that output real digits or
one repeated digit (generate() returns stored images; networks and optimizers are real)."""

import copy

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_config_roundtrip
from tfgenopt.augment import AdaptiveAugment
from tfgenopt.callbacks import CollapseMonitor
from tfgenopt.callbacks.collapse import default_min_classes


@pytest.fixture(scope="module")
def digits():
    """8x8 digits as flat 64-vectors in [0, 1]: ((x_train, y_train), (x_val, y_val))."""
    return tg.data.load_digits(image_size=8, flatten=True, return_labels=True)


class FakeGAN(keras.Model):
    """``generate`` draws stored real digits, or repeats one digit once ``collapsed``."""

    def __init__(self, images, augmenter=False):
        super().__init__()
        self.images = np.asarray(images, "float32")
        self.collapsed = False
        self.generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        self.discriminator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        self.d_optimizer = keras.optimizers.Adam(1e-3)
        self.g_optimizer = keras.optimizers.Adam(2e-3)
        self.augmenter = AdaptiveAugment(image_shape=(8, 8, 1)) if augmenter else None
        self.built = True

    def generate(self, n, seed=None):
        if self.collapsed:
            return np.repeat(self.images[:1], n, axis=0)
        return self.images[np.random.default_rng(seed).choice(len(self.images), n)]

    def networks(self):
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers_by_name(self):
        return {"d": self.d_optimizer, "g": self.g_optimizer}

    def train_step(self, data):
        return {"loss": keras.ops.zeros(())}


def fit(model, callback, epochs=4):
    model.compile()
    return model.fit(np.zeros((8, 1), "float32"), epochs=epochs, batch_size=8, verbose=0,
                     callbacks=[callback])


def attached(cb, model):
    model.stop_training = False
    cb.set_model(model)
    cb.set_params({"epochs": 10})
    cb.on_train_begin()
    return cb


class TestStop:
    def test_fires_on_one_repeated_digit_and_records_the_reason(self, digits, extractor):
        (x_train, _), (x_val, y_val) = digits
        model = FakeGAN(x_train)
        model.collapsed = True
        cb = CollapseMonitor((x_val, y_val), extractor=extractor, n_samples=200)
        history = fit(model, cb)
        assert len(history.history["loss"]) == 1  # stopped after the first epoch
        assert "cover 1 classes, fewer than min_classes=8" in cb.reason
        assert "diversity is 0.000" in cb.reason and model.stop_reason == cb.reason
        assert history.history["collapse"] == [1.0]
        assert history.history["val_coverage_count"] == [1.0]
        assert history.history["val_coverage"] == [pytest.approx(0.1)]

    def test_does_not_fire_on_real_digits(self, digits, extractor):
        (x_train, _), (x_val, y_val) = digits
        cb = CollapseMonitor((x_val, y_val), extractor=extractor, n_samples=200)
        history = fit(FakeGAN(x_train), cb, epochs=3)
        assert cb.reason is None and len(history.history["loss"]) == 3
        assert history.history["collapse"] == [0.0, 0.0, 0.0]
        assert history.history["val_coverage_count"][0] == 10.0
        assert 0.8 < history.history["val_diversity"][0] < 1.2

    def test_without_reference_coverage_alone_decides(self, digits, extractor):
        (x_train, _), _ = digits
        healthy = attached(CollapseMonitor(None, extractor=extractor, n_samples=200),
                           FakeGAN(x_train))
        assert healthy.measure()["covered"] == 10 and np.isnan(healthy.measure()["diversity"])
        model = FakeGAN(x_train)
        model.collapsed = True
        cb = attached(CollapseMonitor(None, extractor=extractor, n_samples=50), model)
        cb.on_epoch_end(0, {})
        assert "fewer than min_classes=8" in cb.reason

    def test_start_epoch_and_patience_delay_the_stop(self, digits, extractor):
        (x_train, _), (x_val, _) = digits
        model = FakeGAN(x_train)
        model.collapsed = True
        cb = attached(CollapseMonitor(x_val, extractor=extractor, n_samples=50, start_epoch=1,
                                      patience=2), model)
        stopped = []
        for epoch in range(4):
            logs = {}
            cb.on_epoch_end(epoch, logs)
            stopped.append(bool(model.stop_training))
        assert stopped == [False, False, True, True]
        assert cb.history["collapse"] == [0.0, 1.0, 1.0, 1.0]


class TestRemedy:
    def test_restores_healthy_weights_lowers_lrs_and_raises_augmentation(self, digits,
                                                                        extractor):
        (x_train, _), (x_val, y_val) = digits
        model = FakeGAN(x_train, augmenter=True)
        cb = attached(CollapseMonitor((x_val, y_val), extractor=extractor, n_samples=100,
                                      action="remedy", lr_factor=0.5, augment_step=0.25,
                                      max_remedies=1), model)
        cb.on_epoch_end(0, {})  # healthy: its weights are kept
        good = [w.copy() for w in model.generator.get_weights()]
        model.generator.set_weights([np.full_like(w, 7.0) for w in good])
        model.discriminator.set_weights([np.zeros_like(w)
                                         for w in model.discriminator.get_weights()])
        model.collapsed = True
        logs = {}
        cb.on_epoch_end(1, logs)
        for got, want in zip(model.generator.get_weights(), good):
            np.testing.assert_array_equal(got, want)
        assert np.abs(model.discriminator.get_weights()[0]).sum() > 0
        assert float(model.d_optimizer.learning_rate) == pytest.approx(5e-4)
        assert float(model.g_optimizer.learning_rate) == pytest.approx(1e-3)
        assert float(model.augmenter.p.numpy()) == pytest.approx(0.25)
        assert logs["collapse"] == 1.0 and logs["collapse_remedies"] == 1.0
        assert not model.stop_training and cb.reason is None
        assert cb.remedies[0]["epoch"] == 1 and len(cb.remedies[0]["actions"]) == 3
        cb.on_epoch_end(2, logs)  # remedies used up: a collapse now stops
        assert model.stop_training and "after 1 remedies" in cb.reason

    def test_remedy_in_fit_logs_its_count(self, digits, extractor):
        (x_train, _), (x_val, _) = digits
        model = FakeGAN(x_train)
        model.collapsed = True
        cb = CollapseMonitor(x_val, extractor=extractor, n_samples=50, action="remedy",
                             max_remedies=2)
        history = fit(model, cb, epochs=4)
        assert history.history["collapse_remedies"] == [1.0, 2.0, 2.0]
        assert float(model.g_optimizer.learning_rate) == pytest.approx(2e-3 * 0.25)


class TestLogsCopiesConfig:
    def test_every_two_carries_values_on_skipped_epochs(self, digits, extractor):
        (x_train, _), (x_val, _) = digits
        cb = CollapseMonitor(x_val, extractor=extractor, n_samples=50, every=2)
        history = fit(FakeGAN(x_train), cb, epochs=5)
        assert cb.evaluated_epochs == [0, 1, 3, 4]
        assert len(history.history["val_diversity"]) == 5

    def test_an_earlier_quality_monitor_coverage_is_not_overwritten(self, digits, extractor):
        (x_train, _), (x_val, _) = digits
        cb = attached(CollapseMonitor(x_val, extractor=extractor, n_samples=50),
                      FakeGAN(x_train))
        logs = {"val_coverage": 0.123}
        cb.on_epoch_end(0, logs)
        assert logs["val_coverage"] == 0.123 and logs["val_coverage_count"] == 10.0

    def test_deepcopy_shares_data_and_runs_again(self, digits, extractor):
        (x_train, _), (x_val, _) = digits
        cb = CollapseMonitor(x_val, extractor=extractor, n_samples=50)
        fit(FakeGAN(x_train), cb, epochs=1)
        clone = copy.deepcopy(cb)
        assert clone._real_x is cb._real_x and clone.extractor is cb.extractor
        model = FakeGAN(x_train)
        model.collapsed = True
        fit(model, clone, epochs=2)
        assert clone.reason is not None and cb.reason is None

    def test_config_roundtrip(self, digits):
        _, (x_val, y_val) = digits
        clone = check_config_roundtrip(CollapseMonitor((x_val[:20], y_val[:20]), every=3,
                                                       action="remedy", min_classes=5))
        assert clone.action == "remedy" and clone.min_classes == 5

    def test_default_min_classes_is_eighty_percent_rounded_up(self):
        assert [default_min_classes(k) for k in (10, 5, 2, 1)] == [8, 4, 2, 1]


class TestValidation:
    @pytest.mark.parametrize("kwargs, match", [({"action": "restart"}, "action"),
                                               ({"threshold": 1.0}, "threshold"),
                                               ({"lr_factor": 0.0}, "lr_factor"),
                                               ({"every": 0}, "every"),
                                               ({"min_classes": 0}, "min_classes")])
    def test_bad_arguments_raise_naming_them(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            CollapseMonitor(**kwargs)

    def test_labels_of_wrong_length_raise(self, digits):
        _, (x_val, y_val) = digits
        with pytest.raises(ValueError, match="labels"):
            CollapseMonitor(x_val, labels=y_val[:5])

    def test_model_without_generate_raises_on_fit(self, extractor):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        with pytest.raises(TypeError, match="generate"):
            model.fit(np.zeros((4, 1)), np.zeros((4, 1)), verbose=0,
                      callbacks=[CollapseMonitor(extractor=extractor)])
