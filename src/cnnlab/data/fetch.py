"""Download a dataset of :mod:`cnnlab.data.store` from its public source into ``$CNNLAB_DATA/NAME``.

The download goes to ``$CNNLAB_DATA/.downloads/NAME/<file>.part`` and continues from where it stopped
(HTTP ``Range``) when run again; the finished archive is renamed, its sha256 checked when pinned, then
extracted into a temporary folder next to the destination, every pinned file checked, and only then moved
into place. Nothing half-downloaded or half-extracted is ever visible in the dataset folder.

Only the standard library is used (``urllib``, ``tarfile``, ``zipfile``); ``file://`` URLs work too, which
is how the tests exercise it offline.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable, Dict, Optional

from cnnlab.data import store
from cnnlab.data._assets import sha256
from cnnlab.errors import ConfigError, DataError

__all__ = ["fetch", "download"]

CHUNK = 1 << 16


def download(url: str, dest: Path, *, progress: Optional[Callable[[int, Optional[int]], None]] = None,
             timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` when it exists; returns ``dest``.

    Args:
        url: ``http(s)://`` or ``file://`` URL.
        dest: final path; the partial file is ``dest`` + ``.part``.
        progress: called with ``(bytes so far, total or None)`` after each chunk.

    Raises:
        DataError: the URL cannot be read (the message names it and the reason).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "cnnlab-data-fetch"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the part file is already complete
            os.replace(part, dest)
            return dest
        raise DataError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(f"cannot download {url}: {getattr(exc, 'reason', exc)}") from None
    with response:
        resumed = have and getattr(response, "status", 200) == 206
        if not resumed:
            have = 0  # the server ignored Range (or there was nothing to resume): start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        with open(part, "ab" if resumed else "wb") as fh:
            while True:
                block = response.read(CHUNK)
                if not block:
                    break
                fh.write(block)
                have += len(block)
                if progress is not None:
                    progress(have, total)
            fh.flush()
            os.fsync(fh.fileno())
    if total is not None and have != total:
        raise DataError(f"download of {url} stopped at {have:,} of {total:,} bytes; run the same command again "
                        "to continue")
    os.replace(part, dest)
    return dest


def _copy_member(into: Path, member_name: str, open_member) -> None:
    """Write one archive member under ``into`` (names escaping the folder are skipped by ``_safe_member``)."""
    name = _safe_member(member_name)
    if name is None:
        return
    target = into / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with open_member() as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)


def _safe_member(name: str) -> Optional[str]:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return None
    return str(path)


def _extract(archive: Path, kind: str, into: Path) -> None:
    """Unpack ``archive`` into ``into`` (members with absolute paths or ``..`` are skipped)."""
    if kind == "tar.gz":
        try:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar.getmembers():
                    if member.isfile():
                        _copy_member(into, member.name, lambda m=member: tar.extractfile(m))
        except tarfile.TarError as exc:
            raise DataError(f"`{archive}` is not a readable tar archive ({exc}); delete it and fetch again") from None
    elif kind == "zip":
        try:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.infolist():
                    if not member.is_dir():
                        _copy_member(into, member.filename, lambda m=member: zf.open(m))
        except zipfile.BadZipFile as exc:
            raise DataError(f"`{archive}` is not a readable zip archive ({exc}); delete it and fetch again") from None
    else:
        raise ConfigError(f"archive kind must be tar.gz or zip; got {kind!r}")


def _to_utf8(path: Path, encoding: str) -> None:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        path.write_bytes(data.decode(encoding, errors="replace").encode("utf-8"))


def _arrange(entry: store.DatasetInfo, unpacked: Path, staged: Path) -> None:
    """Move the dataset's files from the unpacked archive into ``staged`` (the dataset folder layout)."""
    if entry.files:
        for f in entry.files:
            candidates = [unpacked / (f.member or f.path), unpacked / f.path]
            src = next((c for c in candidates if c.is_file()), None)
            if src is None:
                raise DataError(f"the archive has no `{f.member or f.path}` (dataset `{entry.name}`); "
                                "is the URL the right one?")
            (staged / f.path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, staged / f.path)
    if entry.globs:
        base = unpacked / entry.strip if entry.strip and (unpacked / entry.strip).is_dir() else unpacked
        for child in base.iterdir():
            if not (staged / child.name).exists():
                os.replace(child, staged / child.name)


def _check(entry: store.DatasetInfo, staged: Path) -> None:
    for f in entry.files:
        if entry.text_encoding:
            _to_utf8(staged / f.path, entry.text_encoding)
        if f.sha256:
            got = sha256(staged / f.path)
            if got != f.sha256:
                raise DataError(f"`{f.path}` of dataset `{entry.name}` has sha256 {got[:16]}..., expected "
                                f"{f.sha256[:16]}...; the source changed or the download is corrupt")
    missing = store.missing_files(entry, staged)
    if missing:
        raise DataError(f"the archive for `{entry.name}` lacks {', '.join(missing[:3])}; is the URL the right one?")


def fetch(name: str, *, url: Optional[str] = None, archive: Optional[str] = None, force: bool = False,
          progress: Optional[Callable[[int, Optional[int]], None]] = None) -> Path:
    """Download, check and unpack dataset ``name`` into ``$CNNLAB_DATA/name``; returns that folder.

    Args:
        name: a name of :data:`cnnlab.data.store.DATASETS`.
        url: another source with the same layout (a mirror, a ``file://`` archive).
        archive: ``"tar.gz"`` or ``"zip"`` when ``url``'s kind differs from the table's (default: from the
            URL's suffix, else the table's).
        force: fetch again even when the dataset is already complete.

    Raises:
        UnknownNameError: not in the table. ConfigError: no URL is known and none was given.
        DataError: the download, the archive or a checksum is bad (nothing is installed).
    """
    entry = store.info(name)
    dest = store.folder(name)
    if not force and not store.missing_files(entry, dest):
        return dest
    src = url or entry.url
    if not src:
        raise ConfigError(f"no public archive is known for dataset `{name}`; pass --url URL of an archive with "
                          f"its layout ({'; '.join(entry.notes) or entry.source})")
    kind = archive or _kind_from_url(src) or entry.archive
    cache = store.root() / ".downloads" / name
    filename = Path(urllib.parse.urlparse(src).path).name or f"{name}.{kind}"
    archive_path = cache / filename
    if not archive_path.is_file():
        download(src, archive_path, progress=progress)
    if entry.archive_sha256 and src == entry.url:
        got = sha256(archive_path)
        if got != entry.archive_sha256:
            archive_path.unlink()
            raise DataError(f"`{filename}` has sha256 {got[:16]}..., expected {entry.archive_sha256[:16]}...; "
                            "deleted it, fetch again")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=dest.parent))
    try:
        unpacked, staged = work / "unpacked", work / "staged"
        unpacked.mkdir()
        staged.mkdir()
        _extract(archive_path, kind, unpacked)
        _arrange(entry, unpacked, staged)
        _check(entry, staged)
        _install(staged, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with contextlib.suppress(OSError):
        archive_path.unlink()
        cache.rmdir()
    return dest


def _kind_from_url(url: str) -> Optional[str]:
    path = urllib.parse.urlparse(url).path.lower()
    if path.endswith((".tar.gz", ".tgz", ".tar")):
        return "tar.gz"
    if path.endswith(".zip"):
        return "zip"
    return None


def _install(staged: Path, dest: Path) -> None:
    """Move the checked files into ``dest``: one rename when it does not exist, else file by file."""
    if not dest.exists():
        os.replace(staged, dest)
        return
    moves: Dict[Path, Path] = {}
    for path in staged.rglob("*"):
        if path.is_file():
            moves[path] = dest / path.relative_to(staged)
    for src, target in moves.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, target)
