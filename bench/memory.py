#!/usr/bin/env python
"""Peak memory (RSS) of a main.py run, beside the size of its data and model.

    python bench/memory.py                                   # FcDEC on MNIST, short schedule
    python bench/memory.py -- --method DCN --dataset mnist --pretrain-epochs 1 --maxiter 300

Runs ``main.py`` (arguments after ``--``) in a child process and reports its
peak RSS, the peak RSS of a process that only imports TensorFlow and Keras
(the runtime's own share), and the difference, against the float32 data
size and the model's weights plus optimizer state.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = ["--method", "FcDEC", "--dataset", "mnist", "--pretrain-epochs", "2",
           "--maxiter", "600", "--seed", "0", "--verbose", "0"]


def child_peak_mb(cmd):
    """Peak RSS of ``cmd`` in MiB (run in a fresh interpreter so that the
    children's maximum is this command's alone)."""
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code] + cmd, check=True, capture_output=True,
                         text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main():
    args = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else DEFAULT
    with tempfile.TemporaryDirectory() as tmp:
        save = os.path.join(tmp, "run")
        peak = child_peak_mb([sys.executable, "main.py", *args, "--save-dir", save])
        with open(os.path.join(save, "config.json")) as f:
            cfg = json.load(f)
        model_mb = os.path.getsize(os.path.join(save, "model_final.h5")) / 2 ** 20
        ae_mb = os.path.getsize(os.path.join(save, "ae_weights.h5")) / 2 ** 20
    base = child_peak_mb([sys.executable, "-c", "import tensorflow, keras"])
    n, d = cfg["n_samples"], 1
    for s in cfg["input_shape"]:
        d *= s
    data_mb = n * d * 4 / 2 ** 20
    # weights (autoencoder) + optimizer state (at most two slots: Adam's moments)
    model_mb = 3 * max(model_mb, ae_mb)
    print(f"run: {' '.join(args)}")
    print(f"data_float32_mb {data_mb:.0f}")
    print(f"model_and_optimizer_mb {model_mb:.0f}")
    print(f"peak_rss_mb {peak:.0f}")
    print(f"import_tensorflow_rss_mb {base:.0f}")
    print(f"peak_above_import_mb {peak - base:.0f}")
    print(f"ratio_above_import_to_data_plus_model {(peak - base) / (data_mb + model_mb):.2f}")
    print(f"ratio_total_to_data_plus_model {peak / (data_mb + model_mb):.2f}")


if __name__ == "__main__":
    main()
