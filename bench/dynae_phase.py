"""DynAE's clustering phase (Mrabah et al., "Deep Clustering with a Dynamic
Autoencoder", 2020; MNIST ACC 0.987) from a finished run's pretrained
autoencoder, tried as a route to issue 30's MNIST goal: does this phase make
more of the same autoencoder than the run's own (DEC-family) phase did?

    python bench/dynae_phase.py RUN_DIR [--maxiter 20000] [--gamma 100] [--kappa 3]

The phase, as the authors' code runs it (nairouz/DynAE, ``train_dynAE``):
- centres: k-means (10 starts) on the embedding, each moved to the nearest
  embedded sample; their images are the decoder's output for them;
- a sample is "unconflicted" when its largest Student's-t soft assignment q1
  exceeds beta1 and q1 - q2 (the second largest) exceeds beta2; beta1 =
  kappa / k, beta2 = beta1 / 2;
- each step, on an augmented view of the batch (rotation 10, shift 0.1):
  MSE(encoder(x'), t_z) + gamma * MSE(autoencoder(x'), t_x), where an
  unconflicted sample's targets are its centre and the centre's image, and
  any other sample's its own clean embedding and image; SGD(0.001, 0.9);
- every ``--interval`` steps the conflicted samples are counted; when the
  count stopped falling, the centres are computed again and both
  thresholds drop by 0.3 * kappa / k (kappa then becomes 0.3 * kappa);
- the phase ends when fewer than ``--tol`` of the samples are conflicted.
The authors report k-means (20 starts) on the final embedding; both that and
the nearest-centre labels are printed. Their autoencoder was pretrained
adversarially (ACAI) with augmentation; here it is the run's own
(``ae_weights.h5``). Changes nothing in RUN_DIR.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from self_label import load_run  # noqa: E402


def soft_assignments(z, centres):
    """DEC's q (Student's t, one degree of freedom) of float64 arrays, as an array."""
    from deckeras.layers import soft_assignment
    return np.asarray(soft_assignment(z, centres))


def unconflicted(z, centres, beta1, beta2):
    q = soft_assignments(z, centres)
    top2 = np.sort(q, 1)[:, -2:]
    return (top2[:, 1] > beta1) & (top2[:, 1] - top2[:, 0] > beta2), q.argmax(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--maxiter", type=int, default=20000)
    ap.add_argument("--gamma", type=float, default=100.0)
    ap.add_argument("--kappa", type=float, default=3.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--interval", type=int, default=140)
    ap.add_argument("--tol", type=float, default=0.01)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--no-aug", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import keras
    import tensorflow as tf
    from sklearn.neighbors import NearestNeighbors
    from deckeras.augment import augment
    from deckeras.metrics import evaluate
    from deckeras.trainer import kmeans_start
    from deckeras.weights import load_weights

    keras.utils.set_random_seed(a.seed)
    m, x, y = load_run(a.run)
    print(f"the run's own result: {evaluate(y, m.predict(x))}", flush=True)
    load_weights(m.autoencoder_, os.path.join(a.run, "ae_weights.h5"), what="autoencoder")
    enc, ae, dec = m.encoder_, m.autoencoder_, m.decoder_
    k, shape = m.n_clusters, x.shape[1:]
    image_shape = m.image_shape_ or shape
    embed = lambda v: enc.predict(v, batch_size=1024, verbose=0).astype(np.float64)  # noqa: E731

    def centres_of(z):
        km = kmeans_start(z, k, 10, a.seed)                  # DynAE's 10 starts
        nearest = NearestNeighbors(n_neighbors=1).fit(z).kneighbors(km.cluster_centers_)[1][:, 0]
        c = z[nearest]
        return c, dec.predict(c.astype(np.float32), verbose=0)

    def report(tag, z, centres):
        km = kmeans_start(z, k, 20, a.seed).labels_          # a method's start
        near = soft_assignments(z, centres).argmax(1)
        print(f"{tag}  k-means {evaluate(y, km)['acc']:.4f}  "
              f"nearest centre {evaluate(y, near)}", flush=True)

    opt = keras.optimizers.SGD(a.lr, momentum=0.9)

    @tf.function
    def step(xb, tz, tx):
        xa = xb if a.no_aug else augment(xb, image_shape)
        with tf.GradientTape() as tape:
            zb = tf.cast(enc(xa, training=True), tf.float32)
            rb = tf.cast(ae(xa, training=True), tf.float32)
            loss = tf.reduce_mean(tf.square(zb - tz)) + a.gamma * tf.reduce_mean(
                tf.square(tf.reshape(rb, tf.shape(tx)) - tx))
        grads = tape.gradient(loss, ae.trainable_variables)
        opt.apply_gradients(zip(grads, ae.trainable_variables))
        return loss

    t0 = time.time()
    z = embed(x)
    centres, images = centres_of(z)
    report("start (pretrained AE)", z, centres)
    kappa = a.kappa
    beta1 = kappa / k
    beta2 = beta1 / 2
    delta = 0.3 * kappa
    n, prev, index, losses = len(x), len(x), 0, []
    for it in range(a.maxiter + 1):
        if it % a.interval == 0:
            z = embed(x)
            ok, labels = unconflicted(z, centres, beta1, beta2)
            conflicted = int(n - ok.sum())
            if it and conflicted >= prev:
                centres, images = centres_of(z)
                beta1, beta2 = beta1 - delta / k, beta2 - delta / k
                delta = 0.3 * kappa
                kappa = delta
                note = "  centres again, beta1 %.3f" % beta1
            else:
                note = ""
            prev = conflicted
            if it % (10 * a.interval) == 0 or note or conflicted < a.tol * n:
                print(f"iter {it}  loss {np.mean(losses) if losses else 0:.4f}  conflicted "
                      f"{conflicted}  acc {evaluate(y, labels)['acc']:.4f}  "
                      f"{time.time() - t0:.0f}s{note}", flush=True)
            losses = []
            if conflicted < a.tol * n or it == a.maxiter:
                break
        idx = np.arange(index * a.batch_size, min((index + 1) * a.batch_size, n))
        index = index + 1 if (index + 1) * a.batch_size <= n else 0
        xb = x[idx]
        zb = enc(xb, training=False).numpy().astype(np.float64)
        okb, lb = unconflicted(zb, centres, beta1, beta2)
        tz = np.where(okb[:, None], centres[lb], zb).astype(np.float32)
        flat = xb.reshape(len(xb), -1)
        tx = np.where(okb[:, None], images.reshape(k, -1)[lb], flat).astype(np.float32)
        losses.append(float(step(tf.constant(xb), tf.constant(tz), tf.constant(tx))))
    report(f"end, iteration {it}", embed(x), centres)


if __name__ == "__main__":
    main()
