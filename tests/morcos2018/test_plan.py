"""The training plan (``cca-reproduce --plan``) and the sweep's bookkeeping, without training.

That the plan is complete (after it is trained, the notebooks train nothing) is checked on a real
cluster in ``tests/morcos2018/test_sweep.py``; here: each notebook's runs as its cells resolve them,
merging, parameters, the cache's state, the cost estimate, the CLI, and the sweep's progress and
relay.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from morcos2018 import cli, plan, runner, sweep
from morcos2018.cache import run_key
from morcos2018.config import load_profile
from morcos2018.lm_training import lm_config
from morcos2018.models import cnn_config, family_table

SMOKE = load_profile("smoke")


def _seeds(configs, **match):
    return [c["seed"] for c in configs if all(c[k] == v for k, v in match.items())]


def test_each_notebook_plans_the_networks_its_cells_train():
    images = SMOKE["images"]
    fig3 = plan.fig3_memorization(SMOKE)  # its own 320 images, then the dose-response's 256
    assert _seeds(fig3, random_labels=False) == [0, 1, 0, 1]
    assert _seeds(fig3, random_labels=True) == [1000, 1001] * 2  # cnn.fig3.memorizing_seed_offset
    assert [c["train_subset"] for c in fig3] == [320] * 4 + [256] * 4
    assert fig3[0] == cnn_config(family_table(images, "groups"), seed=0,
                                 epochs=images["groups"]["epochs"])
    assert fig3[4] == cnn_config({**family_table(images, "groups"), "train_subset": 256}, seed=0,
                                 epochs=images["groups"]["epochs"])
    fig5 = plan.fig5_learning_rate(SMOKE)  # the base rate keeps the seeds, rate i adds (i+1) x 100
    assert [(c["optimizer"]["learning_rate"], c["seed"]) for c in fig5] == [
        (1e-3, 0), (1e-3, 1), (1e-2, 200), (1e-2, 201)]
    assert sorted({c["width"] for c in plan.fig4_width(SMOKE)}) == [0.0625, 0.125]
    assert plan.fig1_cnn_dynamics(SMOKE) == [cnn_config(images, seed=s, epochs=2) for s in (0, 1)]
    text = SMOKE["text"]
    assert plan.fig1_lm_dynamics(SMOKE) == [lm_config(text, m, 0) for m in ("lstm3", "lstm5")]
    assert plan.figA3_A4_sequence(SMOKE) == [lm_config(text, "lstm3", 0)]
    assert plan.notebook_configs("fig2_toy_noise", SMOKE) == []


def test_equal_configs_are_one_run_trained_to_the_most_epochs_asked():
    runs = plan.training_plan(SMOKE, ["fig1_cnn_dynamics", "fig4_width"],
                              {"fig1_cnn_dynamics": {"epochs": 5}})
    shared = [run for run in runs if len(run.notebooks) == 2]
    assert [run.config["seed"] for run in shared] == [0, 1]
    assert all(run.epochs == 5 and run.notebooks == ("fig1_cnn_dynamics", "fig4_width")
               for run in shared)
    assert len({run.key for run in runs}) == len(runs) == 4
    assert [run.flops for run in runs] == sorted((run.flops for run in runs), reverse=True)


def test_parameters_reach_only_the_notebooks_that_take_them(tmp_path):
    runs = runner.plan_batch("smoke", ["fig3", "fig4"], overrides={"seeds": [7], "widths": [0.5]})
    fig3 = [run.config for run in runs if "fig3_memorization" in run.notebooks]
    assert sorted(c["seed"] for c in fig3) == [7, 7, 1007, 1007]  # 320 and 256 images
    fig4 = [run.config for run in runs if run.notebooks == ("fig4_width",)]
    assert [(c["width"], c["seed"]) for c in fig4] == [(0.5, 7)]
    with pytest.raises(ValueError, match="no such parameter"):
        runner.plan_batch("smoke", ["fig3"], overrides={"widths": [0.5]})


def _fake_entry(root, config, epochs_done):
    """A cache entry as training writes it (checksummed files, manifest), without training."""
    folder = root / "runs" / run_key(config)
    folder.mkdir(parents=True)
    names = [f"epoch_{e:04d}.npz" for e in range(epochs_done + 1)]
    names.append(f"optimizer_{epochs_done:04d}.npz")
    files = {}
    for name in names:
        data = name.encode()
        (folder / name).write_bytes(data)
        files[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {"format": 2, "config": config, "epochs_done": epochs_done, "files": files,
                "history": [{}] * (epochs_done + 1)}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_the_plan_says_what_the_cache_holds(tmp_path):
    runs = plan.training_plan(SMOKE, ["figA3_A4_sequence", "fig1_cnn_dynamics"])
    lstm, cnn = runs[-1], runs[0]
    assert lstm.epochs == 4 and cnn.epochs == 2
    _fake_entry(tmp_path, lstm.config, 1)
    _fake_entry(tmp_path, cnn.config, 2)
    records = {r["key"]: r for r in plan.plan_records(runs, tmp_path)}
    assert records[lstm.key]["status"] == "partial" and records[lstm.key]["cached_epochs"] == 1
    assert records[lstm.key]["tflop_left"] == pytest.approx(0.75 * lstm.flops / 1e12, abs=1e-4)
    assert records[cnn.key]["status"] == "cached" and records[cnn.key]["tflop_left"] == 0
    assert sum(r["status"] == "to train" for r in records.values()) == 1
    (tmp_path / "runs" / lstm.key / "epoch_0001.npz").write_bytes(b"changed")
    assert lstm.cached_epochs(tmp_path) == 0  # a damaged entry counts as absent


def test_cost_follows_the_architecture_and_the_data():
    images = {**SMOKE["images"], "train_subset": 1000, "validation_size": 100}
    narrow, wide = (plan.training_flops(cnn_config(images, seed=0, width=w)) for w in (0.5, 1.0))
    assert 3.9 < wide / narrow < 4.0  # convolutions scale with in x out channels
    more = cnn_config({**images, "train_subset": 2000, "validation_size": 0}, seed=0)
    assert plan.training_flops(more) > plan.training_flops(cnn_config(images, seed=0))
    text = SMOKE["text"]
    config = lm_config(text, "lstm3", 0)
    longer = lm_config({**text, "corpus": {**text["corpus"], "max_train_tokens": 12000,
                                           "max_valid_tokens": 0}}, "lstm3", 0)
    assert plan.training_flops(longer) > plan.training_flops(config)


def test_cli_plan_lists_the_runs_and_trains_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CCA_CACHE_DIR", str(tmp_path / "cache"))
    assert cli.main(["--profile", "smoke", "--plan"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("training plan of profile smoke: 18 runs (0 cached, 0 partial, "
                               "18 to train)")
    assert len(table) == 2 + 18
    assert cli.main(["--profile", "smoke", "--plan", "json", "--only", "fig6"]) == 0
    records = json.loads(capsys.readouterr().out)
    # each model twice: the profile's schedule and Figure 6's arm (text.convergence)
    assert [r["label"] for r in records] == ["5-layer LSTM seed 0 (width 12)"] * 2 + [
        "3-layer LSTM seed 0 (width 12)"] * 2
    assert len({r["key"] for r in records}) == 4
    assert all(run_key(r["config"]) == r["key"] for r in records)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("spec", ["local:0", "local:two"])
def test_a_bad_local_cluster_is_refused_before_anything_runs(tmp_path, capsys, spec):
    status = cli.main(["--profile", "smoke", "--cluster", spec, "--output", str(tmp_path)])
    assert status == 2
    assert "local:N with N >= 1" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_progress_counts_runs_and_estimates_the_time_left(monkeypatch):
    runs = plan.training_plan(SMOKE, ["fig5_learning_rate"])  # 4 runs of equal cost
    clock = iter([0.0, 5.0, 5.0, 10.0])
    monkeypatch.setattr(sweep.time, "monotonic", lambda: next(clock))
    echoed = []
    progress = sweep._Progress([(run, 0) for run in runs[:3]], 1, echoed.append)
    progress.event((0, {"event": "start", "key": runs[0].key, "worker": "a", "cached_epochs": 0}))
    assert echoed[-1].endswith("(1/4 runs done, 1 running, 2 left, time left: after the first "
                               "run)")
    progress.event((0, {"event": "start", "key": runs[1].key, "worker": "b", "cached_epochs": 1}))
    assert "from epoch 1" in echoed[-1]
    progress.finish(runs[0].key, None)  # one run's cost in 10 s; left: half of half a run, one run
    assert echoed[-1].endswith("(2/4 runs done, 1 running, 1 left, ~0m12s left)")
    progress.event((0, {"event": "line", "key": runs[1].key, "worker": "b", "line": "epoch 2/2"}))
    assert echoed[-1] == "  worker b: epoch 2/2"


def test_cluster_specs():
    assert sweep.parse_cluster("local") == ("local", None)
    assert sweep.parse_cluster("tcp://head:8786") == ("address", None)
    assert sweep.default_local_workers() >= 2


def test_the_plan_estimates_time_from_how_fast_the_cached_runs_trained(tmp_path):
    runs = plan.training_plan(SMOKE, ["figA3_A4_sequence", "fig1_cnn_dynamics"])
    lstm, cnn = runs[-1], runs[0]
    _fake_entry(tmp_path, cnn.config, 2)
    epochs = sorted((tmp_path / "runs" / cnn.key).glob("epoch_*.npz"))
    for index, path in enumerate(epochs):  # one checkpoint every 30 s
        os.utime(path, (1_000_000 + 30 * index, 1_000_000 + 30 * index))
    rates = plan.measured_rates(tmp_path)
    spanned = (len(epochs) - 1) / cnn.epochs
    assert set(rates) == {"cnn"} and rates["cnn"][1] == 1
    assert rates["cnn"][0] == pytest.approx(30 * (len(epochs) - 1) / (cnn.flops * spanned / 1e12))
    records = {r["key"]: r for r in plan.plan_records(runs, tmp_path)}
    assert records[cnn.key]["seconds_left"] == 0.0
    assert records[lstm.key]["seconds_left"] is None  # no language model timed yet
    to_train = [run for run in runs
                if run.experiment == "cnn" and records[run.key]["status"] == "to train"]
    assert to_train
    for run in to_train:
            assert records[run.key]["seconds_left"] == pytest.approx(
                run.flops / 1e12 * rates["cnn"][0], abs=0.1)
    text = plan.format_plan(list(records.values()), "smoke", tmp_path)
    assert "on one worker at the rate the cached runs trained here" in text
    assert "not yet timed" in text
    for path in epochs:  # copied files: one modification time, no rate
        os.utime(path, (1_000_000, 1_000_000))
    assert plan.measured_rates(tmp_path) == {}


@pytest.mark.parametrize(("name", "value", "allowed"), [
    ("epochs", 2.5, "an int in 1..10000"),
    ("epochs", "2", "an int in 1..10000"),
    ("seeds", 3, "a non-empty list, each an int"),
    ("learning_rates", [-1e-3], "a non-empty list, each a number in (0, 10]"),
    ("widths", [], "a non-empty list"),
])
def test_parameter_values_are_checked_before_anything_runs(name, value, allowed):
    """Issue 28: a -p value the profile key it stands for would refuse is a one-line error
    naming the parameter, the value and what is allowed (null keeps the profile's value)."""
    with pytest.raises(ValueError) as error:
        runner.plan_batch("smoke", ["fig1", "fig3", "fig4", "fig5"], overrides={name: value})
    message = str(error.value)
    assert message.startswith(f"-p {name}=") and f": {name} must be {allowed}" in message
    assert "null for the profile's value" in message and "\n" not in message
    runner.plan_batch("smoke", ["fig1", "fig3"], overrides={"seeds": None, "epochs": 2})


def test_every_notebook_parameter_has_a_declared_type():
    """A new notebook parameter needs its entry in config.PARAMETERS, or -p could not check it."""
    import papermill

    from morcos2018 import config

    for notebook in sorted(runner.default_notebooks_dir().glob("*.ipynb")):
        for name in papermill.inspect_notebook(str(notebook)):
            assert name in config.PARAMETERS or name in config.BATCH_PARAMETERS, (
                notebook.stem, name)
