#!/usr/bin/env python
"""Pretraining speed against Keras 2's ``fit`` of the same network, one command, one host.

    python bench/vs_keras2.py --setup        # once: tf-keras 2.21 in bench/.keras2 (PyPI)
    python bench/vs_keras2.py [--epochs 3] [--archs dense conv] [--precisions auto float32] [--repeats 1]

For each network on MNIST (70,000 samples, batch 256): the reference,
``bench/keras2_reference.py`` under tf-keras (DEC-keras's dense autoencoder
with SGD(1, 0.9); DEC-DA's conv autoencoder with Adam), seconds per epoch
after the first (which builds the graph); then deckeras's pretraining of the
same network (FcDEC / ConvDEC with their MNIST settings) per precision
(``auto``, the default, prints what it resolved to on this host), and
where the paper protocol pretrains otherwise (FcDEC: clean inputs instead
of the default masking noise) that too,
compilation excluded (``throughput.pretrain_s_per_70k``). Prints the host and
each ratio Keras 2 / deckeras (above 1: deckeras is faster). Needs MNIST
(``python -m deckeras.datasets fetch mnist``).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".keras2")
REFERENCE = ["tensorflow-cpu==2.21.0", "tf-keras~=2.21.0", "scikit-learn", "scipy"]
METHOD = {"dense": "FcDEC", "conv": "ConvDEC"}


def setup():
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([os.path.join(VENV, "bin", "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", *REFERENCE], check=True)


def reference_s_per_epoch(python, arch, epochs):
    out = subprocess.run([python, os.path.join(HERE, "keras2_reference.py"), "--arch", arch,
                          "--epochs", str(epochs), "--every", "1", "--no-kmeans"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}).stdout
    secs = [float(s) for s in re.findall(r"([\d.]+) s/epoch", out)]
    return secs[1:] or secs          # the first epoch builds the graph


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--setup", action="store_true", help="create bench/.keras2 with tf-keras")
    p.add_argument("--keras2-python", default=os.path.join(VENV, "bin", "python"))
    p.add_argument("--epochs", type=int, default=3, help="reference epochs (the first is dropped)")
    p.add_argument("--archs", nargs="+", choices=list(METHOD), default=list(METHOD))
    p.add_argument("--precisions", nargs="+", default=["auto", "float32"])
    p.add_argument("--repeats", type=int, default=1,
                   help="alternate reference and deckeras this many times; the ratios' "
                        "median and range are printed (this host's noise is +-10%%)")
    a = p.parse_args()
    if a.setup:
        setup()
        return
    if not os.path.isfile(a.keras2_python):
        sys.exit(f"no Keras 2 at {a.keras2_python}: run python bench/vs_keras2.py --setup")
    sys.path.insert(0, ROOT)
    sys.path.insert(0, HERE)
    from deckeras.console import import_tensorflow
    import_tensorflow()
    from deckeras import host, load_dataset
    from deckeras.methods import make_method, method_params
    from throughput import pretrain_s_per_70k
    m = host.machine()
    print(f"host: {m['cpu']} family/model {m['cpu_family_model']}, {', '.join(m['cpu_isa'])}, "
          f"{m['cores']} cores, GPUs {m['gpus'] or 'none'}", flush=True)
    x, _ = load_dataset("mnist")

    def protocols(arch):
        """The defaults, and the paper's form where it pretrains otherwise
        (FcDEC on MNIST: clean inputs, not the default masking noise)."""
        differs = method_params(METHOD[arch], "mnist", "paper") != method_params(METHOD[arch], "mnist")
        return ["default", "paper"] if differs else ["default"]
    ratios = {}
    for rep in range(1, a.repeats + 1):
        for arch in a.archs:
            ref = reference_s_per_epoch(a.keras2_python, arch, a.epochs)
            r = statistics.median(ref)
            print(f"[{rep}] {arch}: Keras 2 fit {r:.2f} s/epoch "
                  f"(epochs {', '.join(f'{s:.2f}' for s in ref)})", flush=True)
            xs = x.reshape(-1, 28, 28, 1) if arch == "conv" else x
            for precision, protocol in [(pr, pt) for pr in a.precisions for pt in protocols(arch)]:
                model = make_method(METHOD[arch], "mnist", protocol, n_clusters=10, random_state=0,
                                    precision=precision)
                s = pretrain_s_per_70k(model, xs)
                used = host.resolve_precision(precision)
                name = precision if used == precision else f"{precision} ({used})"
                if protocol != "default":
                    name += f", {protocol} protocol"
                ratios.setdefault((arch, name), []).append(r / s)
                print(f"[{rep}] {arch}: deckeras {METHOD[arch]} {name} {s:.2f} s/epoch  "
                      f"Keras 2 / deckeras {r / s:.2f}x", flush=True)
    if a.repeats > 1:
        for (arch, name), rs in ratios.items():
            print(f"{arch} {name}: Keras 2 / deckeras median {statistics.median(rs):.2f}x "
                  f"(range {min(rs):.2f}-{max(rs):.2f}, {len(rs)} runs)")

if __name__ == "__main__":
    main()
