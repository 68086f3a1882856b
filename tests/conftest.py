import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

# The longest test files first. `make test` runs two workers with
# `--dist loadfile` (a file goes whole to one worker, which builds its
# fixtures once); files start in collection order, so a long file collected
# last would keep one worker busy while the other sits idle. These five
# took about half the suite's time (--durations, 2026-12-03).
LONGEST_FIRST = ("test_distribute.py", "test_resume.py", "test_sklearn_contract.py",
                 "test_results.py", "test_streaming.py")


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))   # stable


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
