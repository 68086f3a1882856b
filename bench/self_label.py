"""Self-labelling after a finished run (SCAN's last step, Van Gansbeke et al.
2020), tried as a route past ConvDEC-DA's MNIST figure: cross-entropy on the
confident samples' own labels (max soft assignment > --tau), the gradient
steps on augmented views (DEC-DA's rotation and shift), ACC after each epoch.

    python bench/self_label.py RUN_DIR [--tau 0.85] [--epochs 8] [--lr 1e-4] [--head q|softmax]

--head q trains the clustering model itself (its Student's-t soft
assignments); --head softmax a fresh Dense + softmax on the encoder. Prints
one line per epoch; changes nothing in RUN_DIR.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_run(run):
    """A finished run's model, and its data set's images as the model takes them, and labels."""
    from deckeras.datasets import load_dataset
    from deckeras.runs import load_model, read_config
    m = load_model(run)
    x, y = load_dataset(read_config(run)["dataset"], image="auto")
    return m, np.asarray(m._prepare(x), np.float32), y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--tau", type=float, default=0.85)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head", choices=["q", "softmax"], default="q")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import keras
    import tensorflow as tf
    from deckeras.augment import augment
    from deckeras.metrics import evaluate
    m, x, y = load_run(a.run)
    q = m.model_.predict(x, batch_size=1024, verbose=0)
    start = q.argmax(1)
    conf = q.max(1) > a.tau
    print(f"start {evaluate(y, start)}; confident {conf.mean():.4f}, "
          f"ACC among them {evaluate(y[conf], start[conf])['acc']:.4f}", flush=True)
    model = m.model_
    if a.head == "softmax":
        inp = keras.Input(shape=x.shape[1:])
        model = keras.Model(inp, keras.layers.Dense(q.shape[1], activation="softmax")(
            m.encoder_(inp)))
    opt = keras.optimizers.Adam(a.lr)
    shape = x.shape[1:]

    @tf.function
    def step(xb, tb):
        with tf.GradientTape() as tape:
            qb = model(augment(xb, shape), training=True)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(tb, qb))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    rows = np.where(conf)[0]
    rng = np.random.default_rng(a.seed)
    for ep in range(a.epochs):
        t0 = time.time()
        order = rows[rng.permutation(len(rows))]
        losses = [float(step(tf.constant(x[b]), tf.constant(start[b])))
                  for b in np.array_split(order, max(1, len(order) // 256))]
        p = model.predict(x, batch_size=1024, verbose=0).argmax(1)
        print(f"epoch {ep + 1}  loss {np.mean(losses):.4f}  {evaluate(y, p)}  "
              f"changed {(p != start).mean():.4f}  {time.time() - t0:.1f}s", flush=True)


if __name__ == "__main__":
    main()
