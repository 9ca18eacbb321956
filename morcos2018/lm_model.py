"""How is the LSTM language model built? Architecture of the RNN experiments' networks.

Morcos et al. (2018) compare the layers of multi-layer LSTM language models trained on PTB and
WikiText-2: over training (Figure 1 b-c, e-f; Figure 6 and Appendix A8, for 3- and 5-layer
models) and over the steps of a sequence (Appendices A3, A4). Here a model is

    token ids -> ``embedding`` -> ``lstm1`` -> ... -> ``lstmN`` -> ``logits`` (dense, vocabulary)

built with the Keras functional API and named layers, so that every LSTM layer's output can be
read by name at every time step (:func:`morcos2018.activations.layer_activations`). The same
architecture is built *stateful* with a fixed input shape for training with truncated
back-propagation through time (:mod:`morcos2018.lm_training`), and stateless with any input
shape for reading representations (:mod:`morcos2018.lm_probes`). Layer normalisation
between layers, and residual connections for deep stacks, are ours: without them these small
models do not leave the unigram plateau on the CPU budget (see :func:`build_lm`).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def layer_names(n_layers: int) -> list[str]:
    """Names of the LSTM layers of an ``n_layers`` model: ``["lstm1", ..., "lstmN"]``."""
    return [f"lstm{i}" for i in range(1, n_layers + 1)]


def build_lm(
    vocab_size: int,
    n_layers: int,
    width: int,
    embedding_dim: int | None = None,
    dropout: float = 0.0,
    layer_norm: bool = True,
    residual: bool = False,
    batch_size: int | None = None,
    seq_len: int | None = None,
    stateful: bool = False,
) -> Any:
    """A multi-layer LSTM language model (uncompiled Keras functional model).

    Parameters
    ----------
    vocab_size
        Number of token ids (input and output).
    n_layers, width
        Number of stacked LSTM layers and units per layer.
    embedding_dim
        Size of the input embedding (default ``width``).
    dropout
        Dropout rate on the embedding and between layers (0 disables it).
    layer_norm
        Normalise each LSTM layer's output (``LayerNormalization`` named ``lstmK_norm``) before
        it feeds the next layer. Without it, deep (3- and 5-layer) models of width ~128 stall at
        the unigram plateau for well over a thousand updates on this corpus (the signal shrinks
        layer by layer at initialisation); with it they leave it within the first epoch. The
        representation read for CCA is the LSTM output ``lstmK`` itself, before normalisation.
    residual
        Add each layer's input to its (normalised) output from the second layer on
        (``lstmK_residual``), as in deep LSTM stacks for translation (Wu et al. 2016). Needed for
        the 5-layer model: with layer normalisation alone it stays at the unigram plateau for
        the whole default budget (validation perplexity 139 after 4 epochs, unigram 137).
    batch_size, seq_len
        Fixed input shape; required for ``stateful=True``, ``None`` lets any shape through.
    stateful
        Carry each LSTM's final state over to the next batch (for training with truncated BPTT).

    Returns
    -------
    keras.Model
        Inputs ``(batch, steps)`` int32 token ids; outputs ``(batch, steps, vocab_size)`` logits.
        Layers are named ``embedding``, ``lstm1`` ... ``lstm{n_layers}`` (each followed by
        ``lstmK_norm`` if ``layer_norm`` and ``lstmK_residual`` if ``residual``) and ``logits``.
    """
    import keras

    for name, value in (("vocab_size", vocab_size), ("n_layers", n_layers), ("width", width)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if stateful and batch_size is None:
        raise ValueError("batch_size is required when stateful=True (state is kept per row)")
    inputs = keras.Input(batch_shape=(batch_size, seq_len), dtype="int32", name="tokens")
    hidden = keras.layers.Embedding(vocab_size, embedding_dim or width, name="embedding")(inputs)
    for depth, name in enumerate(layer_names(n_layers)):
        layer_input = hidden
        if dropout:
            hidden = keras.layers.Dropout(dropout, name=f"{name}_dropout")(hidden)
        hidden = keras.layers.LSTM(width, return_sequences=True, stateful=stateful, name=name)(
            hidden
        )
        if layer_norm:
            hidden = keras.layers.LayerNormalization(name=f"{name}_norm")(hidden)
        if residual and depth > 0:
            hidden = keras.layers.Add(name=f"{name}_residual")([hidden, layer_input])
    if dropout:
        hidden = keras.layers.Dropout(dropout, name="logits_dropout")(hidden)
    logits = keras.layers.Dense(vocab_size, name="logits")(hidden)
    return keras.Model(inputs, logits, name=f"lstm{n_layers}x{width}")


def reset_states(model: Any) -> None:
    """Zero the carried state of every stateful LSTM layer of ``model``."""
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()
