import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits():
    from deckeras.datasets import load_dataset
    return load_dataset("digits")


@pytest.fixture(scope="session")
def small_digits(digits):
    """600 digits: enough to cluster, small enough for CI."""
    x, y = digits
    rng = np.random.default_rng(0)
    idx = rng.choice(len(x), 600, replace=False)
    return x[idx], y[idx]
