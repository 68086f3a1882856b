"""The shared autoencoder builder: every method gets its networks here.

``dense_autoencoder(dims)`` builds DEC's symmetric fully connected network
and ``conv_autoencoder(input_shape)`` DEC-DA's convolutional one; both return
``(autoencoder, encoder, decoder)`` Keras models sharing their layers.
"""
import random

import keras

__all__ = ["dense_autoencoder", "conv_autoencoder", "build_autoencoder", "Dense",
           "DEC_INIT"]

# DEC-keras's initialiser for MNIST, Fashion-MNIST and Reuters.
DEC_INIT = {"class_name": "VarianceScaling",
            "config": {"scale": 1.0 / 3.0, "mode": "fan_in", "distribution": "uniform"}}


@keras.saving.register_keras_serializable(package="deckeras")
class Dense(keras.layers.Dense):
    """``keras.layers.Dense`` under the name ``deckeras>Dense``, which models
    exported by deckeras 0.1 name; the networks are built from Keras's own
    ``Dense`` (since Keras 3.7 it adds its bias with ``BiasAdd``, which
    TensorFlow fuses with the matmul, keras-team/keras#20386)."""


# The embedding layer computes in float32 under any mixed-precision policy:
# k-means, soft assignments and distances then see full-precision embeddings.
EMBED_DTYPE = "float32"


class Initializers:
    """Kernel initialisers with their seeds drawn from one ``random.Random(seed)``.

    Keras gives an unseeded initialiser a seed from Python's global
    ``random`` when it is made; drawing the same numbers, in the same order,
    from a generator of our own gives the weights ``keras.utils.set_random_seed(seed)``
    gave, without seeding (or consuming) any global generator. ``seed=None``
    leaves Keras's behaviour as it is (fresh weights each build).
    """

    def __init__(self, seed=None):
        self.rng = None if seed is None else random.Random(int(seed))

    def __call__(self, init, default=DEC_INIT):
        init = default if init is None else init
        if self.rng is None:
            return keras.initializers.get(init)
        state = random.getstate()           # making it may draw a seed we then replace
        try:
            made = keras.initializers.get(init)
        finally:
            random.setstate(state)
        config = made.get_config()
        if "seed" in config and config["seed"] is None:
            made = type(made).from_config({**config, "seed": self.rng.randint(1, int(1e9))})
        return made


def dense_autoencoder(dims, act="relu", init=None, name="ae", dtype=None, seed=None):
    """DEC's fully connected autoencoder.

    Parameters
    ----------
    dims : list of int
        ``[input_dim, hidden..., embedding_dim]``, e.g. ``[784, 500, 500, 2000, 10]``;
        the decoder mirrors it.
    act : str
        Activation of hidden layers; the embedding and output are linear.
    init : initializer, optional
        Default: DEC's ``VarianceScaling(1/3, 'fan_in', 'uniform')``.
    dtype : str, optional
        Keras dtype policy of the layers (e.g. 'mixed_bfloat16'); the
        embedding layer stays float32. Default: Keras's global policy.
    seed : int, optional
        Seeds the initial weights (``Initializers``).

    Returns
    -------
    (autoencoder, encoder, decoder) : keras.Model
    """
    dims = [int(d) for d in dims]
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"dims must hold >= 2 positive sizes, got {dims}")
    n = len(dims) - 1
    ini = Initializers(seed)
    enc_layers = [keras.layers.Dense(d, activation=act if i < n - 1 else None,
                        kernel_initializer=ini(init), name=f"encoder_{i}",
                        dtype=EMBED_DTYPE if i == n - 1 else dtype)
                  for i, d in enumerate(dims[1:])]
    dec_layers = [keras.layers.Dense(d, activation=act if i < n - 1 else None,
                        kernel_initializer=ini(init), name=f"decoder_{n - 1 - i}", dtype=dtype)
                  for i, d in enumerate(dims[-2::-1])]
    return _assemble((dims[0],), (dims[-1],), enc_layers, dec_layers, name)


def conv_autoencoder(input_shape, filters=(32, 64, 128), embedding_dim=10, init=None,
                     name="cae", dtype=None, seed=None):
    """DEC-DA's convolutional autoencoder for images ``(H, W, C)``.

    Conv 5x5/2 -> Conv 5x5/2 -> Conv 3x3/2 (padding 'same' when the width is
    a multiple of 8, else 'valid': 28 -> 14 -> 7 -> 3) -> Dense(embedding);
    the decoder mirrors it with transposed convolutions.
    """
    h, w, c = (int(s) for s in input_shape)
    f1, f2, f3 = (int(f) for f in filters)
    pad3 = "same" if w % 8 == 0 else "valid"
    hs, ws = (h // 8, w // 8) if pad3 == "same" else ((h // 4 - 3) // 2 + 1, (w // 4 - 3) // 2 + 1)
    if min(h, w) < 8 or hs < 1 or ws < 1:
        raise ValueError(f"images of shape {tuple(input_shape)} are too small for the "
                         "convolutional autoencoder (need at least 8x8)")
    ini = Initializers(seed)

    def ki():
        return ini(init, default="glorot_uniform")
    L = keras.layers
    enc_layers = [
        L.Conv2D(f1, 5, strides=2, padding="same", activation="relu", kernel_initializer=ki(),
                 name="conv1", dtype=dtype),
        L.Conv2D(f2, 5, strides=2, padding="same", activation="relu", kernel_initializer=ki(),
                 name="conv2", dtype=dtype),
        L.Conv2D(f3, 3, strides=2, padding=pad3, activation="relu", kernel_initializer=ki(),
                 name="conv3", dtype=dtype),
        L.Flatten(name="flatten", dtype=dtype),
        keras.layers.Dense(embedding_dim, kernel_initializer=ki(), name="embedding", dtype=EMBED_DTYPE),
    ]
    dec_layers = [
        keras.layers.Dense(f3 * hs * ws, activation="relu", kernel_initializer=ki(), name="dense", dtype=dtype),
        L.Reshape((hs, ws, f3), name="reshape", dtype=dtype),
        L.Conv2DTranspose(f2, 3, strides=2, padding=pad3, activation="relu",
                          kernel_initializer=ki(), name="deconv3", dtype=dtype),
        L.Conv2DTranspose(f1, 5, strides=2, padding="same", activation="relu",
                          kernel_initializer=ki(), name="deconv2", dtype=dtype),
        L.Conv2DTranspose(c, 5, strides=2, padding="same", kernel_initializer=ki(),
                          name="deconv1", dtype=dtype),
    ]
    ae, enc, dec = _assemble((h, w, c), (embedding_dim,), enc_layers, dec_layers, name)
    if tuple(ae.output.shape[1:]) != (h, w, c):
        raise ValueError(f"images of shape {(h, w, c)} do not round-trip through the "
                         f"convolutional autoencoder (got {tuple(ae.output.shape[1:])}); "
                         "use sizes like 28x28, 16x16 or 8x8")
    return ae, enc, dec


def _assemble(input_shape, embed_shape, enc_layers, dec_layers, name):
    x = keras.Input(shape=input_shape, name="input")
    z = x
    for layer in enc_layers:
        z = layer(z)
    zin = keras.Input(shape=embed_shape, name="embedding_input")
    r, rd = z, zin
    for layer in dec_layers:
        r, rd = layer(r), layer(rd)
    return (keras.Model(x, r, name=name), keras.Model(x, z, name=f"{name}_encoder"),
            keras.Model(zin, rd, name=f"{name}_decoder"))


def build_autoencoder(arch, input_shape, dims=None, filters=(32, 64, 128),
                      embedding_dim=10, init=None, dtype=None, seed=None):
    """``arch='fc'``: dense on ``prod(input_shape)`` features with hidden sizes
    ``dims`` (default DEC's ``[500, 500, 2000]``); ``arch='conv'``: conv on images."""
    if arch == "fc":
        d = 1
        for s in input_shape:
            d *= int(s)
        hidden = [500, 500, 2000] if dims is None else list(dims)
        return dense_autoencoder([d] + hidden + [embedding_dim], init=init, dtype=dtype, seed=seed)
    if arch == "conv":
        if len(input_shape) != 3:
            raise ValueError(f"the conv autoencoder needs images (H, W, C), got shape {input_shape}")
        return conv_autoencoder(input_shape, filters, embedding_dim, init=init, dtype=dtype,
                                seed=seed)
    raise ValueError(f"arch must be 'fc' or 'conv', got {arch!r}")
