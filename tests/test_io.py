"""Atomic writes: the old file survives any failure, no temporary files are left behind."""

import json

import pytest

from cnnlab.io import atomic_write, write_bytes_via, write_json


def test_atomic_write_replaces(tmp_path):
    target = tmp_path / "a.json"
    write_json(target, {"x": 1})
    write_json(target, {"x": 2})
    assert json.loads(target.read_text()) == {"x": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_failed_write_keeps_old_file(tmp_path):
    target = tmp_path / "w.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["w.bin"]


def test_write_bytes_via_failure_keeps_old(tmp_path):
    target = tmp_path / "w.safetensors"
    target.write_bytes(b"old")

    def writer(tmp):
        open(tmp, "wb").write(b"partial")
        raise OSError("killed")

    with pytest.raises(OSError):
        write_bytes_via(target, writer)
    assert target.read_bytes() == b"old"
    assert len(list(tmp_path.iterdir())) == 1


def test_written_files_get_normal_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        write_json(tmp_path / "a.json", {})
        write_bytes_via(tmp_path / "b.bin", lambda tmp: open(tmp, "wb").write(b"x"))
    finally:
        os.umask(umask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.bin").stat().st_mode & 0o777 == 0o644
