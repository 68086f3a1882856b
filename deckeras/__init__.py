"""deckeras: deep clustering (DEC, IDEC, DEC-DA, DCN, N2D) for Keras 3 / TensorFlow.

Importing the package is cheap and has no side effects: the TensorFlow-based
parts (``DEC``, ``DCN``, ``ClusteringLayer``, ...) load on first use.
"""
__version__ = "0.1.0"

from . import metrics
from .datasets import load_dataset

_LAZY = {
    "DEC": ("deckeras.models", "DEC"),
    "DCN": ("deckeras.models", "DCN"),
    "N2D": ("deckeras.models", "N2D"),
    "UMAP": ("deckeras.manifold", "UMAP"),
    "DeepClusterer": ("deckeras.models", "DeepClusterer"),
    "ClusteringLayer": ("deckeras.layers", "ClusteringLayer"),
    "ClusterCentres": ("deckeras.layers", "ClusterCentres"),
    "METHODS": ("deckeras.methods", "METHODS"),
    "make_method": ("deckeras.methods", "make_method"),
    "load_model": ("deckeras.runs", "load_model"),
}

__all__ = ["metrics", "load_dataset", *_LAZY]
_LAZY["estimate_n_clusters"] = ("deckeras.selection", "estimate_n_clusters")
__all__.append("estimate_n_clusters")


def load_exported(path):
    """Load a model that ``deckeras export --format keras`` (or
    ``inference_model().save``) wrote: ``keras.saving.load_model`` once
    deckeras's layers are registered with Keras. (Importing
    ``deckeras.layers`` first and calling ``keras.saving.load_model`` does
    the same.)"""
    import importlib
    for module in ("deckeras.layers", "deckeras.autoencoders"):   # the classes files name
        importlib.import_module(module)
    import keras
    return keras.saving.load_model(path)


__all__.append("load_exported")


def __getattr__(name):
    if name in _LAZY:
        import importlib
        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deckeras' has no attribute {name!r}")

