import pytest

from srgan import files


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "summary.md"
    files.write_text(path, "old\n")
    with pytest.raises(RuntimeError):
        with files.atomic_open(path) as file:
            file.write("half")
            raise RuntimeError("killed midway")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]


def test_csv_is_written_whole(tmp_path):
    files.write_csv(tmp_path / "m.csv", ["a", "b"], [[1, "x"], [2, "y"]])
    assert (tmp_path / "m.csv").read_bytes() == b"a,b\r\n1,x\r\n2,y\r\n"  # csv's own line ends
