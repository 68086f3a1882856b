"""deckeras: deep clustering (DEC, IDEC, DEC-DA, DCN) for Keras 3 / TensorFlow.

Importing the package is cheap and has no side effects: the TensorFlow-based
parts (``DEC``, ``DCN``, ``ClusteringLayer``, ...) load on first use.
"""
import sys

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
_LAZY["estimate_n_clusters"] = ("deckeras.selection", "estimate_n_clusters")
__all__.append("estimate_n_clusters")


def _import_serialisable():
    """The modules whose Keras classes saved models name (``deckeras>...``)."""
    import importlib
    for module in ("deckeras.layers", "deckeras.autoencoders"):
        importlib.import_module(module)


def _register_layers_with_keras():
    """Make ``keras.saving.load_model`` find deckeras's layers in ``.keras``
    files after a plain ``import deckeras``: Keras knows a custom layer once
    its module has run, so ``deckeras.layers`` is imported with Keras (now,
    when Keras is already imported, or right after Keras's own import),
    without making ``import deckeras`` itself load TensorFlow."""
    import importlib
    if "keras" in sys.modules:
        _import_serialisable()
        return
    import importlib.abc
    import importlib.util

    class AfterKeras(importlib.abc.MetaPathFinder):
        busy = False          # find_spec below asks the other finders

        def find_spec(self, name, path=None, target=None):
            if name != "keras" or self.busy:
                return None
            self.busy = True
            try:
                spec = importlib.util.find_spec("keras")
            finally:
                self.busy = False
            if spec is None or spec.loader is None:
                return spec
            run = spec.loader.exec_module

            def run_then_register(module):     # only an import runs it, not a look-up
                run(module)
                if self in sys.meta_path:
                    sys.meta_path.remove(self)
                _import_serialisable()
            spec.loader.exec_module = run_then_register
            return spec

    sys.meta_path.insert(0, AfterKeras())


def __getattr__(name):
    if name in _LAZY:
        import importlib
        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deckeras' has no attribute {name!r}")


_register_layers_with_keras()
