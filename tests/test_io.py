import os
import stat

import pytest

from deckeras.io import atomic_path, read_json, write_csv, write_json


def test_written_files_get_the_permissions_of_a_plain_open(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "a.json", {"x": 1})
        write_csv(tmp_path / "b.csv", [{"k": 1}], ["k"])
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    plain = stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    assert plain == 0o644
    for name in ("a.json", "b.csv"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == plain
    assert read_json(tmp_path / "a.json") == {"x": 1}
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.csv", "plain"]   # no temp files left


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "a.json") as tmp:
            with open(tmp, "w") as f:
                f.write("{half")
            raise RuntimeError("crash mid-write")
    assert read_json(tmp_path / "a.json") == {"x": 1}
    assert os.listdir(tmp_path) == ["a.json"]


def test_append_csv_starts_with_a_header_then_adds_rows(tmp_path):
    from deckeras.io import append_csv
    p = str(tmp_path / "log.csv")
    append_csv(p, {"a": 1, "b": 2}, ["a", "b"])
    append_csv(p, {"a": 3, "b": 4, "extra": 9}, ["a", "b"])
    assert open(p).read().splitlines() == ["a,b", "1,2", "3,4"]
