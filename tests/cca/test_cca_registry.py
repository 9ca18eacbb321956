"""cca.registry: one table of the measures, whose entries say what the functions do."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import cca
from cca import registry


@pytest.fixture(scope="module")
def layers():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 6))
    y = x @ rng.normal(size=(6, 6)) + 0.5 * rng.normal(size=(120, 6))
    return x, y


def test_every_public_measure_is_listed_under_its_own_name():
    for entry in registry.MEASURES.values():
        assert getattr(cca, entry.name) is entry.function
        assert registry.measure(entry.function) is entry
    assert set(registry.DISTANCES) == {n for n in registry.MEASURES if n.endswith("_distance")}


def test_flags_describe_the_functions(layers):
    x, y = layers
    identical = x @ np.random.default_rng(4).normal(size=(6, 6))  # a linear map: CCA-identical
    for entry in registry.MEASURES.values():
        forward, backward = entry(x, y), entry(y, x)
        assert (abs(forward - backward) < 1e-9) == entry.symmetric, entry.name
        if entry.family == "cca":
            best = 0.0 if entry.distance else 1.0
            assert entry(x, identical) == pytest.approx(best, abs=1e-9), entry.name
        if entry.counterpart is not None:
            other = registry.MEASURES[entry.counterpart]
            assert other.counterpart == entry.name and other.distance != entry.distance
            assert forward + other(x, y) == pytest.approx(1.0, abs=1e-12), entry.name


def test_the_null_builder_gives_the_measure_at_the_identity_order(layers):
    x, y = layers
    identity = np.arange(len(x))
    for entry in registry.MEASURES.values():
        parameters = inspect.signature(entry.function).parameters.values()
        options = {p.name: p.default for p in parameters
                   if p.default is not p.empty and p.name not in ("conv", "layout")}
        if entry.family == "cca":
            options["resolution"] = None
        (value,) = entry.null(x, y, **options)([identity])
        assert value == pytest.approx(entry(x, y), abs=1e-9), entry.name


def test_a_name_means_one_function():
    with pytest.raises(ValueError, match="its distance is 'pwcca_distance'"):
        registry.distance("pwcca")
    with pytest.raises(ValueError, match="name of one of cca's measures"):
        registry.measure("procrustes")
    assert registry.distance(cca.pwcca_distance).name == "pwcca_distance"
