"""Saving and loading model weights as ``.h5`` files.

Files are written in Keras's classic HDF5 weights layout (a group per layer,
``layer_names`` / ``weight_names`` attributes), so the DEC-DA file names
(``ae_weights.h5``, ``model_final.h5``) stay as they were and plain Keras 3
loads them with ``model.load_weights("model_final.h5")`` into a model of the
same architecture. Files named ``*.weights.h5`` (Keras 3's own layout) load too.
"""
import os

import h5py
import keras
import numpy as np

from .io import atomic_path

__all__ = ["save_weights", "load_weights", "read_arrays"]

ARRAYS_GROUP = "deckeras_arrays"   # not a layer: Keras's loader reads only ``layer_names``


def _layer_weights(layer):
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def save_weights(model, path, arrays=None):
    """Write ``model``'s weights to ``path`` atomically, with ``arrays`` (name ->
    array, e.g. the input scaling) in a group of their own."""
    with atomic_path(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["layer_names"] = [l.name.encode("utf8") for l in model.layers]
            f.attrs["backend"] = keras.backend.backend().encode("utf8")
            f.attrs["keras_version"] = keras.__version__.encode("utf8")
            for layer in model.layers:
                g = f.create_group(layer.name)
                ws = _layer_weights(layer)
                names = [f"{layer.name}/{w.name}_{i}".encode("utf8") for i, w in enumerate(ws)]
                g.attrs["weight_names"] = names
                for n, w in zip(names, ws):
                    g.create_dataset(n, data=np.asarray(keras.ops.convert_to_numpy(w)))
            if arrays:
                extra = f.create_group(ARRAYS_GROUP)
                for name, value in arrays.items():
                    extra.create_dataset(name, data=np.asarray(value))


def read_arrays(path):
    """The ``arrays`` saved beside the weights by ``save_weights`` ({} if none)."""
    with h5py.File(os.fspath(path), "r") as f:
        if ARRAYS_GROUP not in f:
            return {}
        return {k: f[ARRAYS_GROUP][k][()] for k in f[ARRAYS_GROUP]}


def load_weights(model, path, what="weights"):
    """Load weights saved by ``save_weights`` (or Keras) into ``model``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` with one
    clear line for a corrupt file or weights of another architecture.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} file not found: {path}")
    try:
        with h5py.File(path, "r"):
            pass
    except OSError:
        raise ValueError(f"{path}: not a readable HDF5 weights file (corrupt or truncated?)") from None
    try:
        model.load_weights(path)
    except Exception as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"{path}: these {what} do not fit the model being built "
                         f"(another method, data set, architecture or --protocol?): {msg}") from None
