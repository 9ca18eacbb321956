"""Word-level text data: fortunes reading, tokenisation, vocabulary, split, batchify."""

from __future__ import annotations

import numpy as np
import pytest

from morcos2018 import text

pytestmark = pytest.mark.skipif(
    not text.FORTUNES_DIR.is_dir(), reason="Debian `fortunes` package not installed"
)


@pytest.fixture(scope="module")
def fortunes() -> list[str]:
    return text.read_fortunes()


def test_fortunes_are_clean_and_distinct(fortunes):
    assert len(fortunes) > 10_000
    assert len(set(f.lower() for f in fortunes)) == len(fortunes)
    assert not any("\x08" in f or "\n" in f or f.strip() == "%" for f in fortunes)
    words = sum(len(f.split()) for f in fortunes)
    assert 300_000 < words < 900_000


def test_fortunes_skip_ascii_art_and_other_files(tmp_path):
    (tmp_path / "quotes").write_text("Hello world.\n%\nB\x08Bold text.\n%\nHello  world.\n%\n"
                                     "/\\_/\\ ( o.o ) > ^ <\n%\n")
    (tmp_path / "quotes.dat").write_bytes(b"\x00\x01binary")
    (tmp_path / "off").mkdir()
    (tmp_path / "off" / "rude").write_text("Never read.\n%\n")
    assert text.read_fortunes(tmp_path) == ["Hello world.", "Bold text."]


def test_read_fortunes_rejects_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="directory"):
        text.read_fortunes(tmp_path / "nowhere")


def test_tokenize():
    assert text.tokenize("Don't PANIC, it's 42.5!") == ["don't", "panic", ",", "it's", "N", "!"]


def test_parse_lines_of_a_ptb_like_file():
    sample = " the <unk> sat on N mats \n\n a cat \n"
    assert text.parse_lines(sample) == [["the", "<unk>", "sat", "on", "N", "mats"], ["a", "cat"]]
    assert text.parse_lines(sample, skip_blank=False)[1] == []


def test_vocabulary_keeps_most_frequent_words_and_maps_the_rest_to_unk():
    docs = [["b", "a", "a", "c"], ["a", "b", "d"]]
    vocab = text.build_vocabulary(docs, size=4)
    assert vocab.words == ("<unk>", "<eos>", "a", "b")
    ids = vocab.encode(["a", "c", "b", "zzz"])
    assert ids.dtype == np.int32
    assert vocab.decode(ids) == ["a", "<unk>", "b", "<unk>"]
    assert (vocab.unk_id, vocab.eos_id) == (0, 1)
    with pytest.raises(ValueError, match="size"):
        text.build_vocabulary(docs, size=2)


def test_split_is_deterministic_and_partitions_the_documents():
    docs = [[str(i)] for i in range(100)]
    train, valid = text.split_documents(docs, 0.1, seed=3)
    assert (train, valid) == text.split_documents(docs, 0.1, seed=3)
    assert len(valid) == 10
    assert sorted(train + valid) == sorted(docs)
    assert valid != text.split_documents(docs, 0.1, seed=4)[1]
    with pytest.raises(ValueError, match="validation_fraction"):
        text.split_documents(docs, 1.5)


def test_corpus_is_deterministic(tmp_path):
    names = [a + b for a in "bcdfghjkmn" for b in "aeiouy"]
    lines = [f"Fortune {name} says {i} cats." for i, name in enumerate(names)]
    (tmp_path / "small").write_text("\n%\n".join(lines) + "\n%\n")
    a = text.load_corpus(vocab_size=100, validation_fraction=0.2, data_dir=tmp_path)
    b = text.load_corpus(vocab_size=100, validation_fraction=0.2, data_dir=tmp_path)
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.valid, b.valid)
    assert a.vocabulary == b.vocabulary and len(a.vocabulary) == 2 + 5 + 60 - 12
    assert (a.valid == a.vocabulary.eos_id).sum() == 12  # 20% of 60 fortunes
    c = text.load_corpus(vocab_size=100, validation_fraction=0.2, seed=1, data_dir=tmp_path)
    assert a.vocabulary != c.vocabulary  # other fortunes held out, other names seen in training


def test_fortunes_corpus_has_a_sane_unigram_baseline():
    corpus = text.load_corpus(vocab_size=2000, max_train_tokens=50_000, max_valid_tokens=5_000)
    assert len(corpus.train) == 50_000 and len(corpus.valid) == 5_000
    assert 0.05 < np.mean(corpus.train == corpus.vocabulary.unk_id) < 0.3
    assert 80 < corpus.unigram_perplexity() < 250


def test_batchify_gives_contiguous_streams():
    ids = np.arange(103)
    streams = text.batchify(ids, 4)
    assert streams.shape == (4, 25)
    np.testing.assert_array_equal(streams.ravel(), ids[:100])
    with pytest.raises(ValueError, match="batch_size"):
        text.batchify(np.arange(5), 4)


def test_stateful_windows_continue_each_stream_across_batches():
    ids = np.arange(4 * 31)
    x, y = text.stateful_windows(ids, batch_size=4, seq_len=10)
    assert x.shape == y.shape == (12, 10)
    np.testing.assert_array_equal(y, x + 1)
    batches = x.reshape(3, 4, 10)
    for k in range(2):
        np.testing.assert_array_equal(batches[k + 1][:, 0], batches[k][:, -1] + 1)
    np.testing.assert_array_equal(batches[:, :, 0].T[:, 0], [0, 31, 62, 93])
