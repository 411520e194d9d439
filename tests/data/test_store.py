"""The dataset root convention, `cnnlab data list/fetch`, offline with file:// and a local Range server."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from cnnlab.cli import app as cli_app
from cnnlab.data import fetch as F
from cnnlab.data import store
from cnnlab.errors import ConfigError, DataError, UnknownNameError

POS = "a gripping , funny film .\nthe best of the year !\n"
NEG = "dull , lifeless and too long .\nit's a mess .\n"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def toy(monkeypatch, tmp_path):
    """A table entry `toy` pinned to POS/NEG, and an empty datasets root."""
    entry = store.DatasetInfo(
        name="toy", description="two files",
        files=(store.DatasetFile("a.pos", _sha(POS), "pkg/a.pos"), store.DatasetFile("a.neg", _sha(NEG), "pkg/a.neg")),
        url=None, archive="tar.gz", text_encoding="cp1252")
    monkeypatch.setitem(store.DATASETS, "toy", entry)
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "root"))
    return entry


def _tar(path: Path, members: dict) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_root_default_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNLAB_DATA", raising=False)
    assert store.root() == Path("~/.cache/cnnlab/datasets").expanduser()
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    assert store.folder("mr") == tmp_path / "mr"


def test_missing_dataset_one_line_error(toy, tmp_path):
    with pytest.raises(DataError, match=r"^dataset `toy` not found in .*root/toy; get it with: cnnlab data fetch toy"):
        store.require("toy")
    (tmp_path / "root" / "toy").mkdir(parents=True)
    (tmp_path / "root" / "toy" / "a.pos").write_text(POS)
    with pytest.raises(DataError, match=r"incomplete \(missing a.neg\)"):
        store.require("toy")
    with pytest.raises(UnknownNameError, match="unknown dataset 'nope'; known: mr, fsdd, sr, faces"):
        store.info("nope")


def test_fetch_file_url_extracts_converts_and_checks(toy, tmp_path):
    # the archive holds Windows-1252 text (like Cornell's tarball); fetch stores UTF-8 and checks the digests
    pos = POS.replace("funny", "funny \u2014 caf\u00e9")
    toy_entry = store.DatasetInfo(**{**toy.__dict__, "files": (store.DatasetFile("a.pos", _sha(pos), "pkg/a.pos"),
                                                                 toy.files[1])})
    store.DATASETS["toy"] = toy_entry
    archive = _tar(tmp_path / "toy.tar.gz", {"pkg/a.pos": pos.encode("cp1252"), "pkg/a.neg": NEG.encode("cp1252"),
                                             "pkg/README": b"x", "../evil": b"no"})
    where = F.fetch("toy", url=archive.as_uri())
    assert where == tmp_path / "root" / "toy"
    assert (where / "a.pos").read_text(encoding="utf-8") == pos
    assert sorted(p.name for p in where.iterdir()) == ["a.neg", "a.pos"]
    assert store.require("toy") == where
    assert not (tmp_path / "root" / ".downloads" / "toy").exists()  # the archive is removed once installed
    assert not (tmp_path / "evil").exists() and not (tmp_path / "root" / "evil").exists()


def test_fetch_bad_checksum_installs_nothing(toy, tmp_path):
    archive = _tar(tmp_path / "toy.tar.gz", {"pkg/a.pos": b"tampered\n", "pkg/a.neg": NEG.encode()})
    with pytest.raises(DataError, match=r"`a.pos` of dataset `toy` has sha256 [0-9a-f]{16}\.\.\., expected"):
        F.fetch("toy", url=archive.as_uri())
    assert not (tmp_path / "root" / "toy").exists()
    assert [p.name for p in (tmp_path / "root").iterdir() if p.name.startswith(".toy")] == []


def test_fetch_without_url_and_missing_member(toy, tmp_path):
    with pytest.raises(ConfigError, match="no public archive is known for dataset `toy`; pass --url"):
        F.fetch("toy")
    archive = _tar(tmp_path / "other.tar.gz", {"pkg/a.pos": POS.encode()})
    with pytest.raises(DataError, match=r"the archive has no `pkg/a.neg`"):
        F.fetch("toy", url=archive.as_uri())
    with pytest.raises(DataError, match=r"cannot download file://"):
        F.fetch("toy", url=(tmp_path / "absent.tar.gz").as_uri())


def test_fetch_glob_dataset_from_zip(monkeypatch, tmp_path):
    entry = store.DatasetInfo(name="wavs", description="d", globs=(("recordings/*.wav", 3),), archive="zip",
                              strip="wavs-master/")
    monkeypatch.setitem(store.DATASETS, "wavs", entry)
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "root"))
    with zipfile.ZipFile(tmp_path / "w.zip", "w") as zf:
        for i in range(3):
            zf.writestr(f"wavs-master/recordings/{i}.wav", b"RIFF")
    F.fetch("wavs", url=(tmp_path / "w.zip").as_uri())
    assert sorted(p.name for p in (tmp_path / "root" / "wavs" / "recordings").iterdir()) == ["0.wav", "1.wav", "2.wav"]


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    payload = b""
    seen_ranges: list = []

    def do_GET(self):  # noqa: N802
        start = 0
        rng = self.headers.get("Range")
        self.seen_ranges.append(rng)
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(self.payload) - 1}/{len(self.payload)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload) - start))
        self.end_headers()
        self.wfile.write(self.payload[start:])

    def log_message(self, *args):
        pass


def test_download_resumes_with_range(tmp_path):
    payload = bytes(range(256)) * 1000
    _RangeHandler.payload, _RangeHandler.seen_ranges = payload, []
    server = http.server.HTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dest = tmp_path / "blob.bin"
        (tmp_path / "blob.bin.part").write_bytes(payload[:100_000])  # an earlier, interrupted download
        F.download(f"http://127.0.0.1:{server.server_address[1]}/blob.bin", dest)
    finally:
        server.shutdown()
    assert _RangeHandler.seen_ranges == ["bytes=100000-"]
    assert dest.read_bytes() == payload and not (tmp_path / "blob.bin.part").exists()


def test_fetch_real_mr_layout_from_cornell_style_tarball(tmp_path, monkeypatch):
    """The real MR files, packed as Cornell ships them (cp1252), come back with the pinned UTF-8 sha256s."""
    try:
        src = store.require("mr")
    except DataError:
        pytest.skip("MR is not under $CNNLAB_DATA")
    members = {f"rt-polaritydata/{n}": (src / n).read_text(encoding="utf-8").encode("cp1252")
               for n in ("rt-polarity.pos", "rt-polarity.neg")}
    archive = _tar(tmp_path / "rt-polaritydata.tar.gz", members)
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "root"))
    where = F.fetch("mr", url=archive.as_uri())
    assert (where / "rt-polarity.pos").read_bytes() == (src / "rt-polarity.pos").read_bytes()


def test_cli_list_and_fetch(toy, tmp_path, capsys):
    assert cli_app.main(["data", "list", "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["datasets"]}
    assert rows["toy"]["present"] is False and rows["toy"]["folder"] == str(tmp_path / "root" / "toy")
    assert set(rows) >= {"mr", "fsdd", "sr", "faces"}
    archive = _tar(tmp_path / "t.tar.gz", {"pkg/a.pos": POS.encode(), "pkg/a.neg": NEG.encode()})
    assert cli_app.main(["data", "fetch", "toy", "--url", archive.as_uri()]) == 0
    assert "toy: ready in" in capsys.readouterr().out
    assert cli_app.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert f"datasets root: {tmp_path / 'root'}" in out and "toy" in out and "present" in out
    assert cli_app.main(["data", "fetch", "nope"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown dataset 'nope'")
