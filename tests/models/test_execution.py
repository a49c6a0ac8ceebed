"""Tests for tfgenopt.models._execution: steps_per_execution="auto" on GAN, VAE and builders."""

import math

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_keras_roundtrip, tiny_autoencoder, tiny_gan, tiny_vae
from tfgenopt.models import GAN, VAE
from tfgenopt.models import _execution as E

N, BATCH = 50, 16  # 4 batches per epoch, the last one partial


def small_gan(**compile_kwargs):
    return tiny_gan(dim=6, **compile_kwargs)


def small_vae(**compile_kwargs):
    return tiny_vae(dim=6, optimizer="adam", compile_kwargs=compile_kwargs)


class BatchCounter(keras.callbacks.Callback):
    """Records the batch index of every ``on_train_batch_end`` call."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)


class CallCounter(BatchCounter):
    """Counts calls of the compiled function: it says it does not need every batch."""

    needs_every_batch = False


class EpochSpy(keras.callbacks.Callback):
    """Records the model's steps_per_execution and the trace count at each epoch end."""

    def __init__(self, traces):
        super().__init__()
        self.traces, self.seen = traces, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((self.model.steps_per_execution, len(self.traces)))


def tracing(model_cls):
    """A subclass of ``model_cls`` whose ``train_step`` appends to a list each time it traces."""
    traces = []

    class Traced(model_cls):
        def train_step(self, data):
            traces.append(1)  # Python side effect: runs only while tracing
            return super().train_step(data)

    return Traced, traces


@pytest.fixture
def x(rng):
    return rng.random((N, 6)).astype("float32")


@pytest.fixture
def loop_even_for_short_runs(monkeypatch):
    """Keras' loop of steps under "auto" for the few batches of these tests (normally a run of
    at most ``SHORT_RUN`` batches runs one per call: TestShortRuns)."""
    monkeypatch.setattr(E, "SHORT_RUN", 0)


class TestPerBatchCallbacks:
    @pytest.mark.parametrize("make", [small_gan, small_vae])
    def test_a_batch_counter_sees_every_batch_under_the_default(self, make, x):
        model, counter, epochs = make(), BatchCounter(), 3
        model.fit(x, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[counter])
        per_epoch = math.ceil(N / BATCH)
        assert len(counter.batches) == epochs * per_epoch == 12
        assert counter.batches == list(range(per_epoch)) * epochs
        assert model.steps_per_execution == 1

    def test_a_lambda_callback_on_batch_end_counts_too(self, x):
        calls = []
        gan = small_gan()
        gan.fit(x, batch_size=BATCH, epochs=2, verbose=0,
                callbacks=[keras.callbacks.LambdaCallback(on_batch_end=lambda b, logs: calls.append(b))])
        assert calls == [0, 1, 2, 3, 0, 1, 2, 3]

    def test_auto_runs_more_than_one_batch_per_call_without_per_batch_callbacks(self, x, loop_even_for_short_runs):
        gan, calls = small_gan(), CallCounter()
        gan.fit(x, batch_size=BATCH, epochs=3, verbose=0,
                callbacks=[calls, keras.callbacks.EarlyStopping(monitor="g_loss", mode="min", patience=9)])
        assert gan.steps_per_execution == E.AUTO_STEPS > 1
        assert calls.batches == [E.AUTO_STEPS - 1] * 3  # one compiled call per epoch
        assert int(gan.g_optimizer.iterations) == 3 * math.ceil(N / BATCH)

    def test_an_explicit_value_is_kept_whatever_the_callbacks(self, x):
        gan, counter = small_gan(steps_per_execution=2), BatchCounter()
        gan.fit(x, batch_size=BATCH, epochs=1, verbose=0, callbacks=[counter])
        assert gan.steps_per_execution == 2 and counter.batches == [1, 3]

    def test_a_plain_keras_model_keeps_keras_behaviour(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        assert model.steps_per_execution == 1


class TestNeedsEveryBatch:
    @pytest.mark.parametrize("callback, expected", [
        (keras.callbacks.History(), False),
        (keras.callbacks.ProgbarLogger(), False),
        (keras.callbacks.EarlyStopping(), False),
        (keras.callbacks.TerminateOnNaN(), True),
        (keras.callbacks.ModelCheckpoint("m.keras"), False),
        (keras.callbacks.ModelCheckpoint("m.keras", save_freq=5), True),
        (keras.callbacks.LambdaCallback(on_epoch_end=print), False),
        (keras.callbacks.LambdaCallback(on_train_batch_begin=print), True),
        (BatchCounter(), True),
        (CallCounter(), False),
    ])
    def test_rule(self, callback, expected):
        assert E.needs_every_batch(callback) is expected

    def test_tensorboard_per_epoch_without_profiling_does_not(self, tmp_path):
        assert not E.needs_every_batch(keras.callbacks.TensorBoard(tmp_path, profile_batch=0))
        assert E.needs_every_batch(keras.callbacks.TensorBoard(tmp_path, update_freq=10,
                                                               profile_batch=0))

    def test_keras_tuner_callback_needs_batches_only_if_the_tuner_overrides_its_hooks(self):
        import keras_tuner as kt
        from keras_tuner.src.engine.tuner_utils import TunerCallback

        class BatchTuner(kt.RandomSearch):
            def on_batch_end(self, trial, model, batch, logs=None):
                pass

        plain = kt.RandomSearch.__new__(kt.RandomSearch)
        batchy = BatchTuner.__new__(BatchTuner)
        assert not E.needs_every_batch(TunerCallback(plain, None))
        assert E.needs_every_batch(TunerCallback(batchy, None))


class TestNoRetracing:
    @pytest.mark.parametrize("base, make", [(GAN, small_gan), (VAE, small_vae)])
    def test_no_retracing_across_epochs_and_fit_calls(self, base, make, x, loop_even_for_short_runs):
        Traced, traces = tracing(base)
        model = make()
        model.__class__ = Traced
        spy = EpochSpy(traces)
        model.fit(x, batch_size=BATCH, epochs=3, verbose=0, callbacks=[spy])
        model.fit(x, batch_size=BATCH, epochs=2, verbose=0, callbacks=[spy])
        first = spy.seen[0][1]
        assert first >= 1
        assert spy.seen == [(E.AUTO_STEPS, first)] * 5

    def test_the_first_fit_traces_the_step_once(self, x):
        # Keras defers the optimizer's slot variables to the first trace, and a tf.function
        # that creates variables is traced twice; the optimizer is built before fit instead.
        from tfgenopt.models._input import FunctionalModel

        models = []
        for base in (FunctionalModel, VAE, GAN):
            Traced, traces = tracing(base)
            if base is FunctionalModel:
                inputs = keras.Input((6,))
                model = Traced(inputs, keras.layers.Dense(6)(keras.layers.Dense(3)(inputs)))
                model.compile(keras.optimizers.Adam(1e-3), "mse")
                model.fit(x, x, batch_size=BATCH, verbose=0)
            else:
                model = (small_vae if base is VAE else small_gan)()
                model.__class__ = Traced
                model.fit(x, batch_size=BATCH, verbose=0)
            models.append((base.__name__, len(traces)))
        assert models == [("FunctionalModel", 1), ("VAE", 1), ("GAN", 1)]

    def test_switching_between_per_batch_and_auto_reuses_each_compiled_function(self, x, loop_even_for_short_runs):
        Traced, traces = tracing(GAN)
        gan = small_gan()
        gan.__class__ = Traced
        counts = []
        for callbacks in ([BatchCounter()], [], [BatchCounter()], []):
            gan.fit(x, batch_size=BATCH, epochs=1, verbose=0, callbacks=callbacks)
            counts.append(len(traces))
        assert counts[2:] == counts[1:2] * 2  # the 3rd and 4th fits trace nothing new
        assert int(gan.g_optimizer.iterations) == 4 * math.ceil(N / BATCH)

    def test_predict_runs_one_batch_per_call_and_fit_still_uses_auto(self, x, loop_even_for_short_runs):
        vae = small_vae()
        vae.fit(x, batch_size=BATCH, verbose=0)
        assert vae.predict(x, batch_size=BATCH, verbose=0).shape == (N, 6)
        assert vae.steps_per_execution == 1
        vae.fit(x, batch_size=BATCH, verbose=0)
        assert vae.steps_per_execution == E.AUTO_STEPS


class TestShortRuns:
    """A run of at most ``SHORT_RUN`` batches in all runs one batch per call under "auto"."""

    @pytest.mark.parametrize("kwargs, expected", [
        ({"batch_size": 16, "epochs": 3}, 12),  # 4 batches per epoch, the last partial
        ({"epochs": 2}, 4),  # Keras' default batch size, 32
        ({"batch_size": 16, "epochs": 3, "initial_epoch": 1}, 8),
        ({"batch_size": 10, "validation_split": 0.2}, 4),  # 40 training samples
        ({"batch_size": 16, "epochs": 2, "steps": 3}, 6)])
    def test_planned_batches_of_arrays(self, x, kwargs, expected):
        assert E.planned_batches(x, **kwargs) == expected

    def test_planned_batches_of_datasets_and_generators(self, x):
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices(x).batch(16)
        assert E.planned_batches(ds, epochs=5) == 20
        assert E.planned_batches(ds.repeat(), epochs=2) is None  # infinite
        assert E.planned_batches(ds.filter(lambda b: True), epochs=2) is None  # unknown
        assert E.planned_batches(ds.repeat(), epochs=2, steps=7) == 14
        assert E.planned_batches(iter([x]), epochs=2) is None
        assert E.planned_batches((x, x), batch_size=25) == 2
        assert E.planned_batches({"a": x}, batch_size=25) == 2

    @pytest.mark.parametrize("make", [small_gan, pytest.param(small_vae, marks=pytest.mark.slow)])
    def test_a_short_fit_runs_one_batch_per_call_and_a_long_one_the_loop(self, make, x):
        model, calls = make(), CallCounter()
        model.fit(x, batch_size=BATCH, epochs=2, verbose=0, callbacks=[calls])
        assert model.steps_per_execution == 1 and calls.batches == [0, 1, 2, 3] * 2
        epochs = E.SHORT_RUN // 4 + 1  # one batch over SHORT_RUN
        calls.batches.clear()
        model.fit(x, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[calls])
        assert model.steps_per_execution == E.AUTO_STEPS
        assert calls.batches == [E.AUTO_STEPS - 1] * epochs  # one call per epoch of 4 batches

    @pytest.mark.filterwarnings("ignore:Your input ran out of data")  # Keras, at the end
    def test_a_long_run_of_unknown_length_gets_the_loop(self, x):
        import tensorflow as tf

        gan = small_gan()
        ds = tf.data.Dataset.from_tensor_slices(x).batch(BATCH).filter(lambda b: True)
        gan.fit(ds, epochs=1, verbose=0)
        assert gan.steps_per_execution == E.AUTO_STEPS
        assert int(gan.g_optimizer.iterations) == 4

    def test_an_evaluate_counts_its_own_batches(self, x):
        vae = small_vae()
        vae.fit(x, batch_size=BATCH, verbose=0)
        assert vae.steps_per_execution == 1
        vae.evaluate(x, batch_size=1, verbose=0)  # 50 batches
        assert vae.steps_per_execution == 1
        vae.evaluate(np.concatenate([x, x]), batch_size=1, verbose=0)  # 100 batches
        assert vae.steps_per_execution == E.AUTO_STEPS


class TestSaving:
    def test_gan_keeps_auto_through_keras_save_and_load(self, x, tmp_path):
        gan = small_gan()
        gan.fit(x, batch_size=BATCH, verbose=0)
        assert gan.get_compile_config()["steps_per_execution"] == "auto"
        z = gan.sample_noise(3, seed=0)
        loaded = check_keras_roundtrip(gan, z, tmp_path)
        assert loaded.get_compile_config()["steps_per_execution"] == "auto"
        counter = BatchCounter()
        loaded.fit(x, batch_size=BATCH, verbose=0, callbacks=[counter])
        assert len(counter.batches) == 4 and loaded.steps_per_execution == 1

    @pytest.mark.slow  # ~3 s; the GAN case runs in make test
    def test_vae_keeps_auto_and_an_explicit_value(self, x, tmp_path):
        for setting in ("auto", 3):
            vae = small_vae(steps_per_execution=setting)
            vae.fit(x, batch_size=BATCH, verbose=0)
            loaded = check_keras_roundtrip(vae, x[:4], tmp_path)
            assert loaded.get_compile_config()["steps_per_execution"] == setting
            assert int(loaded.optimizer.iterations) == 4


class TestBadValues:
    @pytest.mark.parametrize("value", [0, -1, "fast"])
    @pytest.mark.parametrize("make", [small_gan, small_vae])
    def test_bad_values_raise_value_error_naming_the_argument(self, make, value):
        with pytest.raises(ValueError, match=rf"steps_per_execution.*{value!r}"):
            make(steps_per_execution=value)

    @pytest.mark.parametrize("value", [1.5, None, True])
    def test_wrong_types_raise_type_error(self, value):
        with pytest.raises(TypeError, match="steps_per_execution"):
            E.check_steps_per_execution(value)


class TestBuilderAutoencoder:
    def _ae(self):
        return tiny_autoencoder(dim=6)

    def test_a_plain_compile_and_fit_get_auto(self, x, loop_even_for_short_runs):
        ae = self._ae()
        assert isinstance(ae, keras.Model) and ae.get_compile_config()[
            "steps_per_execution"] == "auto"
        calls, counter = CallCounter(), BatchCounter()
        ae.fit(x, x, batch_size=BATCH, epochs=2, verbose=0, callbacks=[calls])
        assert ae.steps_per_execution == E.AUTO_STEPS and calls.batches == [31, 31]
        ae.fit(x, x, batch_size=BATCH, epochs=2, verbose=0, callbacks=[counter])
        assert counter.batches == [0, 1, 2, 3] * 2 and int(ae.optimizer.iterations) == 16

    def test_it_learns_like_keras_model_on_the_same_batches(self, x):
        ae = self._ae()
        plain = keras.Model(ae.inputs, ae.outputs)  # shares the layers: same start
        weights = ae.get_weights()
        plain.compile(keras.optimizers.SGD(0.5), "mse")
        plain.fit(x, x, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
        expected = ae.get_weights()
        ae.set_weights(weights)
        ae.compile(keras.optimizers.SGD(0.5), "mse")
        ae.fit(x, x, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
        for got, want in zip(ae.get_weights(), expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    def test_keras_save_load_keeps_the_class_and_auto(self, x, tmp_path):
        ae = self._ae()
        ae.fit(x, x, batch_size=BATCH, verbose=0)
        loaded = check_keras_roundtrip(ae, x[:4], tmp_path)
        assert type(loaded) is type(ae)
        assert loaded.get_compile_config()["steps_per_execution"] == "auto"
        assert int(loaded.optimizer.iterations) == 4
        assert type(keras.models.clone_model(ae)) is type(ae)


class TestOurCallbacksDeclareTheirNeed:
    def test_epoch_only_lr_logger_and_kl_warmup_keep_auto_fast(self):
        from tfgenopt.models._execution import needs_every_batch

        assert not needs_every_batch(tg.callbacks.LearningRateLogger())
        assert needs_every_batch(tg.callbacks.LearningRateLogger(per_batch=True))
        assert not needs_every_batch(tg.callbacks.KLWarmup(epochs=3))
        assert needs_every_batch(tg.callbacks.KLWarmup(epochs=3, per_step=True,
                                                       steps_per_epoch=4))
