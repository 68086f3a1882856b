import numpy as np
import tensorflow as tf

from deckeras.augment import augment, random_affine


def _images(n=16, s=28):
    rng = np.random.default_rng(0)
    x = np.zeros((n, s, s, 1), np.float32)
    x[:, 8:20, 10:18, 0] = rng.random((n, 12, 8))
    return x


def test_shape_and_range_kept():
    x = _images()
    out = random_affine(x).numpy()
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6


def test_identity_when_ranges_are_zero():
    x = _images()
    np.testing.assert_array_equal(random_affine(x, rotation=0, shift=0).numpy(), x)
    # a transform that is numerically the identity also returns the input
    tf.random.set_seed(0)
    out = random_affine(x, rotation=1e-9, shift=1e-9).numpy()
    np.testing.assert_allclose(out, x, atol=1e-5)


def test_pixels_really_move_and_draws_differ():
    x = _images()
    a, b = random_affine(x).numpy(), random_affine(x).numpy()
    moved = np.abs(a - x).reshape(len(x), -1).max(1)
    assert (moved > 0.05).mean() > 0.9          # nearly every image changed
    assert not np.allclose(a, b)                # a new draw per call
    x_same = np.repeat(x[:1], len(x), 0)
    c = random_affine(x_same).numpy()
    assert any(not np.allclose(c[i], c[0]) for i in range(1, len(x)))   # per-image draws


def test_pure_shift_translates_content():
    # a single bright pixel shifted by at most 10% of 20 px = 2 px in each direction
    x = np.zeros((64, 20, 20, 1), np.float32)
    x[:, 10, 10, 0] = 1.0
    out = random_affine(x, rotation=0, shift=0.1).numpy()
    for img in out:
        r, c = np.unravel_index(np.argmax(img[..., 0]), (20, 20))
        assert abs(r - 10) <= 2 and abs(c - 10) <= 2
    centres = [np.unravel_index(np.argmax(i[..., 0]), (20, 20)) for i in out]
    assert len(set(centres)) > 3


def test_flat_vectors_viewed_as_images():
    x = _images(4).reshape(4, -1)
    out = augment(x, (28, 28, 1)).numpy()
    assert out.shape == (4, 784)
    assert not np.allclose(out, x)


def test_runs_inside_tf_function():
    f = tf.function(lambda t: augment(t, (28, 28, 1)))
    assert f(tf.constant(_images(3).reshape(3, -1))).shape == (3, 784)


def test_a_seed_gives_independent_angle_and_shifts_and_repeats():
    """The three draws (angle, x shift, y shift) are independent even with a seed."""
    from deckeras.augment import _uniform
    u = _uniform(64, 7, None).numpy()
    assert not np.allclose(u[0], u[1]) and not np.allclose(u[1], u[2])
    np.testing.assert_array_equal(u, _uniform(64, 7, None).numpy())
    x = _images()
    np.testing.assert_array_equal(random_affine(x, seed=3).numpy(), random_affine(x, seed=3).numpy())


def test_a_generator_drives_the_draws_and_its_state_replays_them():
    g = tf.random.Generator.from_seed(1)
    x = _images()
    state = g.state.numpy().copy()
    a = random_affine(x, rng=g).numpy()
    g.reset(state)
    np.testing.assert_array_equal(random_affine(x, rng=g).numpy(), a)
    assert not np.allclose(random_affine(x, rng=g).numpy(), a)
