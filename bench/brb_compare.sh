#!/usr/bin/env bash
# BRB side by side: METHOD on DATASET for seeds 0..TRIALS-1, each seed once
# without resets and once with --brb-interval (default 20, the paper's), the
# second starting from the first's pretrained autoencoder (so the k-means
# start is the same and only the resets differ). Both train every iteration
# (--tol 0). Rerun the same command to resume; finished runs print at once.
# SEEDS="2" runs (and tabulates) only those seeds, e.g. to add one on another host.
#   bench/brb_compare.sh FcDEC fmnist /work/runs/brb-fcdec-fmnist --pretrain-epochs 120 --pretrain-noise 0.2
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
TRIALS=${TRIALS:-3}
INTERVAL=${INTERVAL:-20}
SEEDS=${SEEDS:-$(seq 0 $((TRIALS - 1)))}
M=$1; DS=$2; ROOT=$3; shift 3
for s in $SEEDS; do
  $PY main.py --method "$M" --dataset "$DS" --seed "$s" --tol 0 -v 0 -d "$ROOT/plain/seed$s" "$@"
  $PY main.py --method "$M" --dataset "$DS" --seed "$s" --tol 0 -v 0 -d "$ROOT/brb/seed$s" \
      --brb-interval "$INTERVAL" --pretrained-weights "$ROOT/plain/seed$s/ae_weights.h5" "$@"
done
$PY - "$ROOT" $SEEDS <<'PY'
import json, os, sys
root, seeds = sys.argv[1], [int(a) for a in sys.argv[2:]]
print("seed | AE + k-means ACC | plain ACC / NMI | BRB ACC / NMI | resets")
means = {"plain": [], "brb": []}
for s in seeds:
    row = {}
    for kind in ("plain", "brb"):
        with open(os.path.join(root, kind, f"seed{s}", "summary.json")) as f:
            row[kind] = json.load(f)
        means[kind].append(row[kind]["acc"])
    p, b = row["plain"], row["brb"]
    print(f"{s} | {p['init']['acc']:.4f} | {p['acc']:.4f} / {p['nmi']:.4f} | "
          f"{b['acc']:.4f} / {b['nmi']:.4f} | {b['brb_resets']}")
for kind, v in means.items():
    print(f"mean ACC {kind}: {sum(v) / len(v):.4f}")
PY
