"""Data: the bundled digits, cached MNIST / Fashion-MNIST, image folders and procedural shapes.

Nothing here downloads. The digits ship inside the package (``_data/digits.npz``, CC BY 4.0,
see ``_data/LICENSE-digits.txt``); MNIST and Fashion-MNIST are read from the local Keras cache;
:func:`load_images` reads a folder of images through ``keras.utils.image_dataset_from_directory``;
:func:`make_shapes` draws a labelled RGB data set (shapes x colours) offline, and
:func:`write_image_folder` writes any images as a folder of PNGs.
"""

from tfgenopt.data._bundled import (
    DIGIT_SIZES,
    VALUE_RANGES,
    keras_cache_dir,
    load,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    scale,
)
from tfgenopt.data.folders import load_images, write_image_folder
from tfgenopt.data.pipeline import as_dataset
from tfgenopt.data.shapes import COLORS, SHAPE_CLASSES, SHAPES, make_shapes

__all__ = [
    "COLORS",
    "DIGIT_SIZES",
    "SHAPES",
    "SHAPE_CLASSES",
    "VALUE_RANGES",
    "as_dataset",
    "keras_cache_dir",
    "load",
    "load_digits",
    "load_fashion_mnist",
    "load_images",
    "load_mnist",
    "make_shapes",
    "scale",
    "write_image_folder",
]
