"""The batch log (issue 25, item 5): every batch of a run folder logged however it ends, and a
profile's time from an empty cache summed over the batches that resumed it."""

from __future__ import annotations

import pytest

from morcos2018 import batch_log


def entry(**changes):
    base = {"profile": "extended", "notebooks": ["fig3", "fig4"],
            "started": "2026-12-06 05:05:16 UTC", "seconds": 100.0, "training_seconds": 80.0,
            "networks": 10, "cached_at_start": 4,
            "cluster": "local:2", "cpus": 2, "ended": "finished"}
    return {**base, **changes}


def test_the_log_records_a_batch_however_it_ends(tmp_path):
    with batch_log.logged(tmp_path, "extended", ["fig4", "fig3"], "local:2", 10, 0) as logged:
        logged["training_seconds"] = 5.0
        logged["ran"] = ["fig3", "fig4"]
    with pytest.raises(KeyboardInterrupt), batch_log.logged(tmp_path, "extended", ["fig3"], None,
                                                            10, 3):
        raise KeyboardInterrupt
    with pytest.raises(RuntimeError), batch_log.logged(tmp_path, "extended", [], None, 0, 0):
        raise RuntimeError("a run failed on the cluster")
    with batch_log.logged(tmp_path, "extended", ["fig3"], None, 10, 10) as logged:
        logged["interrupted"] = ["fig3"]
    finished, interrupted, failed, cut = batch_log.logged_batches(tmp_path)
    assert finished["ended"] == "finished" and finished["notebooks"] == ["fig3", "fig4"]
    assert finished["training_seconds"] == 5.0 and finished["cached_at_start"] == 0
    assert finished["seconds"] >= 0 and finished["started"].endswith("UTC")
    assert (interrupted["ended"], failed["ended"], cut["ended"]) == (
        "interrupted", "failed", "interrupted")


def test_an_unreadable_log_is_no_log(tmp_path):
    (tmp_path / batch_log.BATCHES).write_text("{not json")
    assert batch_log.logged_batches(tmp_path) == []
    batch_log.log_batch(tmp_path, entry())
    assert len(batch_log.logged_batches(tmp_path)) == 1


def test_the_time_from_an_empty_cache_sums_the_batches_that_resumed_it():
    batches = [
        entry(cached_at_start=0, ended="finished", seconds=5.0),  # an earlier, superseded run
        entry(cached_at_start=0, ended="interrupted", seconds=3600.0, training_seconds=3600.0),
        entry(cached_at_start=6, ended="interrupted", seconds=1800.0, training_seconds=1800.0,
              started="2026-12-07 09:00:00 UTC"),
        entry(cached_at_start=10, ended="finished", seconds=900.0, training_seconds=0.0),
        entry(cached_at_start=10, ended="finished", seconds=60.0),  # a rerun: not counted
    ]
    timing = batch_log.empty_cache_time(batches)
    assert timing["seconds"] == 6300.0 and timing["training_seconds"] == 5400.0
    assert timing["batches"] == 3 and timing["networks"] == 10
    assert timing["started"] == "2026-12-06 05:05:16 UTC"
    text = batch_log.time_text(timing)
    assert text.startswith("Measured run time from an empty cache: 1 h 45 min (1 h 30 min of it")
    assert "in 3 batches on 2026-12-06" in text and "2-CPU" in text


@pytest.mark.parametrize("batches", [
    [],
    [entry(cached_at_start=3)],  # never from an empty cache
    [entry(cached_at_start=0, networks=0)],  # nothing to train: not a training time
    [entry(cached_at_start=0, ended="interrupted")],  # not finished yet
    [entry(cached_at_start=0, ended="interrupted"), entry(notebooks=["fig3"])],  # --only between
    [entry(cached_at_start=0, ended="interrupted"), entry(profile="default")],
])
def test_no_time_is_claimed_without_an_empty_cache_and_a_finished_resume(batches):
    assert batch_log.empty_cache_time(batches) is None


def test_one_batch_inside_the_notebooks():
    timing = batch_log.empty_cache_time([entry(cached_at_start=0, cluster=None, seconds=125.0)])
    text = batch_log.time_text(timing)
    assert ("2 min (the 10 networks trained inside the 2 notebooks), in one batch on 2026-12-06"
            in text)
    assert "sum of the batches" not in text
