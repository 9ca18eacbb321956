"""Figure 5 claim check: fails (or abstains) on null data, on one lone separated group, and
leaves out networks that did not train; holds on a planted block structure of realistic size
(README: distances about 0.45, same-rate pairs closer by a few hundredths)."""

import json

import numpy as np
import pytest

from morcos2018.claims import learning_rate

RATES = [1e-4, 3e-4, 1e-3, 3e-3]
RATE_OF = np.repeat(RATES, 4)
TRAINED = np.full(len(RATE_OF), 0.85)


def rate_distances(seed, within, between=0.45, pair_noise=0.01, network_noise=0.01,
                   apart=None):
    """Distances of 4 networks per rate: ``within[i]`` inside rate i, ``between`` across; rates in
    ``apart`` are ``apart[rate]`` from every other rate."""
    rng = np.random.default_rng(seed)
    level = dict(zip(RATES, within, strict=True))
    d = np.array([[level[a] if a == b else between for b in RATE_OF] for a in RATE_OF])
    for rate, distance in (apart or {}).items():
        outside = (RATE_OF[:, None] == rate) != (RATE_OF[None, :] == rate)
        d[outside] = distance
    offsets = rng.normal(0, network_noise, len(RATE_OF))
    noise = rng.normal(0, pair_noise, d.shape)
    d += offsets[:, None] + offsets[None, :] + (noise + noise.T) / np.sqrt(2)
    np.fill_diagonal(d, 0)
    return d


def test_fails_on_null_data():
    null = [learning_rate.check_figure5(rate_distances(s, [0.45] * 4), RATE_OF, TRAINED,
                                        n_permutations=500).holds for s in range(8)]
    assert sum(v is True for v in null) <= 1


def test_one_lone_group_is_not_enough():
    # our default run: lr 1e-4 (undertrained but trained) stands apart, the other rates mix
    verdict = learning_rate.check_figure5(
        rate_distances(0, [0.40, 0.45, 0.45, 0.45], apart={1e-4: 0.50}), RATE_OF,
        np.repeat([0.63, 0.85, 0.86, 0.84], 4), n_permutations=1000)
    assert verdict["clusters follow the learning rate"].holds is True  # what "ARI > 0" saw
    separated = verdict["learning rates that form their own cluster"]
    # one rate apart, two needed: not shown, and with no declared test against the claim, not
    # contradicted either
    assert separated.value == 1 and separated.holds is None
    assert "no test against the claim is declared" in separated.reason
    assert verdict.holds is None
    partial = [learning_rate.check_figure5(
        rate_distances(s, [0.40, 0.45, 0.45, 0.45], apart={1e-4: 0.50}), RATE_OF, TRAINED,
        n_permutations=500).holds for s in range(1, 7)]
    assert sum(v is True for v in partial) <= 1


def test_holds_on_planted_blocks_and_records_json():
    verdict = learning_rate.check_figure5(
        rate_distances(0, [0.40, 0.42, 0.42, 0.43]), RATE_OF, TRAINED, n_permutations=1000)
    assert verdict.holds is True
    separated = verdict["learning rates that form their own cluster"]
    assert separated.value >= 2 and separated.units == 16 and separated.unit == "networks"
    assert "none left out" in separated.statistic
    json.dumps(verdict.as_record(), allow_nan=False)


def test_networks_that_did_not_train_are_left_out():
    # lr 3e-3 diverged: chance accuracy, and its networks sit far from everything
    accuracy = np.repeat([0.85, 0.85, 0.85, 0.10], 4)
    distances = rate_distances(1, [0.40, 0.42, 0.42, 0.2], apart={3e-3: 0.9})
    verdict = learning_rate.check_figure5(distances, RATE_OF, accuracy, n_permutations=1000)
    assert verdict.holds is True
    assert verdict.tests[0].units == 12 and "did not train" in verdict.tests[0].statistic
    # without the floor, the diverged rate would count as a separated cluster
    unfloored = learning_rate.check_figure5(
        rate_distances(1, [0.45, 0.45, 0.45, 0.2], apart={3e-3: 0.9}), RATE_OF, accuracy,
        accuracy_floor=0.0, n_permutations=500)
    floored = learning_rate.check_figure5(
        rate_distances(1, [0.45, 0.45, 0.45, 0.2], apart={3e-3: 0.9}), RATE_OF, accuracy,
        n_permutations=500)
    assert unfloored["learning rates that form their own cluster"].value >= 1
    assert floored["learning rates that form their own cluster"].value == 0
    assert floored.holds is not True


def test_too_few_rates_is_undecided():
    accuracy = np.repeat([0.85, 0.1, 0.1, 0.1], 4)
    verdict = learning_rate.check_figure5(rate_distances(0, [0.4] * 4), RATE_OF, accuracy)
    assert verdict.holds is None and "too few units" in verdict.tests[0].reason
    json.dumps(verdict.as_record(), allow_nan=False)
    with pytest.raises(ValueError, match="one learning rate per network"):
        learning_rate.check_figure5(np.zeros((3, 3)), RATE_OF, TRAINED)


def test_cluster_test_gives_no_effect_interval_from_the_null():
    """The relabellings' 95% range is the null's spread, not an interval of the effect (observed
    minus null mean): it is stated with the null and the effect carries no interval."""
    verdict = learning_rate.check_figure5(
        rate_distances(0, [0.40, 0.42, 0.42, 0.43]), RATE_OF, TRAINED, n_permutations=500)
    clusters = verdict["clusters follow the learning rate"]
    assert clusters.interval is None
    assert "95% of them between" in clusters.null
    assert clusters.effect == pytest.approx(clusters.value - clusters.null_value)


@pytest.mark.parametrize("networks", [2, 4])
def test_undecided_where_no_outcome_could_hold(networks):
    """With 2 networks per rate even perfectly separated rates cannot reach alpha (a rate's p is at
    least 1 / C(8, 2), times Holm's factor): the separation test says undecided, not failed, on
    null data as on planted blocks. With 4 per rate both are decided."""
    rates = np.repeat(RATES, networks)
    blocks = np.where(rates[:, None] == rates[None, :], 0.40, 0.45)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.005, blocks.shape)
    null = 0.45 + (noise + noise.T) / 2
    accuracy = np.full(len(rates), 0.85)
    for d in (blocks + (noise + noise.T) / 2, null):
        np.fill_diagonal(d, 0)
        separated = learning_rate.check_figure5(d, rates, accuracy, n_permutations=2000)[
            "learning rates that form their own cluster"]
        if networks == 2:
            assert separated.holds is None and "too few units" in separated.reason
        else:
            assert "too few units" not in separated.reason
    assert learning_rate.check_figure5(blocks, rates, accuracy, n_permutations=2000).holds is (
        None if networks == 2 else True)


# ----------------------------------------------------------------- two readings (issue 25)

def test_arms_hold_only_when_both_readings_cluster():
    clustered = rate_distances(0, [0.40] * 4)
    null = rate_distances(1, [0.45] * 4)
    both = learning_rate.check_figure5_arms(
        {"equal training loss": (clustered, RATE_OF, TRAINED),
         "fixed epochs": (rate_distances(2, [0.40] * 4), RATE_OF, TRAINED)}, n_permutations=500)
    one = learning_rate.check_figure5_arms(
        {"equal training loss": (clustered, RATE_OF, TRAINED),
         "fixed epochs": (null, RATE_OF, TRAINED)}, n_permutations=500)
    assert both.outcome == "holds" and len(both.tests) == 4
    assert one.outcome == "inconclusive"
    assert [t.outcome for t in one.tests[:2]] == ["holds", "holds"]
    assert all(t.name.startswith("fixed epochs: ") for t in one.tests[2:])


def test_arms_need_at_least_one_reading():
    with pytest.raises(ValueError, match="at least one reading"):
        learning_rate.check_figure5_arms({})


def test_arm_epochs_read_the_first_epoch_at_the_loss_and_fall_back_to_the_last():
    assert learning_rate.arm_epochs([1.0, 0.5, 0.09, 0.2, 0.01], 0.1, 3) == {
        "equal training loss": 3, "reached": True, "fixed epochs": 3}
    assert learning_rate.arm_epochs([1.0, 0.5], 0.1, 1)["equal training loss"] == 2
    with pytest.raises(ValueError, match="train longer or lower fixed_epochs"):
        learning_rate.arm_epochs([1.0, 0.5], 0.1, 3)
