"""Where datasets that are not Python packages live: one root folder, one sub-folder per dataset.

The root is ``$CNNLAB_DATA`` (default ``~/.cache/cnnlab/datasets``); dataset ``mr`` lives in
``$CNNLAB_DATA/mr/``. :data:`DATASETS` is the table of known datasets: the files that must be there, their
public source and a sha256 per file where one is pinned. :func:`require` finds a dataset or raises a
one-line :class:`DataError` naming the folder and the fetch command; :func:`status` reports every dataset
(``cnnlab data list``); :mod:`cnnlab.data.fetch` downloads one (``cnnlab data fetch NAME``).

Example:
    >>> from cnnlab.data import store
    >>> store.require("mr")  # doctest: +SKIP
    PosixPath('/home/me/.cache/cnnlab/datasets/mr')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from cnnlab.errors import DataError, UnknownNameError

__all__ = ["DatasetFile", "DatasetInfo", "DATASETS", "root", "folder", "info", "names", "require", "status",
           "missing_files"]

ENV = "CNNLAB_DATA"
DEFAULT_ROOT = "~/.cache/cnnlab/datasets"


@dataclass(frozen=True)
class DatasetFile:
    """One file a dataset must have.

    Attributes:
        path: path inside the dataset folder, e.g. ``"rt-polarity.pos"``.
        sha256: hex digest of the file as installed, or ``None`` when none is pinned.
        member: its path inside the source archive (default: the same as ``path``).
    """

    path: str
    sha256: Optional[str] = None
    member: Optional[str] = None


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset of the table.

    Attributes:
        name: folder name under the root.
        description: one line.
        files: files checked one by one (with their sha256 when pinned).
        globs: ``(pattern, minimum count)`` checks for datasets with many files (e.g. 3,000 WAVs).
        url: public source (an archive or a single file), ``None`` when no single public archive has this layout.
        archive: ``"tar.gz"``, ``"zip"`` or ``"file"``.
        archive_sha256: digest of the downloaded archive when pinned (else the files' digests are the check).
        strip: leading folder of the archive members to drop for ``globs`` datasets (``"fsdd-master/"``).
        text_encoding: source encoding of text files to convert to UTF-8 on extraction when they are not
            already valid UTF-8 (the Cornell MR tarball is Windows-1252).
        size, source: human-readable size and where it comes from (licence).
    """

    name: str
    description: str
    files: Tuple[DatasetFile, ...] = ()
    globs: Tuple[Tuple[str, int], ...] = ()
    url: Optional[str] = None
    archive: str = "tar.gz"
    archive_sha256: Optional[str] = None
    strip: str = ""
    text_encoding: Optional[str] = None
    size: str = ""
    source: str = ""
    notes: Tuple[str, ...] = field(default=())


# sha256s below were computed on the files this table describes (the UTF-8 MR copy used by public TextCNN
# reproductions). The Cornell tarball ships the same snippets in Windows-1252; `fetch` converts them to UTF-8
# and then checks these digests (the archive itself is not pinned: it was not reachable from the machine
# where the table was written).
DATASETS: Dict[str, DatasetInfo] = {d.name: d for d in (
    DatasetInfo(
        name="mr",
        description="Pang & Lee sentence polarity v1.0 (Kim 2014's MR): 5,331 positive + 5,331 negative snippets",
        files=(DatasetFile("rt-polarity.pos", "4134882974a28d0c7b5151256f0e33a6169984ee7372c279e673f1114f475d58",
                           "rt-polaritydata/rt-polarity.pos"),
               DatasetFile("rt-polarity.neg", "2d11cfbc790f1cd96d78339f41ce53ced1efa83cd22d37d6788fa3fe3d17e2fd",
                           "rt-polaritydata/rt-polarity.neg")),
        url="https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",
        archive="tar.gz", text_encoding="cp1252", size="1.2 MB",
        source="Pang & Lee, ACL 2005 (Cornell), research use",
        notes=("checksums are those of the extracted files after conversion to UTF-8",)),
    DatasetInfo(
        name="fsdd",
        description="Free Spoken Digit Dataset: 3,000 WAVs, 6 speakers x 10 digits x 50 takes, 8 kHz",
        globs=(("recordings/*.wav", 3000),),
        url="https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip",
        archive="zip", strip="free-spoken-digit-dataset-master/", size="21 MB",
        source="Jakobovski et al., github.com/Jakobovski/free-spoken-digit-dataset, CC BY-SA 4.0"),
    DatasetInfo(
        name="sr",
        description="super-resolution: T91 training images; Set5 HR + MATLAB-bicubic LR pairs at x2, x3, x4",
        globs=(("T91/*.bmp", 91), ("Set5/image_SRF_2/*.png", 10), ("Set5/image_SRF_3/*.png", 10),
               ("Set5/image_SRF_4/*.png", 10)),
        size="19 MB", source="Yang et al. 2010 (T91); Bevilacqua et al. 2012 / SelfExSR (Set5); research use",
        notes=("no single public archive has this layout: pass --url to an archive of it",)),
    DatasetInfo(
        name="faces",
        description="ORL / AT&T faces: 40 people x 10 grey 92x112 images",
        globs=(("att_faces/s*/*.pgm", 400),),
        size="4 MB", source="Olivetti Research Laboratory, Cambridge; free for research, credit ORL",
        notes=("no stable public URL is pinned: pass --url to att_faces.zip",)),
)}


def root() -> Path:
    """The datasets root: ``$CNNLAB_DATA`` or ``~/.cache/cnnlab/datasets`` (not created here)."""
    return Path(os.environ.get(ENV) or DEFAULT_ROOT).expanduser()


def names() -> List[str]:
    """Names of the datasets in the table."""
    return list(DATASETS)


def info(name: str) -> DatasetInfo:
    """The table entry of ``name``.

    Raises:
        UnknownNameError: ``name`` is not in the table (the message lists the known ones).
    """
    if name not in DATASETS:
        raise UnknownNameError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def folder(name: str) -> Path:
    """``root() / name`` (whether or not it exists)."""
    return root() / info(name).name


def missing_files(entry: DatasetInfo, where: Path) -> List[str]:
    """What ``where`` lacks for ``entry``: missing file paths and short glob counts (empty when complete)."""
    missing = [f.path for f in entry.files if not (where / f.path).is_file()]
    for pattern, minimum in entry.globs:
        found = sum(1 for p in where.glob(pattern) if p.is_file()) if where.is_dir() else 0
        if found < minimum:
            missing.append(f"{pattern} ({found} of {minimum})")
    return missing


def require(name: str) -> Path:
    """The folder of dataset ``name``, checked to hold its files.

    Raises:
        DataError: the folder or some files are missing; the message names the folder and the fetch command.
    """
    entry = info(name)
    where = folder(name)
    missing = missing_files(entry, where)
    if missing:
        what = "not found" if not where.is_dir() else f"incomplete (missing {', '.join(missing[:3])})"
        raise DataError(f"dataset `{name}` {what} in {where}; get it with: cnnlab data fetch {name} "
                        f"(or set {ENV} to the folder that holds {name}/)")
    return where


def status() -> List[Dict[str, object]]:
    """One row per dataset: ``{"name", "folder", "present", "missing", "description", "url"}``."""
    rows = []
    for entry in DATASETS.values():
        where = root() / entry.name
        missing = missing_files(entry, where)
        rows.append({"name": entry.name, "folder": str(where), "present": not missing, "missing": missing,
                     "description": entry.description, "url": entry.url})
    return rows
