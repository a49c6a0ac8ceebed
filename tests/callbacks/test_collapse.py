"""tfgenopt/callbacks/collapse.py: CollapseMonitor on fake models that output real digits or
one repeated digit (generate() returns stored images; networks and optimizers are real), its
classifier-free checks (discriminator-loss floor, raw sample diversity) and a real GAN."""

import copy
import math

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_config_roundtrip
from tfgenopt.augment import AdaptiveAugment
from tfgenopt.callbacks import CollapseMonitor
from tfgenopt.callbacks.collapse import default_min_classes, sample_diversity


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
                                               ({"min_classes": -1}, "min_classes"),
                                               ({"diversity_floor": -1.0}, "diversity_floor"),
                                               ({"d_loss_floor": math.inf}, "d_loss_floor")])
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


# Classifier-free checks: min_classes=0 and threshold=0 turn the classifier off.
NO_CLASSIFIER = {"min_classes": 0, "threshold": 0.0}


class Plain(keras.Model):
    """A model with one network and no ``generate`` (nothing can be sampled from it)."""

    def __init__(self):
        super().__init__()
        self.net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        self.built = True

    def networks(self):
        return {"net": self.net}


def run_logs(cb, model, logs_per_epoch):
    """Feed ``logs_per_epoch`` to an attached ``cb``; the epoch it stopped at, or None."""
    attached(cb, model)
    for epoch, logs in enumerate(logs_per_epoch):
        cb.on_epoch_end(epoch, dict(logs))
        if model.stop_training:
            return epoch
    return None


class TestDiscriminatorLossFloor:
    def test_stops_after_patience_epochs_below_the_floor_without_sampling(self):
        cb = CollapseMonitor(**NO_CLASSIFIER, d_loss_floor=0.01, patience=2)
        d = [0.5, 0.005, 0.3, 0.004, 0.003, 0.002]
        model = Plain()  # no generate, no classifier: neither is needed
        assert run_logs(cb, model, [{"d_loss": v} for v in d]) == 4
        assert cb.reason.startswith("discriminator collapse: d_loss=0.003 is below")
        assert cb.history["collapse"] == [0.0, 1.0, 0.0, 1.0, 1.0]
        assert cb._extractor is None and cb.log_keys == ("collapse", "collapse_remedies")

    def test_reads_another_key_and_warns_once_when_it_is_missing(self):
        cb = CollapseMonitor(**NO_CLASSIFIER, d_loss_floor=0.1, d_loss_key="critic_loss")
        with pytest.warns(UserWarning, match="critic_loss"):
            assert run_logs(cb, Plain(), [{"d_loss": 0.0}] * 3) is None
        assert run_logs(cb, Plain(), [{"critic_loss": 0.05}]) == 0

    def test_remedy_lowers_the_learning_rates(self, digits):
        model = FakeGAN(digits[0][0])
        cb = CollapseMonitor(**NO_CLASSIFIER, d_loss_floor=0.01, action="remedy")
        assert run_logs(cb, model, [{"d_loss": 0.5}, {"d_loss": 0.001}]) is None
        assert float(model.d_optimizer.learning_rate) == pytest.approx(5e-4)
        assert cb.remedies[0]["reason"].startswith("discriminator collapse")


class TestSampleDiversityFloor:
    def test_matches_scipy_pdist(self):
        from scipy.spatial.distance import pdist

        x = np.random.default_rng(0).normal(size=(12, 3, 3))
        expected = pdist(x.reshape(12, -1)).mean() / 3.0
        assert sample_diversity(x) == pytest.approx(expected, rel=1e-9)

    def test_stops_on_identical_samples_from_a_fixed_seed(self):
        calls = []

        class Spreading(Plain):
            def generate(self, n, seed=None):
                calls.append(seed)
                spread = 1.0 if len(calls) < 3 else 0.0
                return np.random.default_rng(seed).normal(size=(n, 5)) * spread

        cb = CollapseMonitor(**NO_CLASSIFIER, diversity_floor=0.1, patience=2, n_samples=16,
                             seed=7)
        assert run_logs(cb, Spreading(), [{}] * 6) == 3
        assert set(calls) == {7}
        assert cb.reason.startswith("generator collapse: sample diversity 0 is below")
        assert cb.history["sample_diversity"][-1] == 0.0

    def test_needs_a_model_it_can_sample(self):
        cb = CollapseMonitor(**NO_CLASSIFIER, diversity_floor=0.1)
        with pytest.raises(TypeError, match="generate"):
            attached(cb, Plain())

    def test_real_gan_logs_diversity_and_stops(self, digits8):
        x = digits8[0].reshape(len(digits8[0]), -1)[:64, :16]
        g = tg.builders.dense_generator(latent_dim=4, hidden=(16,), output_dim=16, seed=0)
        d = tg.builders.dense_discriminator(input_dim=16, hidden=(16,), seed=0)
        gan = tg.models.GAN(generator=g, discriminator=d, latent_dim=4, seed=0)
        gan.compile(d_optimizer=keras.optimizers.Adam(5e-3),
                    g_optimizer=keras.optimizers.Adam(5e-3))
        cb = CollapseMonitor(**NO_CLASSIFIER, diversity_floor=100.0, patience=2, n_samples=8,
                             seed=3)
        history = gan.fit(x, batch_size=32, epochs=5, verbose=0, callbacks=[cb])
        assert len(history.history["g_loss"]) == 2
        assert history.history["sample_diversity"][-1] == pytest.approx(
            sample_diversity(gan.generate(8, seed=3)), rel=1e-6)
        assert gan.stop_reason.startswith("generator collapse")

    def test_config_roundtrip_keeps_the_new_checks(self):
        clone = check_config_roundtrip(CollapseMonitor(**NO_CLASSIFIER, diversity_floor=0.2,
                                                       d_loss_floor=1e-3, d_loss_key="dl"))
        assert (clone.diversity_floor, clone.d_loss_floor, clone.d_loss_key) == (0.2, 1e-3, "dl")
        assert not clone.uses_classifier
