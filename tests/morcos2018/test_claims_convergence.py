"""Figure 6 / A8 check: fails on curves with no depth order, holds on a planted bottom-up order,
never counts the reference as convergence, and reports how the verdict moves with the reference."""

import json

import numpy as np
import pytest

from morcos2018.claims import convergence, evidence

EPOCHS = np.arange(25) / 4  # the default profile: 6 epochs, a checkpoint every quarter


def path_run(rng, taus, *, measures=("pwcca_distance",), references=(-1, -2, -3), noise=0.02,
             jitter=0.15, scale=0.6, final_jump=0.0):
    """One run's curves: layer l moves along scale * exp(-t / tau_l) (plus a jump of the deeper
    layers at the last checkpoint); its distance to reference r is the gap in position plus
    positive noise, 0 at r. Per-run jitter of the time constants (log-normal)."""
    result = {}
    for measure in measures:
        layer_taus = taus[measure] if isinstance(taus, dict) else taus
        positions = {}
        for depth, tau in enumerate(layer_taus):
            tau = tau * np.exp(rng.normal(0, jitter))
            position = scale * np.exp(-EPOCHS / tau)
            position[-1] -= final_jump * depth  # further along, away from every earlier one
            positions[f"lstm{depth + 1}"] = position
        result[measure] = {}
        for reference in references:
            index = reference % len(EPOCHS)
            curves = {}
            for layer, position in positions.items():
                gap = np.abs(position - position[index])
                curve = gap + np.abs(rng.normal(0, noise, len(EPOCHS)))
                curve[index] = 0.0
                curves[layer] = curve
            result[measure][index] = curves
    return result


BOTTOM_UP = [1.0, 1.5, 2.0]  # time-averaged distances ~0.08, 0.12, 0.15: gaps of 0.03-0.04
NO_ORDER = [1.5, 1.5, 1.5]


def test_curves_with_no_depth_order_do_not_hold():
    rng = np.random.default_rng(0)
    verdicts = [
        convergence.bottom_up_convergence(
            [path_run(rng, NO_ORDER) for _ in range(6)], EPOCHS, contrasts=()
        ).holds
        for _ in range(20)
    ]
    assert sum(v is True for v in verdicts) <= 1  # alpha 0.05 and a size rule: rarely, if ever
    # No order is no evidence against the claim either: mostly inconclusive; the contrary test
    # (a top-down order) fires by chance only, at alpha per reference
    assert sum(v is None for v in verdicts) >= 14


def test_a_top_down_order_contradicts_the_claim():
    rng = np.random.default_rng(20)
    runs = [path_run(rng, BOTTOM_UP[::-1]) for _ in range(6)]
    verdict = convergence.bottom_up_convergence(runs, EPOCHS, contrasts=())
    assert verdict.holds is False and verdict.outcome == "contradicted"
    assert all(t.contrary_pvalue == pytest.approx(1 / 64) for t in verdict.tests)
    assert all(t.reason.startswith("contradicted") for t in verdict.tests)


def test_planted_bottom_up_order_holds_for_every_reference():
    rng = np.random.default_rng(1)
    runs = [path_run(rng, BOTTOM_UP) for _ in range(6)]
    verdict = convergence.bottom_up_convergence(runs, EPOCHS, split_first_layer=False)
    assert verdict.holds is True
    assert [t.name for t in verdict.tests] == [
        "pwcca_distance bottom-up, reference: last checkpoint",
        "pwcca_distance bottom-up, reference: 1 checkpoint before the last",
        "pwcca_distance bottom-up, reference: 2 checkpoints before the last",
    ]
    last = verdict["pwcca_distance bottom-up, reference: last checkpoint"]
    # tested beyond the declared 0.5 (evidence.SIGN_FLIP_THRESHOLD): a 3-layer run's rank
    # correlation of exactly 0.5 adds no excess, so p is 1/64 or a few flips more
    assert last.units == 6 and last.unit == "runs" and last.pvalue <= 2 / 64
    assert last.value >= 0.5
    json.dumps(verdict.as_record(), allow_nan=False)


def test_pooling_models_of_different_depths():
    rng = np.random.default_rng(2)
    runs = [path_run(rng, BOTTOM_UP) for _ in range(3)]
    runs += [path_run(rng, [0.8, 1.2, 1.6, 2.0, 2.4]) for _ in range(3)]
    assert convergence.bottom_up_convergence(runs, EPOCHS).holds is True


def test_a_jump_at_the_last_checkpoint_is_caught_by_the_other_references():
    # Deeper layers jump at the last checkpoint only: against it they look far away throughout
    # (a bottom-up order), against the checkpoints before it there is no order.
    rng = np.random.default_rng(3)
    runs = [path_run(rng, NO_ORDER, final_jump=0.1) for _ in range(6)]
    last_only = [{"pwcca_distance": run["pwcca_distance"][24]} for run in runs]
    assert convergence.bottom_up_convergence(last_only, EPOCHS).holds is True
    verdict = convergence.bottom_up_convergence(runs, EPOCHS)
    assert verdict.holds is None  # no order against the other references: inconclusive
    second = verdict["pwcca_distance bottom-up, reference: 1 checkpoint before the last"]
    assert second.holds is None and second.reason.startswith("inconclusive")


def test_too_few_runs_are_undecided():
    rng = np.random.default_rng(4)
    verdict = convergence.bottom_up_convergence(
        [path_run(rng, BOTTOM_UP) for _ in range(4)], EPOCHS
    )
    assert verdict.holds is None
    assert all("too few units" in t.reason for t in verdict.tests)


def test_mean_cca_contrast_holds_when_it_blurs_the_order_and_fails_when_it_does_not():
    rng = np.random.default_rng(5)
    blurred = {"pwcca_distance": BOTTOM_UP, "mean_cca_distance": NO_ORDER}
    # 10 runs: the contrast is tested beyond its declared 0.25, which 6 runs of 3 layers (rank
    # correlations in steps of 0.5) rarely reach even when mean CCA shows no order at all
    runs = [path_run(rng, blurred, measures=("pwcca_distance", "mean_cca_distance"))
            for _ in range(10)]
    verdict = convergence.bottom_up_convergence(runs, EPOCHS, split_first_layer=False)
    contrast = verdict["mean_cca_distance shows the order less clearly than pwcca_distance"]
    assert contrast.holds is True and contrast.effect >= 0.25
    assert verdict.holds is True
    same = {"pwcca_distance": BOTTOM_UP, "mean_cca_distance": BOTTOM_UP}
    runs = [path_run(rng, same, measures=("pwcca_distance", "mean_cca_distance")) for _ in range(6)]
    verdict = convergence.bottom_up_convergence(runs, EPOCHS, split_first_layer=False)
    assert verdict["pwcca_distance bottom-up, reference: last checkpoint"].holds is True
    contrast = verdict["mean_cca_distance shows the order less clearly than pwcca_distance"]
    # the same order under both: every run's contrast is short of the declared 0.25, which the
    # test in the other direction shows (contrary p = 1/64): contradicted, on that test, not on
    # the claim's p alone
    assert contrast.holds is False and abs(contrast.effect) < 0.25
    assert contrast.pvalue > 0.05 and contrast.contrary_pvalue == pytest.approx(1 / 64)
    assert verdict.holds is False


def test_the_reference_never_counts_as_convergence():
    curves = {"lstm1": [0.6, 0.3, 0.08, 0.05, 0.0], "lstm2": [0.6, 0.5, 0.4, 0.3, 0.0]}
    times = convergence.convergence_statistics(curves, [0, 1, 2, 3, 4], statistic="first_within")
    assert times == {"lstm1": 2.0, "lstm2": np.inf}
    # Top-down: the deep layer converges, the shallow one never does before the reference.
    top_down = {"lstm1": curves["lstm2"], "lstm2": curves["lstm1"]}
    rho = convergence.depth_rank_correlation(top_down, [0, 1, 2, 3, 4], statistic="first_within")
    assert rho == -1.0
    # Against reference 3, checkpoints 3 and 4 are left out.
    earlier = convergence.convergence_statistics(
        {"lstm1": [0.6, 0.3, 0.2, 0.0, 0.1]}, [0, 1, 2, 3, 4], reference=3
    )
    assert earlier["lstm1"] == pytest.approx(0.25)


def test_first_within_statistic_in_the_check():
    rng = np.random.default_rng(6)
    runs = [path_run(rng, [0.5, 1.0, 2.0]) for _ in range(6)]
    verdict = convergence.bottom_up_convergence(runs, EPOCHS, statistic="first_within")
    assert verdict.holds is True


def test_curves_to_references_feeds_the_check():
    rng = np.random.default_rng(7)
    representations = {f"lstm{d}": [rng.normal(size=(40, 4)) for _ in range(5)] for d in (1, 2)}
    curves = convergence.curves_to_references(
        representations, ["cosine_distance", "pwcca_distance"], (-1, -2))
    assert sorted(curves["pwcca_distance"]) == [3, 4]
    assert curves["cosine_distance"][3]["lstm2"][3] == pytest.approx(0.0, abs=1e-9)
    verdict = convergence.bottom_up_convergence([curves] * 2, np.arange(5.0),
                                                contrasts=("cosine_distance",))
    assert len(verdict.tests) == 5 and verdict.holds is None
    assert "fewer than 3 layers" in verdict["pwcca_distance bottom-up among layers 2..L"].reason


def test_bad_inputs():
    rng = np.random.default_rng(8)
    run = path_run(rng, BOTTOM_UP, references=(-1,))
    with pytest.raises(ValueError, match="not 0"):
        convergence.bottom_up_convergence(
            [{"pwcca_distance": {23: run["pwcca_distance"][24]}}], EPOCHS)
    with pytest.raises(ValueError, match="same references"):
        convergence.bottom_up_convergence([run, path_run(rng, BOTTOM_UP)], EPOCHS)
    with pytest.raises(ValueError, match="shape"):
        convergence.bottom_up_convergence([run], EPOCHS[:-1])
    with pytest.raises(ValueError, match="no curves for 'pwcca_distance'"):
        convergence.bottom_up_convergence([{"linear_cka_distance": run["pwcca_distance"]}], EPOCHS)
    with pytest.raises(ValueError, match="statistic must be one of"):
        convergence.convergence_statistics({"a": [1.0, 0.0]}, [0, 1], statistic="median")


def test_figure6_and_a8_split_the_tests_without_changing_them():
    rng = np.random.default_rng(9)
    top_down = BOTTOM_UP[::-1]  # far from PWCCA's order in every run
    taus = {"pwcca_distance": BOTTOM_UP, "mean_cca_distance": BOTTOM_UP,
            "cosine_distance": top_down, "euclidean_distance": top_down}
    runs = [path_run(rng, taus, measures=tuple(taus)) for _ in range(6)]
    verdict = convergence.bottom_up_convergence(runs, EPOCHS)
    figure6, a8 = convergence.figure6_and_a8(verdict)
    assert figure6.claim == convergence.FIGURE6_CLAIM and a8.claim == convergence.A8_CLAIM
    assert [t.name for t in a8.tests] == [
        "cosine_distance shows the order less clearly than pwcca_distance",
        "euclidean_distance shows the order less clearly than pwcca_distance",
    ]
    assert [t.name for t in figure6.tests] == [
        *(f"pwcca_distance bottom-up, reference: {label}" for label in (
            "last checkpoint", "1 checkpoint before the last", "2 checkpoints before the last")),
        "pwcca_distance: layer 1 first", "pwcca_distance bottom-up among layers 2..L",
        "mean_cca_distance shows the order less clearly than pwcca_distance",
    ]
    assert set(figure6.tests) | set(a8.tests) == set(verdict.tests)
    # Mean CCA shows the order as PWCCA does (6d not reproduced); cosine and Euclidean do not.
    assert figure6.holds is False and a8.holds is True
    with pytest.raises(ValueError, match="bottom_up_convergence"):
        convergence.figure6_and_a8(figure6)


def test_a8_without_cosine_or_euclidean_is_undecided():
    rng = np.random.default_rng(10)
    runs = [path_run(rng, BOTTOM_UP) for _ in range(6)]
    figure6, a8 = convergence.figure6_and_a8(
        convergence.bottom_up_convergence(runs, EPOCHS, split_first_layer=False))
    assert figure6.holds is True and a8.tests == () and a8.holds is None


def test_layer_1_first_and_the_order_beyond_it_are_tested_apart():
    """Issue 24: a pooled order can be carried by layer 1 alone; the paper claims the full one."""
    rng = np.random.default_rng(21)
    full = convergence.bottom_up_convergence(
        [path_run(rng, [0.6, 1.2, 2.4, 4.8], jitter=0.1) for _ in range(10)], EPOCHS,
        contrasts=())
    assert full["pwcca_distance: layer 1 first"].holds is True
    assert full["pwcca_distance bottom-up among layers 2..L"].holds is True
    only_first = convergence.bottom_up_convergence(
        [path_run(rng, [0.6, 2.0, 2.0, 2.0]) for _ in range(6)], EPOCHS, contrasts=())
    assert only_first["pwcca_distance: layer 1 first"].holds is True
    assert only_first["pwcca_distance bottom-up, reference: last checkpoint"].value > 0.3
    assert only_first["pwcca_distance bottom-up among layers 2..L"].holds is None
    assert only_first.holds is None


# ------------------------------------------------------------------ per depth, settled reference


def test_per_depth_order_with_three_seeds_fails_without_an_order():
    rng = np.random.default_rng(11)
    verdicts = []
    for _ in range(20):
        runs = [path_run(rng, NO_ORDER) for _ in range(3)]
        runs += [path_run(rng, [1.5] * 5) for _ in range(3)]
        verdict = convergence.bottom_up_convergence(runs, EPOCHS, contrasts=(), by_depth=True)
        per_depth = [t for t in verdict.tests if "layers, reference" in t.name]
        assert len(per_depth) == 2 * 3 and all(t.units == 3 for t in per_depth)
        verdicts.append([t.holds for t in per_depth])
    flat = [v for row in verdicts for v in row]
    assert sum(v is True for v in flat) <= 6  # alpha 0.05 per test, and a size rule
    assert sum(v is False for v in flat) <= 6  # the contrary (top-down) at alpha per test


def test_per_depth_order_with_three_seeds_holds_for_a_planted_order():
    rng = np.random.default_rng(12)
    runs = [path_run(rng, BOTTOM_UP) for _ in range(3)]
    runs += [path_run(rng, [0.8, 1.2, 1.6, 2.0, 2.4]) for _ in range(3)]
    verdict = convergence.bottom_up_convergence(runs, EPOCHS, by_depth=True)
    three = verdict["pwcca_distance bottom-up, 3 layers, reference: last checkpoint"]
    five = verdict["pwcca_distance bottom-up, 5 layers, reference: 2 checkpoints before the last"]
    assert three.holds is True and three.pvalue <= 1 / 216 + 1e-12 and three.unit == "runs"
    assert "all 216 relabellings" in three.null
    assert five.holds is True and "random" in five.null
    assert verdict.holds is True
    # The default (no by_depth) keeps exactly the tests it had.
    assert [t.name for t in convergence.bottom_up_convergence(runs, EPOCHS).tests] == [
        t.name for t in verdict.tests if "layers, reference" not in t.name
    ]


def test_a_depth_with_too_few_seeds_is_undecided():
    rng = np.random.default_rng(13)
    runs = [path_run(rng, BOTTOM_UP) for _ in range(2)]
    verdict = convergence.bottom_up_convergence(runs, EPOCHS, by_depth=True)
    per_depth = [t for t in verdict.tests if "layers, reference" in t.name]
    assert per_depth and all(t.holds is None and "declared minimum" in t.reason
                             for t in per_depth)


def test_figure6_parts_reports_the_mean_cca_contrast_apart_from_the_order():
    rng = np.random.default_rng(14)
    taus = {"pwcca_distance": BOTTOM_UP, "mean_cca_distance": BOTTOM_UP,
            "cosine_distance": NO_ORDER}
    runs = [path_run(rng, taus, measures=tuple(taus)) for _ in range(6)]
    parts = convergence.figure6_parts(convergence.bottom_up_convergence(runs, EPOCHS))
    assert parts["6a-c"].holds is True  # the order holds ...
    assert parts["6d"].holds is None  # ... mean CCA shows it as well: 6d not shown (6 runs)
    (contrast,) = parts["6d"].tests
    assert contrast.interval is not None and abs(contrast.effect) < 0.25
    assert [t.name for t in parts["A8"].tests] == [
        "cosine_distance shows the order less clearly than pwcca_distance"]


def test_adjacent_distances_measure_how_far_training_still_moves():
    rng = np.random.default_rng(15)
    base = rng.normal(size=(200, 6))
    moving = [rng.normal(size=(200, 6)) for _ in range(4)]  # a new representation each time
    settling = [base + rng.normal(0, s, (200, 6)) for s in (1.0, 0.3, 0.01, 0.001)]
    steps = convergence.adjacent_distances({"moving": moving, "settling": settling},
                                           "pwcca_distance")
    assert steps["moving"].shape == (3,) and steps["moving"].min() > 0.5
    assert steps["settling"][-1] < 0.01 < steps["settling"][0]


def test_reference_settled_is_inconclusive_on_moving_layers_and_holds_on_settled_ones():
    rng = np.random.default_rng(16)
    still_moving = [{"lstm1": np.full(10, 0.02) + rng.uniform(0, 0.01, 10),
                     "lstm2": np.full(10, 0.18) + rng.uniform(0, 0.02, 10)} for _ in range(3)]
    verdict = convergence.reference_settled(still_moving)
    assert verdict.holds is None  # a moving layer leaves the order unreadable
    assert verdict["lstm1 settled at the end"].holds is True
    assert verdict["lstm2 settled at the end"].holds is None
    settled = [{layer: np.geomspace(0.5, 0.005, 10) for layer in ("lstm1", "lstm2", "lstm3")}
               for _ in range(3)]
    verdict = convergence.reference_settled(settled)
    assert verdict.holds is True and verdict.tests[0].units == 3
    json.dumps(verdict.as_record(), allow_nan=False)
    with pytest.raises(ValueError, match="at least 2"):
        convergence.reference_settled([{"lstm1": [0.1]}])


def test_depth_trend_null_is_pages_trend_test_for_runs_of_one_depth():
    from scipy.stats import page_trend_test

    rng = np.random.default_rng(11)
    for depth, runs in ((3, 6), (4, 3), (5, 2)):
        values = [rng.permutation(depth) + 0.3 * rng.normal(size=depth) for _ in range(runs)]
        rhos, null, exact = convergence.depth_trend_null(values)
        assert exact
        ours = evidence.null_pvalue(float(rhos.mean()), null, "greater", exact=True)
        page = page_trend_test(np.array(values), method="exact").pvalue
        assert ours == pytest.approx(page, rel=1e-9)


# ----------------------------------------------------------------- beyond layer 1 (issue 25)

def _scaled_runs(rates_by_run, scales=None):
    at = np.arange(11) / 2
    runs = []
    for r, rates in enumerate(rates_by_run):
        scale = scales[r] if scales else [1.0] * len(rates)
        runs.append({f"lstm{i + 1}": s * (np.exp(-k * at) - np.exp(-k * at[-1]))
                     for i, (k, s) in enumerate(zip(rates, scale, strict=True))})
    return runs, at


def test_order_beyond_layer_one_ignores_each_layers_scale_and_layer_one():
    # layers 2..5 in order of their rates, but their scales run the other way: a raw area would
    # reverse the order, the normalised one does not; layer 1 is last and must not count
    rates = [0.2, 3.0, 2.0, 1.0, 0.5]
    runs, at = _scaled_runs([rates] * 6, [[1.0, 8.0, 4.0, 2.0, 1.0]] * 6)
    verdict = convergence.order_beyond_layer_one(runs, at)
    assert verdict.outcome == "holds"
    assert verdict.tests[0].value == pytest.approx(1.0)


def test_order_beyond_layer_one_is_contradicted_by_a_reversed_order_and_refuses_two_layers():
    runs, at = _scaled_runs([[3.0, 0.5, 1.0, 2.0, 3.0]] * 6)
    assert convergence.order_beyond_layer_one(runs, at).outcome == "contradicted"
    two, _ = _scaled_runs([[3.0, 1.0]])
    with pytest.raises(ValueError, match="needs at least 3 layers"):
        convergence.order_beyond_layer_one(two, at)
