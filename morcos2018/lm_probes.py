"""What does an LSTM layer represent on held-out text? Probe windows and their representations.

The similarity measures compare two layers on the same datapoints, so each RNN experiment of
Morcos et al. (2018) fixes a probe of held-out text and reads every layer on it:

- over training (Figure 1 b-c, e-f; Figure 6; Appendix A8): :func:`probe_windows` draws windows
  of the validation stream, each run from a zero state; the first ``context`` steps warm the
  state up and the remaining token positions are the datapoints (rows), the LSTM units the
  neurons (columns) (:func:`probe_representations`, one matrix per layer and checkpoint);
- over the steps of a sequence (Appendices A3, A4): the sequences are the datapoints and each
  step is read on its own (:func:`morcos2018.activations.layer_activations` of a
  :func:`morcos2018.lm_training.load_lm` model keeps the time axis); :func:`repeat_token`
  makes A4's input with one token repeated.

Layers are read through :func:`morcos2018.activations.layer_activations`, the one reader of
every experiment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from morcos2018.activations import layer_activations
from morcos2018.lm_model import layer_names
from morcos2018.lm_training import load_lm
from morcos2018.training import TrainedRun


def probe_windows(
    ids: np.ndarray, n_windows: int, length: int, seed: int = 0, overlap: bool = False
) -> np.ndarray:
    """``n_windows`` windows of ``length`` tokens of a held-out stream, shape (n_windows, length).

    Windows are drawn at random (seeded) among the stream's non-overlapping windows (or, with
    ``overlap=True``, among all start positions) and sorted by position, so the probe is the same
    for every model trained on the same corpus.
    """
    stride = 1 if overlap else length
    available = (len(ids) - length) // stride + 1 if len(ids) >= length else 0
    if n_windows > available:
        raise ValueError(
            f"n_windows={n_windows} windows of {length} tokens do not fit in the {len(ids)} "
            f"held-out tokens (at most {available}): lower n_windows or length, allow overlap, "
            "or keep more validation tokens"
        )
    starts = stride * np.sort(np.random.default_rng(seed).choice(available, n_windows,
                                                                 replace=False))
    return np.stack([ids[s : s + length] for s in starts]).astype(np.int32)


def repeat_token(windows: np.ndarray, start: int, length: int) -> np.ndarray:
    """Copy of ``windows`` where each window's token at ``start`` is repeated ``length`` times.

    Steps ``start .. start + length - 1`` all hold the token that was at ``start`` (Appendix A4:
    one input repeated for 20 steps); the rest of each window is unchanged.
    """
    if not (0 <= start and start + length <= windows.shape[1]):
        raise ValueError(
            f"start={start} and length={length} must fit in windows of {windows.shape[1]} steps"
        )
    repeated = windows.copy()
    repeated[:, start : start + length] = windows[:, start : start + 1]
    return repeated


def probe_representations(
    run: TrainedRun,
    probe: np.ndarray,
    context: int,
    epochs: Sequence[int] | None = None,
    layers: Sequence[str] | None = None,
) -> dict[str, list[np.ndarray]]:
    """Each LSTM layer's representation of the probe positions at each epoch.

    Parameters
    ----------
    run
        A trained language model (:func:`morcos2018.lm_training.train_lm`).
    probe
        Windows from :func:`probe_windows`, shape ``(n_windows, length)``.
    context
        Steps at the start of each window that only warm up the state; positions
        ``context .. length - 1`` of every window are the datapoints.
    epochs
        Checkpoints to read (default ``0 .. run.epochs``).
    layers
        Layer names (default every LSTM layer).

    Returns
    -------
    dict
        ``{layer: [matrix of shape (n_windows * (length - context), width) per epoch]}``:
        rows are token positions, columns are units.
    """
    if not 0 <= context < probe.shape[1]:
        raise ValueError(f"context must be in [0, {probe.shape[1]}), got {context}")
    tokens = np.asarray(probe, dtype=np.int32)
    epochs = list(range(run.epochs + 1)) if epochs is None else list(epochs)
    layers = list(layers or layer_names(int(run.config["model"]["layers"])))
    result: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    for epoch in epochs:
        acts = layer_activations(load_lm(run, epoch), tokens, layers)
        for name in layers:
            steps = acts[name][:, context:, :]
            result[name].append(steps.reshape(-1, steps.shape[-1]))
    return result


def repeated_input_activations(network, windows: np.ndarray, starts: Sequence[int], length: int,
                               layers: Sequence[str]) -> dict[int, dict[str, np.ndarray]]:
    """Appendix A4's input: for each start, every layer read on ``windows`` with the token at
    ``start`` repeated for ``length`` steps (:func:`repeat_token`).

    Parameters
    ----------
    network : keras.Model
        A loaded language model (:func:`morcos2018.lm_training.load_lm`).
    windows : ndarray, shape (sequences, steps)
        Token ids.
    starts : sequence of int
        First step of each repetition.
    length : int
        Steps the token is repeated for.
    layers : sequence of str
        Layers to read.

    Returns
    -------
    dict
        ``{start: {layer: activations, shape (sequences, steps, units)}}``.
    """
    return {start: layer_activations(network, repeat_token(windows, start, length), layers)
            for start in starts}
