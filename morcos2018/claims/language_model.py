"""Appendix A1: the LSTM language models learn (perplexity clearly below the unigram baseline).

The RNN figures (Figs 1b-c, 6, A3, A4, A8) read representations of language models; they mean
something only if the models have learned more than word frequencies. The baseline is the unigram
model of the training text (:meth:`morcos2018.text.TextCorpus.unigram_perplexity`), whose
validation perplexity a model that ignores context reaches at best.

The check, with runs (independent trainings) as units: each run's
``log(unigram / validation perplexity)`` is compared with ``log(min_ratio)`` by a sign-flip test
over runs, so the claim holds when the models beat the unigram baseline by at least the
declared factor, significantly over runs. Logarithms make the ratio symmetric (half the
perplexity counts as much as double). Declared since 2026-12-05 (:data:`POOLED`): the runs of
every model are pooled into one test, since the claim is about the models as a family and the
default profile's 3 seeds per model allow at best p = 1/8 each; before, each model was tested on
its own seeds (claims/register.toml). ``pooled=False`` keeps one test per model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from morcos2018.claims import evidence

#: Declared: a model "learns" when the unigram perplexity is at least this many times its own.
MIN_RATIO = 1.5
#: Declared: one test over the runs of every model (True), or one test per model (False).
POOLED = True

CLAIM = (
    "Appendix A1: the LSTM language models learn: validation perplexity clearly below the "
    "unigram baseline"
)


def models_beat_unigram(
    perplexities: Mapping[str, Sequence[float]],
    unigram_perplexity: float,
    *,
    min_ratio: float = MIN_RATIO,
    pooled: bool = POOLED,
    alpha: float = evidence.ALPHA,
    seed: int = 0,
) -> evidence.Verdict:
    """The models' validation perplexity is below the unigram baseline by ``min_ratio`` (A1).

    Per run the value is ``log(unigram_perplexity / perplexity)``, its baseline
    ``log(min_ratio)``, and a sign-flip test over independent runs (:func:`.evidence.sign_flip`,
    alternative "greater") decides; it is contradicted when the runs fall significantly short of
    the factor. ``pooled``: one test over the runs of every model; otherwise one test per model
    over its seeds, and the claim holds when every model's test holds. With fewer than 5 runs in a
    test no outcome reaches ``p <= 0.05`` (2^4 = 16 sign flips give at best p = 1/16) and the test
    is inconclusive, with that reason.

    Parameters
    ----------
    perplexities : mapping of str to sequence of float
        ``{model: final validation perplexity of each seed}`` (e.g. ``{"lstm3": [55.4, 56.5]}``
        from :func:`morcos2018.lm_training.perplexity_gap` or
        ``lm_training.validation_perplexity(run)[-1]``).
        A diverged run (NaN or infinite perplexity) counts as not beating the baseline (ratio 0
        is replaced by a value far below the threshold).
    unigram_perplexity : float
        Validation perplexity of the unigram model of the training text.
    min_ratio : float
        Declared factor by which the models must beat the baseline (default 1.5).
    pooled : bool
        Declared: one test over all runs (default) or one per model.
    alpha : float
        Significance level of the one-sided test.
    seed : int
        Seed of the random sign flips (only drawn with many seeds) and of the bootstrap interval.

    Returns
    -------
    Verdict
        Pooled: one :class:`.evidence.Evidence`, ``"the models beat the unigram baseline"``;
        otherwise one per model, ``"<model> beats the unigram baseline"``. Its ``value`` is the
        mean log ratio, ``null_value`` is ``log(min_ratio)``.

    Examples
    --------
    >>> verdict = models_beat_unigram(
    ...     {"lstm3": [55.4, 56.5, 57.0, 55.9, 56.2]}, unigram_perplexity=137.0)
    >>> verdict.holds
    True
    >>> models_beat_unigram({"lstm3": [55.4, 56.5]}, 137.0).holds is None  # too few runs
    True
    """
    _check_inputs(perplexities, unigram_perplexity, min_ratio)
    groups = {"the models": [p for values in perplexities.values() for p in values]} if pooled \
        else {model: list(values) for model, values in perplexities.items()}
    unit = "runs" if pooled else "seeds"
    tests = []
    for group, values in groups.items():
        of = ", ".join(perplexities) if pooled else group
        tests.append(evidence.sign_flip(
            [_log_ratio(unigram_perplexity, p) for p in values],
            baseline=math.log(min_ratio),
            name=f"{group} beat{'' if pooled else 's'} the unigram baseline",
            statistic_text=(f"mean over {unit} of log(unigram perplexity "
                            f"{unigram_perplexity:.4g} / final validation perplexity of {of})"),
            baseline_text=f"log({min_ratio}): the declared factor over the baseline",
            unit=unit, alternative="greater", alpha=alpha, seed=seed,
        ))
    return evidence.Verdict(CLAIM, tuple(tests))


# A diverged run gets this log ratio: far below any sensible threshold, but finite for the tests.
_DIVERGED = -10.0


def _log_ratio(unigram: float, perplexity: float) -> float:
    if not math.isfinite(perplexity):
        return _DIVERGED
    return math.log(unigram / perplexity)


def _check_inputs(
    perplexities: Mapping[str, Sequence[float]], unigram: float, min_ratio: float
) -> None:
    if not perplexities:
        raise ValueError("perplexities is empty: give {model: [perplexity of each seed]}.")
    if not (isinstance(unigram, (int, float, np.floating)) and math.isfinite(unigram)
            and unigram > 1):
        raise ValueError(
            f"unigram_perplexity must be a finite number > 1 (the unigram model's validation "
            f"perplexity); found {unigram!r}."
        )
    if not min_ratio > 0:
        raise ValueError(f"min_ratio must be positive (e.g. 1.5); found {min_ratio!r}.")
    for model, values in perplexities.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or len(values) == 0:
            raise ValueError(
                f"perplexities[{model!r}] must be a 1-D list with one perplexity per seed; "
                f"found shape {values.shape}."
            )
        if np.any(values[np.isfinite(values)] < 1):
            raise ValueError(
                f"perplexities[{model!r}] holds values below 1, impossible for a perplexity "
                f"(exp of a cross-entropy): {values.tolist()}. Pass exp(loss), not the loss."
            )


def models_beat_unigram_measured(final_perplexity: Mapping[str, Sequence[float]],
                                 unigram: float) -> dict:
    """Appendix A1 (language models): the numbers :func:`models_beat_unigram` was given.

    Parameters
    ----------
    final_perplexity : mapping
        ``{model: final validation perplexity per seed}``.
    unigram : float
        The unigram baseline's validation perplexity.

    Returns
    -------
    dict
        The baseline, the final perplexities and their ratios to the baseline, rounded.

    Examples
    --------
    >>> m = models_beat_unigram_measured({"lstm3": [100.0]}, 400.0)
    >>> m["unigram / final perplexity, per model and seed"]
    {'lstm3': [4.0]}
    """
    return {"unigram validation perplexity": round(unigram, 1),
            "final validation perplexity, per model and seed":
                {model: [round(p, 1) for p in values]
                 for model, values in final_perplexity.items()},
            "unigram / final perplexity, per model and seed":
                {model: [round(unigram / p, 2) for p in values]
                 for model, values in final_perplexity.items()}}
