"""Representational similarity with canonical correlation, in plain NumPy/SciPy.

Measures of Morcos, Raghu & Bengio, "Insights on representational similarity in neural networks with
canonical correlation" (NeurIPS 2018): mean CCA, SVCCA (Raghu et al. 2017) and PWCCA, with the full
CCA result (directions, variates, projection of new data), conv-layer handling, a streaming
accumulator, the baselines linear CKA (Kornblith et al. 2019), cosine and Euclidean distance, and
significance: a permutation null (chance level, p-value) and a bootstrap interval for any of them,
and held-out mean CCA and PWCCA (directions fitted on some datapoints, measured on the others),
and every layer of a network against every layer of another (:func:`compare_layers`).
The measures and the accumulator also take dask arrays (the ``dask`` extra), reduced chunk by
chunk on a cluster (not the permutation null or the bootstrap, which need the rows in memory).

Conventions: rows are datapoints, columns are neurons; row i of both layers is the response to the
same input. Conv layers are 4-D, channels last (n, h, w, c) unless ``layout="nchw"`` says channels
first, as PyTorch lays them out. Similarities are floats in [0, 1]; each has a distance form,
1 - similarity. :mod:`cca.registry` lists every measure by name, with its form (similarity or
distance), symmetry and family.
This package never imports a deep learning framework, nor dask unless given a dask array.
"""

from importlib import metadata

from cca import registry
from cca._validation import DegenerateCCAWarning, GramPathWarning
from cca.baselines import (
    cosine_distance,
    cosine_similarity,
    euclidean_distance,
    linear_cka,
    linear_cka_distance,
)
from cca.heldout import HeldoutResult, heldout_similarity
from cca.layers import LayerComparison, compare_layers
from cca.measures import (
    CCAResult,
    canonical_correlations,
    cca,
    mean_cca,
    mean_cca_distance,
    pwcca,
    pwcca_distance,
    svcca,
    svcca_distance,
)
from cca.significance import (
    BootstrapResult,
    ChanceLevelWarning,
    PermutationResult,
    bootstrap_interval,
    permutation_test,
)
from cca.streaming import CCAAccumulator

try:
    __version__ = metadata.version("pwcca")  # the distribution's name; see cca/pyproject.toml
except metadata.PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "unknown"

__all__ = [
    "BootstrapResult",
    "CCAAccumulator",
    "CCAResult",
    "ChanceLevelWarning",
    "DegenerateCCAWarning",
    "GramPathWarning",
    "HeldoutResult",
    "LayerComparison",
    "PermutationResult",
    "bootstrap_interval",
    "canonical_correlations",
    "cca",
    "compare_layers",
    "cosine_distance",
    "cosine_similarity",
    "euclidean_distance",
    "heldout_similarity",
    "linear_cka",
    "linear_cka_distance",
    "mean_cca",
    "mean_cca_distance",
    "permutation_test",
    "pwcca",
    "pwcca_distance",
    "registry",
    "svcca",
    "svcca_distance",
]
