#!/usr/bin/env python
"""Time to accuracy of finished run_exp.py trials, read from their logs.

    python bench/time_to_acc.py bench/results/mnist_cosine60 --target 0.94 --budget 1200

For each finished trial folder (``<dir>/<method>/<dataset>/trial<k>``) prints the
AE + k-means ACC, the final ACC/NMI, the iterations, the pretraining and
clustering wall times and the first logged moment (pretraining + clustering
seconds, k-means included) at which ACC reached ``--target`` and the ACC of
the last scoring within ``--budget`` seconds (a run stopped there) and the
host it ran on (config.json, where recorded); a trial stopped during its
clustering counts with its last scoring, marked "(stopped)"; then the
median and mean over the trials of each method and data set. Labels are only
scored every update interval, so a time to target is that of the first
scoring at or above it.
"""
import argparse
import csv
import glob
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from deckeras.io import read_json  # noqa: E402


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _unfinished(folder, log):
    """What summary.json would hold, from the logs of a trial stopped during
    its clustering: its last scoring and its pretraining log's last time."""
    last = log[-1]
    return {"pretrain_s": float(_rows(os.path.join(folder, "pretrain_log.csv"))[-1]["time_s"]),
            "init": {"acc": float(log[0]["acc"])}, "acc": float(last["acc"]),
            "nmi": float(last["nmi"]), "iterations": f"{last['iter']} (stopped)",
            "cluster_s": float(last["time_s"]), "pretrain_reused": False}


def trial_summary(folder, target, budget):
    """The trial's own summary.json (final figures, times), or for a trial
    stopped during clustering its last scoring, plus, from its clustering
    log, the time to ``target`` and the ACC within ``budget``."""
    host = read_json(os.path.join(folder, "config.json")).get("machine")
    log = _rows(os.path.join(folder, "log.csv"))
    summary = os.path.join(folder, "summary.json")
    s = read_json(summary) if os.path.exists(summary) else _unfinished(folder, log)
    pre_s = s["pretrain_s"]
    hit = next((r for r in log if float(r["acc"]) >= target), None)
    within = [r for r in log if pre_s + float(r["time_s"]) <= budget]
    return {"trial": os.path.basename(folder) + (" (pretraining reused)" if s["pretrain_reused"] else ""),
            "init_acc": s["init"]["acc"], "acc": s["acc"], "nmi": s["nmi"],
            "iterations": s["iterations"], "pretrain_s": pre_s, "cluster_s": s["cluster_s"],
            "to_target_s": None if hit is None else pre_s + float(hit["time_s"]),
            "acc_in_budget": float(within[-1]["acc"]) if within else None,
            "host": f"{host['cpu']} {host['cpu_family_model']}" if host else "not recorded"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="+", help="run_exp.py output folders (-d)")
    ap.add_argument("--target", type=float, default=0.94)
    ap.add_argument("--budget", type=float, default=1200.0, help="seconds (default 20 minutes)")
    a = ap.parse_args()
    groups = {}
    for d in a.dirs:
        for folder in sorted(glob.glob(os.path.join(d, "*", "*", "trial*"))):
            if os.path.exists(os.path.join(folder, "log.csv")):   # clustering begun
                groups.setdefault(os.path.relpath(os.path.dirname(folder), d), []).append(
                    trial_summary(folder, a.target, a.budget))
    for name, trials in groups.items():
        print(f"## {name} (target ACC {a.target})")
        print("| trial | AE + k-means ACC | ACC / NMI | iterations | pretraining | clustering "
              f"| total | time to target | ACC within {a.budget:.0f} s | host (CPU family/model) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for t in trials:
            hit = "not reached" if t["to_target_s"] is None else f"{t['to_target_s']:.0f} s"
            budget = "-" if t["acc_in_budget"] is None else f"{t['acc_in_budget']:.3f}"
            print(f"| {t['trial']} | {t['init_acc']:.3f} | {t['acc']:.3f} / {t['nmi']:.3f} "
                  f"| {t['iterations']} | {t['pretrain_s']:.0f} s | {t['cluster_s']:.0f} s "
                  f"| {t['pretrain_s'] + t['cluster_s']:.0f} s | {hit} | {budget} | {t['host']} |")
        accs = [t["acc"] for t in trials]
        inits = [t["init_acc"] for t in trials]
        inb = [t["acc_in_budget"] for t in trials if t["acc_in_budget"] is not None]
        print(f"\nACC median {statistics.median(accs):.3f}, mean {statistics.mean(accs):.3f}; "
              f"AE + k-means median {statistics.median(inits):.3f}, "
              f"mean {statistics.mean(inits):.3f}; "
              f"{sum(t['to_target_s'] is not None for t in trials)}/{len(trials)} reached "
              f"{a.target}" + (f"; ACC within {a.budget:.0f} s median "
                               f"{statistics.median(inb):.3f}" if inb else "") + "\n")


if __name__ == "__main__":
    main()
