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

import contextlib
import errno
import json
import shutil
import socket
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from morcos2018 import cli, runner, sweep
from morcos2018.cache import CacheCorruptionWarning, run_key
from morcos2018.config import load_profile
from morcos2018.sweep import SweepError
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


# --------------------------------------------------------------------------- profiles


def _profile(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "profile.toml").write_text('extends = "smoke"\n')
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


@pytest.mark.parametrize(("files", "expected"), [
    ({"images.toml": "epochz = 3\n"}, "images.toml: unknown key `epochz`"),
    ({"images.toml": "epochs = 1e9\n"}, "images.toml: `epochs` = 1000000000.0"),
    ({"images.toml": "epochs = 2.5\n"}, "images.toml: `epochs` = 2.5"),
    ({"text.toml": '[training]\noptimizer = {name = "adam", learning_rate = -1e-3}\n'},
     "text.toml: `training.optimizer.learning_rate` = -0.001"),
    ({"images.toml": 'width = "narrow"\n'}, "images.toml: `width` = 'narrow' is not allowed"),
    ({"toys.toml": "[rnn]\nbeta = \n"}, "toys.toml: not valid TOML"),
    ({"profile.toml": 'extends = "smoke"\nextend = "x"\n'}, "profile.toml: unknown keys"),
])
def test_a_bad_profile_is_one_line_naming_file_and_key(tmp_path, capsys, files, expected):
    folder = _profile(tmp_path, files)
    assert cli.main(["--profile", str(folder), "--plan"]) == 2
    assert f"{folder}/{expected}" in _one_line_error(capsys)


def test_an_unreadable_profile_file_and_an_empty_profile_are_one_line(tmp_path, capsys):
    folder = _profile(tmp_path, {})
    (folder / "images.toml").mkdir()  # unreadable as a file, even by root
    assert cli.main(["--profile", str(folder), "--plan"]) == 2
    assert "images.toml: cannot read this profile file" in _one_line_error(capsys)
    (tmp_path / "empty").mkdir()
    assert cli.main(["--profile", str(tmp_path / "empty"), "--plan"]) == 2
    assert "has no cnn.toml" in _one_line_error(capsys)


def test_the_shipped_profiles_load_unchanged():
    for name in ("smoke", "default", "extended", "paper"):
        assert load_profile(name)["name"] == name


# --------------------------------------------------------------------------- the command line


def test_a_missing_or_empty_notebooks_dir_is_one_line(tmp_path, capsys):
    for folder in (tmp_path / "nonexistent", tmp_path):
        assert cli.main(["--profile", "smoke", "--notebooks-dir", str(folder),
                         "--output", str(tmp_path / "run")]) == 2
        assert f"--notebooks-dir {folder}" in _one_line_error(capsys)


def _notebooks(tmp_path: Path) -> Path:
    import nbformat

    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(notebook, folder / "alpha.ipynb")
    return folder


def test_an_output_that_cannot_be_written_is_one_line(tmp_path, capsys):
    (tmp_path / "a-file").write_text("")
    good = ["--profile", "smoke", "--notebooks-dir", str(_notebooks(tmp_path)),
            "--output", str(tmp_path / "run"), "--figures-dir", str(tmp_path / "figures")]
    for option in ("--output", "--figures-dir"):
        arguments = [*good, option, str(tmp_path / "a-file" / "run")]
        assert cli.main(arguments) == 2
        assert f"{option} {tmp_path / 'a-file'}" in _one_line_error(capsys)


def _full_disk(path):
    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    return fail


def test_a_full_disk_fails_the_notebook_in_one_line_and_the_summary_is_printed(
        tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    monkeypatch.setattr(runner, "run_notebook", _full_disk(run / "alpha.ipynb"))
    arguments = ["--profile", "smoke", "--notebooks-dir", str(_notebooks(tmp_path)),
                 "--output", str(run), "--figures-dir", str(tmp_path / "figures")]
    assert cli.main(arguments) == 1
    printed = capsys.readouterr().out
    assert f"FAILED alpha: {run / 'alpha.ipynb'}: No space left on device" in printed
    assert "0 ran, 0 up to date, 1 failed" in printed
    monkeypatch.setattr(runner, "write_findings", _full_disk(run / "findings.json"))
    assert cli.main(arguments) == 2
    captured = capsys.readouterr()
    assert "1 failed" in captured.out  # the summary, though the findings could not be written
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert f"cannot write {run / 'findings.json'} (No space left on device)" in captured.err


# --------------------------------------------------------------------------- --cluster


@contextlib.contextmanager
def _listening(answer: bytes | None):
    """A server on 127.0.0.1 that sends ``answer`` to every connection (``None``: nothing, ever)
    and keeps it open; closed on exit."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop, accepted = threading.Event(), []

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(connection)
            if answer is not None:
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()


@pytest.mark.parametrize(("answer", "expected"), [
    (b"HTTP/1.0 400 Bad Request\r\n\r\n", "is not a Dask scheduler"),
    (None, "nothing answered within"),
])
def test_a_cluster_address_that_is_no_scheduler_fails_clearly_within_seconds(answer, expected):
    pytest.importorskip("distributed")
    with _listening(answer) as address:
        began = time.monotonic()
        with pytest.raises(SweepError, match=expected) as caught:
            with sweep.connect(address):
                pytest.fail("connected")
    assert time.monotonic() - began < 10
    assert address in str(caught.value) and "\n" not in str(caught.value)


def test_a_cluster_address_where_nothing_listens_fails_at_once():
    pytest.importorskip("distributed")
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    began = time.monotonic()
    with pytest.raises(SweepError, match="no scheduler answered"):
        sweep.probe_scheduler(address)
    assert time.monotonic() - began < 5
