"""run_exp.py: resumable multi-trial benchmarks -> results.csv + summary.

Every method x data set x trial runs in ``<save-dir>/<method>/<dataset>/trial<k>``
(seed ``seed_base + k``) with the outputs of ``main.py``. A trial is finished
when its ``summary.json`` exists (written last, atomically); anything else is
rerun. ``results.csv``, ``summary.csv`` and ``summary.md`` are rebuilt from
the trial folders after every trial, so they always match what is on disk.
"""
import hashlib
import json
import os
import shutil
import signal
import sys
import time

import numpy as np

from . import cli
from .io import atomic_path, read_json, write_csv, write_json
from .runfolder import AE_WEIGHTS, CONFIG, ERROR, SUMMARY, RunFolder, worker_folder

DEFAULT_METHODS = ["FcDEC-DA", "ConvDEC-DA", "FcIDEC-DA", "ConvIDEC-DA", "DCN"]
CANDIDATE_SETS = ["mnist", "mnist-test", "usps", "fmnist"]
RESULT_FIELDS = ["method", "dataset", "trial", "seed", "acc", "nmi", "ari", "init_acc",
                 "init_nmi", "init_ari", "pretrain_s", "cluster_s", "total_s", "iterations",
                 "pretrain_reused", "status", "error"]
# docs/algorithms.md: published 10-trial means (ACC, NMI); DEC-DA's column is its best method.
PUBLISHED = {
    "mnist": {"k-means": (.53, .50), "AE+k-means": (.879, .807), "DEC": (.912, .869),
              "DEC-DA": (.985, .960), "DCN": (.83, .81), "N2D": (.979, .942)},
    "mnist-test": {"DEC-DA": (.983, .958)},
    "fmnist": {"k-means": (.47, .51), "AE+k-means": (.606, .637), "DEC": (.618, .651),
               "DEC-DA": (.586, .636), "N2D": (.672, .684)},
    "usps": {"k-means": (.67, .63), "AE+k-means": (.709, .684), "DEC": (.764, .787),
             "DEC-DA": (.987, .962)},
    "reuters10k": {"k-means": (.52, .31), "AE+k-means": (.763, .519), "DEC": (.778, .571)},
    "stl": {"k-means": (.70, .71), "AE+k-means": (.786, .725), "DEC": (.859, .820)},
}


def parser():
    from .methods import METHODS
    p = cli.Parser(prog="run_exp.py", description="Multi-trial deep clustering benchmarks.",
                   epilog="Example: python run_exp.py --trials 3 --methods FcDEC DCN --datasets digits")
    p.add_argument("--trials", type=int, default=5,
                   help="trials per method and data set; trial k uses seed --seed-base + k "
                        "(default 5)")
    p.add_argument("--methods", nargs="+", default=None, choices=METHODS, metavar="METHOD",
                   help="default: " + " ".join(DEFAULT_METHODS))
    p.add_argument("--datasets", nargs="+", default=None,
                   help="default: those of mnist, mnist-test, usps, fmnist present here (else digits)")
    p.add_argument("--save-dir", "-d", default="results/exp",
                   help="the experiment folder: one run folder per trial under "
                        "METHOD/DATASET/trial<k>, and the result tables (default results/exp)")
    p.add_argument("--seed-base", type=int, default=0, help="trial k uses seed base+k")
    p.add_argument("--reuse-pretrain", action="store_true",
                   help="trials with the same autoencoder, data and seed share one pretraining")
    cli.add_common_flags(p)
    p.set_defaults(verbose=0)
    return p


def available_datasets(data_dir=None):
    """The benchmark sets whose files are already here (no fetching)."""
    from .datasets import dataset_available
    return [d for d in CANDIDATE_SETS if dataset_available(d, data_dir)] or ["digits"]


def trial_dir(root, method, dataset, k):
    return os.path.join(root, method, os.path.basename(dataset), f"trial{k}")


def _pretrain_key(method, dataset, args, seed):
    """What makes two trials' pretrained autoencoders identical."""
    from .methods import make_method, pretrain_signature
    params = cli.resolve_params(method, dataset, args, seed)
    sig = pretrain_signature(make_method(method, dataset, **params).get_params())
    blob = json.dumps([dataset, sig], default=str, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def _clean_partial(d):
    """Forget an earlier failure of a trial. An interrupted trial keeps its
    folder: ``runs.train`` resumes it from its latest checkpoint."""
    e_path = RunFolder(d).error
    if os.path.isfile(e_path):
        os.remove(e_path)


def _row(method, dataset, k, seed, d):
    row = {"method": method, "dataset": dataset, "trial": k, "seed": seed}
    s_path, e_path = RunFolder(d).summary, RunFolder(d).error
    if os.path.isfile(s_path):
        s = read_json(s_path)
        init = s.get("init") or {}
        row.update({m: _r(s.get(m)) for m in ("acc", "nmi", "ari")})
        row.update({f"init_{m}": _r(init.get(m)) for m in ("acc", "nmi", "ari")})
        row.update(pretrain_s=s["pretrain_s"], cluster_s=s["cluster_s"], total_s=s["total_s"],
                   iterations=s["iterations"], pretrain_reused=s.get("pretrain_reused", False),
                   status="done", error="")
    elif os.path.isfile(e_path):
        row.update(status="failed", error=read_json(e_path).get("error", ""))
    else:
        row.update(status="pending", error="")
    return row


def _r(v):
    return "" if v is None else round(float(v), 5)


def kmeans_baseline(dataset, seeds, root, data_dir=None, n_clusters=None, data_options=None):
    """k-means on the raw data for each seed (cached in ``<root>/_baselines``)."""
    from sklearn.cluster import KMeans
    from .datasets import dataset_info, load_dataset
    from .metrics import evaluate
    path = os.path.join(root, "_baselines", os.path.basename(dataset) + ".json")
    cache = read_json(path) if os.path.isfile(path) else {}
    if cache.get("unlabelled"):          # nothing to score, and no need to load it again
        return []
    todo = [s for s in seeds if str(s) not in cache]
    if todo:
        options = {k: v for k, v in (data_options or {}).items() if k != "stream"}
        x, y = load_dataset(dataset, data_dir=data_dir, **options)
        if y is None:
            write_json(path, {"unlabelled": True})
            return []
        k = n_clusters if isinstance(n_clusters, int) else \
            (dataset_info(dataset) or (len(np.unique(y)),))[0]
        for s in todo:
            cache[str(s)] = evaluate(y, KMeans(k, n_init=10, random_state=s).fit_predict(x))
        write_json(path, cache)
    return [cache[str(s)] for s in seeds]


def _ms(values):
    v = [float(x) for x in values if x != "" and x is not None]
    if not v:
        return "", ""
    return round(float(np.mean(v)), 4), round(float(np.std(v)), 4)


def summarise(rows, baselines):
    """Mean and std per method x data set, with the k-means baselines."""
    out = []
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        for name, recs in [("k-means (raw)", baselines.get(ds, []))] + [
                (m, [r for r in rows if r["dataset"] == ds and r["method"] == m and r["status"] == "done"])
                for m in dict.fromkeys(r["method"] for r in rows if r["dataset"] == ds)]:
            if not recs:
                continue
            s = {"dataset": ds, "method": name, "n": len(recs)}
            for m in ("acc", "nmi", "ari"):
                s[f"{m}_mean"], s[f"{m}_std"] = _ms([r.get(m) for r in recs])
                s[f"init_{m}_mean"], s[f"init_{m}_std"] = _ms([r.get(f"init_{m}") for r in recs])
            s["total_s_mean"] = _ms([r.get("total_s") for r in recs])[0]
            out.append(s)
    return out


def _published_for(ds, method):
    pub = PUBLISHED.get(ds, {})
    if method.startswith("k-means"):
        return pub.get("k-means")
    if method == "N2D":
        return pub.get("N2D")
    if "DCN" in method:
        return pub.get("DCN")
    if method.endswith("-DA"):
        return pub.get("DEC-DA")
    if method in ("DEC", "FcDEC"):
        return pub.get("DEC")
    return None


def summary_markdown(summary):
    lines = []
    for ds in dict.fromkeys(s["dataset"] for s in summary):
        lines += [f"### {ds}", "",
                  "| method | trials | ACC | NMI | ARI | start ACC | start NMI | published ACC / NMI | time per trial |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for s in (s for s in summary if s["dataset"] == ds):
            def f(key):
                m, sd = s[f"{key}_mean"], s[f"{key}_std"]
                return "" if m == "" else f"{m:.3f} ± {sd:.3f}"
            pub = _published_for(ds, s["method"])
            t = s["total_s_mean"]
            lines.append(f"| {s['method']} | {s['n']} | {f('acc')} | {f('nmi')} | {f('ari')} | "
                         f"{f('init_acc')} | {f('init_nmi')} | "
                         f"{'' if not pub else f'{pub[0]:.3f} / {pub[1]:.3f}'} | "
                         f"{'' if t == '' else f'{t:.0f} s'} |")
        lines.append("")
    if not any(s["method"] != "k-means (raw)" for s in summary):
        lines += ["No trial has finished: see `results.csv` (each failed trial's error is in "
                  "its `error.json`).", ""]
    lines.append("Start: the clusters' start on the pretrained embedding (AE + k-means; a "
                 "Gaussian mixture with --cluster-init gmm; UMAP + GMM for N2D, which is its "
                 "result). Published figures: docs/algorithms.md (DEC-DA: the best of its methods).")
    return "\n".join(lines) + "\n"


def write_reports(root, rows, baselines):
    write_csv(os.path.join(root, "results.csv"), rows, RESULT_FIELDS)
    summary = summarise(rows, baselines)
    if summary:
        write_csv(os.path.join(root, "summary.csv"), summary, list(summary[0]))
    with atomic_path(os.path.join(root, "summary.md")) as tmp:
        with open(tmp, "w") as f:
            f.write(summary_markdown(summary))
    if any(r["status"] == "done" and r.get("acc") not in ("", None) for r in rows):
        from .plots import plot_experiment
        plot_experiment(root, root)          # summary.png: ACC per method, with its spread


def _terminate(signum, frame):
    raise KeyboardInterrupt


def run(args):
    from .methods import method_family
    cli.start_distribution(args)         # starts TensorFlow quietly
    from . import runs
    methods = args.methods or DEFAULT_METHODS
    sets = args.datasets or available_datasets(args.data_dir)
    if args.trials < 1:
        raise ValueError(f"--trials must be >= 1, got {args.trials}")
    for m in methods:
        method_family(m)
    root = args.save_dir
    from .distribute import is_chief
    if getattr(args, "distribute", None) == "multiworker" and not is_chief() \
            and not getattr(args, "worker_folder", False):
        # the other workers train in step with the chief; what they write is not kept
        with worker_folder() as private:
            args.save_dir, args.worker_folder = private, True
            try:
                return run(args)
            finally:
                args.save_dir, args.worker_folder = root, False
    plan = [(m, ds, k) for ds in sets for m in methods for k in range(args.trials)]
    seeds = [args.seed_base + k for k in range(args.trials)]
    _check_same_settings(root, plan, args)
    RunFolder(root).make_writable()          # one line now, not a failure per trial
    signal.signal(signal.SIGTERM, _terminate)
    t0, done_times = time.time(), []
    for i, (m, ds, k) in enumerate(plan, 1):
        d, seed = trial_dir(root, m, ds, k), args.seed_base + k
        if RunFolder(d).has(SUMMARY):
            continue
        left = len(plan) - i + 1
        eta = f", about {_hms(np.mean(done_times) * left)} left" if done_times else ""
        print(f"[{i}/{len(plan)}] {m} on {ds}, trial {k} (seed {seed}){eta}", flush=True)
        _clean_partial(d)
        t_trial = time.time()
        pre, cache = None, None
        if args.reuse_pretrain:
            cache = os.path.join(root, "_pretrain", _pretrain_key(m, ds, args, seed) + ".h5")
            pre = cache if os.path.isfile(cache) else None
        pre = pre or args.pretrained_weights
        try:
            params = cli.resolve_params(m, ds, args, seed)
            if params.get("tensorboard_dir"):
                params["tensorboard_dir"] = os.path.join(params["tensorboard_dir"], m,
                                                         os.path.basename(ds), f"trial{k}")
            s = runs.train(m, ds, params, d, seed, args.data_dir, pre,
                           data_options=cli.data_options(args))
            if cache and not os.path.isfile(cache) and RunFolder(d).has(AE_WEIGHTS):
                with atomic_path(cache) as tmp:
                    shutil.copyfile(RunFolder(d).ae_weights, tmp)
            print(f"    acc {s.get('acc', float('nan')):.4f}  nmi {s.get('nmi', float('nan')):.4f}  "
                  f"({s['total_s']:.0f}s)", flush=True)
        except KeyboardInterrupt:
            raise
        except Exception as e:   # a failing trial is recorded and the others go on
            os.makedirs(d, exist_ok=True)
            write_json(RunFolder(d).error, {"error": f"{type(e).__name__}: {e}"})
            print(f"    failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        done_times.append(time.time() - t_trial)
        _report(root, methods, sets, args, seeds)
    _report(root, methods, sets, args, seeds)
    print(f"done in {_hms(time.time() - t0)}: {os.path.join(root, 'summary.md')}")
    with open(os.path.join(root, "summary.md")) as f:
        print(f.read())
    status = [_row(m, ds, k, 0, trial_dir(root, m, ds, k))["status"] for m, ds, k in plan]
    if "done" not in status:
        print(f"error: every trial failed ({status.count('failed')} of {len(plan)}; the "
              f"reasons are in each trial's {ERROR} and in {os.path.join(root, 'results.csv')})",
              file=sys.stderr)
        return 2
    return 0


def _check_same_settings(root, plan, args):
    """A trial folder that holds a trial run with other settings is refused
    (as main.py refuses another run's checkpoint): its results would
    otherwise stand in the tables for the new settings."""
    from .checkpoint import comparable_params, describe_mismatch
    from .methods import make_method
    for m, ds, k in plan:
        d = trial_dir(root, m, ds, k)
        if not RunFolder(d).has(CONFIG):
            continue
        old = read_json(RunFolder(d).config)
        params = cli.resolve_params(m, ds, args, args.seed_base + k)
        if params.get("n_clusters") is None:
            params["n_clusters"] = old["params"].get("n_clusters")
        new = comparable_params(make_method(m, ds, **params).get_params())
        was = comparable_params(old["params"])
        if new != was:
            raise ValueError(f"{d} holds a trial run with other settings "
                             f"({describe_mismatch({'params': was}, {'params': new})}): use "
                             "another --save-dir for the new settings, or remove that folder")

def _discovered(root):
    """(method, dataset, trial) of every trial folder already under ``root``."""
    from .methods import METHODS
    found = []
    for m in (m for m in METHODS if os.path.isdir(os.path.join(root, m))):
        for ds in sorted(os.listdir(os.path.join(root, m))):
            if os.path.isdir(os.path.join(root, m, ds)):
                found += [(m, ds, int(t[5:])) for t in sorted(os.listdir(os.path.join(root, m, ds)))
                          if t.startswith("trial") and t[5:].isdigit()]
    return found


def _report(root, methods, sets, args, seeds):
    """Rebuild the reports from this run's plan plus every other trial in ``root``,
    so several invocations into one folder share one results.csv."""
    plan = [(m, os.path.basename(ds), k) for ds in sets for m in methods for k in range(args.trials)]
    extra = [t for t in _discovered(root) if t not in plan]
    rows = []
    for m, ds, k in plan + extra:
        d = os.path.join(root, m, ds, f"trial{k}")
        cfg = RunFolder(d).config
        seed = read_json(cfg).get("seed") if os.path.isfile(cfg) else args.seed_base + k
        rows.append(_row(m, ds, k, seed, d))
    rows = [r for r in rows if r["status"] != "pending" or (r["method"], r["dataset"], r["trial"]) in plan]
    baselines, source = {}, {os.path.basename(s): s for s in sets}
    for ds in dict.fromkeys(list(source) + [e[1] for e in extra]):
        try:
            baselines[ds] = kmeans_baseline(source.get(ds, ds), seeds[:5], root, args.data_dir,
                                            args.n_clusters, cli.data_options(args))
        except (ValueError, FileNotFoundError):
            baselines[ds] = []
    write_reports(root, rows, baselines)


def _hms(s):
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def main(argv=None):
    args = parser().parse_args(argv)
    return cli.guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
