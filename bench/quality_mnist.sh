#!/usr/bin/env bash
# MNIST with a CPU-sized protocol (50 pretraining epochs instead of 300-500).
# Serial on purpose: the machine has 2 cores. Results: results/mnist_cpu/summary.md
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
TRIALS=${TRIALS:-1}
D=${D:-results/mnist_cpu}
# FcDEC and DCN share one pretrained dense autoencoder per seed (--reuse-pretrain;
# FcDEC in its paper's form, clean pretraining, as DCN's).
$PY run_exp.py --trials "$TRIALS" --methods FcDEC --datasets mnist --protocol paper --pretrain-epochs 50 --reuse-pretrain -d "$D"
$PY run_exp.py --trials "$TRIALS" --methods DCN --datasets mnist --pretrain-epochs 50 --maxiter 5480 --reuse-pretrain -d "$D"
# ConvDEC-DA on the 10,000 test digits, 100 augmented pretraining epochs (paper: 500).
$PY run_exp.py --trials "$TRIALS" --methods ConvDEC-DA --datasets mnist-test --pretrain-epochs 100 -d "$D"
