"""tfgenopt.data: bundled digits, cached-dataset errors, and the tf.data input path."""

import gzip
import os

import numpy as np
import pytest

import tfgenopt as tg


class TestLoadDigits:
    def test_full_set_has_1797_images_of_10_balanced_classes(self):
        x, y = tg.data.load_digits(validation_split=0.0, return_labels=True)
        assert x.shape == (1797, 8, 8, 1)
        assert x.dtype == np.float32
        assert sorted(np.unique(y).tolist()) == list(range(10))
        assert np.bincount(y).min() >= 170

    def test_values_are_scaled_to_unit_range(self):
        x = tg.data.load_digits(validation_split=0.0)
        assert x.min() == 0.0 and x.max() == 1.0

    def test_symmetric_range_maps_zero_to_minus_one(self):
        x = tg.data.load_digits(validation_split=0.0, value_range=(-1, 1))
        assert x.min() == -1.0 and x.max() == 1.0

    @pytest.mark.parametrize("size", [8, 16, 28, 32])
    def test_resized_images_have_requested_size_and_stay_in_range(self, size):
        x_train, x_val = tg.data.load_digits(image_size=size)
        assert x_train.shape[1:] == (size, size, 1)
        assert x_train.min() >= 0.0 and x_train.max() <= 1.0
        assert x_train.shape[0] + x_val.shape[0] == 1797

    def test_resize_preserves_mean_intensity(self):
        small = tg.data.load_digits(validation_split=0.0)
        big = tg.data.load_digits(image_size=28, validation_split=0.0)
        np.testing.assert_allclose(big.mean(), small.mean(), rtol=0.1)

    def test_flatten_gives_vectors(self):
        x_train, _ = tg.data.load_digits(image_size=28, flatten=True)
        assert x_train.shape[1:] == (784,)

    def test_split_is_reproducible_for_a_seed_and_differs_across_seeds(self):
        a, _ = tg.data.load_digits(seed=3)
        b, _ = tg.data.load_digits(seed=3)
        c, _ = tg.data.load_digits(seed=4)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)

    def test_split_is_stratified_and_disjoint(self):
        (x_tr, y_tr), (x_val, y_val) = tg.data.load_digits(
            validation_split=0.2, return_labels=True, flatten=True)
        assert x_val.shape[0] == pytest.approx(0.2 * 1797, abs=10)
        counts = np.bincount(y_val, minlength=10)
        assert counts.min() >= 34 and counts.max() <= 37
        train_rows = {r.tobytes() for r in x_tr}
        overlap = sum(r.tobytes() in train_rows for r in x_val)
        assert overlap < 5  # only genuinely duplicated digits in the source can coincide

    @pytest.mark.parametrize("kwargs, match", [
        ({"image_size": 12}, "image_size"),
        ({"validation_split": 1.0}, "validation_split"),
        ({"validation_split": -0.1}, "validation_split"),
        ({"value_range": (0, 255)}, "value_range"),
    ])
    def test_bad_arguments_raise_value_error_naming_them(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            tg.data.load_digits(**kwargs)

    def test_load_by_name_rejects_unknown_dataset(self):
        with pytest.raises(ValueError, match="dataset"):
            tg.data.load("cifar")


class TestCachedDatasets:
    def test_missing_mnist_raises_file_not_found_naming_the_path(self, tmp_path, monkeypatch):
        monkeypatch.setenv("KERAS_HOME", str(tmp_path))
        with pytest.raises(FileNotFoundError, match=str(tmp_path / "datasets" / "mnist.npz")):
            tg.data.load_mnist()

    def test_missing_fashion_mnist_names_every_file(self, tmp_path, monkeypatch):
        monkeypatch.setenv("KERAS_HOME", str(tmp_path))
        with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
            tg.data.load_fashion_mnist()

    def test_cached_mnist_file_is_read_and_scaled(self, tmp_path, monkeypatch):
        monkeypatch.setenv("KERAS_HOME", str(tmp_path))
        os.makedirs(tmp_path / "datasets")
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
        y = np.arange(50, dtype=np.uint8) % 10
        np.savez(tmp_path / "datasets" / "mnist.npz", x_train=x, y_train=y,
                 x_test=x[:10], y_test=y[:10])
        x_tr, x_val = tg.data.load_mnist(flatten=True, validation_split=0.2)
        assert x_tr.shape == (40, 784) and x_val.shape == (10, 784)
        full = tg.data.load_mnist(validation_split=0.0, value_range=(-1, 1))
        np.testing.assert_allclose(full[0, ..., 0], x[0] / 255.0 * 2 - 1, atol=1e-6)

    def test_cached_fashion_mnist_idx_files_are_parsed(self, tmp_path, monkeypatch):
        monkeypatch.setenv("KERAS_HOME", str(tmp_path))
        folder = tmp_path / "datasets" / "fashion-mnist"
        os.makedirs(folder)
        x = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
        y = np.array([1, 2, 3], dtype=np.uint8)

        def write(name, arr):
            header = bytes([0, 0, 8, arr.ndim]) + b"".join(
                int(d).to_bytes(4, "big") for d in arr.shape)
            with gzip.open(folder / name, "wb") as fh:
                fh.write(header + arr.tobytes())

        for prefix in ("train", "t10k"):
            write(f"{prefix}-images-idx3-ubyte.gz", x)
            write(f"{prefix}-labels-idx1-ubyte.gz", y)
        xs, ys = tg.data.load_fashion_mnist(validation_split=0.0, return_labels=True)
        assert xs.shape == (3, 28, 28, 1)
        assert ys.tolist() == [1, 2, 3]
        np.testing.assert_allclose(xs[1, ..., 0], x[1] / 255.0, atol=1e-6)


class TestAsDataset:
    def test_batches_cover_every_sample_once_per_epoch(self):
        x = np.arange(100, dtype=np.float32).reshape(50, 2)
        ds = tg.data.as_dataset(x, batch_size=8, seed=1)
        seen = np.concatenate([b.numpy() for b in ds])
        assert seen.shape == (50, 2)
        assert sorted(seen[:, 0].tolist()) == sorted(x[:, 0].tolist())
        assert seen[:, 0].tolist() != x[:, 0].tolist()  # shuffled

    def test_labels_stay_aligned_with_samples(self):
        x = np.arange(40, dtype=np.float32).reshape(20, 2)
        y = np.arange(20)
        for xb, yb in tg.data.as_dataset(x, y, batch_size=6):
            np.testing.assert_array_equal(xb.numpy()[:, 0], 2 * yb.numpy())

    def test_same_seed_gives_same_order(self):
        x = np.random.default_rng(0).random((30, 3)).astype(np.float32)
        a = np.concatenate([b.numpy() for b in tg.data.as_dataset(x, batch_size=4, seed=5)])
        b = np.concatenate([b.numpy() for b in tg.data.as_dataset(x, batch_size=4, seed=5)])
        np.testing.assert_array_equal(a, b)

    def test_generator_input_is_cached_and_batched(self):
        calls = []

        def gen():
            calls.append(1)
            for i in range(10):
                yield np.full((3,), i, dtype=np.float32)

        ds = tg.data.as_dataset(gen, batch_size=4, shuffle=False)
        first = [b.numpy() for b in ds]
        second = [b.numpy() for b in ds]
        assert [b.shape[0] for b in first] == [4, 4, 2]
        np.testing.assert_array_equal(np.concatenate(first), np.concatenate(second))
        assert len(calls) == 2  # one peek for the signature, one pass to fill the cache

    @pytest.mark.parametrize("x, exc, match", [
        (np.array([[1.0, np.nan]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf]]), ValueError, "NaN or infinite"),
        (np.zeros((0, 4)), ValueError, "empty"),
        (np.zeros(5), ValueError, "dimensions"),
        (np.array([["a", "b"]]), TypeError, "numbers"),
    ])
    def test_bad_input_is_rejected_with_a_clear_error(self, x, exc, match):
        with pytest.raises(exc, match=match):
            tg.data.as_dataset(x)

    def test_mismatched_labels_are_rejected(self):
        with pytest.raises(ValueError, match="same number of samples"):
            tg.data.as_dataset(np.zeros((4, 2)), np.zeros(3))

    def test_bad_batch_size_is_rejected(self):
        with pytest.raises(ValueError, match="batch_size"):
            tg.data.as_dataset(np.zeros((4, 2)), batch_size=0)

    def test_feeds_model_fit(self):
        import keras

        x, _ = tg.data.load_digits(flatten=True)
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64)])
        model.compile("adam", "mse")
        hist = model.fit(tg.data.as_dataset(x, x, batch_size=64), epochs=2, verbose=0,
                         shuffle=False)
        assert hist.history["loss"][1] < hist.history["loss"][0]
