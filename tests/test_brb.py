"""Breaking the reclustering barrier (BRB; Miklautz et al., ICLR 2025): the
soft reset's arithmetic, the schedule of resets, and resuming through one."""
import os

import keras
import numpy as np
import pytest

from deckeras import DCN, DEC, callbacks, cli
from deckeras.autoencoders import build_autoencoder
from deckeras.trainer import clear_optimizer_state, soft_reset

KW = dict(n_clusters=10, dims=[32, 16], embedding_dim=5, pretrain_epochs=3, batch_size=64,
          pretrain_optimizer="adam", optimizer="adam", lr=1e-3, maxiter=70, update_interval=10,
          tol=0.0, kmeans_n_init=2, random_state=0)


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def test_soft_reset_interpolates_towards_a_fresh_draw_and_spares_the_embedding():
    ae, enc, _ = build_autoencoder("fc", (12,), dims=[8, 6], embedding_dim=3, seed=0)
    layers = [l for l in enc.layers if getattr(l, "kernel", None) is not None]
    before = [(l.kernel.numpy().copy(), l.bias.numpy().copy()) for l in layers]
    soft_reset(enc, 1.0, [7, 1])                           # alpha 1: nothing moves
    for l, (k, b) in zip(layers, before):
        np.testing.assert_array_equal(l.kernel.numpy(), k)
    soft_reset(enc, 0.0, [7, 1])                           # alpha 0: the fresh draw itself
    fresh = [(l.kernel.numpy().copy(), l.bias.numpy().copy()) for l in layers]
    for l, (k, b) in zip(layers[:-1], fresh):
        fan_in = k.shape[0]
        assert np.abs(k).max() <= np.sqrt(6 / fan_in) and np.abs(b).max() <= 1 / np.sqrt(fan_in)
        assert np.abs(k).max() > 0.5 * np.sqrt(6 / fan_in)     # spread over its range
    np.testing.assert_array_equal(layers[-1].kernel.numpy(), before[-1][0])   # embedding kept
    for l, (k, b) in zip(layers, fresh):
        l.kernel.assign(np.ones_like(k))
        l.bias.assign(np.ones_like(b))
    soft_reset(enc, 0.8, [7, 1])                           # 0.8 w + 0.2 w0, same seed: same w0
    for l, (k, b) in zip(layers[:-1], fresh):
        np.testing.assert_allclose(l.kernel.numpy(), 0.8 + 0.2 * k, rtol=1e-6)
        np.testing.assert_allclose(l.bias.numpy(), 0.8 + 0.2 * b, rtol=1e-6)
    np.testing.assert_array_equal(layers[-1].kernel.numpy(), np.ones_like(before[-1][0]))


def test_clearing_the_optimizer_state_of_the_centres_only():
    a = keras.Variable(np.ones((3, 2), np.float32), name="clusters")
    b = keras.Variable(np.ones((3, 2), np.float32), name="kernel")
    opt = keras.optimizers.Adam(0.1)
    opt.apply_gradients([(np.ones((3, 2), np.float32), a), (np.ones((3, 2), np.float32), b)])
    slots = lambda v: [s for s in opt.variables if s.path.rsplit("/", 1)[-1].startswith(
        v.path.replace("/", "_") + "_")]
    assert len(slots(a)) == 2 and all(np.abs(s.numpy()).sum() > 0 for s in slots(a) + slots(b))
    clear_optimizer_state(opt, [a])
    assert all(not s.numpy().any() for s in slots(a))
    assert all(s.numpy().any() for s in slots(b))


@pytest.mark.parametrize("cls", [DEC, DCN])
def test_resets_come_every_brb_interval_epochs_and_change_the_run(cls, small_digits, capsys):
    x, y = small_digits                     # 600 samples at batch 64: 10 iterations an epoch
    plain = cls(**KW).fit(x, y)
    brb = cls(**KW, brb_interval=2, verbose=1).fit(x, y)
    assert plain.brb_resets_ == 0 and brb.brb_resets_ == 3
    said = [l for l in capsys.readouterr().out.splitlines() if l.startswith("BRB reset")]
    assert [l.split(":")[0] for l in said] == [f"BRB reset {r} at iteration {20 * r}"
                                               for r in (1, 2, 3)]
    # the update after a reset is the one due there: one row per update
    assert [r["iter"] for r in brb.history_] == list(range(0, 71, 10))
    assert brb.n_iter_ == 70 and not np.array_equal(brb.labels_, plain.labels_)
    assert set(brb.labels_) <= set(range(10))


@pytest.mark.parametrize("cls", [DEC, DCN])
def test_a_crash_around_a_reset_resumes_to_the_same_model(cls, small_digits, tmp_path,
                                                          monkeypatch):
    x, y = small_digits
    monkeypatch.setattr(callbacks, "CHECKPOINT_SECONDS", 0)
    kw = {**KW, "brb_interval": 2, "maxiter": 30}
    ref = cls(**kw).fit(x, y)
    # the call that reaches the reset at 20 (its checkpoint not written: the resumed run
    # redoes the reset), and the next one (resumed after it); DCN: the first only
    for crash_at in (5, 6) if cls is DEC else (5,):

        class Crash(keras.callbacks.Callback):
            calls = 0

            def on_train_batch_end(self, batch, logs=None):
                Crash.calls += 1
                if Crash.calls == crash_at:
                    raise RuntimeError("crash")
        d = str(tmp_path / f"c{crash_at}")
        with pytest.raises(RuntimeError):
            cls(save_dir=d, **kw).fit(x, y, callbacks=[Crash()])
        m = cls(save_dir=d, **kw).fit(x, y)
        assert m.brb_resets_ == 1 and np.array_equal(m.labels_, ref.labels_)
        for a, b in zip(m.model_.get_weights(), ref.model_.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_the_flags_set_the_resets_and_bad_values_are_one_line(tmp_path, capsys):
    d = str(tmp_path / "run")
    args = ["--method", "FcDEC", "--dataset", "digits", "--seed", "0", "--pretrain-epochs", "2",
            "--maxiter", "30", "--batch-size", "128", "-v", "0", "-d", d]
    assert cli.main(args + ["--brb-interval", "1", "--brb-alpha", "0.7"]) == 0
    import json
    params = json.load(open(os.path.join(d, "config.json")))["params"]
    assert params["brb_interval"] == 1 and params["brb_alpha"] == 0.7
    capsys.readouterr()
    assert cli.main(args + ["--brb-alpha", "1.5", "--restart"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--brb-alpha" in err
