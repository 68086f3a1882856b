"""What the command lines show: TensorFlow's own log lines (absl start-up
notes, oneDNN notices, the C++ side's error chatter when a worker dies) are
kept off the terminal; deckeras says what happened in one line instead.
``DECKERAS_TF_LOGS=1`` shows them all."""
import atexit
import os
import re
import sys
import threading

__all__ = ["import_tensorflow"]

# absl's native format: "I0000 00:00:1795500553.950732   22522 port.cc:153] ..."
_NATIVE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\]")
_NOISE = ("WARNING: All log messages before absl::InitializeLog()",
          "To enable the following instructions", "This TensorFlow binary is optimized",
          "Additional GRPC error information", ":UNKNOWN:Error received from peer")
_STATE = {}


def _is_noise(line):
    return bool(_NATIVE.match(line)) or line.startswith(_NOISE)


def _filter_native_stderr():
    """Route file descriptor 2 through a pipe whose reader drops TensorFlow's
    native log lines (they are written below Python, so only the descriptor
    sees them) and passes every other line on at once."""
    if _STATE or os.environ.get("DECKERAS_TF_LOGS") == "1":
        return
    sys.stderr.flush()
    real = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)

    def pump():
        skipping = False
        with os.fdopen(read, "rb", buffering=0) as pipe:
            for raw in iter(pipe.readline, b""):
                line = raw.decode(errors="replace")
                # a native record's continuation lines are indented or empty
                if _is_noise(line) or (skipping and (not line.strip() or line[0] in " \t")):
                    skipping = True
                    continue
                skipping = False
                try:
                    os.write(real, raw)
                except OSError:         # the reader went away: keep draining the pipe
                    pass

    thread = threading.Thread(target=pump, daemon=True, name="deckeras-stderr")
    thread.start()
    _STATE.update(real=real, thread=thread)
    atexit.register(_restore)


def _restore():
    """Put the real stderr back and let the reader pass on what is left."""
    if not _STATE:
        return
    sys.stderr.flush()
    os.dup2(_STATE["real"], 2)        # closes the pipe's last writer: the reader ends
    _STATE["thread"].join(timeout=2)


def import_tensorflow():
    """Import TensorFlow and Keras for a command line, its native log lines
    filtered from here on (a real error still shows). Returns ``tf``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _filter_native_stderr()
    import tensorflow as tf
    import keras  # noqa: F401  (its first import logs too)
    return tf
