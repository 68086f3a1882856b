#!/usr/bin/env bash
# float32 against mixed_bfloat16 on MNIST (70k), same seeds, same short
# protocol: FcDEC (30 pretraining epochs, DEC phase as published) and
# ConvDEC-DA (15 augmented pretraining epochs, 3,000 clustering iterations).
# Trials interleave seed by seed so a stopped run still pairs its seeds.
# Usage: bash bench/precision_mnist.sh [TRIALS]   (results: bench/results/mnist_prec/)
set -e
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
TRIALS=${1:-3}
OUT=bench/results/mnist_prec
for n in $(seq 1 "$TRIALS"); do
  for p in float32 mixed_bfloat16; do
    $PY run_exp.py --trials "$n" --methods FcDEC --datasets mnist --protocol paper --precision "$p" \
      --pretrain-epochs 30 -d "$OUT/FcDEC_$p"
    $PY run_exp.py --trials "$n" --methods ConvDEC-DA --datasets mnist --precision "$p" \
      --pretrain-epochs 15 --maxiter 3000 -d "$OUT/ConvDEC-DA_$p"
  done
done
