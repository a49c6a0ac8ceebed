"""GAN under tf.distribute (two logical CPUs) and mixed precision."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.models import GAN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Two logical CPUs: made by tests/conftest.py in every test process (then the script runs
# in-process), else by this preamble in a process of its own.
PREAMBLE = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
""")

MIRRORED_SCRIPT = textwrap.dedent("""
    import json
    import tensorflow as tf
    import keras, numpy as np
    import tfgenopt as tg

    class FixedNoiseGAN(tg.models.GAN):
        def _batch_noise(self, x_real, labels):
            return x_real[:, : self.latent_dim] * 2.0 - 1.0

        def _interpolation_weights(self, x_real):
            return x_real[:, -1]  # per sample, so the replicas see the same values

    def make(loss, gp):
        g = tg.builders.dense_generator(latent_dim=8, hidden=(16,), output_dim=32, seed=0)
        d = tg.builders.dense_discriminator(input_dim=32, hidden=(16,), seed=1)
        gan = FixedNoiseGAN(g, d, latent_dim=8, ema=0.5, seed=0)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1),
                    loss=loss, gradient_penalty=gp)
        return gan

    x = np.random.default_rng(0).random((32, 32)).astype("float32")
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {}
    for loss, gp in (("non_saturating", 0.0), ("wasserstein", 1.0)):  # noise fixed by hooks
        one = make(loss, gp)
        h1 = one.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False).history
        with strategy.scope():
            two = make(loss, gp)
        h2 = two.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False).history
        diffs = {n: max(float(np.abs(a - b).max()) for a, b in zip(
            one.networks()[n].get_weights(), two.networks()[n].get_weights()))
            for n in one.networks()}
        results[loss] = {"replicas": strategy.num_replicas_in_sync, "diffs": diffs,
                         "one": {k: v[0] for k, v in h1.items()},
                         "two": {k: v[0] for k, v in h2.items()},
                         "iterations": int(two.d_optimizer.iterations.numpy())}

    def per_replica(fn, model_maker):
        # Each replica's draws for a fresh model (same seed): differ per replica, reproducible.
        runs = []
        for _ in range(2):
            with strategy.scope():
                model = model_maker()
            values = strategy.run(tf.function(lambda: fn(model)))
            runs.append([v.numpy().tolist() for v in strategy.experimental_local_results(values)])
        return runs

    def plain_gan():
        return tg.models.GAN(tg.builders.dense_generator(latent_dim=8, hidden=(16,),
                                                         output_dim=32, seed=0),
                             tg.builders.dense_discriminator(input_dim=32, hidden=(16,), seed=1),
                             latent_dim=8, seed=0)

    def vae():
        return tg.models.VAE(tg.builders.vae_encoder(32, latent_dim=2, hidden=(8,), seed=0),
                             tg.builders.vae_decoder(2, 32, hidden=(8,), seed=1), seed=2)

    def diffusion():
        x_in, level = keras.Input((4,)), keras.Input((1,))
        h = keras.layers.Dense(8)(keras.layers.Concatenate()([x_in, level]))
        model = tg.models.Diffusion(keras.Model([x_in, level], keras.layers.Dense(4)(h)), seed=2)
        model.compile(jit_compile=False)
        return model

    with strategy.scope():
        dm = diffusion()
    results["diffusion_loss"] = dm.fit(x[:, :4] * 2 - 1, batch_size=16, epochs=2,
                                       verbose=0).history["loss"]
    xb = tf.constant(x[:8])
    results["noise"] = {
        "diffusion_eps": per_replica(lambda m: m._noise(xb[:, :4]), diffusion),
        "diffusion_levels": per_replica(
            lambda m: m._recipe.formulation.sigma_from_quantile(
                keras.random.uniform((8,), seed=m.seed_generator)), diffusion),
        "fake_batch": per_replica(lambda m: m.generator(m._batch_noise(xb, None)), plain_gan),
        "gp_alpha": per_replica(lambda m: m._interpolation_weights(xb), plain_gan),
        "instance_noise": per_replica(
            lambda m: keras.random.normal((8,), seed=m.seed_generator), plain_gan),
        "augment": per_replica(lambda a: a(tf.reshape(xb, (8, 4, 8, 1)), training=True),
                               lambda: tg.augment.AdaptiveAugment("translation,cutout",
                                                                  initial_p=1.0, seed=0)),
        "vae_eps": per_replica(lambda v: v._sample_eps(tf.zeros((8, 2))), vae),
    }
    output = json.dumps(results)
""")


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    """Run one step on one device and under MirroredStrategy on two logical CPUs."""
    import tensorflow as tf

    if len(tf.config.list_logical_devices("CPU")) >= 2:  # tests/conftest.py made them
        namespace = {"__name__": "mirrored"}
        exec(compile(MIRRORED_SCRIPT, "mirrored.py", "exec"), namespace)
        return json.loads(namespace["output"])
    script = tmp_path_factory.mktemp("mirrored") / "mirrored.py"
    script.write_text(PREAMBLE + MIRRORED_SCRIPT + "print(output)\n")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("loss", ["non_saturating", "wasserstein"])
def test_mirrored_two_cpus_equals_one_device_with_the_same_global_batch(mirrored, loss):
    # SGD on both networks: a gradient scaled wrongly by the replica count would show.
    out = mirrored[loss]  # wasserstein runs with the gradient penalty on
    assert out["replicas"] == 2 and out["iterations"] == 2
    for name, diff in out["diffs"].items():
        assert diff < 1e-5, (name, diff)
    for key in ("d_loss", "g_loss", "d_real", "d_fake") + (("gp",) if "gp" in out["one"] else ()):
        assert out["two"][key] == pytest.approx(out["one"][key], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("draw", ["fake_batch", "gp_alpha", "instance_noise", "augment",
                                  "vae_eps", "diffusion_eps", "diffusion_levels"])
def test_two_replicas_draw_their_own_noise_reproducibly(mirrored, draw):
    # Keras' SeedGenerator gives every replica the same seed: N replicas, one fake batch.
    first, second = (np.asarray(r) for r in mirrored["noise"][draw])
    assert first.shape[0] == 2  # two replicas
    assert np.abs(first[0] - first[1]).max() > 1e-3  # each replica its own draw
    np.testing.assert_array_equal(first, second)  # the same again for the same seed


def test_diffusion_trains_under_mirrored_strategy(mirrored):
    loss = mirrored["diffusion_loss"]
    assert len(loss) == 2 and all(np.isfinite(loss))


@pytest.fixture
def policy():
    def use(name):
        keras.config.set_dtype_policy(name)

    yield use
    keras.config.set_dtype_policy("float32")


def dense_gan(latent=16):
    g = tg.builders.dense_generator(latent_dim=latent, hidden=(32,), output_dim=64, seed=0)
    d = tg.builders.dense_discriminator(input_dim=64, hidden=(32,), seed=1)
    return GAN(g, d, latent_dim=latent, ema=0.9, seed=0)


class TestMixedPrecision:
    @pytest.mark.slow  # the float16 case (loss scaling) runs in make test
    def test_mixed_bfloat16_trains_without_nan(self, policy, digits8):
        policy("mixed_bfloat16")
        gan = dense_gan()
        gan.compile(gradient_penalty=1.0, loss="wasserstein")
        assert gan.generator.compute_dtype == "bfloat16"
        x = digits8[0].reshape(-1, 64)[:256]
        hist = gan.fit(x, batch_size=64, epochs=2, verbose=0).history
        assert all(np.all(np.isfinite(v)) for v in hist.values())
        samples = gan.generate(8, seed=0)
        assert samples.dtype == np.float32 and np.all(np.isfinite(samples))

    def test_mixed_float16_uses_loss_scaling_and_stays_finite(self, policy, digits8):
        policy("mixed_float16")
        gan = dense_gan()
        gan.compile(d_optimizer="adam", g_optimizer="adam")
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
        x = digits8[0].reshape(-1, 64)[:256]
        hist = gan.fit(x, batch_size=64, epochs=2, verbose=0).history
        assert all(np.all(np.isfinite(v)) for v in hist.values())
        assert int(gan.g_optimizer.iterations) > 0
