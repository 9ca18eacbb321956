"""Profiles that build on another (``profile.toml``: ``extends``), the extended profile, and the
schema every profile is checked against when it is loaded (issue 28)."""

from __future__ import annotations

import re
import shutil

import pytest

from morcos2018.config import (
    FAMILY_VALUES,
    PROFILES_DIR,
    SCHEMA,
    available_profiles,
    load_profile,
    profile_files,
)
from morcos2018.models import FAMILY_OVERRIDES
from morcos2018.plan import fig4_width, fig5_learning_rate


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_a_profile_changes_only_the_keys_it_sets(tmp_path):
    _write(tmp_path / "base", "profile.toml", 'extends = "smoke"\n')
    _write(tmp_path / "base", "images.toml", 'epochs = 10\n[widths]\nnetworks = 3\nfilters = 16\n')
    _write(tmp_path / "base", "text.toml", "[training]\nseq_len = 35\n")
    _write(tmp_path / "more", "profile.toml", 'extends = "../base"\n')
    _write(tmp_path / "more", "images.toml", "[widths]\nnetworks = 5\n")
    profile, smoke = load_profile(tmp_path / "more"), load_profile("smoke")
    assert profile["name"] == "more"
    assert profile["images"] == {**smoke["images"], "epochs": 10,
                                 "widths": {**smoke["images"]["widths"], "networks": 5,
                                            "filters": 16}}
    assert profile["text"] == {**smoke["text"],
                               "training": {**smoke["text"]["training"], "seq_len": 35}}
    assert "profile" not in profile  # the link is not a table of the profile
    assert {p.parent.name for p in profile_files(tmp_path / "more")} == {"base", "more", "smoke"}


def test_a_profile_that_extends_itself_is_refused(tmp_path):
    _write(tmp_path / "a", "profile.toml", 'extends = "../b"\n')
    _write(tmp_path / "b", "profile.toml", 'extends = "../a"\n')
    with pytest.raises(ValueError, match="extends itself"):
        load_profile(tmp_path / "a")


def test_a_bad_base_names_the_profiles_there_are(tmp_path):
    _write(tmp_path / "a", "profile.toml", 'extends = "no-such-profile"\n')
    with pytest.raises(ValueError, match="expected one of"):
        load_profile(tmp_path / "a")


def test_extended_is_the_default_with_figures_3_4_5_6_redesigned():
    default, extended = load_profile("default"), load_profile("extended")
    assert {key: extended[key] == default[key] for key in default if key != "name"} == {
        "cnn": True, "images": False, "text": False, "toys": True}
    assert {key for key in default["text"] if extended["text"][key] != default["text"][key]} == {
        "convergence"}  # issue 25, item 4: the arm whose learning rate does not vanish
    assert extended["text"]["convergence"]["arm_final_fraction"] == 0.5
    changed = {key for key in default["images"]
               if extended["images"][key] != default["images"][key]}
    assert changed == {"groups", "widths", "learning_rates"}
    assert extended["images"]["groups"]["train_subset"] == 5000
    widths = extended["images"]["widths"]["multipliers"]
    assert min(widths) == 0.125 and max(widths) == 1.0 and len(widths) == 7  # issue 25, item 1
    configs = fig4_width(extended)
    assert all("until" not in c for c in configs)  # a fixed budget; the criterion is a reading
    assert all(c["jit_compile"] for c in configs)
    assert all("until" not in c for c in fig4_width(default))  # the default's runs unchanged
    rates = extended["images"]["learning_rates"]["values"]  # issue 25, item 2: 100x, no criterion
    assert len(rates) == 4 and max(rates) / min(rates) == pytest.approx(100)
    assert all("until" not in c for c in fig5_learning_rate(extended))
    assert all("until" in c for c in fig5_learning_rate(default))


def test_the_schema_knows_every_key_a_figure_family_may_override():
    assert set(FAMILY_VALUES) == set(FAMILY_OVERRIDES)


@pytest.mark.parametrize("profile", available_profiles())
def test_every_shipped_profile_passes_the_schema(profile):
    assert set(SCHEMA) <= set(load_profile(profile))


@pytest.mark.parametrize(("text", "message"), [
    ("epochz = 3\n", "unknown key `epochz`; the file's top level takes .*'epochs'"),
    ("[groups]\nepochz = 3\n", "unknown key `groups.epochz`; \\[groups\\] takes"),
    ("epochs = 1e9\n", "`epochs` = 1000000000.0 is not allowed; it must be an int in 1..10000"),
    ("epochs = 2.5\n", "`epochs` = 2.5 .* an int"),
    ('epochs = "2"\n', "`epochs` = '2' .* an int"),
    ("epochs = 0\n", "`epochs` = 0 .* an int in 1..10000"),
    ("learning_rate = -1e-3\n", "`learning_rate` = -0.001 .* a number in \\(0, 10\\]"),
    ('width = "narrow"\n', "`width` = 'narrow' .* a number in \\(0, 64\\]"),
    ('dataset = "mnist"\n', "`dataset` = 'mnist' .* one of \\['fashion_mnist', 'cifar10'\\]"),
    ("[widths]\nmultipliers = []\n", "a non-empty list"),
    ("groups = 3\n", "`groups` must be a table"),
])
def test_a_bad_value_in_an_extending_profile_names_file_key_and_what_is_allowed(
        tmp_path, text, message):
    _write(tmp_path / "mine", "profile.toml", 'extends = "smoke"\n')
    _write(tmp_path / "mine", "images.toml", text)
    path = re.escape(str(tmp_path / "mine" / "images.toml"))
    with pytest.raises(ValueError, match=f"^{path}: .*{message}"):
        load_profile(tmp_path / "mine")


def test_a_missing_key_or_area_names_what_to_add(tmp_path):
    for stem in ("cnn", "text", "toys"):
        shutil.copy(PROFILES_DIR / "smoke" / f"{stem}.toml", tmp_path / f"{stem}.toml")
    with pytest.raises(ValueError, match="has no images.toml .*extends = \"default\""):
        load_profile(tmp_path)
    images = (PROFILES_DIR / "smoke" / "images.toml").read_text()
    (tmp_path / "images.toml").write_text(images.replace("memorizing_epochs = 2", ""))
    with pytest.raises(ValueError, match="images.toml .* lacks the key `groups.memorizing_epochs` "
                                         "\\(an int in 1..10000\\)"):
        load_profile(tmp_path)
