"""tfgenopt.data.write_image_folder / load_images against keras.utils.image_dataset_from_directory."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgenopt as tg


@pytest.fixture(scope="module")
def shapes():
    return tg.data.make_shapes(48, image_size=16, seed=0)


@pytest.fixture(scope="module")
def folder(shapes, tmp_path_factory):
    x, y = shapes
    return tg.data.write_image_folder(x, y, tmp_path_factory.mktemp("img") / "shapes",
                                      class_names=tg.data.SHAPE_CLASSES)


def _keras(folder, **kwargs):
    kwargs = {"image_size": (16, 16), "batch_size": 8, "seed": 3, **kwargs}
    return keras.utils.image_dataset_from_directory(folder, verbose=False, **kwargs)


def _arrays(ds):
    xs, ys = zip(*[(a.numpy(), b.numpy()) for a, b in ds])
    return np.concatenate(xs), np.concatenate(ys)


def _sorted_rows(x):
    flat = x.reshape(len(x), -1)
    return flat[np.lexsort(flat.T[::-1])]


class TestWriteImageFolder:
    def test_one_subfolder_per_class_in_label_order_with_exact_pngs(self, folder, shapes):
        x, y = shapes
        names = sorted(os.listdir(folder))
        assert names == [f"{i:02d}_{c}" for i, c in enumerate(tg.data.SHAPE_CLASSES)]
        assert [len(os.listdir(os.path.join(folder, n))) for n in names] == np.bincount(y).tolist()
        png = tf.io.decode_png(tf.io.read_file(os.path.join(folder, names[y[5]], "000005.png")))
        np.testing.assert_array_equal(png.numpy(), x[5])

    def test_an_existing_folder_with_files_is_refused_and_left_alone(self, folder, shapes):
        before = sorted(os.listdir(folder))
        with pytest.raises(ValueError, match="already exists"):
            tg.data.write_image_folder(*shapes, folder)
        assert sorted(os.listdir(folder)) == before

    def test_bad_labels_write_nothing(self, shapes, tmp_path):
        with pytest.raises(ValueError, match="labels"):
            tg.data.write_image_folder(shapes[0], shapes[1][:-1], tmp_path / "out")
        assert os.listdir(tmp_path) == []


class TestLoadImages:
    def test_streamed_batches_equal_keras_own_after_the_range_mapping(self, folder):
        train, val = tg.data.load_images(folder, image_size=16, validation_split=0.25, seed=3,
                                         batch_size=8, cache=False)
        k_train, k_val = _keras(folder, validation_split=0.25, subset="both")
        for ours, theirs in ((train, k_train), (val, k_val)):
            (x, y), (kx, ky) = _arrays(ours), _arrays(theirs)
            np.testing.assert_array_equal(y, ky)
            np.testing.assert_allclose(x, kx * np.float32(2 / 255) - 1, atol=1e-6, rtol=0)
        assert train.class_names == k_train.class_names

    def test_in_memory_set_has_keras_images_and_a_seeded_order_per_epoch(self, folder):
        train, val = tg.data.load_images(folder, image_size=16, value_range=(0, 1),
                                         validation_split=0.25, seed=3, batch_size=8)
        k_train, k_val = _keras(folder, validation_split=0.25, subset="both")
        x, y = _arrays(val)
        kx, ky = _arrays(k_val)
        np.testing.assert_array_equal(y, ky)  # validation: the same images in the same order
        np.testing.assert_allclose(x, kx / 255, atol=1e-6, rtol=0)
        x1, _ = _arrays(train)
        x2, _ = _arrays(train)
        again, _ = _arrays(tg.data.load_images(folder, image_size=16, value_range=(0, 1),
                                               validation_split=0.25, seed=3, batch_size=8)[0])
        np.testing.assert_allclose(_sorted_rows(x1), _sorted_rows(_arrays(k_train)[0] / 255),
                                   atol=1e-6)
        assert not np.array_equal(x1, x2)  # reshuffled every epoch...
        np.testing.assert_array_equal(x1, again)  # ...in an order fixed by the seed

    def test_as_numpy_without_split_or_labels_returns_all_images(self, folder):
        x = tg.data.load_images(folder, image_size=16, validation_split=0, labels=None,
                                value_range=(0, 1), as_numpy=True)
        assert x.shape == (48, 16, 16, 3) and x.dtype == np.float32
        ds = tg.data.load_images(folder, image_size=8, validation_split=0, labels=None)
        assert next(iter(ds)).shape == (32, 8, 8, 3)  # images only, resized

    def test_grayscale_is_inferred_from_the_files_or_converted_on_request(self, folder, shapes,
                                                                           tmp_path):
        gray = shapes[0].mean(-1).astype(np.uint8)
        path = tg.data.write_image_folder(gray, shapes[1], tmp_path / "gray")
        x, y = tg.data.load_images(path, image_size=16, validation_split=0, as_numpy=True)
        assert x.shape == (48, 16, 16, 1) and len(np.unique(y)) == 12
        x, _ = tg.data.load_images(folder, image_size=16, validation_split=0,
                                   color_mode="grayscale", as_numpy=True)
        assert x.shape[-1] == 1


class TestLoadImagesBadInput:
    def test_missing_and_empty_folders_and_folders_without_images(self, tmp_path):
        with pytest.raises(ValueError, match="does not exist"):
            tg.data.load_images(tmp_path / "nope")
        with pytest.raises(ValueError, match="holds no images"):
            tg.data.load_images(tmp_path)
        (tmp_path / "notes.txt").write_text("x")
        with pytest.raises(ValueError, match=r"holds no images \(1 other file"):
            tg.data.load_images(tmp_path)

    def test_mixed_channel_counts_name_both_files(self, shapes, tmp_path):
        path = tg.data.write_image_folder(shapes[0][:4], [0, 0, 1, 1], tmp_path / "mixed")
        gray = tf.io.encode_png(shapes[0][0, ..., :1]).numpy()
        (tmp_path / "mixed" / "class_01" / "gray.png").write_bytes(gray)
        with pytest.raises(ValueError, match=r"1 channel\(s\) in .*gray\.png.*3 channel"):
            tg.data.load_images(path, image_size=16)
        x, _ = tg.data.load_images(path, image_size=16, color_mode="rgb", validation_split=0,
                                   as_numpy=True)
        assert x.shape == (5, 16, 16, 3)

    def test_an_unreadable_file_is_named(self, shapes, tmp_path):
        path = tg.data.write_image_folder(shapes[0][:4], [0, 0, 1, 1], tmp_path / "bad")
        (tmp_path / "bad" / "class_00" / "broken.png").write_bytes(b"not a png")
        with pytest.raises(ValueError, match="broken.png.*not a readable PNG"):
            tg.data.load_images(path)

    def test_one_class_or_no_class_folders_with_inferred_labels(self, shapes, tmp_path):
        one = tg.data.write_image_folder(shapes[0][:4], [0] * 4, tmp_path / "one")
        with pytest.raises(ValueError, match="one class subfolder"):
            tg.data.load_images(one, validation_split=0)
        flat = tg.data.write_image_folder(shapes[0][:4], None, tmp_path / "flat")
        with pytest.raises(ValueError, match="no class subfolders"):
            tg.data.load_images(flat)
        assert tg.data.load_images(flat, labels=None, validation_split=0, as_numpy=True,
                                   image_size=16).shape == (4, 16, 16, 3)

    @pytest.mark.parametrize("kwargs, name", [
        ({"image_size": (16, 0)}, "image_size"), ({"color_mode": "rgba"}, "color_mode"),
        ({"value_range": (0, 2)}, "value_range"), ({"validation_split": 1.0}, "validation_split"),
        ({"labels": "binary"}, "labels"), ({"cache": "yes"}, "cache")])
    def test_bad_arguments_name_themselves(self, folder, kwargs, name):
        with pytest.raises((ValueError, TypeError), match=name):
            tg.data.load_images(folder, **kwargs)


class TestTrainingFromAFolder:
    def _gan(self, conditional=False):
        g = tg.builders.dcgan_generator(latent_dim=8, image_shape=(16, 16, 3), base_filters=4,
                                        num_classes=12 if conditional else None, seed=0)
        d = tg.builders.dcgan_discriminator(image_shape=(16, 16, 3), base_filters=4,
                                            num_classes=12 if conditional else None, seed=0)
        gan = tg.models.GAN(g, d, latent_dim=8, conditional=conditional,
                            num_classes=12 if conditional else None, seed=0)
        gan.compile(run_eagerly=True)  # a few steps: cheaper than tracing the step
        return gan

    def test_unconditional_gan_ignores_labels_and_round_trips(self, folder, tmp_path):
        from tests.helpers import check_keras_roundtrip

        ds = tg.data.load_images(folder, image_size=16, validation_split=0, batch_size=16)
        gan = self._gan()
        history = gan.fit(ds, epochs=2, verbose=0)
        assert all(np.isfinite(history.history["d_loss"]))
        z = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
        check_keras_roundtrip(gan, z, tmp_path)

    def test_gan_trains_at_64_px_rgb_from_a_folder(self, folder):
        """The 64 px path end to end: load_images resizes to 64, the builders make 64x64x3."""
        ds = tg.data.load_images(folder, image_size=64, validation_split=0, labels=None,
                                 batch_size=16)
        assert ds.element_spec.shape.as_list() == [None, 64, 64, 3]
        g = tg.builders.dcgan_generator(latent_dim=8, image_shape=(64, 64, 3), base_filters=2,
                                        seed=0)
        d = tg.builders.dcgan_discriminator(image_shape=(64, 64, 3), base_filters=2, seed=0)
        gan = tg.models.GAN(g, d, latent_dim=8, seed=0)
        gan.compile(run_eagerly=True)
        before = [w.copy() for w in g.get_weights()]
        history = gan.fit(ds, epochs=1, verbose=0)
        assert gan.d_optimizer.iterations.numpy() == 3 and np.isfinite(history.history["d_loss"][0])
        assert any(not np.allclose(a, b) for a, b in zip(before, g.get_weights()))
        x = gan.generate(4, seed=0)
        assert x.shape == (4, 64, 64, 3) and np.all(np.abs(x) <= 1.0)

    def test_conditional_gan_trains_on_folder_labels(self, folder):
        ds = tg.data.load_images(folder, image_size=16, validation_split=0, batch_size=16)
        gan = self._gan(conditional=True)
        gan.fit(ds, epochs=1, verbose=0)
        assert gan.d_optimizer.iterations.numpy() == 3
        assert gan.generate(12, labels=np.arange(12), seed=0).shape == (12, 16, 16, 3)
        with pytest.raises(ValueError, match="labels"):
            gan.fit(tg.data.load_images(folder, image_size=16, validation_split=0,
                                        labels=None), epochs=1, verbose=0)

    def test_vae_trains_on_a_labelled_folder_dataset(self, folder):
        enc = tg.builders.vae_encoder((16, 16, 3), latent_dim=2, hidden=(8,), filters=(4,),
                                      seed=0)
        dec = tg.builders.vae_decoder(2, (16, 16, 3), hidden=(8,), seed=0)
        vae = tg.models.VAE(enc, dec, seed=0)
        vae.compile("adam", run_eagerly=True)
        ds = tg.data.load_images(folder, image_size=16, value_range=(0, 1), validation_split=0,
                                 batch_size=16)
        history = vae.fit(ds, epochs=2, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
