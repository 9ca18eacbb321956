"""Fault injection (issue 28): each fault that once gave a silently wrong result, a traceback or a
hang now ends with the right result or a one-line message naming the file, key or address.

- the cache: a manifest whose config, history or folder is not the run's own is retrained with
  a warning naming the entry, never loaded; manifests without a checksum (older code) still load;
- profiles: malformed TOML, unknown (misspelt) keys in a profile that extends another, values of
  the wrong type or out of range, a missing area: one ValueError line naming file and key;
- the command line: a missing or empty ``--notebooks-dir``, an ``--output`` that cannot be
  written, an unreadable profile, ``--cluster`` at something that is not a Dask scheduler (an HTTP
  server answering 400, a port that accepts and never answers) fails within seconds.

Every server here listens on 127.0.0.1 only and is shut down by its test.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from morcos2018.cache import CacheCorruptionWarning, run_key
from morcos2018.training import FitData, make_optimizer, train

# --------------------------------------------------------------------------- the cache


def _build():
    import keras

    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(make_optimizer({"name": "adam", "learning_rate": 0.01}),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data():
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    return FitData(x, y, validation=(x[:8], y[:8]), batch_size=8)


def _config(seed):
    return {"experiment": "faults", "seed": seed, "epochs": 1}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A cache with seeds 0 and 1 trained for one epoch (copied, never edited, by the tests)."""
    root = tmp_path_factory.mktemp("trained")
    for seed in (0, 1):
        train(_config(seed), _build, _data, cache_root=root)
    return root


def _copy(trained: Path, tmp_path: Path) -> Path:
    shutil.copytree(trained, tmp_path / "cache")
    return tmp_path / "cache"


def _entry(root: Path, seed: int) -> Path:
    return root / "runs" / run_key(_config(seed))


def _edit_manifest(folder: Path, edit) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _train_expecting_retraining(root: Path, seed: int, match: str):
    with pytest.warns(CacheCorruptionWarning, match=match) as caught:
        run = train(_config(seed), _build, _data, cache_root=root)
    assert run.key in str(caught[0].message)  # the warning names the entry
    return run


def _edit_config_seed(manifest):
    manifest["config"]["seed"] = 5


def _edit_history_digit(manifest):
    manifest["history"][1]["val_accuracy"] = round(manifest["history"][1]["val_accuracy"] + .1, 6)


@pytest.mark.slow  # trains two tiny networks once for the module (a few seconds)
@pytest.mark.parametrize(("edit", "match"), [
    (_edit_config_seed, "describes run"),
    (_edit_history_digit, "own checksum"),
])
def test_an_edited_manifest_is_retrained_not_loaded(trained, tmp_path, edit, match):
    root = _copy(trained, tmp_path)
    reference = train(_config(0), _build, _data, cache_root=trained)
    _edit_manifest(_entry(root, 0), edit)
    run = _train_expecting_retraining(root, 0, match)
    assert run.config["seed"] == 0
    assert run.history == reference.history


@pytest.mark.slow
def test_another_seeds_folder_copied_under_a_key_is_retrained(trained, tmp_path):
    root = _copy(trained, tmp_path)
    shutil.rmtree(_entry(root, 0))
    shutil.copytree(_entry(root, 1), _entry(root, 0))
    run = _train_expecting_retraining(root, 0, "seed 1")
    reference = train(_config(0), _build, _data, cache_root=trained)
    assert all(np.array_equal(run.load_variables()[name], array)
               for name, array in reference.load_variables().items())


@pytest.mark.slow
def test_a_manifest_without_checksum_from_older_code_still_loads(trained, tmp_path):
    root = _copy(trained, tmp_path)
    _edit_manifest(_entry(root, 0), lambda manifest: manifest.pop("checksum"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheCorruptionWarning)
        run = train(_config(0), _build, lambda: pytest.fail("retrained"), cache_root=root)
    assert run.epochs == 1
