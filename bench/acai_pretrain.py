"""Pretrain a method's autoencoder with ACAI's adversarially constrained
interpolation (Berthelot et al. 2019), as DynAE pretrains (Mrabah et al.
2020, MNIST ACC 0.987), and write its weights for ``--pretrained-weights``:
is DynAE's pretraining, followed by the method's own clustering phase, a
route to issue 30's MNIST goal?

    python bench/acai_pretrain.py --method ConvDEC-DA --dataset mnist-test --epochs 100 -o ae.h5
    python main.py --method ConvDEC-DA --dataset mnist-test --pretrained-weights ae.h5 -d RUN

Per step, as the authors' code (nairouz/DynAE, ``train_aci_ae``): an
augmented batch (rotation 10, shift 0.1) when the method augments; latents
mixed with the reversed batch's, z_a = a z + (1 - a) z[::-1], a ~ U(0, 1)
(``--mix acai``: U(0, 0.5), as ACAI's own code);
a critic (the encoder's architecture, its outputs averaged) learns to read a
from the decoded mixtures and 0 from b x + (1 - b) x_hat, b = 0.5 - |u -
0.5|; the autoencoder minimises MSE(x, x_hat) + lambda * critic(decoded
mixture)^2, lambda 0.5. Both with Adam(1e-4); here the two updates share one
forward pass (the authors run them one after the other). Prints k-means
(20 starts) on the embedding every ``--every`` epochs.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--method", default="ConvDEC-DA")
    ap.add_argument("--dataset", default="mnist-test")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--lam", type=float, default=0.5, help="the critic term's weight")
    ap.add_argument("--mix", choices=["dynae", "acai"], default="dynae",
                    help="a ~ U(0, 1) as DynAE's code, or a ~ U(0, 0.5) as ACAI's")
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--out", required=True, help="autoencoder weights (.h5)")
    a = ap.parse_args()
    import keras
    import tensorflow as tf
    from deckeras.augment import augment
    from deckeras.datasets import load_dataset
    from deckeras.methods import make_method
    from deckeras.metrics import evaluate
    from deckeras.trainer import kmeans_start
    from deckeras.weights import save_weights

    keras.utils.set_random_seed(a.seed)
    est = make_method(a.method, a.dataset, random_state=a.seed)
    x, y = load_dataset(a.dataset, image="auto")
    x, y, found = est._fit_input(x, y)
    x = np.asarray(x, np.float32)
    image_shape = found["image_shape_"] or x.shape[1:]
    nets = est._build(x.shape[1:], found["image_shape_"])
    critic = est._build(x.shape[1:], found["image_shape_"]).encoder
    enc, dec, ae = nets.encoder, nets.decoder, nets.autoencoder
    aug = est._uses_augmentation()
    opt_ae, opt_c = keras.optimizers.Adam(a.lr), keras.optimizers.Adam(a.lr)

    def judge(v):
        return tf.reduce_mean(tf.cast(critic(v, training=True), tf.float32), axis=1)

    @tf.function
    def step(xb):
        if aug:
            xb = augment(xb, image_shape)
        n = tf.shape(xb)[0]
        alpha = tf.random.uniform([n])
        if a.mix == "acai":
            alpha = 0.5 - tf.abs(alpha - 0.5)
        beta = 0.5 - tf.abs(tf.random.uniform([]) - 0.5)
        with tf.GradientTape() as t_ae, tf.GradientTape() as t_c:
            z = tf.cast(enc(xb, training=True), tf.float32)
            rec = tf.reshape(tf.cast(dec(z, training=True), tf.float32), tf.shape(xb))
            al = tf.reshape(alpha, [-1, 1])
            mixed = tf.cast(dec(al * z + (1 - al) * z[::-1], training=True), tf.float32)
            rec_loss = tf.reduce_mean(tf.square(rec - xb))
            loss_ae = rec_loss + a.lam * tf.reduce_mean(tf.square(judge(mixed)))
            real_mix = beta * xb + (1 - beta) * tf.stop_gradient(rec)
            loss_c = (tf.reduce_mean(tf.square(judge(tf.stop_gradient(mixed)) - alpha))
                      + tf.reduce_mean(tf.square(judge(real_mix))))
        opt_ae.apply_gradients(zip(t_ae.gradient(loss_ae, ae.trainable_variables),
                                   ae.trainable_variables))
        opt_c.apply_gradients(zip(t_c.gradient(loss_c, critic.trainable_variables),
                                  critic.trainable_variables))
        return rec_loss, loss_c

    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    for ep in range(1, a.epochs + 1):
        order = rng.permutation(len(x))
        out = [step(tf.constant(x[order[i:i + a.batch_size]]))
               for i in range(0, len(x), a.batch_size)]
        rec, crit = np.mean([[float(r), float(c)] for r, c in out], axis=0)
        line = (f"epoch {ep}/{a.epochs}  reconstruction {rec:.5f}  critic {crit:.4f}  "
                f"{time.time() - t0:.0f}s")
        if ep % a.every == 0 or ep == a.epochs:
            z = enc.predict(x, batch_size=1024, verbose=0)
            km = kmeans_start(z, est.n_clusters, 20, a.seed).labels_   # a method's start
            line += f"  k-means ACC {evaluate(y, km)['acc']:.4f}"
        print(line, flush=True)
    save_weights(ae, a.out)
    print(f"autoencoder weights: {a.out}")


if __name__ == "__main__":
    main()
