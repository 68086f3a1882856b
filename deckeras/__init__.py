"""deckeras: deep clustering (DEC, IDEC, DEC-DA, DCN) for Keras 3 / TensorFlow.

Importing the package is cheap and has no side effects: the TensorFlow-based
parts (``DEC``, ``DCN``, ``ClusteringLayer``, ...) load on first use.
"""
__version__ = "0.1.0"

from . import metrics
from .datasets import load_dataset

_LAZY = {
    "DEC": ("deckeras.models", "DEC"),
    "DCN": ("deckeras.models", "DCN"),
    "DeepClusterer": ("deckeras.models", "DeepClusterer"),
    "ClusteringLayer": ("deckeras.layers", "ClusteringLayer"),
    "ClusterCentres": ("deckeras.layers", "ClusterCentres"),
    "METHODS": ("deckeras.methods", "METHODS"),
    "make_method": ("deckeras.methods", "make_method"),
    "load_model": ("deckeras.runs", "load_model"),
}

__all__ = ["metrics", "load_dataset", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib
        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deckeras' has no attribute {name!r}")
