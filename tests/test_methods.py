from deckeras.host import resolve_precision
from deckeras.methods import FASTER, method_params, pretrain_signature


def _sig(method, dataset, protocol="default", **over):
    p = method_params(method, dataset, protocol)
    p.update({"random_state": 0, **over})
    return pretrain_signature(p)


def test_methods_sharing_an_autoencoder_share_a_signature():
    # digits: every fc method without augmentation pretrains with Adam, so the
    # clustering-phase momentum (IDEC's 0.99) does not split the cache
    assert _sig("DEC", "digits") == _sig("IDEC", "digits") == _sig("FcIDEC", "digits") \
        == _sig("DCN", "digits")
    # MNIST: FcDEC and DCN both pretrain with SGD(1, 0.9): by default both with
    # masking noise in batches of 128, under the paper protocol clean; for as
    # many epochs the cache is shared either way (their defaults: 40 and 50)
    assert _sig("FcDEC", "mnist") != _sig("DCN", "mnist")
    assert _sig("FcDEC", "mnist", pretrain_epochs=50) == _sig("DCN", "mnist")
    assert _sig("FcDEC", "mnist", "paper", pretrain_epochs=20) == _sig("DCN", "mnist", "paper",
                                                                       pretrain_epochs=20)
    assert _sig("FcDEC", "mnist", pretrain_epochs=20) != _sig("DCN", "mnist", "paper",
                                                              pretrain_epochs=20)


def test_anything_that_changes_pretraining_changes_the_signature():
    base = _sig("FcDEC", "mnist", "paper")
    assert _sig("FcDEC", "mnist", "paper", momentum=0.99) != base        # SGD pretraining: momentum counts
    assert _sig("FcDEC-DA", "mnist") != base                    # augmented pretraining
    assert _sig("ConvDEC", "mnist") != base
    assert _sig("FcDEC", "mnist", "paper", random_state=1) != base
    assert _sig("FcDEC", "mnist", "paper", pretrain_epochs=3) != base
    assert _sig("FcDEC", "mnist", "paper", pretrain_schedule="cosine") != base
    assert "pretrain_schedule" not in base                      # a constant rate keeps caches valid
    assert _sig("FcDEC", "mnist", "paper", pretrain_noise=0.2) != base
    assert "pretrain_noise" not in base                         # clean inputs keep caches valid
    f32 = _sig("FcDEC", "mnist", "paper", precision="float32")
    assert _sig("FcDEC", "mnist", "paper", precision="mixed_bfloat16") != f32
    assert "precision" not in f32                               # float32 caches stay valid
    # 'auto' is keyed as what it means on this host
    assert base == _sig("FcDEC", "mnist", "paper", precision=resolve_precision("auto"))


def test_augmentation_ranges_and_scaling_are_part_of_the_signature():
    da = _sig("FcDEC-DA", "mnist")
    assert _sig("FcDEC-DA", "mnist", rotation=20.0) != da
    assert _sig("FcDEC-DA", "mnist", shift=0.2) != da
    assert _sig("FcDEC", "mnist", rotation=20.0) == _sig("FcDEC", "mnist")   # not augmented
    assert _sig("FcDEC", "my.csv") != _sig("FcDEC", "my.csv", scale="standard")


def test_no_module_imports_upwards():
    """The estimator base needs neither the method table nor the CLI; the
    shared option values import nothing of the package (only ``numbers``)."""
    import os
    import subprocess
    import sys
    code = ("import sys, deckeras.models.base, deckeras.options; "
            "print(sorted(m for m in sys.modules if m.startswith('deckeras.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True).stdout
    loaded = eval(out.strip().splitlines()[-1])
    assert not {"deckeras.methods", "deckeras.cli", "deckeras.runs", "deckeras.experiment",
                "deckeras.commands", "deckeras.plots"} & set(loaded)
    import deckeras.options as options
    body = open(options.__file__).read().split('"""', 2)[2]
    imports = [line for line in body.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["from numbers import Integral, Real"]      # the standard library only


def test_small_data_keeps_the_decoder_and_augments_pretraining_only():
    """Without a paper setting (digits, user files) every DEC-family method
    keeps its decoder and clusters with Adam, and -DA methods augment only
    pretraining; the paper data sets keep the papers' forms."""
    for m in ("DEC", "IDEC", "FcDEC", "FcIDEC", "ConvDEC", "ConvIDEC-DA"):
        for ds in ("digits", "my.csv"):
            p = method_params(m, ds)
            assert (p["gamma"], p.get("keep_decoder"), p["optimizer"], p["lr"]) == (0.1, None, "adam", 1e-3)
    for m in ("FcDEC-DA", "ConvIDEC-DA", "DCN-DA", "ConvDCN-DA"):
        p = method_params(m, "digits")
        assert p["aug_pretrain"] is True and p["augment"] is False
        assert method_params(m, "mnist")["augment"] is True
    from deckeras.methods import make_method
    paper = make_method("FcDEC", "mnist")
    assert not paper.gamma and (paper.optimizer, paper.lr) == ("sgd", 0.01)
    assert not method_params("DEC", "usps").get("gamma")
    assert method_params("IDEC", "usps")["lr"] == 0.1


def test_gamma_zero_turns_small_data_dec_back_into_dec():
    from deckeras.methods import make_method
    assert not make_method("DEC", "digits", gamma=0.0)._reconstructs()
    assert make_method("DEC", "digits")._reconstructs()


def test_paper_protocol_keeps_the_papers_forms_on_any_data():
    """--protocol paper drops the small-data rules (DEC without its decoder,
    SGD, augmented clustering for -DA) and the faster FcDEC MNIST schedule; on
    the papers' data sets it is otherwise the default itself; an unknown
    protocol is a one-line ValueError."""
    import pytest
    from deckeras.methods import METHODS, make_method
    dec = make_method("DEC", "digits", "paper")
    assert not dec.gamma and (dec.optimizer, dec.lr) == ("sgd", 0.01)
    assert method_params("FcDEC-DA", "my.csv", "paper")["augment"] is True
    assert method_params("IDEC", "digits", "paper")["lr"] == 0.1
    for m in METHODS:
        for ds in ("mnist", "usps", "reuters10k"):
            if (m, ds) not in FASTER:
                assert method_params(m, ds, "paper") == method_params(m, ds)
    # FcDEC's measured faster schedule: the paper's 500 clean epochs under 'paper'
    fast, paper = method_params("FcDEC", "mnist"), method_params("FcDEC", "mnist", "paper")
    assert (fast["pretrain_epochs"], fast["pretrain_noise"], fast["batch_size"]) == (40, 0.2, 128)
    assert paper["pretrain_epochs"] == 500 and "pretrain_noise" not in paper
    assert "batch_size" not in paper            # the estimator's 256, DEC's
    assert fast == {**paper, "pretrain_epochs": 40, "pretrain_noise": 0.2, "batch_size": 128}
    # DCN: the same schedule with 50 epochs, and a mixture start; the paper's k-means start and SGD
    fast, paper = method_params("DCN", "mnist"), method_params("DCN", "mnist", "paper")
    assert fast == {**paper, "pretrain_epochs": 50, "pretrain_noise": 0.2, "batch_size": 128,
                    "cluster_init": "gmm"}
    assert "cluster_init" not in paper and make_method("DCN", "mnist", "paper").cluster_init == "kmeans"
    assert make_method("DCN", "mnist").cluster_init == "gmm"
    # the same on Fashion-MNIST, where the paper's 300 clean epochs stay under 'paper'
    assert method_params("DCN", "fmnist") == fast
    assert method_params("DCN", "fmnist", "paper") == paper and paper["pretrain_epochs"] == 300
    for m in ("ConvDCN", "DCN-DA", "FcDEC"):   # measured for DCN only
        assert "cluster_init" not in method_params(m, "mnist")
    # make_method starts from the protocol's settings: a paper DEC has no decoder
    assert not make_method("DEC", "digits", protocol="paper")._reconstructs()
    with pytest.raises(ValueError, match="unknown protocol"):
        method_params("DEC", "digits", "fast")


def test_small_data_dcn_weighs_its_kmeans_term_by_its_start():
    from deckeras.methods import make_method
    for m in ("DCN", "ConvDCN", "DCN-DA", "ConvDCN-DA"):
        assert make_method(m, "digits").lamda == "auto"
        assert make_method(m, "digits", "paper").lamda == 1.0
        assert make_method(m, "mnist").lamda == 1.0
        assert make_method(m, "synthetic").lamda == 1.0


GENERIC = ("batch_size", "tol", "maxiter", "update_interval", "optimizer", "lr", "momentum",
           "lamda", "init_count", "keep_decoder", "init")


def test_method_settings_write_no_estimator_default_again():
    """The estimator's signature holds the generic defaults; the method table
    writes none of them again (only the papers' and the measured settings)."""
    import inspect
    from deckeras.methods import METHODS, make_method
    for m in METHODS:
        for ds in ("mnist", "usps", "digits", "synthetic", "my.csv"):
            for protocol in ("default", "paper"):
                est = type(make_method(m, ds))
                defaults = {k: v.default for k, v in inspect.signature(est).parameters.items()}
                same = {k for k, v in method_params(m, ds, protocol).items()
                        if k in GENERIC and defaults.get(k, object()) == v
                        and type(defaults.get(k)) is type(v)}
                assert not same, (m, ds, protocol, same)
