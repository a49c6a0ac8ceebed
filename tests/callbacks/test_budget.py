"""CPUBudget (tfgenopt/callbacks/budget.py): stops on process CPU time, measures on the way."""

import numpy as np
import pytest

import tfgenopt as tg


@pytest.fixture
def vae_and_data():
    x = tg.data.load_digits(image_size=8, flatten=True, validation_split=0.0)[:256]
    vae = tg.models.VAE(tg.builders.vae_encoder(64, latent_dim=2, hidden=(16,), seed=0),
                        tg.builders.vae_decoder(2, 64, hidden=(16,), seed=0), seed=0)
    vae.compile("adam")
    return vae, x


class StubMonitor:
    """A QualityMonitor stand-in counting its measurements (the real one is tested elsewhere)."""

    def __init__(self):
        self.calls, self.model = 0, None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self):
        self.calls = 0

    def measure(self):
        self.calls += 1
        return {"val_kid": 1.0 / self.calls}

    def on_train_end(self):
        pass


def test_budget_stops_training_once_its_cpu_seconds_are_spent(vae_and_data):
    vae, x = vae_and_data
    budget = tg.callbacks.CPUBudget(1.0)
    history = vae.fit(x, epochs=100_000, batch_size=64, verbose=0, callbacks=[budget])
    assert budget.cpu_s >= 1.0 and budget.stopped_epoch == len(history.epoch) < 100_000


def test_monitor_measures_first_epoch_at_shares_of_the_budget_and_carries_values(vae_and_data):
    vae, x = vae_and_data
    monitor = StubMonitor()
    budget = tg.callbacks.CPUBudget(1.5, monitor=monitor, measurements=3)
    history = vae.fit(x, epochs=100_000, batch_size=64, verbose=0, callbacks=[budget])
    records = budget.records
    assert records[0]["epoch"] == 1 and monitor.calls == len(records) <= 4
    assert records[-1]["epoch"] == len(history.epoch)  # the final weights are measured
    assert np.all(np.diff([r["cpu_s"] for r in records]) > 0)
    assert len(history.history["val_kid"]) == len(history.epoch)  # carried between measurements


def test_a_run_ended_by_its_epoch_count_is_measured_at_its_last_epoch(vae_and_data):
    vae, x = vae_and_data
    monitor = StubMonitor()
    budget = tg.callbacks.CPUBudget(1e6, monitor=monitor, measurements=2)
    vae.fit(x, epochs=3, batch_size=64, verbose=0, callbacks=[budget])
    assert [r["epoch"] for r in budget.records] == [1, 3] and budget.stopped_epoch is None


@pytest.mark.parametrize("kwargs, error", [({"seconds": 0}, ValueError),
                                           ({"seconds": 1, "measurements": 0}, ValueError),
                                           ({"seconds": 1, "monitor": "kid"}, TypeError)])
def test_bad_arguments_name_the_argument(kwargs, error):
    with pytest.raises(error, match=next(k for k in kwargs if k != "seconds" or
                                         kwargs[k] == 0)):
        tg.callbacks.CPUBudget(**kwargs)
