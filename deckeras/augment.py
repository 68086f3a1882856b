"""DEC-DA's augmentation on the TensorFlow graph, for whole batches.

Random rotation within +-``rotation`` degrees and random shifts within
+-``shift`` of the width and height, with nearest-edge fill, as DEC-DA's
``ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
height_shift_range=0.1)``. One ``keras.ops.image.affine_transform`` handles
the batch (TensorFlow's projective-transform kernel: the same output and
speed as calling that op directly, bench/augment_op.py), so it runs inside
compiled train steps, on CPU or GPU.
"""
import math

import keras
import tensorflow as tf

__all__ = ["random_affine", "augment"]


def random_affine(images, rotation=10.0, shift=0.1, seed=None, rng=None):
    """Randomly rotate and shift a batch of images ``(B, H, W, C)``.

    Each image gets its own angle, uniform in [-rotation, rotation] degrees,
    and shifts uniform in [-shift*W, shift*W] and [-shift*H, shift*H] pixels.
    Pixel values are interpolated bilinearly; outside pixels take the nearest
    edge value. The draws come from ``rng`` (a ``tf.random.Generator``, whose
    state a checkpoint saves), else from ``seed`` (stateless: the same seed,
    the same transforms), else from TensorFlow's global generator.
    """
    images = tf.convert_to_tensor(images)
    if rotation == 0 and shift == 0:
        return images
    b = tf.shape(images)[0]
    h = tf.cast(tf.shape(images)[1], tf.float32)
    w = tf.cast(tf.shape(images)[2], tf.float32)
    u = _uniform(b, seed, rng)
    theta = u[0] * (rotation * math.pi / 180.0)
    tx = u[1] * shift * w
    ty = u[2] * shift * h
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    c, s = tf.cos(theta), tf.sin(theta)
    # The op maps each output pixel to the input pixel it samples:
    # in = R^-1 (out - centre - shift) + centre.
    a2 = cx - c * (cx + tx) - s * (cy + ty)
    b2 = cy + s * (cx + tx) - c * (cy + ty)
    zeros = tf.zeros_like(c)
    transforms = tf.stack([c, s, a2, -s, c, b2, zeros, zeros], axis=1)
    out = keras.ops.image.affine_transform(
        tf.cast(images, tf.float32), transforms, interpolation="bilinear", fill_mode="nearest")
    return tf.cast(out, images.dtype)


def _uniform(b, seed, rng):
    """Three independent rows of ``b`` draws in [-1, 1]: angle, x and y shift."""
    if rng is not None:
        return rng.uniform([3, b], -1.0, 1.0)
    if seed is not None:
        return tf.random.stateless_uniform([3, b], seed=[int(seed), 0], minval=-1.0, maxval=1.0)
    return tf.random.uniform([3, b], -1.0, 1.0)


def augment(x, image_shape, rotation=10.0, shift=0.1, seed=None, rng=None):
    """Augment a batch that is flat ``(B, D)`` or image-shaped.

    Flat vectors are viewed as ``image_shape`` (e.g. ``(28, 28, 1)``) for the
    transform and returned flat again.
    """
    x = tf.convert_to_tensor(x)
    if x.shape.rank == 2:
        imgs = tf.reshape(x, (-1,) + tuple(image_shape))
        return tf.reshape(random_affine(imgs, rotation, shift, seed, rng), tf.shape(x))
    return random_affine(x, rotation, shift, seed, rng)


def mask(x, rate, rng):
    """Masking noise (denoising pretraining): each value of ``x`` zeroed with
    probability ``rate``, drawn from the ``tf.random.Generator`` ``rng``."""
    keep = rng.uniform(tf.shape(x)) >= rate
    return x * tf.cast(keep, x.dtype)
