"""Tests of the reporting helpers (figures, claim records, the findings report) and the group
statistics."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from morcos2018 import findings, plotting, report, stats  # noqa: E402


@pytest.fixture()
def figure():
    plotting.use_style()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [2, 0, 1], label="line")
    ax.legend()
    yield fig
    plt.close(fig)


def test_save_figure_writes_png_and_pdf(figure, tmp_path):
    paths = plotting.save_figure(figure, "demo", tmp_path / "new" / "figures")
    assert [p.name for p in paths] == ["demo.png", "demo.pdf"]
    assert paths[0].read_bytes().startswith(b"\x89PNG")
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in paths[0].parent.iterdir()) == ["demo.pdf", "demo.png"]


def test_save_figure_is_deterministic(figure, tmp_path):
    first = [p.read_bytes() for p in plotting.save_figure(figure, "demo", tmp_path / "a")]
    second = [p.read_bytes() for p in plotting.save_figure(figure, "demo", tmp_path / "b")]
    assert first == second
    assert b"CreationDate" not in first[1]


@pytest.mark.parametrize("name", ["", "sub/demo", "demo.png"])
def test_save_figure_rejects_bad_names(figure, tmp_path, name):
    with pytest.raises(ValueError, match="name"):
        plotting.save_figure(figure, name, tmp_path)


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
    assert result.pvalue <= 2 / 252


def test_permutation_test_does_not_detect_a_null_difference():
    pvalues = [
        stats.permutation_test(_two_groups(0.0, seed), range(5), range(5, 10)).pvalue
        for seed in range(20)
    ]
    assert np.mean(np.array(pvalues) < 0.05) <= 0.15
    assert np.median(pvalues) > 0.2


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
    assert result.pvalue == pytest.approx(1 / 200)


def test_permutation_test_validates():
    d = _two_groups(0.0)
    with pytest.raises(ValueError, match="alternative"):
        stats.permutation_test(d, range(5), range(5, 10), alternative="bigger")
    with pytest.raises(ValueError, match="n_permutations"):
        stats.permutation_test(d, range(5), range(5, 10), n_permutations=0)


def test_pearson():
    x = np.arange(10.0)
    strong = stats.pearson(x, -2 * x + np.sin(x))
    assert strong.r < -0.95 and strong.pvalue < 1e-4 and strong.n == 10
    noise = np.random.default_rng(0).standard_normal(10)
    assert stats.pearson(x, noise).pvalue > 0.05
    with pytest.raises(ValueError, match="constant"):
        stats.pearson(x, np.ones(10))
    with pytest.raises(ValueError, match="equal length"):
        stats.pearson(x, x[:5])


EVIDENCE = [
    {"name": "generalizing closer", "statistic": "within-memorizing minus within-generalizing",
     "value": 0.1123456789, "null": "network-label permutations", "null_value": 0.0,
     "pvalue": 0.0041234, "units": 8, "unit": "networks", "effect": 0.1123456789,
     "interval": [0.05123, 0.1712], "holds": True, "reason": ""},
    {"name": "as far apart", "statistic": "TOST", "value": 0.2, "null": "margin 10%",
     "null_value": None, "pvalue": None, "units": 3, "unit": "networks", "effect": None,
     "interval": None, "holds": None, "reason": "fewer than 4 networks per group"},
]


def _report() -> dict:
    long_claim = "Figure 3: generalizing networks converge to more similar solutions " * 4
    return {
        "profile": "smoke", "finished": "2026-01-01 00:00:00 UTC", "seconds": 90.0,
        "versions": {"python": "3.11"}, "failed": ["fig5_learning_rate"],
        "interrupted": ["fig6_rnn_convergence"], "figures_dir": "../../figures",
        "findings": [
            {"notebook": "fig2_toy_noise", "claim": "Figure 2: PWCCA is robust.", "holds": True,
             "measured": {"layer": "conv9", "at_ratio_0.5": {"PWCCA": 0.07123456789012345,
                                                            "mean CCA": 0.4012345678901234},
                          "ratios": [0.1 * i for i in range(20)]},
             "figures": ["fig2_toy_noise.png", "fig2_toy_noise.pdf"], "notes": "a note"},
            {"notebook": "fig3_memorization", "claim": long_claim, "holds": False,
             "measured": {"distance": 0.35}, "figures": ["fig3_memorization.png"],
             "evidence": EVIDENCE},
        ],
    }


def test_findings_give_each_notebook_a_readable_section_with_its_tests():
    markdown = findings.findings_markdown(_report())
    sections = dict(s.split("\n", 1) for s in markdown.split("\n## ")[1:])
    assert list(sections) == ["fig2_toy_noise", "fig3_memorization"]
    fig2, fig3 = sections.values()
    assert "**Outcome: holds**" in fig2 and "**Tests.**" not in fig2
    assert "| at_ratio_0.5 › mean CCA | 0.401 |" in fig2
    assert "| ratios | [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, … (20 values)] |" in fig2
    assert "![fig2_toy_noise.png](../../figures/fig2_toy_noise.png)" in fig2
    assert "fig2_toy_noise.pdf" not in fig2 and "*Notes.* a note" in fig2
    assert "Figure 3: generalizing networks" in fig3 and "…" not in fig3  # the claim in full
    table = [line for line in fig3.splitlines() if line.startswith("| ") and " | p | " not in line]
    assert table[0] == (
        "| generalizing closer | within-memorizing minus within-generalizing | 0.112 | "
        "0 (network-label permutations) | 0.0041 | n/a | 8 networks | 0.112 [0.0512, 0.171] | "
        "holds |"
    )
    assert table[1] == (
        "| as far apart | TOST | 0.2 | margin 10% | n/a | n/a | 3 networks |  | inconclusive: "
        "fewer than "
        "4 networks per group |"
    )


def test_record_claim_stores_evidence_and_prints_its_table(tmp_path, capsys):
    from morcos2018.claims.evidence import Evidence, Verdict

    verdict = Verdict("x", (Evidence("closer", "gap", 0.5, "chance", 0.1, 0.01, 6, "seeds",
                                     holds=True),))
    record = report.record_claim("demo", "x", {"gap": 0.5}, verdict.holds, [], tmp_path, "smoke",
                                 evidence=verdict)
    stored = json.loads((tmp_path / "demo.json").read_text())
    assert stored["evidence"] == record["evidence"] == verdict.as_record()
    assert "| closer | gap | 0.5 | 0.1 (chance) | 0.01 | n/a | 6 seeds |  | holds |" in (
        capsys.readouterr().out
    )
    with pytest.raises(ValueError, match="evidence must be a Verdict"):
        report.record_claim("demo", "x", {}, None, [], tmp_path, "smoke", evidence="p < 0.05")


def test_record_claim_parts_get_their_own_files_and_sections(tmp_path, capsys):
    main = report.record_claim("fig3", "main claim", {"gap": 1}, True, [], tmp_path, "smoke",
                               figure="Fig 3")
    part = report.record_claim("fig3", "appendix claim", {"gap": 2}, False, [], tmp_path,
                               "smoke", figure="A9", part="a9")
    assert (main["figure"], "part" in main) == ("Fig 3", False)
    assert (part["figure"], part["part"]) == ("A9", "a9")
    assert json.loads((tmp_path / "fig3.a9.json").read_text())["claim"] == "appendix claim"
    assert [p.name for p in report.result_files(tmp_path, "fig3")] == ["fig3.json", "fig3.a9.json"]
    assert "### fig3.a9: CONTRADICTED" in capsys.readouterr().out
    assert part["outcome"] == "contradicted" and main["outcome"] == "holds"
    markdown = findings.findings_markdown({**_report(), "findings": [main, part]})
    assert "[fig3.a9](#fig3-a9)" in markdown and '<a id="fig3-a9"></a>\n\n## fig3.a9\n' in markdown


@pytest.mark.parametrize("part", ["", "A9", "a.9", "a/9", 9])
def test_record_claim_rejects_bad_part_names(tmp_path, part):
    with pytest.raises(ValueError, match="part must be a short name"):
        report.record_claim("fig3", "x", {}, None, [], tmp_path, "smoke", part=part)


def _claim(name, holds, part=None, reason=""):
    evidence = [{"name": "closer", "statistic": "gap", "value": 0.25, "null": "chance",
                 "null_value": 0.5, "pvalue": 0.03125, "units": 5, "unit": "seeds",
                 "effect": -0.25, "interval": [-0.3, -0.2], "holds": holds, "reason": reason}]
    return {"notebook": name, **({"part": part} if part else {}), "figure": name.upper(),
            "claim": f"{name} | claim", "measured": {}, "holds": holds,
            "outcome": report.verdict_word(holds),
            "figures": [f"{name}.png", f"{name}.pdf"], "profile": "default",
            "evidence": evidence}


def test_verdict_text_names_what_failed():
    assert report.verdict_text(_claim("a", False, reason="p = 0.2 > 0.05")) == (
        "contradicted (closer: p = 0.2 > 0.05)"
    )
    assert report.verdict_text({"holds": None}) == "inconclusive"
    assert report.verdict_text({"holds": False}) == "not shown (two-outcome rule)"
