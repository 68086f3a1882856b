"""Does a row's result depend on where it sits in a batch? For a matmul of
M rows (the first layer of an encoder), each row is computed at every
position of the batch; positions that give bitwise different results form
separate groups. Then the same with deckeras's full_pass (padded calls).

    python bench/row_position.py

Prints the host and, per (K, N, M), the groups of positions with equal
results: one group means position does not matter.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from deckeras import host  # noqa: E402
from deckeras.training import compile_pass, full_pass  # noqa: E402


def groups(run, block, w):
    """Positions of a batch grouped by the bits of row 0's result there."""
    m = len(block)
    seen = {}
    for s in range(m):
        out = np.asarray(run(np.roll(block, s, axis=0), w))[s]
        seen.setdefault(out.tobytes(), []).append(s)
    return sorted((g for g in seen.values()), key=len, reverse=True)


def main():
    print(json.dumps(host.machine()))
    rng = np.random.default_rng(0)
    for k, n in ((784, 500), (64, 8)):
        w = tf.constant(rng.standard_normal((k, n)), tf.float32)
        plain = tf.function(lambda a, w: tf.matmul(a, w))
        padded = compile_pass(lambda a: tf.matmul(a, w))
        for m in (8, 16, 20, 24, 32, 128):
            a = rng.standard_normal((m, k)).astype(np.float32)
            g1 = groups(plain, a, w)
            g2 = groups(lambda b, _: full_pass(padded, b), a, w)
            short = [g if len(g) < 6 else f"{len(g)} positions" for g in g1]
            print(f"K={k} N={n} M={m}: matmul {len(g1)} group(s) {short}; "
                  f"full_pass {len(g2)} group(s)", flush=True)


if __name__ == "__main__":
    main()
