"""How long a profile takes: every batch of a run folder logged, and the time from an empty cache.

A batch (one ``cca-reproduce`` command) appends one entry to ``<output>/batches.json`` when it
ends, however it ends (finished, interrupted by Ctrl-C, failed): when it started (UTC), its
wall-clock seconds and the part of them spent training on a cluster, the cluster, the CPU count,
the networks of its training plan and how many of them the cache held complete when it started,
and the notebooks it ran, failed or left interrupted.

A profile's run time from an empty cache is then measured even when it takes several sittings,
as a resumed batch loses no finished work: :func:`empty_cache_time` sums the batches from the
last one that found none of its networks in the cache to the first after it that finished every
notebook. What an interruption lost (a partly trained epoch, a notebook cut short) is counted, so
the sum is an upper bound of one uninterrupted batch. The findings carry it
(:func:`morcos2018.runner.write_findings`), and the README's results and ``findings.md`` say it
(:func:`time_text`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from morcos2018.files import write_json

#: The log's file name in a run folder.
BATCHES = "batches.json"


def logged_batches(output: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The batches logged in the run folder ``output``, oldest first (none if no log, or an
    unreadable one: a log is a record of time, never a reason to stop a batch)."""
    try:
        batches = json.loads((Path(output) / BATCHES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [b for b in batches if isinstance(b, dict)] if isinstance(batches, list) else []


def log_batch(output: str | os.PathLike[str], entry: Mapping[str, Any]) -> None:
    """Append ``entry`` to the run folder's log (atomically)."""
    write_json(Path(output) / BATCHES, [*logged_batches(output), dict(entry)], default=str)


@contextmanager
def logged(output: str | os.PathLike[str], profile: str, notebooks: Sequence[str],
           cluster: str | None, networks: int, cached: int) -> Iterator[dict[str, Any]]:
    """Log the batch run inside the ``with`` block when the block ends, however it ends.

    The block fills in what it learns (``training_seconds``, ``ran``, ``failed``,
    ``interrupted``); an exception leaves ``ended`` as ``"interrupted"`` (Ctrl-C) or
    ``"failed"``, and is raised on.
    """
    began = time.monotonic()
    entry: dict[str, Any] = {
        "profile": profile,
        "notebooks": sorted(notebooks),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "cluster": cluster,
        "cpus": os.cpu_count(),
        "networks": networks,
        "cached_at_start": cached,
        "training_seconds": 0.0,
        "ran": [], "failed": [], "interrupted": [],
    }
    try:
        yield entry
    except BaseException as error:
        entry["ended"] = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        raise
    else:
        entry["ended"] = ("failed" if entry["failed"] else
                          "interrupted" if entry["interrupted"] else "finished")
    finally:
        entry["seconds"] = round(time.monotonic() - began, 1)
        entry["training_seconds"] = round(float(entry["training_seconds"]), 1)
        try:
            log_batch(output, entry)
        except OSError:
            pass  # the runner reports an unwritable output folder itself


def empty_cache_time(batches: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The time from an empty cache to every notebook finished, over the batches it took.

    From the last batch that found none of its (one or more) networks in the cache, through the
    first later batch that ended ``"finished"``, every batch between of the same profile and
    notebooks (the same command, resumed); None if there is no such span (the profile never ran
    from an empty cache, or has not finished since, or another command ran in between).

    Examples
    --------
    >>> first = {"profile": "p", "notebooks": ["fig3"], "started": "2026-12-06 05:05:16 UTC",
    ...          "seconds": 3600.0, "training_seconds": 3600.0, "networks": 4, "cached_at_start": 0,
    ...          "cluster": "local:2", "cpus": 2, "ended": "interrupted"}
    >>> second = {**first, "started": "2026-12-07 09:00:00 UTC", "seconds": 1800.0,
    ...           "training_seconds": 600.0, "cached_at_start": 3, "ended": "finished"}
    >>> timing = empty_cache_time([first, second])
    >>> timing["seconds"], timing["training_seconds"], timing["batches"]
    (5400.0, 4200.0, 2)
    """
    starts = [i for i, batch in enumerate(batches)
              if batch.get("cached_at_start") == 0 and int(batch.get("networks") or 0) > 0]
    if not starts:
        return None
    first = starts[-1]
    profile, notebooks = batches[first].get("profile"), batches[first].get("notebooks")
    for last in range(first, len(batches)):
        if (batches[last].get("profile"), batches[last].get("notebooks")) != (profile, notebooks):
            return None
        if batches[last].get("ended") == "finished":
            break
    else:
        return None
    used = batches[first:last + 1]
    return {
        "profile": profile,
        "seconds": round(sum(float(b.get("seconds", 0)) for b in used), 1),
        "training_seconds": round(sum(float(b.get("training_seconds", 0)) for b in used), 1),
        "batches": len(used),
        "networks": int(batches[first]["networks"]),
        "notebooks": notebooks,
        "clusters": sorted({str(b.get("cluster")) for b in used}),
        "cpus": sorted({b.get("cpus") for b in used}, key=str),
        "started": batches[first].get("started"),
        "last_started": batches[last].get("started"),
    }


def time_text(timing: Mapping[str, Any]) -> str:
    """One sentence for the README and ``findings.md`` from :func:`empty_cache_time`.

    Examples
    --------
    >>> print(time_text({"seconds": 5400.0, "training_seconds": 4200.0, "batches": 2,
    ...                  "networks": 4, "notebooks": ["fig3"], "clusters": ["local:2"], "cpus": [2],
    ...                  "started": "2026-12-06 05:05:16 UTC",
    ...                  "last_started": "2026-12-07 09:00:00 UTC"}))
    ... # doctest: +NORMALIZE_WHITESPACE
    Measured run time from an empty cache: 1 h 30 min (1 h 10 min of it training the 4 networks
    on local:2, the rest running the 1 notebook), in 2 batches from 2026-12-06 to 2026-12-07 on
    a 2-CPU machine; the sum of the batches, an interruption's lost work included.
    """
    clusters = [c for c in timing["clusters"] if c != "None"]
    count = len(timing.get("notebooks") or [])
    notebooks = f"{count} notebook{'s' if count != 1 else ''}"
    training = (f"{_hours(timing['training_seconds'])} of it training the {timing['networks']} "
                f"networks on {', '.join(clusters)}, the rest running the {notebooks}"
                if clusters else
                f"the {timing['networks']} networks trained inside the {notebooks}")
    cpus = "/".join(str(c) for c in timing["cpus"])
    days = sorted({str(timing["started"])[:10], str(timing["last_started"])[:10]})
    batches = "one batch" if timing["batches"] == 1 else f"{timing['batches']} batches"
    sittings = (f"in {batches} on {days[0]}" if len(days) == 1 else
                f"in {batches} from {days[0]} to {days[-1]}")
    text = (f"Measured run time from an empty cache: {_hours(timing['seconds'])} ({training}), "
            f"{sittings} on a {cpus}-CPU machine")
    if timing["batches"] > 1:
        text += "; the sum of the batches, an interruption's lost work included"
    return text + "."


def _hours(seconds: float) -> str:
    """``5400`` -> ``"1 h 30 min"``, ``600`` -> ``"10 min"``."""
    minutes = int(round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
