"""main.py with the clustering mini-batches in the references' order.

DEC-keras and DEC-DA walk the data set in its stored order during clustering
(batch k holds samples 256k..256k+255, the last one the remainder, then
back to the start), never shuffled; deckeras draws a fresh permutation each
pass (docs/algorithms.md, "What deckeras fixes"). This runs main.py with
every argument passed through, but with the batches in the fixed order, to
see whether the order is behind a difference from a published figure:

    python bench/cluster_order.py --method ConvDEC-DA --dataset fmnist --seed 0 \\
        --pretrained-weights RUN/trial0/ae_weights.h5 -d OUT

Run the same command with main.py for the shuffled order. Pretraining keeps
its shuffled batches (the references shuffle there too: Keras's fit).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from deckeras import trainer  # noqa: E402
from deckeras.cli import main  # noqa: E402
from deckeras.training import BatchOrder  # noqa: E402


class _Stored:
    """Stands in for BatchOrder's generator: the permutation is the identity."""

    def __init__(self, rng):
        self.bit_generator = rng.bit_generator

    def permutation(self, n):
        return np.arange(n)


class StoredOrder(BatchOrder):
    """BatchOrder without the shuffle: 0..n-1 every pass."""

    def __init__(self, n, batch_size, seed=None):
        super().__init__(n, batch_size, seed)
        self.rng = _Stored(self.rng)


if __name__ == "__main__":
    if "--pretrained-weights" not in sys.argv:
        sys.exit("cluster_order.py: pass --pretrained-weights (pretraining would take the fixed order too)")
    trainer.BatchOrder = StoredOrder
    sys.exit(main())
