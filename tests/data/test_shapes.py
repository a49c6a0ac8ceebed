"""tfgenopt.data.make_shapes: a balanced, reproducible, labelled RGB data set."""

import numpy as np
import pytest

import tfgenopt as tg


@pytest.fixture(scope="module")
def shapes():
    return tg.data.make_shapes(120, image_size=16, seed=0)


class TestMakeShapes:
    def test_images_are_uint8_rgb_with_balanced_labels_of_every_class(self, shapes):
        x, y = shapes
        assert x.shape == (120, 16, 16, 3) and x.dtype == np.uint8
        assert np.bincount(y).tolist() == [10] * len(tg.data.SHAPE_CLASSES) == [10] * 12

    def test_same_seed_same_images_other_seed_other_images(self, shapes):
        x, y = tg.data.make_shapes(120, image_size=16, seed=0)
        np.testing.assert_array_equal(x, shapes[0])
        np.testing.assert_array_equal(y, shapes[1])
        assert not np.array_equal(tg.data.make_shapes(120, image_size=16, seed=1)[0], x)

    def test_the_brightest_channel_of_the_shape_is_its_class_colour(self, shapes):
        x, y = shapes
        flat = x.reshape(len(x), -1, 3).astype(int)
        bright = flat.sum(-1) >= np.quantile(flat.sum(-1), 0.9, axis=1, keepdims=True)
        dominant = [np.argmax(f[b].mean(0)) for f, b in zip(flat, bright)]
        np.testing.assert_array_equal(dominant, y % len(tg.data.COLORS))

    def test_mean_areas_follow_the_shapes_geometry(self, shapes):
        # circle pi r^2 > square (1.6 r)^2 > cross 2.04 r^2 > triangle 1.68 r^2
        x, y = shapes
        area = (x.max(-1) > 100).mean(axis=(1, 2))
        shape_of = y // len(tg.data.COLORS)
        means = [area[shape_of == s].mean() for s in range(len(tg.data.SHAPES))]
        circle, square, triangle, cross = means
        assert circle > square > cross > triangle

    @pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 4, "image_size": 4}, {"n": 4, "seed": 1.5}])
    def test_bad_arguments_name_themselves(self, kwargs):
        name = [k for k in kwargs if k != "n"][-1] if len(kwargs) > 1 else "n"
        with pytest.raises((ValueError, TypeError), match=name):
            tg.data.make_shapes(**kwargs)
