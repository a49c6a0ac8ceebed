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


@pytest.fixture(scope="module")
def labelled16(folder):
    """The folder as 16 px (images, labels) batches of 16: read by the GAN training tests."""
    return tg.data.load_images(folder, image_size=16, validation_split=0, batch_size=16)


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

    def test_mixed_channel_counts_load_as_rgb_with_one_line(self, shapes, tmp_path, capsys):
        path = tg.data.write_image_folder(shapes[0][:4], [0, 0, 1, 1], tmp_path / "mixed")
        gray = tf.io.encode_png(shapes[0][0, ..., :1]).numpy()
        (tmp_path / "mixed" / "class_01" / "gray.png").write_bytes(gray)
        x, _ = tg.data.load_images(path, image_size=16, validation_split=0, as_numpy=True)
        assert x.shape == (5, 16, 16, 3)
        assert capsys.readouterr().out == "load_images: 5 images load as rgb; converted 1 (1 L).\n"
        x, _ = tg.data.load_images(path, image_size=16, color_mode="grayscale",
                                   validation_split=0, as_numpy=True)
        assert x.shape == (5, 16, 16, 1)

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
        ({"image_size": (16, 0)}, "image_size"), ({"color_mode": "rgbx"}, "color_mode"),
        ({"value_range": (0, 2)}, "value_range"), ({"validation_split": 1.0}, "validation_split"),
        ({"labels": "binary"}, "labels"), ({"cache": "yes"}, "cache"),
        ({"background": "purple"}, "background"), ({"background": 3}, "background"),
        ({"interpolation": "cubic"}, "interpolation"),
        ({"crop_to_aspect_ratio": "yes"}, "crop_to_aspect_ratio"),
        ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "pad_to_aspect_ratio")])
    def test_bad_arguments_name_themselves(self, folder, kwargs, name):
        with pytest.raises((ValueError, TypeError), match=name):
            tg.data.load_images(folder, **kwargs)


class TestSplitAndAspectRatio:
    def test_validation_split_none_returns_what_zero_returns(self, folder):
        kwargs = {"image_size": 16, "as_numpy": True, "seed": 1}
        x0, y0 = tg.data.load_images(folder, validation_split=0, **kwargs)
        x1, y1 = tg.data.load_images(folder, validation_split=None, **kwargs)
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(y0, y1)

    def test_an_eight_image_folder_loads_with_the_default_split(self, shapes, tmp_path):
        path = tg.data.write_image_folder(shapes[0][:8], [0, 1] * 4, tmp_path / "eight")
        (x, y), (xv, yv) = tg.data.load_images(path, image_size=16, as_numpy=True)
        assert len(x) == 7 and len(xv) == 1  # int(0.1 * 8) = 0 is raised to one image
        (x, _), (xv, _) = tg.data.load_images(path, image_size=16, validation_split=0.25,
                                              as_numpy=True)
        assert len(x) == 6 and len(xv) == 2  # Keras' own count when it is at least one

    def test_a_split_of_one_image_says_the_counts(self, shapes, tmp_path):
        path = tg.data.write_image_folder(shapes[0][:1], None, tmp_path / "one")
        with pytest.raises(ValueError, match=r"1 image\(s\).*leaves 0 for training and 1 for "
                                             "validation"):
            tg.data.load_images(path, labels=None)

    @pytest.mark.parametrize("how", ["crop_to_aspect_ratio", "pad_to_aspect_ratio", None])
    def test_mixed_sizes_match_keras_own_loader(self, tmp_path, how):
        rng = np.random.default_rng(1)
        for i, (h, w) in enumerate([(12, 20), (20, 12), (16, 16), (9, 17), (30, 11)]):
            sub = tmp_path / "sizes" / f"c{i % 2}"
            sub.mkdir(parents=True, exist_ok=True)
            image = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
            (sub / f"{i}.png").write_bytes(tf.io.encode_png(image).numpy())
        flags = {how: True} if how else {}
        x, y = tg.data.load_images(tmp_path / "sizes", image_size=(10, 14), value_range=(0, 1),
                                   validation_split=0, shuffle=False, as_numpy=True, **flags)
        kx, ky = _arrays(_keras(tmp_path / "sizes", image_size=(10, 14), shuffle=False, **flags))
        np.testing.assert_array_equal(y, ky)
        np.testing.assert_allclose(x, kx / 255, atol=1e-6, rtol=0)


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

    def test_unconditional_gan_ignores_labels_and_round_trips(self, labelled16, tmp_path):
        from tests.helpers import check_keras_roundtrip

        gan = self._gan()
        history = gan.fit(labelled16, epochs=2, verbose=0)
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

    def test_conditional_gan_trains_on_folder_labels(self, folder, labelled16):
        gan = self._gan(conditional=True)
        gan.fit(labelled16, epochs=1, verbose=0)
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
