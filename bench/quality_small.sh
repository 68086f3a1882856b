#!/usr/bin/env bash
# Quality on the data sets that are always here, 5 seeds each (the issues' protocol).
#   digits:    FcDEC, ConvDEC-DA, DCN vs k-means on raw pixels
#   synthetic: DCN vs k-means on the raw 100-D data
# Results: results/small/summary.md (and results.csv per trial)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
TRIALS=${TRIALS:-5}
D=${D:-results/small}
$PY run_exp.py --trials "$TRIALS" --methods FcDEC ConvDEC-DA DCN --datasets digits --reuse-pretrain -d "$D"
$PY run_exp.py --trials "$TRIALS" --methods DCN --datasets synthetic -d "$D"
