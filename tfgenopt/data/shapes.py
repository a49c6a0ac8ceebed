"""A procedural RGB data set with known classes: shapes x colours at random positions and sizes.

Every image is one filled shape (circle, square, triangle or cross) in one colour (red, green
or blue, with a little hue jitter) on a dark, slightly noisy background, at a random position
and size, drawn with 4x4 supersampling (anti-aliased edges). The label is the class index
``shape * len(COLORS) + colour`` (12 classes), so mode coverage on RGB can be measured exactly:
a generator that never draws a green triangle misses one class. It ships offline (NumPy only).
"""

from __future__ import annotations

import numpy as np

from tfgenopt._validation import check_int

__all__ = ["make_shapes", "SHAPES", "COLORS", "SHAPE_CLASSES"]

SHAPES = ("circle", "square", "triangle", "cross")
COLORS = ("red", "green", "blue")
#: Class names in label order: ``SHAPE_CLASSES[label]`` is e.g. ``"green_triangle"``.
SHAPE_CLASSES = tuple(f"{c}_{s}" for s in SHAPES for c in COLORS)

_RGB = np.array([[0.90, 0.15, 0.12], [0.15, 0.80, 0.20], [0.15, 0.30, 0.95]], np.float32)
_SUPERSAMPLE = 4
_CHUNK = 512


def _inside(shape, dx, dy, r):
    ax, ay = np.abs(dx), np.abs(dy)
    if shape == 0:  # circle
        return dx * dx + dy * dy <= r * r
    if shape == 1:  # square
        return np.maximum(ax, ay) <= 0.8 * r
    if shape == 2:  # triangle, apex up
        return (dy <= 0.75 * r) & (ax <= 0.55 * (dy + r))
    return ((ax <= 0.3 * r) & (ay <= r)) | ((ay <= 0.3 * r) & (ax <= r))  # cross


def _masks(shape_ids, cx, cy, r, size):
    """Coverage (n, size, size) in [0, 1] of each sample's shape, supersampled 4x4."""
    k = _SUPERSAMPLE
    grid = (np.arange(size * k, dtype=np.float32) + 0.5) / (size * k)
    out = np.empty((len(shape_ids), size, size), np.float32)
    for shape in range(len(SHAPES)):
        idx = np.flatnonzero(shape_ids == shape)
        if idx.size:
            dx = grid[None, None, :] - cx[idx, None, None]
            dy = grid[None, :, None] - cy[idx, None, None]
            inside = _inside(shape, dx, dy, r[idx, None, None])
            out[idx] = inside.reshape(-1, size, k, size, k).mean(axis=(2, 4), dtype=np.float32)
    return out


def make_shapes(n, image_size=32, seed=0):
    """Draw ``n`` labelled RGB images of coloured shapes (12 classes), offline and reproducibly.

    Classes are balanced (``label = i % 12`` before a seeded shuffle). Shape centre, size (radius
    18-30% of the side), colour jitter and background noise are drawn per image from ``seed``.

    Args:
        n: number of images (>= 1).
        image_size: side in pixels (>= 8).
        seed: seed of every random choice (NumPy ``default_rng``).

    Returns:
        ``(images, labels)``: uint8 ``(n, image_size, image_size, 3)`` in [0, 255] and int32
        ``(n,)`` class indices into :data:`SHAPE_CLASSES`.

    Example:
        >>> images, labels = make_shapes(24, image_size=16)
        >>> images.shape, images.dtype, sorted(set(labels.tolist())) == list(range(12))
        ((24, 16, 16, 3), dtype('uint8'), True)
    """
    n = check_int("n", n, minimum=1)
    size = check_int("image_size", image_size, minimum=8)
    rng = np.random.default_rng(check_int("seed", seed))
    labels = (np.arange(n) % len(SHAPE_CLASSES)).astype(np.int32)
    rng.shuffle(labels)
    shape_ids, color_ids = labels // len(COLORS), labels % len(COLORS)
    r = rng.uniform(0.18, 0.30, n).astype(np.float32)
    cx = rng.uniform(r, 1.0 - r).astype(np.float32)
    cy = rng.uniform(r, 1.0 - r).astype(np.float32)
    colors = np.clip(_RGB[color_ids] + rng.normal(0, 0.04, (n, 3)), 0, 1).astype(np.float32)
    background = rng.uniform(0.02, 0.12, (n, 1, 1, 1)).astype(np.float32)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(0, n, _CHUNK):
        j = slice(i, i + _CHUNK)
        cover = _masks(shape_ids[j], cx[j], cy[j], r[j], size)[..., None]
        noise = rng.normal(0, 0.02, cover.shape[:3] + (3,)).astype(np.float32)
        img = background[j] + noise
        img = img * (1 - cover) + colors[j][:, None, None, :] * cover
        out[j] = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    return out, labels
