"""Training options for LSTMs that converge (issue 12): a data phase that changes every pass,
a cosine learning rate annealed over the run, dropout; all off unless the profile asks, and a run
that uses them extends (resumes) bitwise."""

from __future__ import annotations

import numpy as np
import pytest

from morcos2018 import lm_training, text
from morcos2018.cache import run_key
from morcos2018.config import load_profile
from morcos2018.lm_training import _ChunkedFitData, lm_config


def _smoke(**training):
    settings = load_profile("smoke")["text"]
    return {**settings, "training": {**settings["training"], **training}}


def test_the_schedule_horizon_is_part_of_the_run_identity():
    config = lm_config(_smoke(), "lstm3", 0)
    assert config["training"]["schedule"] == {"name": "cosine", "final_fraction": 0.05,
                                              "checkpoints": 4}
    longer = lm_config(_smoke(epochs=3), "lstm3", 0)
    assert longer["training"]["schedule"]["checkpoints"] == 6
    assert run_key(longer) != run_key(config)  # a longer decay is another run, not an extension
    plain = {**_smoke()["training"]}
    del plain["schedule"], plain["data_phase"]
    config = lm_config({**_smoke(), "training": plain}, "lstm3", 0)
    assert "schedule" not in config["training"] and "data_phase" not in config["training"]


@pytest.mark.parametrize("training, message", [
    ({"data_phase": "shuffled"}, "data_phase"),
    ({"schedule": {"name": "step"}}, "schedule"),
    ({"schedule": {"name": "cosine", "checkpoints": 9}}, "schedule"),
    ({"schedule": {"name": "cosine", "final_fraction": 1.5}}, "final_fraction"),
    ({"optimizer": {"name": "adam", "learning_rate": {"class_name": "ExponentialDecay"}}},
     "constant optimizer learning_rate"),
])
def test_bad_options_name_the_problem(training, message):
    with pytest.raises(ValueError, match=message):
        lm_config(_smoke(**training), "lstm3", 0)


def test_annealed_learning_rate_falls_from_base_to_its_floor():
    rates = [lm_training.annealed_learning_rate(3e-3, p, 0.05) for p in np.linspace(0, 1, 11)]
    assert rates[0] == pytest.approx(3e-3) and rates[-1] == pytest.approx(1.5e-4)
    assert np.all(np.diff(rates) < 0)
    assert lm_training.annealed_learning_rate(3e-3, 1.7, 0.05) == pytest.approx(1.5e-4)


def test_each_pass_reads_the_stream_from_its_own_offset_and_chunks_stay_in_the_pass():
    ids = np.arange(400)
    windows = {}

    def pass_windows(seed, pass_index):
        offset = lm_training.stream_offset(seed, pass_index, len(ids))
        windows[pass_index] = offset
        return text.stateful_windows(ids, 4, 5, offset=offset)

    x, y = text.stateful_windows(ids, 4, 5)
    data = _ChunkedFitData(x, y, batch_size=4, shuffle=False, chunks=3, pass_windows=pass_windows)
    parts = [data.epoch_inputs(seed=7, epoch=e) for e in range(1, 7)]
    first_pass = np.concatenate([p["x"] for p in parts[:3]])
    second_pass = np.concatenate([p["x"] for p in parts[3:]])
    assert first_pass.shape == second_pass.shape == x.shape  # as many windows every pass
    assert windows[0] != windows[1] and not np.array_equal(first_pass, second_pass)
    # Within a pass each row continues its text from batch to batch (state carry-over is valid),
    # apart from the one seam where the stream wraps around.
    rows = first_pass.reshape(-1, 4, 5).transpose(1, 0, 2).reshape(4, -1)
    steps = np.diff(rows, axis=1) % len(ids)
    assert np.all(steps == 1)
    # The same seed gives the same passes; another seed other ones.
    again = _ChunkedFitData(x, y, batch_size=4, shuffle=False, chunks=3, pass_windows=pass_windows)
    np.testing.assert_array_equal(again.epoch_inputs(seed=7, epoch=5)["x"], parts[4]["x"])
    assert lm_training.stream_offset(8, 0, 400) != lm_training.stream_offset(7, 0, 400)


@pytest.mark.slow  # trains three tiny LSTMs: 20-60 s on a busy 2-core CPU
def test_a_run_with_every_option_extends_bitwise_and_anneals(tmp_path):
    """Extending a run resumes it from its last checkpoint's weights, optimizer and RNG state:
    with the per-pass offsets, the schedule and dropout, it must equal a run trained at once."""
    config = lm_config(_smoke(), "lstm3", 0)
    assert config["model"]["dropout"] > 0 and config["epochs"] == 4
    at_once = lm_training.train_lm(config, cache_root=tmp_path / "once", verbose=False)
    lm_training.train_lm({**config, "epochs": 2}, cache_root=tmp_path / "steps", verbose=False)
    extended = lm_training.train_lm(config, cache_root=tmp_path / "steps", verbose=False)
    assert extended.history == at_once.history
    for epoch in range(config["epochs"] + 1):
        a, b = at_once.load_variables(epoch), extended.load_variables(epoch)
        assert all(np.array_equal(a[i], b[j]) for i, j in zip(sorted(a), sorted(b), strict=True))
    optimizer = np.load(at_once.path / "optimizer_0004.npz")
    (rate,) = [optimizer[k] for k in optimizer.files if k.endswith("learning_rate")]
    batches = len(text.stateful_windows(
        lm_training.corpus_from_config(config["corpus"]).train, 8, 20)[0]) // 8
    steps = batches - batches // 2  # the second of the pass's two chunks
    expected = lm_training.annealed_learning_rate(3e-3, (3 + (steps - 1) / steps) / 4, 0.05)
    assert float(rate) == pytest.approx(expected, rel=1e-6)  # set before the last step
    perplexity = lm_training.validation_perplexity(at_once)
    assert perplexity[-1] < perplexity[0]
