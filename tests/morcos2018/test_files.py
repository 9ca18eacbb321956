"""morcos2018.files: atomic writes leave the old file or the new one, with the permissions a plain
open() would give (issue 26: cache files were created 0600, so a cache shared by a group broke)."""

import os
import stat

import pytest

from morcos2018.files import atomic_write, current_umask


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_atomic_write_respects_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        atomic_write(tmp_path / "entry.json", "{}")
        plain = tmp_path / "plain.json"
        plain.write_text("{}")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "entry.json").stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask


def test_reading_the_umask_leaves_it_unchanged():
    before = os.umask(0o027)
    try:
        assert current_umask() == 0o027
        assert current_umask() == 0o027
    finally:
        os.umask(before)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "manifest.json"
    atomic_write(target, "old")
    with pytest.raises(TypeError):
        atomic_write(target, 42)  # not bytes or text: fails before anything is renamed
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["manifest.json"]
