"""numpydoc pieces shared by the DEC and DCN docstrings (the same parameters)."""
import inspect

ARCH_DOC = """arch : {'fc', 'conv'}, default 'fc'
    Dense autoencoder (``dims``) or DEC-DA's convolutional one (``filters``).
dims : list of int, optional
    Hidden sizes of the dense encoder; default ``[500, 500, 2000]``.
filters : tuple of int, default (32, 64, 128)
    Filters of the three convolutions of the conv encoder.
embedding_dim : int, default 10
    Size of the embedding the clusters live in.
init : initializer, optional
    Dense layers' kernel initialiser (default DEC's VarianceScaling(1/3)).
"""
TRAINING_DOC = """augment : bool, default False
    Gradient steps on augmented batches (random rotation and shift);
    targets from clean data (the -DA methods).
aug_pretrain : bool, optional
    Pretrain on augmented data; default: same as ``augment``.
rotation, shift : float, default 10, 0.1
    Augmentation ranges (degrees; fraction of width/height).
pretrain_epochs : int, default 200
    Epochs of autoencoder pretraining.
pretrain_optimizer : {{'sgd', 'adam'}}, default {pretrain_optimizer}
    Pretraining optimiser.
pretrain_lr : float, optional
    Default 1.0 for SGD (DEC's), 1e-3 for Adam.
pretrain_schedule : {{'constant', 'cosine'}}, default 'constant'
    'cosine' decays the pretraining learning rate to 0 over the
    pretraining epochs (not in the papers; bench/README.md compares them).
pretrain_noise : float, default 0.0
    Denoising pretraining: each input value is zeroed with this
    probability and the autoencoder learns to restore the uncorrupted
    input (DEC's original pretraining used 0.2). 0 trains on clean inputs,
    as DEC-keras and DEC-DA do.
optimizer : {{'sgd', 'adam'}}, default {optimizer}
    Clustering-phase optimiser.
lr : float, default {lr}
    Clustering-phase learning rate.
momentum : float, default 0.9
    SGD momentum (both phases).
batch_size : int, default 256
    Mini-batch size (the global batch under ``distribute``).
maxiter : int, default 20000
    Maximum clustering iterations (mini-batches).
update_interval : int or None, default {update_interval}
    {update_note}
tol : float, default {tol}
    Stop when fewer than this fraction of labels change between updates.
kmeans_n_init : int, default 20
    k-means restarts of the initialisation.
cluster_init : {{'kmeans', 'gmm'}}, default 'kmeans'
    How the clusters start: k-means on the pretrained embedding (the
    papers'), or 'gmm': a Gaussian mixture with full covariances started
    from that k-means, its means the first centres and its most likely
    components the first labels (fits clusters of unequal shape and size).
random_state : int, optional
    Seeds the initial weights, the mini-batch order, the augmentation and
    k-means: the same seed gives the same labels on the same machine.
verbose : int, default 0
    1 prints progress.
save_dir : str, optional
    Write logs, weights and checkpoints here while training; a later
    ``fit`` with the same settings and data resumes from the last checkpoint.
tensorboard_dir : str, optional
    Also write the pretraining loss per epoch and the clustering loss,
    delta-label and (with ``y``) ACC/NMI/ARI per target update as
    TensorBoard scalars (``tf.summary``) under ``pretrain/`` and ``cluster/``.
brb_interval : int, optional
    Break the reclustering barrier (BRB; Miklautz et al., ICLR 2025): every
    ``brb_interval`` epochs of clustering (an epoch: ``ceil(n /
    batch_size)`` iterations) soft-reset the encoder, re-run k-means on the
    new embedding and restart the clusters from it. None (the default): no
    resets. The paper's setting for autoencoders: 20.
brb_alpha : float, default 0.8
    The soft reset: every encoder layer but the embedding layer moves to
    ``brb_alpha * w + (1 - brb_alpha) * w0``, ``w0`` a fresh draw of its
    initialisation (He-uniform kernels, biases uniform in +-1/sqrt(fan_in));
    1 keeps the weights. The optimizer's state for DEC's centres is
    cleared at each reset.
brb_sample : int, default 10000
    Embeddings the reclustering k-means (10 starts) runs on, drawn anew at
    each reset; every sample is then assigned to its nearest new centre.
jit_compile : bool, default False
    Compile train steps with XLA (augmentation runs outside it). On CPU it
    speeds up dense clustering steps and slows conv ones (bench/README.md).
precision : {{'auto', 'float32', 'mixed_bfloat16', 'mixed_float16'}}, default 'auto'
    Keras dtype policy of the networks. Weights, the embedding layer,
    losses and soft assignments stay float32. 'auto' computes in bfloat16
    on a CPU with bfloat16 hardware (AVX512-BF16 or AMX) and no GPU, where
    it is faster than float32 at the same accuracy (bench/README.md), and
    in float32 elsewhere; ``precision_`` says which was used. 'mixed_float16' (for GPUs)
    wraps both optimizers in Keras's dynamic loss scaling.
scale : {{'minmax', 'standard', 'none'}}, default 'minmax'
    Input scaling fitted in ``fit`` and applied by ``predict`` and
    ``transform``: each feature to [0, 1] (scikit-learn's MinMaxScaler),
    to mean 0 and std 1 (StandardScaler), or as given. Raw features in
    the hundreds make training diverge without it; ``make_method`` gives
    the named data sets 'none' (they come scaled as in the papers).
warm_start : bool, default False
    ``fit`` on a fitted model goes on training it (no pretraining, no
    k-means). By default every ``fit`` builds fresh networks from the
    current parameters and ``random_state``.
distribute : None, 'mirrored', 'multiworker' or tf.distribute.Strategy, default None
    Where training runs: None the strategy in scope
    (``tf.distribute.get_strategy()``, one device by default), 'mirrored'
    a MirroredStrategy over all local GPUs (the CPU when there are none),
    'multiworker' a MultiWorkerMirroredStrategy configured by ``TF_CONFIG``.
    ``batch_size`` stays the global batch: each replica takes its share and
    the result is the same algorithm as on one device.
"""
ATTRIBUTES_DOC = """labels_ : ndarray of shape (n_samples,)
    Cluster of each training sample, from the final weights.
cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
init_labels_ : ndarray of shape (n_samples,)
    The k-means start.
init_metrics_ : dict or None
    acc, nmi, ari of the k-means start when ``y`` was given.
history_ : list of dict
    One row per target update: iter, loss, delta_label, time_s (and acc,
    nmi, ari when ``y`` was given).
pretrain_history_ : list of dict
    epoch, loss, time_s of each pretraining epoch.
n_iter_ : int
    Clustering iterations run.
converged_ : bool
    Whether training stopped because delta_label fell below ``tol``.
n_features_in_ : int
input_scale_, input_offset_ : ndarray of shape (n_features_in_,) or None
    The fitted scaling ``x * input_scale_ + input_offset_``.
image_shape_ : tuple or None
    (H, W, C) the samples are viewed as for conv layers and augmentation.
autoencoder_, encoder_, decoder_, model_ : keras.Model
pretrain_optimizer_, optimizer_ : keras.optimizers.Optimizer
    The optimizers of the two phases, as training left them.
pretrain_time_, cluster_time_ : float
    Seconds spent in each phase (summed over resumes).
brb_resets_ : int
    BRB resets done (``brb_interval``).
"""


def _entries(doc):
    """``doc``'s parameter entries: (the names of its header line, its text)."""
    out = []
    for line in doc.splitlines(keepends=True):
        if line.startswith("    ") and out:
            out[-1][1].append(line)
        else:
            names = [n.strip() for n in line.split(" : ")[0].split(",")]
            out.append((names, [line]))
    return [(names, "".join(text)) for names, text in out]


def shared_doc(names, **defaults):
    """The entries of TRAINING_DOC for ``names`` (in its order), formatted
    with ``defaults``: for a method that takes only some of the shared
    parameters (N2D)."""
    doc = TRAINING_DOC.format(**{k: defaults.get(k, "") for k in
                                 ("optimizer", "lr", "update_interval", "tol", "update_note",
                                  "pretrain_optimizer")})
    return "".join(text for heads, text in _entries(doc) if set(heads) & set(names))


def training_doc(cls, update_note):
    """TRAINING_DOC with ``cls``'s own defaults (read from its signature)."""
    d = {n: p.default for n, p in inspect.signature(cls).parameters.items()}
    return TRAINING_DOC.format(optimizer=repr(d["optimizer"]), lr=d["lr"],
                               pretrain_optimizer=repr(d["pretrain_optimizer"]),
                               update_interval=d["update_interval"], tol=d["tol"],
                               update_note=update_note)
