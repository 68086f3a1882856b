"""Which ``tf.distribute`` strategy a run trains under.

``strategy_for(None)`` is the strategy in scope (one device unless the caller
entered another's scope), ``'mirrored'`` a MirroredStrategy over all local
GPUs (or the CPU), ``'multiworker'`` a MultiWorkerMirroredStrategy configured
by the ``TF_CONFIG`` environment variable. A process keeps one strategy of
each kind: TensorFlow wants the multi-worker one made once, before other
work, so ``main.py`` makes it first (``multiworker_strategy``).
"""
import json
import os

__all__ = ["DISTRIBUTE", "strategy_for", "multiworker_strategy", "tf_config", "is_chief",
           "loopback_tf_configs"]

DISTRIBUTE = (None, "mirrored", "multiworker")
_MADE = {}
# Seconds any one collective operation of a multi-worker run may take (a
# worker that died mid-run): then it fails and the run stops with one line.
COLLECTIVE_TIMEOUT = float(os.environ.get("DECKERAS_COLLECTIVE_TIMEOUT", 600))


def tf_config():
    """``TF_CONFIG`` parsed and checked: a one-line ValueError when it is
    missing or malformed."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError("distribute='multiworker' needs TF_CONFIG: set it on every worker to "
                         '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
                         '"task": {"type": "worker", "index": 0}} (README: More devices and machines)')
    try:
        cfg = json.loads(raw)
        workers = cfg["cluster"]["worker"]
        task = cfg["task"]
        index = int(task["index"])
        ok = (isinstance(workers, list) and workers and all(isinstance(w, str) for w in workers)
              and task.get("type") in ("worker", "chief") and 0 <= index < len(workers))
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise ValueError(f"TF_CONFIG is malformed: {raw[:200]!r}; expected "
                         '{"cluster": {"worker": [...]}, "task": {"type": "worker", "index": i}} '
                         "with i < the number of workers")
    return cfg


def is_chief():
    """Whether this process writes what the user sees: always, except a
    multi-worker run's workers other than worker 0."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return True
    task = json.loads(raw).get("task", {})
    return task.get("type") == "chief" or (task.get("type") == "worker" and int(task.get("index", 0)) == 0)


def multiworker_strategy():
    """The process's MultiWorkerMirroredStrategy, made on first use. Making it
    waits until every worker of TF_CONFIG has connected (TensorFlow's own
    wait, which nothing here can cut short); after that, a collective
    operation that takes longer than ``$DECKERAS_COLLECTIVE_TIMEOUT`` seconds
    (default 600: a worker died) fails, and the command line stops with one line."""
    import tensorflow as tf         # not at import: TF_CONFIG is checked before TF starts
    if "multiworker" not in _MADE:
        tf_config()
        options = tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=COLLECTIVE_TIMEOUT)
        _MADE["multiworker"] = tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=options)
    return _MADE["multiworker"]


def strategy_for(distribute):
    import tensorflow as tf
    if isinstance(distribute, tf.distribute.Strategy):
        return distribute
    if distribute is None:
        return tf.distribute.get_strategy()
    if distribute == "mirrored":
        if "mirrored" not in _MADE:
            devices = (tf.config.list_logical_devices("GPU")
                       or tf.config.list_logical_devices("CPU"))
            _MADE["mirrored"] = tf.distribute.MirroredStrategy([d.name for d in devices])
        return _MADE["mirrored"]
    if distribute == "multiworker":
        return multiworker_strategy()
    raise ValueError(f"distribute must be None, 'mirrored', 'multiworker' or a "
                     f"tf.distribute.Strategy, got {distribute!r}")


def loopback_tf_configs(k):
    """``TF_CONFIG`` values for ``k`` workers on free loopback ports of this
    machine (tests, benchmarks, trying multi-worker runs out on one machine)."""
    import socket
    socks = [socket.socket() for _ in range(k)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    workers = [f"127.0.0.1:{s.getsockname()[1]}" for s in socks]
    for s in socks:
        s.close()
    return [json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})
            for i in range(k)]
