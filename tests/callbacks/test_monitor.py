"""MonitorCallback: the one improvement test, and the callback-order contract."""

import pathlib

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.callbacks import EarlyStopping, MonitorCallback, ReduceLROnPlateau
from tfgenopt.models import protocol

X = np.linspace(0, 1, 16, dtype="float32").reshape(8, 2)
Y = X.sum(axis=1, keepdims=True)


class KeyWriter(keras.callbacks.Callback):
    """A producer that follows the protocol: announces ``val_kid`` and writes 1, 1/2, 1/3..."""

    def on_train_begin(self, logs=None):
        protocol.announce_keys(self.model, self, ["val_kid"])

    def on_epoch_end(self, epoch, logs=None):
        logs["val_kid"] = 1.0 / (epoch + 1)

    def on_train_end(self, logs=None):
        protocol.withdraw_keys(self.model, self)


def tiny_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    return model


class TestImprovement:
    @pytest.mark.parametrize("cls", [EarlyStopping, ReduceLROnPlateau, MonitorCallback])
    def test_min_delta_is_absolute_and_strict_like_keras(self, cls):
        cb = cls("val_kid", min_delta=-0.5)
        assert cb.min_delta == 0.5
        assert cb._is_improvement(1.4, 2.0) and not cb._is_improvement(1.5, 2.0)
        up = cls("val_coverage", min_delta=0.5)
        assert up._is_improvement(2.6, 2.0) and not up._is_improvement(2.5, 2.0)
        assert up._is_improvement(-1e9, None)

    def test_the_callbacks_share_one_improvement_test_and_no_stack_walk(self):
        root = pathlib.Path(tg.__file__).parent
        sources = {p: p.read_text() for p in root.rglob("*.py")}
        defs = [p.name for p, text in sources.items() if "def _is_improvement" in text]
        assert defs == ["_monitor.py"]
        walkers = sorted(p.name for p, text in sources.items() if "currentframe" in text)
        assert walkers == []
        for cls in (EarlyStopping, ReduceLROnPlateau, tg.callbacks.CollapseMonitor):
            assert issubclass(cls, MonitorCallback)

    def test_reduce_lr_never_counts_a_carried_value_as_improvement(self):
        model = tiny_model()
        cb = ReduceLROnPlateau("val_kid", factor=0.5, patience=1, min_delta=0.0)
        cb.set_model(model)
        cb.on_train_begin()
        cb.on_epoch_end(0, {"val_kid": 2.0})
        protocol.set_carried_keys(model, ["val_kid"])
        cb.on_epoch_end(1, {"val_kid": 1.0})  # lower, but carried: not measured on these weights
        assert cb.best == 2.0 and [e for e, _ in cb.reductions] == [1]


class TestOrderContract:
    @pytest.mark.parametrize("consumer", [
        lambda: EarlyStopping("val_kid", patience=5, verbose=0),
        lambda: ReduceLROnPlateau("val_kid", patience=5)])
    def test_consumer_listed_before_its_producer_raises_before_training(self, consumer):
        model = tiny_model()
        before = [w.copy() for w in model.get_weights()]
        with pytest.raises(ValueError, match=r"KeyWriter must come before \w+\(monitor='val_kid'"
                                             r"\).*Put KeyWriter before"):
            model.fit(X, Y, epochs=2, verbose=0, callbacks=[consumer(), KeyWriter()])
        for a, b in zip(model.get_weights(), before):
            np.testing.assert_array_equal(a, b)  # not one step trained

    def test_producer_first_works_and_the_consumer_reads_its_key(self):
        model = tiny_model()
        stop = EarlyStopping("val_kid", patience=1, min_delta=0.4, verbose=0)
        history = model.fit(X, Y, epochs=5, verbose=0, callbacks=[KeyWriter(), stop])
        # 1, 0.5 (better by 0.5 > 0.4), 0.333 (by 0.167: no), stop at patience 1
        assert history.history["val_kid"] == pytest.approx([1.0, 0.5, 1 / 3])
        assert stop.best_epoch == 1 and "no improvement of val_kid" in model.stop_reason
        assert protocol.announced_keys(model) == {}  # withdrawn at the end of the run

    def test_an_earlier_runs_announcement_does_not_hide_a_wrong_order(self):
        model = tiny_model()
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[KeyWriter(), EarlyStopping("val_kid", verbose=0)])
        with pytest.raises(ValueError, match="KeyWriter must come before EarlyStopping"):
            model.fit(X, Y, epochs=1, verbose=0,
                      callbacks=[EarlyStopping("val_kid", verbose=0), KeyWriter()])

    def test_announcements_record_order_and_replace_a_producers_own(self):
        model = tiny_model()
        first, second = KeyWriter(), KeyWriter()
        protocol.announce_keys(model, first, ["a"])
        mark = protocol.announcement_mark(model)
        protocol.announce_keys(model, second, ["b"])
        protocol.announce_keys(model, first, ["a", "c"])  # re-announced: now after the mark
        assert protocol.announced_keys(model, until=mark) == {}
        assert protocol.announced_keys(model, since=mark) == {
            "a": "KeyWriter", "b": "KeyWriter", "c": "KeyWriter"}
        protocol.withdraw_keys(model, first)
        assert protocol.announced_keys(model) == {"b": "KeyWriter"}
