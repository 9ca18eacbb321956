"""Progress of long jobs: which network trains, epoch e of E and the time left.

A tqdm bar (a widget in JupyterLab, a bar in a terminal) on stderr; with ``CCA_PROGRESS=lines`` in
the environment (the batch runner sets it) one line per update, each starting with
:data:`PROGRESS_MARK`, which ``cca-reproduce`` relays from the notebook to the terminal.
"""

from __future__ import annotations

import io
import os
import re
import sys
from typing import Any

#: Environment variable: ``lines`` turns progress bars into marked lines, for logs.
PROGRESS_ENV = "CCA_PROGRESS"
#: Start of every progress line in ``lines`` mode; the batch runner relays these lines.
PROGRESS_MARK = "[cca progress] "


def progress_lines() -> bool:
    """Whether progress is written as marked lines (``CCA_PROGRESS=lines``) rather than bars."""
    return os.environ.get(PROGRESS_ENV) == "lines"


def report_progress(message: str) -> None:
    """Write one progress message to stderr (marked with :data:`PROGRESS_MARK` in lines mode).

    Examples
    --------
    >>> report_progress("loaded cnn seed 0")  # on stderr: loaded cnn seed 0
    """
    print((PROGRESS_MARK if progress_lines() else "") + message, file=sys.stderr, flush=True)


class _MarkedLines(io.TextIOBase):
    """A stream for tqdm that writes each new state of a bar as one marked line."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.last = ""

    def write(self, text: str) -> int:
        for part in re.split(r"[\r\n]", text):
            line = part.strip()
            if line and line != self.last:
                self.last = line
                self.stream.write(f"{PROGRESS_MARK}{line}\n")
        self.stream.flush()
        return len(text)


def epoch_progress(description: str, unit: str, total: int, done: int, lines: bool = False) -> Any:
    """A tqdm progress bar over ``total`` epochs, ``done`` of them already done.

    In lines mode (``lines=True`` or ``CCA_PROGRESS=lines``) every update is one line on
    stderr, ``<PROGRESS_MARK><description>: epoch e/E [mm:ss elapsed, mm:ss left]``; otherwise it is
    ``tqdm.auto``'s bar (a widget in JupyterLab, a bar in a terminal).

    Examples
    --------
    >>> with epoch_progress("training demo", "epoch", 2, 0) as bar:  # a bar on stderr
    ...     bar.update(1)
    ...     bar.update(1)
    """
    if lines or progress_lines():
        from tqdm.std import tqdm

        line = "{desc}: " + unit + " {n_fmt}/{total_fmt} [{elapsed} elapsed, {remaining} left]"
        return tqdm(total=total, initial=done, desc=description, file=_MarkedLines(sys.stderr),
                    mininterval=0, miniters=1, unit=unit, bar_format=line)
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc=description, unit=unit, miniters=1,
                file=sys.stderr)
