"""The paper profile's language models (PTB and WikiText-2 sizes: width 1150, embedding 400,
3 and 5 layers, dropout 0.4, Adam annealed by a cosine schedule) build and take a training step,
on synthetic tokens so that nothing is downloaded. Their training cannot run here (PTB and
WikiText-2 need internet, the models a GPU); this catches a profile that no longer builds."""

from __future__ import annotations

import numpy as np
import pytest

from morcos2018 import lm_training
from morcos2018.config import load_profile
from morcos2018.lm_model import layer_names
from morcos2018.training import FitData

pytest.importorskip("keras")

#: Vocabulary of WikiText-2 (the paper's panels b); the profile's own corpus is PTB (10k words).
WIKITEXT2_VOCABULARY = 33278


@pytest.mark.slow  # 70-100M-parameter models: 20-60 s each on a busy 2-core CPU (building and
# tracing; the step itself takes a few seconds)
@pytest.mark.parametrize("model, vocabulary", [("lstm5", None), ("lstm3", WIKITEXT2_VOCABULARY)])
def test_paper_language_models_build_and_take_a_training_step(model, vocabulary):
    settings = load_profile("paper")["text"]
    config = lm_training.lm_config(settings, model, seed=0)
    assert config["corpus"]["name"] == "ptb" and config["corpus"]["vocab_size"] == 10_000
    assert config["model"]["width"] == 1150 and config["model"]["embedding_dim"] == 400
    assert config["training"]["schedule"]["checkpoints"] == config["epochs"] == 40
    assert config["training"]["data_phase"] == "random_offset"
    if vocabulary is not None:
        config["corpus"] = {**config["corpus"], "name": "wikitext2", "vocab_size": vocabulary}
    # Two windows of five tokens: the paper's widths and vocabulary, a step the CPU can afford.
    config["training"] = {**config["training"], "batch_size": 2, "seq_len": 5}
    network = lm_training.training_model(config)
    n_layers = int(settings["models"][model]["layers"])
    assert [network.get_layer(name).units for name in layer_names(n_layers)] == [1150] * n_layers
    vocab = config["corpus"]["vocab_size"]
    assert network.get_layer("logits").units == vocab
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, vocab, size=(2, 6)).astype(np.int32)
    data = FitData(tokens[:, :-1], tokens[:, 1:], batch_size=2, shuffle=False)
    before = [w.copy() for w in network.get_layer("lstm1").get_weights()]
    history = network.fit(**data.epoch_inputs(0, 1), epochs=1, shuffle=False, verbose=0,
                          callbacks=lm_training.training_callbacks(config))
    loss = history.history["loss"][-1]
    assert np.isfinite(loss) and abs(loss - np.log(vocab)) < 1.0  # near uniform at the start
    after = network.get_layer("lstm1").get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    rate = float(network.optimizer.learning_rate.numpy())
    assert rate == pytest.approx(lm_training.annealed_learning_rate(1e-3, 0.0, 0.02))
