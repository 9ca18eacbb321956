"""Every measure of cca by name: one table that the library and the reproduction both read.

A name is the public function's own name and means that function everywhere: ``"pwcca"`` is the
similarity :func:`cca.pwcca` (1 = identical), ``"pwcca_distance"`` its distance
:func:`cca.pwcca_distance` (0 = identical), whether it is passed to :func:`cca.permutation_test`, to
:func:`cca.bootstrap_interval` or to the reproduction's analysis. Each entry says

- ``distance``: smaller is more similar (a distance) or larger is (a similarity);
- ``symmetric``: ``f(x, y) == f(y, x)``. PWCCA is not: its weights come from ``x`` (paper,
  Section 2.2), so ``pwcca(x, y)`` and ``pwcca(y, x)`` differ in general;
- ``family``: ``"cca"`` (mean CCA, SVCCA, PWCCA: invariant to invertible linear maps, 4-D input
  reduced by ``conv``), ``"cka"`` (linear CKA: invariant to rotations and scale) or
  ``"same neurons"`` (cosine, Euclidean: neuron j of x against neuron j of y, 4-D input flattened
  per datapoint; Appendix A5);
- ``counterpart``: the name of the other form (the distance of a similarity and back; Euclidean
  distance has none);
- ``null``: the builder of its statistic on permuted rows (:mod:`cca._nulls`), the fast path of
  :func:`cca.permutation_test`.

Examples
--------
>>> import cca
>>> entry = cca.registry.measure("pwcca_distance")
>>> entry.distance, entry.symmetric, entry.counterpart
(True, False, 'pwcca')
>>> cca.registry.measure(cca.linear_cka).name
'linear_cka'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from cca import _nulls, baselines, measures

FAMILIES = ("cca", "cka", "same neurons")


@dataclass(frozen=True)
class Measure:
    """One public measure: its function and what a caller needs to know to use it generically."""

    name: str
    function: Callable[..., float]
    distance: bool
    symmetric: bool
    family: str
    counterpart: str | None
    null: Callable[..., Callable[[Iterable[np.ndarray]], np.ndarray]]

    def __call__(self, x, y, **options) -> float:
        return self.function(x, y, **options)


def _pair(name, similarity, distance, null, *, symmetric=True, family="cca"):
    """The similarity ``name`` and its distance ``name + "_distance"`` (1 - similarity)."""
    distance_name = f"{name}_distance"
    return (
        Measure(name, similarity, False, symmetric, family, distance_name, null),
        Measure(distance_name, distance, True, symmetric, family, name, _nulls.complement(null)),
    )


_ENTRIES = (
    *_pair("mean_cca", measures.mean_cca, measures.mean_cca_distance, _nulls.mean_cca_null),
    *_pair("svcca", measures.svcca, measures.svcca_distance, _nulls.svcca_null),
    *_pair("pwcca", measures.pwcca, measures.pwcca_distance, _nulls.pwcca_null, symmetric=False),
    *_pair("linear_cka", baselines.linear_cka, baselines.linear_cka_distance,
           _nulls.linear_cka_null, family="cka"),
    Measure("cosine_similarity", baselines.cosine_similarity, False, True, "same neurons",
            "cosine_distance", _nulls.cosine_null),
    Measure("cosine_distance", baselines.cosine_distance, True, True, "same neurons",
            "cosine_similarity", _nulls.complement(_nulls.cosine_null)),
    Measure("euclidean_distance", baselines.euclidean_distance, True, True, "same neurons",
            None, _nulls.euclidean_null),
)

#: Every measure by name (read-only).
MEASURES: Mapping[str, Measure] = MappingProxyType({entry.name: entry for entry in _ENTRIES})
#: The names of the distances (0 = identical), in the order of :data:`MEASURES`.
DISTANCES = tuple(name for name, entry in MEASURES.items() if entry.distance)


def measure(name_or_function: str | Callable[..., float]) -> Measure:
    """The entry of a measure given by name (``"pwcca"``) or as the public function (``cca.pwcca``).

    Raises
    ------
    ValueError
        For anything else, listing the names.
    """
    if isinstance(name_or_function, str) and name_or_function in MEASURES:
        return MEASURES[name_or_function]
    for entry in MEASURES.values():
        if entry.function is name_or_function:
            return entry
    raise ValueError(
        f"measure must be the name of one of cca's measures, {sorted(MEASURES)}, or that function "
        f"(e.g. cca.pwcca); found {name_or_function!r}. For a statistic of your own use "
        "scipy.stats.permutation_test or scipy.stats.bootstrap."
    )


def distance(name_or_function: str | Callable[..., float]) -> Measure:
    """The entry of a distance (0 = identical), refusing a similarity with the name to use instead.

    Examples
    --------
    >>> distance("pwcca")
    Traceback (most recent call last):
    ...
    ValueError: measure 'pwcca' is a similarity (1 = identical); its distance is 'pwcca_distance'.
    """
    entry = measure(name_or_function)
    if not entry.distance:
        raise ValueError(
            f"measure {entry.name!r} is a similarity (1 = identical); its distance is "
            f"{entry.counterpart!r}."
        )
    return entry
