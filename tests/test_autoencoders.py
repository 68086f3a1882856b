import keras
import numpy as np
import pytest

from deckeras.autoencoders import build_autoencoder, conv_autoencoder, dense_autoencoder


def test_dense_shapes_and_symmetry():
    ae, enc, dec = dense_autoencoder([784, 500, 500, 2000, 10])
    assert ae.output.shape[1:] == (784,) and enc.output.shape[1:] == (10,)
    assert dec.input.shape[1:] == (10,) and dec.output.shape[1:] == (784,)
    kernels = [tuple(l.kernel.shape) for l in ae.layers if hasattr(l, "kernel")]
    assert kernels == [(784, 500), (500, 500), (500, 2000), (2000, 10),
                       (10, 2000), (2000, 500), (500, 500), (500, 784)]
    # embedding and reconstruction are linear, hidden layers ReLU
    acts = [l.activation.__name__ for l in ae.layers if hasattr(l, "kernel")]
    assert acts == ["relu"] * 3 + ["linear"] + ["relu"] * 3 + ["linear"]


def test_dense_default_initializer_is_decs_variance_scaling():
    ae, _, _ = dense_autoencoder([20, 8, 2])
    init = ae.layers[1].kernel_initializer
    assert isinstance(init, keras.initializers.VarianceScaling)
    assert init.scale == pytest.approx(1 / 3) and init.mode == "fan_in"
    assert init.distribution == "uniform"


@pytest.mark.parametrize("shape,inner", [((28, 28, 1), (3, 3)), ((16, 16, 1), (2, 2)),
                                         ((8, 8, 1), (1, 1)), ((32, 32, 3), (4, 4))])
def test_conv_shapes(shape, inner):
    ae, enc, dec = conv_autoencoder(shape)
    assert tuple(ae.output.shape[1:]) == shape
    assert tuple(enc.output.shape[1:]) == (10,)
    conv3 = enc.get_layer("conv3")
    assert tuple(conv3.output.shape[1:3]) == inner
    x = np.random.default_rng(0).random((2,) + shape).astype(np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dec(enc(x))),
                               keras.ops.convert_to_numpy(ae(x)), rtol=1e-4, atol=1e-5)


def test_conv_rejects_tiny_images():
    with pytest.raises(ValueError, match="too small"):
        conv_autoencoder((4, 4, 1))


def test_build_autoencoder_bad_arch():
    with pytest.raises(ValueError, match="arch"):
        build_autoencoder("rnn", (10,))
