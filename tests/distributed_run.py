"""Helper for tests/test_distribute.py (run in a subprocess: logical devices
must be set before TensorFlow starts). Trains DEC, IDEC and DCN on the same
data from the same seed on one device and on 2 mirrored logical CPUs, and
prints the largest relative differences of their losses and weights as JSON;
then (key ``broken``) DEC and DCN again with DCN updating its centres from
the first replica's assignments only, to show the comparison catches it.

    python tests/distributed_run.py
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from deckeras import DCN, DEC, load_dataset  # noqa: E402

SETTINGS = dict(n_clusters=10, dims=[64, 32], embedding_dim=5, pretrain_epochs=1,
                pretrain_optimizer="adam", batch_size=65, maxiter=50, update_interval=10,
                tol=0.0, kmeans_n_init=2, random_state=0, scale="none",
                # float32: bfloat16's rounding differs with the reduction order, which
                # alone can move k-means to other centres; this compares the strategies
                precision="float32")
MODELS = {"DEC": (DEC, {}), "IDEC": (DEC, {"gamma": 0.1}), "DCN": (DCN, {"lr": 1e-3})}


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-3)))


def break_dcn():
    """From here on DCN updates its centres from the first replica's
    assignments only (each replica's sums scaled to look like replica 0's alone)."""
    from deckeras import trainer
    real = trainer.compile_step

    def first_replica_only(strategy, fn, input_shape, augment=None, after=None, **kw):
        if after is None:
            return real(strategy, fn, input_shape, augment, **kw)

        def replica0(loss, samples, sums):
            ctx = tf.distribute.get_replica_context()
            first = tf.cast(ctx.replica_id_in_sync_group == 0, tf.float32)
            return loss, samples, {key: v * first * 2 for key, v in sums.items()}
        return real(strategy, lambda *a: replica0(*fn(*a)), input_shape, augment, after, **kw)
    trainer.compile_step = first_replica_only


def compare(names, x, mirrored):
    """Each model of ``names`` trained on one device and on ``mirrored``: the
    largest relative differences of losses and weights."""
    out = {}
    for name in names:
        cls, extra = MODELS[name]
        one, two = [cls(**SETTINGS, **extra, distribute=d).fit(x) for d in (None, mirrored)]
        out[name] = {
            "pretrain_loss": rel([r["loss"] for r in two.pretrain_history_],
                                 [r["loss"] for r in one.pretrain_history_]),
            "loss": rel([r["loss"] for r in two.history_], [r["loss"] for r in one.history_]),
            "weights": max(rel(a, b) for a, b in zip(two.model_.get_weights(),
                                                     one.model_.get_weights())),
            "labels_equal": float(np.mean(one.labels_ == two.labels_)),
            "iterations": [one.n_iter_, two.n_iter_],
        }
    return out


def main():
    x, _ = load_dataset("digits")
    x = x[:600]
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {"replicas": mirrored.num_replicas_in_sync, **compare(MODELS, x, mirrored)}
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # float16 on a CPU: slow, and said so
        f16 = DEC(**{**SETTINGS, "precision": "mixed_float16"}, distribute=mirrored).fit(x)
    out["mixed_float16"] = {
        "optimizers": [type(o).__name__ for o in (f16.pretrain_optimizer_, f16.optimizer_)],
        "finite": bool(np.isfinite([r["loss"] for r in f16.history_]).all()),
        "compute_dtypes": sorted({layer.compute_dtype for layer in f16.autoencoder_.layers}),
        "weight_dtypes": sorted({str(w.dtype) for w in f16.model_.get_weights()})}
    break_dcn()                          # then DEC (untouched) and DCN again
    out["broken"] = compare(["DEC", "DCN"], x, mirrored)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
