"""The labels of a fixed set of runs, to show a change of structure changes
no result: run it before and after on the same host and compare the lines.

    python bench/labels_check.py OUT_DIR > before.txt
    ... change the code ...
    python bench/labels_check.py OUT_DIR2 > after.txt && diff before.txt after.txt

Each line is ``name sha256-of-labels.csv``. The runs: FcDEC, ConvDEC-DA and
DCN-DA on digits, FcDEC with two workers on loopback ports, and FcDEC
killed (SIGKILL) after its first checkpoint and run again to resume (with
the same run uninterrupted beside it, which must agree). Every setting is
given as a flag, so a change of a method's defaults does not move them.
Float results differ between CPUs: compare only lines from one host.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
COMMON = ["--dataset", "digits", "--seed", "0", "-v", "0", "--precision", "float32",
          "--protocol", "default"]
RUNS = {
    "FcDEC": ["--method", "FcDEC", "--pretrain-epochs", "40", "--maxiter", "1500"],
    "ConvDEC-DA": ["--method", "ConvDEC-DA", "--pretrain-epochs", "4", "--maxiter", "300"],
    "DCN-DA": ["--method", "DCN-DA", "--pretrain-epochs", "10", "--maxiter", "700"],
}
RESUMED = ["--method", "FcDEC", "--pretrain-epochs", "60", "--maxiter", "600"]


def main_py(args, env=ENV, wait=True):
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), *COMMON, *args],
                         env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    if wait:
        out, err = p.communicate()
        if p.returncode:
            sys.exit(f"{' '.join(args)} failed: {err.strip().splitlines()[-1:]}")
    return p


def digest(folder):
    with open(os.path.join(folder, "labels.csv"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "labels_check")
    shutil.rmtree(out, ignore_errors=True)
    for name, args in RUNS.items():
        main_py([*args, "-d", os.path.join(out, name)])
        print(name, digest(os.path.join(out, name)), flush=True)

    from deckeras.distribute import loopback_tf_configs
    d = os.path.join(out, "two-workers")
    procs = [main_py([*RUNS["FcDEC"], "-d", d, "--distribute", "multiworker"], wait=False,
                     env={**ENV, "TF_CONFIG": cfg}) for cfg in loopback_tf_configs(2)]
    for p in procs:
        if p.wait():
            sys.exit(f"a worker failed: {p.stderr.read().strip().splitlines()[-1:]}")
    print("FcDEC-two-workers", digest(d), flush=True)

    d = os.path.join(out, "resumed")
    p = main_py([*RESUMED, "-d", d], wait=False)
    ckpt = os.path.join(d, "checkpoints", "checkpoint")
    while not os.path.exists(ckpt) and p.poll() is None:
        time.sleep(0.2)
    p.kill()
    p.wait()
    main_py([*RESUMED, "-d", d])
    main_py([*RESUMED, "-d", os.path.join(out, "uninterrupted")])
    print("FcDEC-killed-resumed", digest(d), flush=True)
    print("FcDEC-uninterrupted", digest(os.path.join(out, "uninterrupted")), flush=True)


if __name__ == "__main__":
    main()
