"""Tests of the reporting helpers (figures, claims) and the group statistics."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cca.experiments import report, stats  # noqa: E402


@pytest.fixture()
def figure():
    report.use_style()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [2, 0, 1], label="line")
    ax.legend()
    yield fig
    plt.close(fig)


def test_save_figure_writes_png_and_pdf(figure, tmp_path):
    paths = report.save_figure(figure, "demo", tmp_path / "new" / "figures")
    assert [p.name for p in paths] == ["demo.png", "demo.pdf"]
    assert paths[0].read_bytes().startswith(b"\x89PNG")
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in paths[0].parent.iterdir()) == ["demo.pdf", "demo.png"]


def test_save_figure_is_deterministic(figure, tmp_path):
    first = [p.read_bytes() for p in report.save_figure(figure, "demo", tmp_path / "a")]
    second = [p.read_bytes() for p in report.save_figure(figure, "demo", tmp_path / "b")]
    assert first == second
    assert b"CreationDate" not in first[1]


@pytest.mark.parametrize("name", ["", "sub/demo", "demo.png"])
def test_save_figure_rejects_bad_names(figure, tmp_path, name):
    with pytest.raises(ValueError, match="name"):
        report.save_figure(figure, name, tmp_path)


def test_record_claim_round_trip(tmp_path, capsys):
    measured = {
        "distance": np.float32(0.25),
        "per_ratio": np.array([0.1, 0.2]),
        "count": np.int64(3),
        "nested": {"nan": float("nan"), "tuple": (1, 2)},
    }
    record = report.record_claim(
        "demo",
        "PWCCA is robust (Figure 2).",
        measured,
        np.bool_(True),
        [tmp_path / "figs" / "demo.png", ["demo.pdf"]],
        tmp_path / "results",
        "smoke",
        notes="a note",
    )
    stored = json.loads((tmp_path / "results" / "demo.json").read_text())
    assert stored == record
    assert stored["holds"] is True
    assert stored["figures"] == ["demo.png", "demo.pdf"]
    assert stored["measured"] == {
        "distance": 0.25,
        "per_ratio": [0.1, 0.2],
        "count": 3,
        "nested": {"nan": None, "tuple": [1, 2]},
    }
    assert {"python", "numpy", "cca"} <= set(stored["versions"])
    assert set(stored) >= {"notebook", "claim", "profile", "notes", "timestamp"}
    printed = capsys.readouterr().out
    assert "HOLDS" in printed and "| nested.tuple | [1, 2] |" in printed


def test_record_claim_allows_untestable(tmp_path):
    record = report.record_claim("demo", "claim", {}, None, [], tmp_path, "smoke")
    assert record["holds"] is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"holds": 1}, "holds"),
        ({"holds": "yes"}, "holds"),
        ({"measured": [1, 2]}, "measured"),
        ({"measured": {"x": object()}}, "measured"),
        ({"notebook": ""}, "notebook"),
        ({"notebook": "a/b"}, "notebook"),
        ({"claim": "  "}, "claim"),
        ({"figures": "demo.png"}, "figures"),
    ],
)
def test_record_claim_validates(tmp_path, arguments, message):
    call = {
        "notebook": "demo",
        "claim": "claim",
        "measured": {},
        "holds": True,
        "figures": [],
        "results_dir": tmp_path,
        "profile": "smoke",
    }
    call.update(arguments)
    with pytest.raises(ValueError, match=message):
        report.record_claim(**call)
    assert not (tmp_path / "demo.json").exists()


def _two_groups(gap: float, seed: int = 0, size: int = 5) -> np.ndarray:
    """Distances among 2 * size networks; group a's pairs are closer by ``gap``."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.4, 0.6, (2 * size, 2 * size))
    d = (d + d.T) / 2
    d[:size, :size] -= gap
    np.fill_diagonal(d, 0)
    return d


def test_within_and_between_groups():
    d = np.array([[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]], dtype=float)
    assert stats.within_group(d, [0, 1, 2]) == pytest.approx((7 / 3, np.std([1, 2, 4]), 3))
    assert stats.between_groups(d, [0, 1], [2, 3]) == pytest.approx((3.5, np.std([2, 3, 4, 5]), 4))
    with pytest.raises(ValueError, match="group"):
        stats.within_group(d, [0])
    with pytest.raises(ValueError, match="outside"):
        stats.within_group(d, [0, 7])
    with pytest.raises(ValueError, match="disjoint"):
        stats.between_groups(d, [0, 1], [1, 2])
    with pytest.raises(ValueError, match="square"):
        stats.within_group(d[:3], [0, 1])


def test_permutation_test_detects_a_real_difference():
    d = _two_groups(gap=0.2)
    result = stats.permutation_test(d, range(5), range(5, 10), alternative="less")
    assert result.exact and result.n_permutations == 252
    assert result.statistic < -0.15
    assert result.p_value <= 2 / 252


def test_permutation_test_does_not_detect_a_null_difference():
    p_values = [
        stats.permutation_test(_two_groups(0.0, seed), range(5), range(5, 10)).p_value
        for seed in range(20)
    ]
    assert np.mean(np.array(p_values) < 0.05) <= 0.15
    assert np.median(p_values) > 0.2


def test_permutation_test_random_relabelling_uses_plus_one():
    d = _two_groups(gap=0.2, size=8)
    result = stats.permutation_test(
        d,
        range(8),
        range(8, 16),
        statistic=stats.separation,
        alternative="greater",
        n_permutations=199,
    )
    assert not result.exact and result.n_permutations == 199
    assert result.p_value == pytest.approx(1 / 200)


def test_permutation_test_validates():
    d = _two_groups(0.0)
    with pytest.raises(ValueError, match="alternative"):
        stats.permutation_test(d, range(5), range(5, 10), alternative="bigger")
    with pytest.raises(ValueError, match="n_permutations"):
        stats.permutation_test(d, range(5), range(5, 10), n_permutations=0)


def test_pearson():
    x = np.arange(10.0)
    strong = stats.pearson(x, -2 * x + np.sin(x))
    assert strong.r < -0.95 and strong.p_value < 1e-4 and strong.n == 10
    noise = np.random.default_rng(0).standard_normal(10)
    assert stats.pearson(x, noise).p_value > 0.05
    with pytest.raises(ValueError, match="constant"):
        stats.pearson(x, np.ones(10))
    with pytest.raises(ValueError, match="equal length"):
        stats.pearson(x, x[:5])
