"""What the command lines show of TensorFlow: its C++ side logs through
absl to stderr (start-up notes, oneDNN notices, gRPC's error chatter when a
worker dies); the command lines set ``TF_CPP_MIN_LOG_LEVEL=3`` before the
import, which keeps all but fatal errors off the terminal, and deckeras says
what happened in one line instead. An environment that sets
``TF_CPP_MIN_LOG_LEVEL`` itself (0 shows everything) keeps its choice.

One notice gets past that level: on Intel CPUs where TensorFlow turns its
oneDNN kernels on by default, importing Keras logs "oneDNN custom operations
are on" through absl before absl's logging is set up, where the level does
not apply. So while TensorFlow and Keras are imported (and only then),
stderr's file descriptor points at /dev/null unless the level shows notes
(below 1); Python errors raised by the import still reach the terminal,
since they are printed after it returns."""
import os
import sys

__all__ = ["import_tensorflow"]


def import_tensorflow():
    """Import TensorFlow and Keras for a command line, quietly. Returns ``tf``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules or os.environ["TF_CPP_MIN_LOG_LEVEL"] in ("0", ""):
        import tensorflow as tf
        return tf
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        import tensorflow as tf
        import keras  # noqa: F401  (its first import logs too)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf
