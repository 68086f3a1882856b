"""What the command lines show of TensorFlow: its C++ side logs through
absl to stderr (start-up notes, oneDNN notices, gRPC's error chatter when a
worker dies); the command lines set ``TF_CPP_MIN_LOG_LEVEL=3`` before the
import, which keeps all but fatal errors off the terminal, and deckeras says
what happened in one line instead. An environment that sets
``TF_CPP_MIN_LOG_LEVEL`` itself (0 shows everything) keeps its choice."""
import os

__all__ = ["import_tensorflow"]


def import_tensorflow():
    """Import TensorFlow and Keras for a command line, quietly. Returns ``tf``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import keras  # noqa: F401  (its first import logs too)
    return tf
