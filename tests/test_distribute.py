"""tf.distribute: the same algorithm on 2 replicas as on one device, the
command line's --distribute, and a real 2-worker run on loopback ports."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _helper(*args):
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "distributed_run.py"), *args],
                       capture_output=True, text=True, env=ENV, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_two_mirrored_replicas_train_as_one_device():
    """From the same initial weights: one pretraining epoch and 50 clustering
    iterations (batches split unevenly: 65 = 32 + 33, the last 15 = 7 + 8)."""
    out = _helper()
    assert out["replicas"] == 2
    for name in ("DEC", "IDEC", "DCN"):
        r = out[name]
        assert r["iterations"] == [50, 50]
        assert r["pretrain_loss"] < 1e-4 and r["loss"] < 1e-4, (name, r)
        assert r["weights"] < 1e-4, (name, r)
        assert r["labels_equal"] == 1.0, (name, r)


def test_the_comparison_catches_centres_updated_from_one_replica():
    out = _helper("--break")
    assert out["DEC"]["weights"] < 1e-4          # untouched
    assert out["DCN"]["weights"] > 1e-2, out["DCN"]
