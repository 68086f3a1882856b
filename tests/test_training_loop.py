"""The in-graph training loop and the precision option."""
import numpy as np
import pytest

from deckeras.methods import make_method
from deckeras import host
from deckeras import trainer
from deckeras.training import call_args, make_optimizer


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("method", ["FcDEC", "DCN"])
def test_steps_per_call_does_not_change_training(method, small_digits, monkeypatch):
    """One graph call per step or 64 per call: the same steps in the same order."""
    x, y = small_digits
    results = []
    for per_call in (1, 64):
        monkeypatch.setattr(trainer, "STEPS_PER_CALL", per_call)
        m = make_method(method, "digits", dims=[64, 64], pretrain_epochs=3, maxiter=25,
                        update_interval=10, tol=0.0, random_state=3).fit(x)
        results.append((m.pretrain_history_, _weights(m.model_), m.labels_, m.n_iter_,
                        [r["loss"] for r in m.history_]))
    (h1, w1, l1, n1, c1), (h2, w2, l2, n2, c2) = results
    assert n1 == n2 == 25
    np.testing.assert_allclose([r["loss"] for r in h1], [r["loss"] for r in h2], rtol=1e-5)
    np.testing.assert_allclose(c1, c2, rtol=1e-4, atol=1e-7)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert np.array_equal(l1, l2)


def test_loop_runs_the_batches_it_is_given():
    """run(idx, bounds, x[idx]) takes one step per slice, in order, on those samples."""
    import tensorflow as tf
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    seen = tf.Variable(tf.zeros([0], tf.int32), shape=[None])

    def fn(idx, x_clean, xb, weight):
        seen.assign(tf.concat([seen, idx[:1]], 0))
        assert_one = tf.debugging.assert_equal(weight, 1.0)           # one device: the whole batch
        with tf.control_dependencies([assert_one]):
            return tf.reduce_sum(xb[:, 1]) + 0 * tf.reduce_sum(x_clean)   # x[i, 1] = 2 i + 1
    run = trainer.compile_step(tf.distribute.get_strategy(), fn, (2,))
    batches = [np.array([5, 1], np.int32), np.array([7], np.int32), np.array([2, 3, 4], np.int32)]
    losses = run(*call_args(batches, x)).numpy()
    assert losses.tolist() == [11.0 + 3.0, 15.0, 5.0 + 7.0 + 9.0]
    assert seen.numpy().tolist() == [5, 7, 2]


@pytest.mark.parametrize("method", ["FcDEC-DA", "DCN-DA"])
def test_xla_steps_train_with_augmentation(method, small_digits):
    """jit_compile=True: augmentation (no XLA kernel) runs beside the compiled step."""
    x, y = small_digits
    m = make_method(method, "digits", dims=[64, 64], pretrain_epochs=1, maxiter=10,
                    update_interval=5, tol=0.0, random_state=0,
                    jit_compile=True).fit(x.reshape(-1, 8, 8))
    assert m.n_iter_ == 10 and np.isfinite(m.pretrain_history_[-1]["loss"])
    assert m.labels_.shape == (len(x),) and set(m.labels_) <= set(range(m.n_clusters))
    assert np.array_equal(m.predict(x), m.labels_)


@pytest.mark.parametrize("method", ["FcIDEC", "ConvDEC-DA", "DCN"])
def test_mixed_bfloat16_trains_float32_weights_and_reloads(method, small_digits, tmp_path):
    x, y = small_digits
    x = x.reshape(-1, 8, 8)            # images: ConvDEC-DA's network and augmentation need them
    small = dict(dims=[64, 64], filters=(8, 16, 32))      # bfloat16 is emulated on some CPUs
    m = make_method(method, "digits", pretrain_epochs=2, maxiter=20, random_state=0,
                    precision="mixed_bfloat16", **small).fit(x, y)
    assert any(layer.compute_dtype == "bfloat16" for layer in m.autoencoder_.layers)
    assert all(w.dtype == np.float32 for w in _weights(m.model_))
    z = m.transform(x)
    assert z.dtype == np.float32 and np.isfinite(z).all()
    labels = m.predict(x)
    assert np.array_equal(labels, m.labels_)
    path = str(tmp_path / "m.h5")
    m.save(path)
    fresh = make_method(method, "digits", precision="mixed_bfloat16", **small).load(
        path, m.input_shape_, m.image_shape_)
    assert np.array_equal(fresh.predict(x), labels)


def test_unknown_precision_is_a_clear_error(small_digits):
    with pytest.raises(ValueError, match="precision must be one of"):
        make_method("FcDEC", "digits", precision="float16").fit(small_digits[0])


def test_bfloat16_support_is_read_from_the_cpu_flags(tmp_path, monkeypatch):
    import tensorflow as tf
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    cpu = tmp_path / "cpuinfo"
    cpu.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n")
    assert not host.bfloat16_is_native(str(cpu))
    cpu.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert host.bfloat16_is_native(str(cpu))
    assert host.bfloat16_is_native(str(tmp_path / "missing"))


def test_auto_precision_is_bfloat16_only_on_cpus_that_have_it(tmp_path, monkeypatch):
    import tensorflow as tf
    gpus = []
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: gpus)
    cpu = tmp_path / "cpuinfo"
    cpu.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16\n")
    assert host.resolve_precision("auto", str(cpu)) == "mixed_bfloat16"
    assert host.resolve_precision("float32", str(cpu)) == "float32"     # a named policy stays
    cpu.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n")
    assert host.resolve_precision("auto", str(cpu)) == "float32"        # emulated bfloat16
    assert host.resolve_precision("mixed_bfloat16", str(cpu)) == "mixed_bfloat16"
    assert host.resolve_precision("auto", str(tmp_path / "missing")) == "float32"
    cpu.write_text("processor\t: 0\nflags\t\t: fpu avx512_bf16\n")
    gpus.append("GPU:0")                                                # not measured there
    assert host.resolve_precision("auto", str(cpu)) == "float32"


def test_an_estimator_says_which_precision_auto_chose(small_digits):
    x = small_digits[0][:300]
    m = make_method("FcDEC", "digits", n_clusters=3, random_state=0, pretrain_epochs=1,
                    maxiter=2, dims=[32, 10], embedding_dim=3).fit(x)
    assert m.get_params()["precision"] == "auto"
    assert m.precision_ == host.resolve_precision("auto")
    assert m.autoencoder_.layers[1].dtype_policy.name == m.precision_


def test_machine_names_the_cpu_and_the_extensions_that_set_its_speed(tmp_path, monkeypatch):
    import tensorflow as tf
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    cpu = tmp_path / "cpuinfo"
    cpu.write_text("processor\t: 0\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n"
                   "flags\t\t: fpu avx2 avx512f avx512_bf16 sse2\n\n"
                   "processor\t: 1\nmodel name\t: other\n")
    m = host.machine(str(cpu))
    assert m["cpu"] == "AMD EPYC" and m["cpu_family_model"] == "26/2"
    assert m["cpu_isa"] == ["avx2", "avx512_bf16", "avx512f"] and m["gpus"] == []
    assert host.machine(str(tmp_path / "missing"))["cpu_isa"] == []


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_cosine_schedule_decays_the_rate_to_zero(name):
    opt = make_optimizer(name, 0.5, decay_steps=10)
    rates = []
    for step in (0, 5, 10, 20):
        opt.iterations.assign(step)
        rates.append(float(opt.learning_rate))
    np.testing.assert_allclose(rates, [0.5, 0.25, 0.0, 0.0], atol=1e-6)
    constant = make_optimizer(name, 0.5)
    constant.iterations.assign(20)
    assert float(constant.learning_rate) == pytest.approx(0.5)


def test_cosine_pretraining_runs_its_schedule_over_the_epochs(small_digits, monkeypatch):
    """The decay spans exactly the pretraining steps: epochs x batches per epoch."""
    x, _ = small_digits
    seen = []
    real = make_optimizer

    def spy(*args, **kwargs):
        seen.append(kwargs.get("decay_steps"))
        return real(*args, **kwargs)
    monkeypatch.setattr(trainer, "make_optimizer", spy)
    m = make_method("FcDEC", "digits", pretrain_epochs=3, batch_size=100,
                    pretrain_schedule="cosine", random_state=0).pretrain(x)
    assert seen == [3 * -(-len(x) // 100)]
    flat = make_method("FcDEC", "digits", pretrain_epochs=3, batch_size=100,
                       random_state=0).pretrain(x)
    assert seen[-1] is None
    losses = [r["loss"] for r in m.pretrain_history_]
    assert losses[-1] < losses[0]
    assert losses != [r["loss"] for r in flat.pretrain_history_]
    with pytest.raises(ValueError, match="pretrain_schedule must be one of"):
        make_method("FcDEC", "digits", pretrain_schedule="linear").fit(x)


def test_denoising_pretraining_restores_clean_inputs_from_masked_ones(small_digits):
    """pretrain_noise: the input is masked, the target stays clean. With
    almost every value zeroed the network sees (almost) nothing, so the
    best it can do is to output the mean image, and its loss tends to the
    data's variance; a masked target would teach it to output zeros."""
    x, _ = small_digits
    x = x.astype(np.float32)
    kw = dict(dims=[64, 64], pretrain_epochs=40, pretrain_optimizer="adam", batch_size=64,
              random_state=0, precision="float32")
    noisy = make_method("FcDEC", "digits", pretrain_noise=0.999, **kw).pretrain(x)
    blank = noisy.autoencoder_.predict(np.zeros_like(x[:1]), verbose=0)[0]
    mean = x.mean(axis=0)
    assert np.abs(blank - mean).mean() < 0.25 * np.abs(mean).mean()   # the mean, not zeros
    variance = x.var(axis=0).mean()
    assert abs(noisy.pretrain_history_[-1]["loss"] - variance) < 0.2 * variance
    clean = make_method("FcDEC", "digits", **kw).pretrain(x)
    assert clean.pretrain_history_[-1]["loss"] < 0.5 * variance
    again = make_method("FcDEC", "digits", pretrain_noise=0.999, **kw).pretrain(x)
    assert [r["loss"] for r in again.pretrain_history_] == \
        [r["loss"] for r in noisy.pretrain_history_]                   # seeded


def test_corruption_zeroes_the_given_fraction():
    import tensorflow as tf
    from deckeras.augment import mask
    out = mask(tf.ones((200, 64)), 0.3, tf.random.Generator.from_seed(0)).numpy()
    assert set(np.unique(out)) == {0.0, 1.0}
    assert abs((out == 0).mean() - 0.3) < 0.02


def test_many_models_do_not_warn_about_retracing(caplog):
    """A multi-trial run builds one model per trial, each compiling its pass
    from the same source line: TensorFlow must not call that retracing."""
    import logging
    import tensorflow as tf
    from deckeras.training import compile_pass
    x = np.zeros((3, 2), "float32")
    with caplog.at_level(logging.WARNING):
        for k in range(8):
            w = tf.constant(float(k))
            fn = compile_pass(lambda xb: xb * w)
            fn(x), fn(x[:1])
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]


def test_full_pass_gives_each_sample_the_same_arithmetic_wherever_it_sits():
    """Full-data passes run in calls of one size, a multiple of ROW_BLOCK,
    so a CPU kernel's short last block of rows never holds a real sample:
    on an AVX2-only CPU the last 2 rows of a 20-row matmul differed in the
    last bit, and scikit-learn's sample-order check failed on DEC."""
    import tensorflow as tf
    from deckeras.training import PREDICT_BATCH, ROW_BLOCK, compile_pass, full_pass
    shapes = []

    def spy(xb):
        shapes.append(int(xb.shape[0]))
        return xb[:, :2] * 2
    for n in (1, 20, 48, 49, PREDICT_BATCH + 5):
        shapes.clear()
        x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
        np.testing.assert_array_equal(full_pass(spy, x), x[:, :2] * 2)
        assert len(set(shapes)) == 1 and shapes[0] % ROW_BLOCK == 0, (n, shapes)
    rng = np.random.default_rng(0)
    w = tf.constant(rng.standard_normal((64, 8)), tf.float32)
    fn = compile_pass(lambda xb: tf.matmul(xb, w))
    for n in (8, 20, 32, 2 * PREDICT_BATCH + 20):
        x = rng.standard_normal((n, 64)).astype(np.float32)
        p = rng.permutation(n)
        np.testing.assert_array_equal(full_pass(fn, x)[p], full_pass(fn, x[p]))
