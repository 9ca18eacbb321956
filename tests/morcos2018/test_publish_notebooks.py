"""scripts/publish_notebooks.py: what is committed of an executed notebook (issue 23: no
papermill-injected parameters cell, no machine paths (the cache folder of progress lines
included), no TensorFlow start-up chatter)."""

import json

import pytest
from conftest import load_script


@pytest.fixture(scope="module")
def publisher():
    return load_script("scripts/publish_notebooks.py")


LOADED = ("loaded cnn seed 0: 10 epochs, trained earlier "
          "(cache /home/someone/.cache/cca-reproduce/runs/0123456789abcdef0123)\n")


def executed_notebook(profile="default"):
    noise = "W0000 00:00:1.0 1 cuda_platform.cc:51] failed call to cuInit: UNKNOWN ERROR (303)\n"
    return {
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": [],
             "source": [f'profile = "{profile}"\n', 'figures_dir = "../figures"\n']},
            {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "outputs": [],
             "source": ["# Parameters\n", f'profile = "{profile}"\n', 'figures_dir = "/tmp/x"\n']},
            {"cell_type": "code", "metadata": {}, "source": ["print(1)\n"], "outputs": [
                {"output_type": "stream", "name": "stderr", "text": [noise]},
                {"output_type": "stream", "name": "stdout", "text": ["1\n"]},
                {"output_type": "stream", "name": "stderr", "text": [LOADED]},
            ]},
        ],
        "metadata": {"papermill": {"parameters": {"profile": profile, "figures_dir": "/tmp/x"},
                                   "input_path": "/abs/in.ipynb", "output_path": "/abs/out"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def test_publishing_drops_the_injected_cell_paths_and_chatter(publisher, tmp_path):
    executed, target = tmp_path / "run.ipynb", tmp_path / "fig.ipynb"
    executed.write_text(json.dumps(executed_notebook()))
    publisher.publish(executed, target)
    published = json.loads(target.read_text())
    tags = [cell["metadata"].get("tags", []) for cell in published["cells"]]
    assert tags == [["parameters"], []]
    assert published["cells"][1]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": ["1\n"]},
        {"output_type": "stream", "name": "stderr", "text": [
            "loaded cnn seed 0: 10 epochs, trained earlier "
            "(cache $CCA_CACHE_DIR/runs/0123456789abcdef0123)\n"
        ]},
    ]
    papermill = published["metadata"]["papermill"]
    assert papermill["parameters"] == {"profile": "default"}
    assert papermill["input_path"] == papermill["output_path"] == "fig.ipynb"


def test_only_default_profile_runs_are_published(publisher, tmp_path):
    executed = tmp_path / "run.ipynb"
    executed.write_text(json.dumps(executed_notebook("smoke")))
    with pytest.raises(SystemExit, match="default-profile"):
        publisher.publish(executed, tmp_path / "fig.ipynb")
