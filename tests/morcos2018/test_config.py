"""Profiles that build on another (``profile.toml``: ``extends``), and the extended profile."""

from __future__ import annotations

import pytest

from morcos2018.config import load_profile, profile_files
from morcos2018.plan import fig4_width


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_a_profile_changes_only_the_keys_it_sets(tmp_path):
    _write(tmp_path / "base", "images.toml", 'epochs = 10\n[widths]\nnetworks = 3\nfilters = 16\n')
    _write(tmp_path / "base", "text.toml", "seq_len = 35\n")
    _write(tmp_path / "more", "profile.toml", 'extends = "../base"\n')
    _write(tmp_path / "more", "images.toml", "[widths]\nnetworks = 5\n")
    profile = load_profile(tmp_path / "more")
    assert profile["name"] == "more"
    assert profile["images"] == {"epochs": 10, "widths": {"networks": 5, "filters": 16}}
    assert profile["text"] == {"seq_len": 35}
    assert "profile" not in profile  # the link is not a table of the profile
    assert {p.parent.name for p in profile_files(tmp_path / "more")} == {"base", "more"}


def test_a_profile_that_extends_itself_is_refused(tmp_path):
    _write(tmp_path / "a", "profile.toml", 'extends = "../b"\n')
    _write(tmp_path / "b", "profile.toml", 'extends = "../a"\n')
    with pytest.raises(ValueError, match="extends itself"):
        load_profile(tmp_path / "a")


def test_a_bad_base_names_the_profiles_there_are(tmp_path):
    _write(tmp_path / "a", "profile.toml", 'extends = "no-such-profile"\n')
    with pytest.raises(ValueError, match="expected one of"):
        load_profile(tmp_path / "a")


def test_extended_is_the_default_with_figure_3_on_more_images_and_figure_4_wider():
    default, extended = load_profile("default"), load_profile("extended")
    assert {key: extended[key] == default[key] for key in default if key != "name"} == {
        "cnn": True, "images": False, "text": True, "toys": True}
    changed = {key for key in default["images"]
               if extended["images"][key] != default["images"][key]}
    assert changed == {"groups", "widths"}
    assert extended["images"]["groups"]["train_subset"] == 5000
    widths = extended["images"]["widths"]["multipliers"]
    assert min(widths) == 0.25 and max(widths) == 1.0 and len(widths) >= 5  # issue 11, item 3
    configs = fig4_width(extended)
    assert all(c["until"] == {"metric": "accuracy", "at_least": 0.99} for c in configs)
    assert all(c["jit_compile"] for c in configs)
    assert all("until" not in c for c in fig4_width(default))  # the default's runs unchanged
