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
           "loopback_tf_configs", "wait_for_workers"]

DISTRIBUTE = (None, "mirrored", "multiworker")
_MADE = {}
# Seconds any one collective operation of a multi-worker run may take (a
# worker that died mid-run): then it fails and the run stops with one line.
COLLECTIVE_TIMEOUT = float(os.environ.get("DECKERAS_COLLECTIVE_TIMEOUT", 600))
# Seconds a worker waits for every other worker of TF_CONFIG to answer on its
# port before TensorFlow connects them (TensorFlow's own wait has no end).
CONNECT_TIMEOUT = float(os.environ.get("DECKERAS_CONNECT_TIMEOUT", 300))


def tf_config():
    """``TF_CONFIG`` parsed and checked: a one-line ValueError when it is
    missing or malformed."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError("distribute='multiworker' needs TF_CONFIG: set it on every worker to "
                         '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
                         '"task": {"type": "worker", "index": 0}} (docs/distributed.md)')
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


def _split_address(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def wait_for_workers(cfg, timeout=None):
    """Return once every other worker of ``cfg`` (a parsed TF_CONFIG) answers
    on its port, or raise a one-line ConnectionError after ``timeout``
    seconds (``$DECKERAS_CONNECT_TIMEOUT``, default 300) naming those that
    did not. Meanwhile this worker answers on its own port, so that the
    others can see it; a peer already inside TensorFlow answers too (its
    server holds the port). TensorFlow's own start-up wait cannot be cut
    short, so this check runs before it."""
    import socket
    import threading
    import time
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    workers = cfg["cluster"]["worker"]
    me = int(cfg["task"]["index"])
    host, port = _split_address(workers[me])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        server = socket.create_server(("", port), family=family)
    except OSError as e:
        raise ConnectionError(f"worker {me} cannot listen on port {port} ({workers[me]} in "
                              f"TF_CONFIG): {e.strerror or e}") from None
    stop = threading.Event()

    def answer():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:              # the peer closes first: no TIME_WAIT on our port
                conn.settimeout(2)
                try:
                    conn.recv(1)
                except OSError:
                    pass

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    waiting = {i for i in range(len(workers)) if i != me}
    deadline = time.monotonic() + timeout
    try:
        while waiting and time.monotonic() < deadline:
            for i in sorted(waiting):
                try:
                    socket.create_connection(_split_address(workers[i]), timeout=1).close()
                    waiting.discard(i)
                except OSError:
                    pass
            if waiting:
                time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        server.close()
    if waiting:
        names = ", ".join(f"{i} ({workers[i]})" for i in sorted(waiting))
        raise ConnectionError(f"worker {me} could not reach worker {names} within "
                              f"{timeout:g} s: start every worker of TF_CONFIG, or raise "
                              "DECKERAS_CONNECT_TIMEOUT")


def multiworker_strategy():
    """The process's MultiWorkerMirroredStrategy, made on first use. Every
    worker of TF_CONFIG must answer within ``$DECKERAS_CONNECT_TIMEOUT``
    seconds (``wait_for_workers``); after that, a collective operation that
    takes longer than ``$DECKERAS_COLLECTIVE_TIMEOUT`` seconds (default 600:
    a worker died) fails, and the command line stops with one line."""
    import tensorflow as tf         # not at import: TF_CONFIG is checked before TF starts
    if "multiworker" not in _MADE:
        wait_for_workers(tf_config())
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
