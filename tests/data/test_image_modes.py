"""tfgenopt.data.image_modes through load_images: alpha, palette and mixed-mode PNG folders."""

import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf

import tfgenopt as tg
from tfgenopt.data.image_modes import file_mode

RNG = np.random.default_rng(0)


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(np.asarray(array, np.uint8)).numpy())


def _palette_png(path, indices, palette, alpha=None):
    """A palette (colour type 3) PNG written by hand, with a tRNS chunk when ``alpha`` is given."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    h, w = indices.shape
    raw = b"".join(b"\x00" + bytes(row.astype(np.uint8)) for row in indices)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
    data += chunk(b"PLTE", bytes(np.asarray(palette, np.uint8).ravel()))
    if alpha is not None:
        data += chunk(b"tRNS", bytes(np.asarray(alpha, np.uint8)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _rgba(size=8):
    """An RGBA image whose left half is fully transparent (with stray colours stored there)."""
    image = RNG.integers(0, 256, (size, size, 4)).astype(np.uint8)
    image[..., 3] = 255
    image[:, : size // 2, 3] = 0
    return image


PALETTE = np.array([[255, 0, 0], [0, 200, 0], [0, 0, 255]], np.uint8)
INDICES = np.array([[0, 1, 2, 1]] * 4)


@pytest.fixture
def mixed(tmp_path):
    """Two classes holding an L, LA, RGB, RGBA, P and P+tRNS file (4 x 4 each)."""
    gray = RNG.integers(0, 256, (4, 4, 1))
    la = np.concatenate([gray, np.where(np.arange(4) < 2, 0, 255)[None, :, None].repeat(4, 0)], -1)
    _png(tmp_path / "a" / "l.png", gray)
    _png(tmp_path / "a" / "la.png", la)
    _png(tmp_path / "a" / "rgb.png", RNG.integers(0, 256, (4, 4, 3)))
    _png(tmp_path / "b" / "rgba.png", _rgba(4))
    _palette_png(tmp_path / "b" / "p.png", INDICES, PALETTE)
    _palette_png(tmp_path / "b" / "pt.png", INDICES, PALETTE, alpha=[0])  # red is transparent
    return tmp_path


def _load(folder, **kwargs):
    kwargs = {"image_size": 4, "value_range": (0, 1), "validation_split": 0, "shuffle": False,
              "labels": None, "as_numpy": True, **kwargs}
    return tg.data.load_images(folder, **kwargs)


class TestAlpha:
    @pytest.mark.parametrize("background, rgb", [("white", (255, 255, 255)),
                                                 ((10, 20, 30), (10, 20, 30))])
    @pytest.mark.parametrize("cache", [True, False])
    def test_transparent_pixels_are_exactly_the_background_and_opaque_ones_unchanged(
            self, tmp_path, background, rgb, cache):
        image = _rgba()
        _png(tmp_path / "x.png", image)
        ds = tg.data.load_images(tmp_path, image_size=8, value_range=(0, 1), labels=None,
                                 validation_split=0, background=background, cache=cache)
        x = next(iter(ds)).numpy()[0]
        np.testing.assert_allclose(x[:, :4], np.broadcast_to(np.array(rgb) / 255, (8, 4, 3)),
                                   atol=1e-6, rtol=0)
        np.testing.assert_allclose(x[:, 4:], image[:, 4:, :3] / 255, atol=1e-6, rtol=0)

    def test_keep_gives_four_channels_with_the_files_alpha(self, tmp_path):
        image = _rgba()
        _png(tmp_path / "x.png", image)
        x = _load(tmp_path, image_size=8, background="keep")
        assert x.shape == (1, 8, 8, 4)
        np.testing.assert_allclose(x[0] * 255, image, atol=1e-4)
        np.testing.assert_array_equal(_load(tmp_path, image_size=8, color_mode="rgba"), x)

    def test_keep_with_a_three_channel_color_mode_is_refused_naming_color_mode(self, tmp_path):
        _png(tmp_path / "x.png", _rgba())
        with pytest.raises(ValueError, match="color_mode"):
            _load(tmp_path, background="keep", color_mode="rgb")

    def test_alpha_is_composited_before_resizing(self, tmp_path):
        image = _rgba()
        image[:, :4, :3] = 0  # black stored under the transparent half: it must not bleed
        _png(tmp_path / "x.png", image)
        x = _load(tmp_path, image_size=4, background="white")[0]
        assert x[:, :2].min() > 0.999  # the transparent half, downsized, is still white


class TestMixedModes:
    def test_file_modes_are_read_from_the_headers(self, mixed):
        names = ("a/l", "a/la", "a/rgb", "b/rgba", "b/p", "b/pt")
        assert [file_mode(str(mixed / f"{n}.png")) for n in names] == [
            "L", "LA", "RGB", "RGBA", "P", "P+tRNS"]

    def test_a_folder_of_l_la_rgb_rgba_and_p_files_loads_as_rgb_with_one_line(self, mixed,
                                                                              capsys):
        x, y = _load(mixed, labels="inferred")
        assert x.shape == (6, 4, 4, 3) and sorted(y.tolist()) == [0, 0, 0, 1, 1, 1]
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1 and "6 images load as rgb; converted 5" in out[0]
        for part in ("1 L", "1 LA", "1 RGBA", "1 P", "1 P+tRNS", "(255, 255, 255)"):
            assert part in out[0]

    def test_palette_and_grayscale_alpha_are_converted_with_their_transparency(self, mixed):
        files = sorted(str(p.relative_to(mixed)) for p in mixed.rglob("*.png"))
        x = dict(zip(files, _load(mixed)))  # shuffle=False: Keras' sorted order
        expected = PALETTE[INDICES] / 255
        np.testing.assert_allclose(x["b/p.png"], expected, atol=1e-6)
        expected[INDICES == 0] = 1.0  # the transparent palette entry becomes white
        np.testing.assert_allclose(x["b/pt.png"], expected, atol=1e-6)
        assert np.all(x["a/la.png"][:, :2] == 1.0)  # transparent columns: white, in 3 channels
        gray = x["a/l.png"]
        np.testing.assert_array_equal(gray[..., 0], gray[..., 1])

    def test_an_all_grayscale_folder_with_alpha_loads_as_grayscale(self, mixed):
        for name in ("rgb", "rgba", "p", "pt"):
            (mixed / ("a" if name == "rgb" else "b") / f"{name}.png").unlink()
        x = _load(mixed, background="black")
        assert x.shape == (2, 4, 4, 1)
        assert np.all(x[1][:, :2] == 0.0)  # la.png's transparent columns on black

    def test_a_folder_without_transparency_or_conversion_prints_nothing(self, tmp_path, capsys):
        _png(tmp_path / "x.png", RNG.integers(0, 256, (4, 4, 3)))
        assert _load(tmp_path).shape == (1, 4, 4, 3)
        assert capsys.readouterr().out == ""

    def test_verbose_false_silences_the_conversion_line(self, mixed, capsys):
        _load(mixed, verbose=False)
        assert capsys.readouterr().out == ""


class TestBadBackground:
    @pytest.mark.parametrize("background, error", [
        ("purple", ValueError), (5, TypeError), ((1, 2), ValueError), ((0, 0, 256), ValueError),
        ((0.5, 0, 0), ValueError), (None, TypeError)])
    def test_bad_backgrounds_name_the_argument(self, tmp_path, background, error):
        _png(tmp_path / "x.png", _rgba())
        with pytest.raises(error, match="background"):
            _load(tmp_path, background=background)
