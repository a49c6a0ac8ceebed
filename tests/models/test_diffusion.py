"""Diffusion: training outcomes, the fixed-grid validation loss, saving, sampling, bad input."""

import warnings

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.models import Diffusion


def mlp(dim=2, width=64, num_classes=None, seed=0):
    x_in, level = keras.Input((dim,)), keras.Input((1,))
    inputs, parts = [x_in, level], [x_in, level]
    if num_classes:
        labels = keras.Input((), dtype="int32")
        inputs.append(labels)
        parts.append(keras.layers.Flatten()(keras.layers.Embedding(num_classes + 1, 8)(labels)))
    init = keras.initializers.GlorotUniform(seed)
    h = keras.layers.Concatenate()(parts)
    for i in range(2):
        h = keras.layers.Dense(width, activation="swish",
                               kernel_initializer=keras.initializers.GlorotUniform(seed + i))(h)
    return keras.Model(inputs, keras.layers.Dense(dim, kernel_initializer=init)(h))


def mixture(n, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[-0.6, -0.4], [0.5, 0.5]])
    return (centres[rng.integers(0, 2, n)] + 0.1 * rng.normal(size=(n, 2))).astype("float32")


def energy_distance(a, b):
    def mean_dist(p, q):
        return np.mean(np.linalg.norm(p[:, None] - q[None], axis=-1))
    return 2 * mean_dist(a, b) - mean_dist(a, a) - mean_dist(b, b)


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = Diffusion(mlp(), seed=0)
    model.compile(learning_rate=3e-3)
    untrained = model.generate(500, seed=1)
    history = model.fit(mixture(2048), batch_size=128, epochs=60, verbose=0)
    return model, untrained, history


@pytest.fixture(scope="module")
def plain():
    """A compiled default (flow) model, never fitted: for the tests that only read it
    (evaluate, seeded generate, arguments refused before any state changes)."""
    model = Diffusion(mlp(width=8), seed=0)
    model.compile()
    return model


@pytest.fixture(scope="module")
def unit_range():
    """A compiled model for data in [0, 1], never fitted (read-only, like ``plain``)."""
    model = Diffusion(mlp(width=8), value_range=(0.0, 1.0), seed=0)
    model.compile()
    return model


class TestTraining:
    def test_mixture_energy_distance_beats_untrained(self, trained):
        model, untrained, _ = trained
        data = mixture(500, seed=5)
        ours = energy_distance(model.generate(500, seed=1), data)
        # measured: 0.014 after 60 epochs (960 steps), 0.21 untrained
        assert ours < 0.03 and ours < 0.2 * energy_distance(untrained, data), ours

    def test_both_modes_drawn_in_proportion(self, trained):
        samples = trained[0].generate(1000, seed=2)
        share = np.mean(samples[:, 0] > 0)
        assert 0.35 < share < 0.65

    def test_loss_falls(self, trained):
        loss = trained[2].history["loss"]
        assert loss[-1] < 0.8 * loss[0]

    def test_unet_on_8px_digits_lowers_fixed_grid_val_loss(self):
        keras.utils.set_random_seed(0)
        x_train, x_val = tg.data.load_digits(image_size=8, validation_split=0.2)
        net = tg.builders.unet((8, 8, 1), widths=(16, 32), depth=1, seed=0)
        model = Diffusion(net, value_range=(0.0, 1.0), seed=0)
        model.compile(formulation="vp", target="v", weighting="min_snr")
        # 512 images, 3 epochs of 16 steps: measured 0.67x the first val_loss (seed 0)
        history = model.fit(x_train[:512], batch_size=32, epochs=3,
                            validation_data=(x_val[:128],), verbose=0)
        assert history.history["val_loss"][-1] < 0.9 * history.history["val_loss"][0]

    @pytest.mark.parametrize("formulation", ["vp", "edm", "flow"])
    def test_each_formulation_trains_a_step(self, formulation):
        model = Diffusion(mlp(width=8), seed=0)
        model.compile(formulation=formulation, loss="mae" if formulation == "vp" else "mse")
        loss = model.fit(mixture(64), batch_size=32, epochs=1, verbose=0).history["loss"][0]
        assert np.isfinite(loss) and loss > 0


class TestValidationLoss:
    def test_same_weights_same_val_loss(self, plain):
        model = plain
        x = mixture(100)
        assert model.evaluate(x, verbose=0) == model.evaluate(x, verbose=0)

    def test_grid_covers_the_levels(self):
        model = Diffusion(mlp(width=8), seed=0)
        model.compile(formulation="vp")
        _, s = model.validation_noise(np.zeros((16, 2), "float32"))
        s = np.asarray(s)
        assert len(np.unique(s)) == 8 and s[0] < s[7] and s[0] == s[8]


class TestSampling:
    def test_seeded_generate_reproducible_and_batch_independent(self, plain):
        model = plain
        a = model.generate(10, seed=3, sampler="ddpm", steps=4)
        b = model.generate(10, seed=3, sampler="ddpm", steps=4, batch_size=3)
        np.testing.assert_allclose(a[:3], b[:3], atol=1e-6)
        np.testing.assert_array_equal(a, model.generate(10, seed=3, sampler="ddpm", steps=4))

    def test_samples_clipped_into_value_range(self, unit_range):
        out = unit_range.generate(50, seed=0, steps=3)
        assert out.min() >= 0.0 and out.max() <= 1.0

    def test_conditional_with_guidance(self):
        model = Diffusion(mlp(width=8, num_classes=3), conditional=True, num_classes=3, seed=0)
        model.compile()
        x, y = mixture(64), np.arange(64) % 3
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        out = model.generate(6, labels=[0, 1, 2, 0, 1, 2], guidance=2.0, seed=0, steps=3)
        plain = model.generate(6, labels=[0, 1, 2, 0, 1, 2], seed=0, steps=3)
        assert out.shape == (6, 2) and not np.allclose(out, plain)


class TestSaving:
    def test_keras_round_trip(self, tmp_path):
        model = Diffusion(mlp(width=8), ema=0.9, seed=0)
        model.compile(formulation="edm")
        model.fit(mixture(64), batch_size=16, epochs=2, verbose=0)
        path = tmp_path / "d.keras"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.save(path)
            loaded = keras.saving.load_model(path)
        assert not [w for w in caught if issubclass(w.category, UserWarning)], caught
        assert loaded.recipe.to_config() == model.recipe.to_config()
        assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 8
        for a, b in zip(loaded.ema_network.get_weights(), model.ema_network.get_weights()):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        np.testing.assert_array_equal(loaded.generate(5, seed=1), model.generate(5, seed=1))


class TestBadInput:
    def test_network_with_wrong_inputs(self):
        x = keras.Input((2,))
        with pytest.raises(ValueError, match="noise_level"):
            Diffusion(keras.Model(x, keras.layers.Dense(2)(x)))

    def test_network_output_shape_must_match(self):
        x_in, level = keras.Input((2,)), keras.Input((1,))
        net = keras.Model([x_in, level], keras.layers.Dense(3)(x_in))
        with pytest.raises(ValueError, match=r"shaped like its noisy input \(2,\)"):
            Diffusion(net)

    def test_conditional_needs_num_classes_and_labels(self):
        with pytest.raises(ValueError, match="num_classes"):
            Diffusion(mlp(num_classes=3), conditional=True)
        model = Diffusion(mlp(num_classes=3), conditional=True, num_classes=3)
        model.compile()
        before = [w.copy() for w in model.network.get_weights()]
        with pytest.raises(ValueError, match="labels"):
            model.fit(mixture(32), epochs=1, verbose=0)
        with pytest.raises(ValueError, match=r"labels.*\[0, 3\)"):
            model.fit(mixture(32), np.full(32, 5), epochs=1, verbose=0)
        for a, b in zip(before, model.network.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_guidance_on_unconditional(self, plain):
        with pytest.raises(ValueError, match="guidance"):
            plain.generate(2, guidance=3.0)

    @pytest.mark.parametrize("kwargs, match", [
        ({"steps": 0}, "steps"), ({"sampler": "plms"}, r"sampler.*'plms'"),
        ({"eta": 0.5, "sampler": "heun"}, "eta")])
    def test_generate_arguments(self, plain, kwargs, match):
        with pytest.raises(ValueError, match=match):
            plain.generate(2, **kwargs)

    @pytest.mark.parametrize("kwargs, match", [
        ({"formulation": "ddpm"}, r"'ddpm'.*\['edm', 'flow', 'vp'\]"),
        ({"formulation": "vp", "schedule": "quad"}, r"\['cosine', 'linear'\]"),
        ({"formulation": "flow", "target": "v"}, "formulation='vp' only"),
        ({"loss": "huber"}, "loss"), ({"optimizer": "adamx"}, "optimizer")])
    def test_compile_arguments_keep_the_recipe(self, kwargs, match):
        model = Diffusion(mlp(width=8))
        model.compile(formulation="edm")
        with pytest.raises(ValueError, match=match):
            model.compile(**kwargs)
        assert model.recipe.formulation.name == "edm"

    def test_data_outside_value_range(self, unit_range):
        with pytest.raises(ValueError, match=r"value_range"):
            unit_range.fit(np.full((8, 2), 255.0, "float32"), epochs=1, verbose=0)

    def test_data_shape_must_fit(self, plain):
        with pytest.raises(ValueError, match="sample shape"):
            plain.fit(np.zeros((8, 3), "float32"), epochs=1, verbose=0)


class TestMixedPrecision:
    def test_float16_network_trains_with_float32_schedule_and_loss_scaling(self):
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy("mixed_float16")
        try:
            net = mlp(width=8)
        finally:
            keras.config.set_dtype_policy(previous)
        model = Diffusion(net, seed=0)
        model.compile(formulation="edm")
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        loss = model.fit(mixture(64), batch_size=32, epochs=2, verbose=0).history["loss"]
        assert np.all(np.isfinite(loss))
        eps, s = model.validation_noise(np.zeros((8, 2), "float32"))
        assert str(np.asarray(s).dtype) == "float32"
        assert model.generate(4, seed=0, steps=3).dtype == np.float32


def test_compile_and_the_recipe_have_the_same_arguments_and_defaults():
    import inspect

    compile_params = dict(inspect.signature(Diffusion.compile).parameters)
    compile_params.pop("self")
    recipe_params = inspect.signature(tg.models.DiffusionRecipe).parameters
    assert {k: p.default for k, p in compile_params.items()} == {
        k: p.default for k, p in recipe_params.items()}


def test_conditional_u_net_trains_on_folder_labels_from_load_images(tmp_path):
    images, labels = tg.data.make_shapes(48, image_size=8, seed=0)
    folder = tg.data.write_image_folder(images, labels, str(tmp_path / "shapes"),
                                        class_names=tg.data.SHAPE_CLASSES)
    train = tg.data.load_images(folder, image_size=8, validation_split=None, batch_size=16)
    classes = len(train.class_names)
    net = tg.builders.unet((8, 8, 3), widths=(8, 16), depth=1, num_classes=classes, seed=0)
    model = Diffusion(net, conditional=True, num_classes=classes, seed=0)  # load_images: [-1, 1]
    model.compile()
    before = [w.copy() for w in model.network.get_weights()]
    history = model.fit(train, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.network.get_weights()))
    out = model.generate(classes, labels=np.arange(classes), guidance=2.0, seed=0, steps=2)
    assert out.shape == (classes, 8, 8, 3) and out.min() >= -1.0 and out.max() <= 1.0


def test_a_non_finite_loss_stops_fit_naming_the_step_before_its_update():
    model = Diffusion(mlp(width=8), ema=None, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(1e12), jit_compile=False)
    x = mixture(256)
    with pytest.raises(FloatingPointError, match=r"stopped at step (\d+)") as info:
        model.fit(x, batch_size=16, epochs=20, verbose=0)
    step = int(info.value.args[0].split("step ")[1].split(":")[0])
    assert step > 1 and int(model.optimizer.iterations) == step - 1
    assert all(np.all(np.isfinite(w)) for w in model.network.get_weights())


def test_offset_noise_adds_one_constant_per_image_and_channel():
    x_in, level = keras.Input((8, 8, 3)), keras.Input((1,))
    net = keras.Model([x_in, level], keras.layers.Conv2D(3, 1)(x_in))
    spreads = {}
    for offset in (0.0, 1.0):
        model = Diffusion(net, ema=None, seed=0)
        model.compile(offset_noise=offset)
        eps = np.asarray(model._noise(np.zeros((400, 8, 8, 3), "float32")))
        spreads[offset] = eps.mean(axis=(1, 2)).std()  # per (image, channel) spatial means
    # plain noise: std of a mean of 64 draws = 1/8; offset 1: sqrt(1 + 1/64)
    assert spreads[0.0] == pytest.approx(1 / 8, rel=0.1)
    assert spreads[1.0] == pytest.approx((1 + 1 / 64) ** 0.5, rel=0.1)
