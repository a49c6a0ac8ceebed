"""Tests for tfgenopt/_io.py: make_dir and file_in_the_way (atomic writes: test_kill_resume)."""

import pathlib

import pytest

from tfgenopt._io import file_in_the_way, make_dir


class TestMakeDir:
    def test_creates_missing_parents_and_accepts_an_existing_folder(self, tmp_path):
        target = tmp_path / "a" / "b"
        assert make_dir(target) == str(target) and target.is_dir()
        assert make_dir(target) == str(target)

    def test_a_file_at_the_path_raises_value_error_naming_the_argument(self, tmp_path):
        target = tmp_path / "run.json"
        target.write_text("{}")
        with pytest.raises(ValueError, match=r"`--out` must be a folder .*which is a file"):
            make_dir(target, "--out")
        assert target.read_text() == "{}"

    def test_a_file_above_the_path_is_named(self, tmp_path):
        (tmp_path / "f").write_text("")
        with pytest.raises(ValueError, match=r"`out`.*'.*f' is a file"):
            make_dir(tmp_path / "f" / "sub")
        assert not (tmp_path / "f" / "sub").exists()


class TestFileInTheWay:
    def test_none_for_a_new_or_existing_folder(self, tmp_path):
        assert file_in_the_way(tmp_path) is None
        assert file_in_the_way(tmp_path / "new" / "deeper") is None

    def test_a_relative_path_gets_a_relative_answer(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        pathlib.Path("f").write_text("")
        assert file_in_the_way("f/x/y") == "f"
