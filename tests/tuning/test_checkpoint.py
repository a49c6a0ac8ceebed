"""Tests of tfgenopt/tuning/_checkpoint.py: the best epoch's weights, written once per trial."""

import keras
import keras_tuner
import numpy as np

from tfgenopt.tuning._checkpoint import BestWeightsInMemory, SaveBestEpoch, defer_checkpoints


class _Scripted(keras.callbacks.Callback):
    """Replaces the epoch's ``val_loss`` by a scripted value (``None``: removes it) and
    records the weights each epoch ends with."""

    def __init__(self, values):
        super().__init__()
        self.values, self.weights = list(values), []

    def on_epoch_end(self, epoch, logs=None):
        if self.values[epoch] is None:
            logs.pop("val_loss", None)
        else:
            logs["val_loss"] = self.values[epoch]
        self.weights.append([w.numpy().copy() for w in self.model.weights])


def _model():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(6)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def _fit(tmp_path, values, saver=None):
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    model = _model()
    saver = saver or SaveBestEpoch(keras_tuner.Objective("val_loss", "min"),
                                   str(tmp_path / "checkpoint.weights.h5"))
    writes = []
    save = saver._save_model
    saver._save_model = lambda: (writes.append(1), save())
    script = _Scripted(values)
    callbacks = defer_checkpoints([script, saver])
    assert isinstance(callbacks[1], BestWeightsInMemory) and callbacks[0] is script
    model.fit(x, x, validation_data=(x, x), epochs=len(values), batch_size=16,
              callbacks=callbacks, verbose=0)
    return model, script, saver, writes


def _same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


def _loaded(tmp_path):
    model = _model()
    model.load_weights(str(tmp_path / "checkpoint.weights.h5"))
    return [w.numpy() for w in model.weights]


def test_file_holds_the_best_epoch_and_is_written_once(tmp_path):
    model, script, saver, writes = _fit(tmp_path, [3.0, 1.0, 2.0, 5.0])
    assert writes == [1]
    assert saver.best_value == 1.0
    assert _same(_loaded(tmp_path), script.weights[1])  # epoch 1, not the last
    assert not _same(script.weights[1], script.weights[3])
    # the model itself keeps its final weights once the checkpoint is written.
    assert _same([w.numpy() for w in model.weights], script.weights[3])


def test_no_improvement_over_an_earlier_execution_writes_nothing(tmp_path):
    _, first, saver, _ = _fit(tmp_path, [2.0, 1.0])
    _, _, _, writes = _fit(tmp_path, [4.0, 3.0], saver=saver)  # the trial's 2nd execution
    assert writes == [] and saver.best_value == 1.0
    assert _same(_loaded(tmp_path), first.weights[1])


def test_without_the_objective_the_last_epoch_is_written_once(tmp_path):
    _, script, _, writes = _fit(tmp_path, [None, None, None])
    assert writes == [1]
    assert _same(_loaded(tmp_path), script.weights[2])
