"""LSTM language models: named layers (lm_model), a tiny cached run that learns (lm_training),
reading its layers per time step on probe windows (lm_probes, activations)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("keras")

from morcos2018 import text  # noqa: E402
from morcos2018.activations import layer_activations  # noqa: E402
from morcos2018.config import load_profile  # noqa: E402
from morcos2018.lm_model import build_lm, layer_names, reset_states  # noqa: E402
from morcos2018.lm_probes import probe_representations, probe_windows, repeat_token  # noqa: E402
from morcos2018.lm_training import (  # noqa: E402
    _ChunkedFitData,
    checkpoint_epochs,
    corpus_from_config,
    epoch_checkpoints,
    lm_config,
    load_lm,
    train_lm,
    training_perplexity,
    validation_perplexity,
)


def test_layer_names():
    assert layer_names(3) == ["lstm1", "lstm2", "lstm3"]


def test_build_lm_has_named_layers_and_logits_shape():
    model = build_lm(vocab_size=50, n_layers=3, width=8)
    names = [layer.name for layer in model.layers]
    for name in ("embedding", "lstm1", "lstm2", "lstm3", "logits"):
        assert name in names
    out = model.predict(np.zeros((2, 7), np.int32), verbose=0)
    assert out.shape == (2, 7, 50)
    with pytest.raises(ValueError, match="batch_size"):
        build_lm(50, 2, 8, stateful=True)
    with pytest.raises(ValueError, match="width"):
        build_lm(50, 2, 0)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    settings = load_profile("smoke")["text"]
    config = lm_config(settings, "lstm3", seed=0)
    run = train_lm(config, cache_root=tmp_path_factory.mktemp("cache"), verbose=False)
    return run, corpus_from_config(config["corpus"])


@pytest.mark.slow  # trains (make test-fast trains nothing)
def test_tiny_training_decreases_loss_and_is_cached(smoke_run):
    run, corpus = smoke_run
    perplexity = validation_perplexity(run)
    per_epoch = run.config["training"]["checkpoints_per_epoch"]
    assert per_epoch == 2  # the smoke profile checkpoints twice per pass over the corpus
    assert len(perplexity) == run.epochs + 1 == 2 * per_epoch + 1
    np.testing.assert_allclose(checkpoint_epochs(run), [0, 0.5, 1, 1.5, 2])
    assert epoch_checkpoints(run) == [0, 2, 4]
    assert perplexity[-1] < perplexity[0]
    assert perplexity[0] == pytest.approx(len(corpus.vocabulary), rel=0.1)  # uniform at init
    assert training_perplexity(run)[-1] < training_perplexity(run)[1]
    again = train_lm(run.config, cache_root=run.path.parents[1], verbose=False)
    np.testing.assert_array_equal(validation_perplexity(again), perplexity)


@pytest.mark.slow  # trains (make test-fast trains nothing)
def test_stateless_copy_matches_the_stateful_model_on_one_window(smoke_run):
    run, corpus = smoke_run
    stateful = run.load_model()
    batch, steps = stateful.inputs[0].shape
    x, _ = text.stateful_windows(corpus.valid, batch, steps)
    reset_states(stateful)
    expected = stateful.predict(x[:batch], batch_size=batch, verbose=0)
    got = load_lm(run).predict(x[:batch], verbose=0)
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.slow  # trains (make test-fast trains nothing)
def test_activations_per_layer_and_time_step(smoke_run):
    run, corpus = smoke_run
    model = load_lm(run)
    probe = probe_windows(corpus.valid, n_windows=5, length=9, seed=0)
    acts = layer_activations(model, probe, ["lstm1", "lstm3"])
    assert acts["lstm1"].shape == (5, 9, 12)
    # causal: the state at step t does not depend on later tokens
    changed = probe.copy()
    changed[:, 6:] = (changed[:, 6:] + 1) % len(corpus.vocabulary)
    after = layer_activations(model, changed, ["lstm1"])["lstm1"]
    np.testing.assert_allclose(after[:, :6], acts["lstm1"][:, :6], atol=1e-6)
    assert not np.allclose(after[:, 6:], acts["lstm1"][:, 6:])
    # each sequence is read from a zero state, whatever the batch it falls in
    in_pieces = layer_activations(model, probe, ["lstm1"], batch_size=2)["lstm1"]
    np.testing.assert_allclose(in_pieces, acts["lstm1"], atol=1e-6)
    reps = probe_representations(run, probe, context=4, epochs=[0, 2])
    assert sorted(reps) == ["lstm1", "lstm2", "lstm3"]
    assert reps["lstm2"][1].shape == (5 * 5, 12)
    last = layer_activations(load_lm(run, 2), probe, ["lstm2"])["lstm2"][:, 4:, :]
    np.testing.assert_array_equal(reps["lstm2"][1], last.reshape(-1, 12))
    with pytest.raises(ValueError, match="layers"):
        layer_activations(model, probe, ["lstm9"])
    with pytest.raises(ValueError, match="stateful"):
        layer_activations(run.load_model(), probe, ["lstm1"])


def test_probe_windows_are_fixed_and_disjoint():
    ids = np.arange(1000)
    a = probe_windows(ids, 10, 20, seed=1)
    np.testing.assert_array_equal(a, probe_windows(ids, 10, 20, seed=1))
    assert len(np.unique(a)) == a.size
    with pytest.raises(ValueError, match="n_windows"):
        probe_windows(ids, 100, 20)


def test_repeat_token_repeats_one_step():
    windows = np.arange(20).reshape(2, 10)
    repeated = repeat_token(windows, start=3, length=4)
    np.testing.assert_array_equal(repeated[0], [0, 1, 2, 3, 3, 3, 3, 7, 8, 9])
    np.testing.assert_array_equal(repeated[1], [10, 11, 12, 13, 13, 13, 13, 17, 18, 19])
    with pytest.raises(ValueError, match="start"):
        repeat_token(windows, 8, 4)


def test_checkpoints_within_an_epoch_feed_consecutive_chunks_of_one_pass():
    x = np.arange(10 * 4 * 3).reshape(40, 3)  # 10 batches of 4 windows
    data = _ChunkedFitData(x, x[:, 0], batch_size=4, shuffle=False, chunks=3)
    parts = [data.epoch_inputs(seed=0, epoch=e) for e in range(1, 7)]
    first_pass = np.concatenate([p["x"] for p in parts[:3]])
    np.testing.assert_array_equal(first_pass, x)  # each window once, in order
    assert all(len(p["x"]) % 4 == 0 and len(p["x"]) == len(p["y"]) for p in parts)
    np.testing.assert_array_equal(parts[3]["x"], parts[0]["x"])  # the second pass starts over
    with pytest.raises(ValueError, match="checkpoints per epoch"):
        _ChunkedFitData(x, x[:, 0], batch_size=4, shuffle=False, chunks=11).epoch_inputs(0, 1)
    with pytest.raises(ValueError, match="checkpoints_per_epoch"):
        lm_config({**load_profile("smoke")["text"], "training": {
            "epochs": 1, "checkpoints_per_epoch": 0}}, "lstm3", 0)
