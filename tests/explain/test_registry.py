"""The registry of attribution methods: names, kinds, construction, dispatch, and registering a new method."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from cnnlab.errors import ConfigError, UnknownNameError
from cnnlab.explain import (Deconvolution, GradCAM, GradCAMPlusPlus, GuidedBackprop, GuidedGradCAM, InputXGradient,
                            LayerGradientXActivation, Occlusion, Saliency, SmoothGrad, registry)
from cnnlab.explain.saliency import input_gradient
from explain_toys import SmallCNN

INPUT = ["saliency", "inputxgradient", "smoothgrad", "guided", "deconv", "guided-gradcam", "occlusion"]
LAYER = ["gradcam", "gradcam++", "layer-gradxact"]
DIRECT = {  # the same computation written without the registry
    "saliency": lambda m, x, t: Saliency(m).attribute(x, t),
    "inputxgradient": lambda m, x, t: InputXGradient(m).attribute(x, t),
    "smoothgrad": lambda m, x, t: SmoothGrad(Saliency(m)).attribute(x, t),
    "guided": lambda m, x, t: GuidedBackprop(m).attribute(x, t),
    "deconv": lambda m, x, t: Deconvolution(m).attribute(x, t),
    "guided-gradcam": lambda m, x, t: GuidedGradCAM(m).attribute(x, t),
    "occlusion": lambda m, x, t: Occlusion(m).attribute(x, t),
    "gradcam": lambda m, x, t: GradCAM(m).attribute(x, t),
    "gradcam++": lambda m, x, t: GradCAMPlusPlus(m).attribute(x, t),
    "layer-gradxact": lambda m, x, t: LayerGradientXActivation(m).attribute(x, t),
}


def test_names_and_kinds():
    assert sorted(registry.names("input")) == sorted(INPUT)
    assert registry.names("layer") == LAYER
    assert sorted(registry.names()) == sorted(INPUT + LAYER)
    assert registry.get("guided-gradcam").takes_layer and not registry.get("saliency").takes_layer
    assert registry.get("occlusion").options == ("window", "stride", "baseline")


@pytest.mark.parametrize("name", INPUT + LAYER)
def test_dispatch_gives_the_numbers_of_the_direct_call(name, trained_cnn, digits):
    x = digits[0][:3]
    entry = registry.get(name)
    obj = entry.create(trained_cnn)
    assert isinstance(obj, entry.cls)
    res = registry.attribute(name, trained_cnn, x, target=[2, 4, 6])
    torch.testing.assert_close(res.value, DIRECT[name](trained_cnn, x, [2, 4, 6]), rtol=0, atol=0)
    if entry.kind == "input":
        assert res.value.shape == x.shape
    if entry.takes_layer:
        assert res.layer is trained_cnn.features[3]  # the default: the last spatial conv
    else:
        assert res.layer is None


def test_layer_methods_attribute_at_the_chosen_layer(trained_cnn, digits):
    x = digits[0][:2]
    res = registry.attribute("layer-gradxact", trained_cnn, x, target=1, layer="features.0")
    assert res.layer is trained_cnn.features[0] and res.value.shape == (2, 8, 8, 8)
    cam = registry.attribute("gradcam", trained_cnn, x, target=1, layer="features.0").value
    torch.testing.assert_close(cam, GradCAM(trained_cnn, "features.0").attribute(x, 1))
    opts = registry.attribute("smoothgrad", trained_cnn, x, target=1, create_options={"n_samples": 2, "seed": 5}).value
    torch.testing.assert_close(opts, SmoothGrad(Saliency(trained_cnn), n_samples=2, seed=5).attribute(x, 1))


class GradientSign:
    """sign(∂score/∂x): the direction FGSM steps in (Goodfellow et al. 2015). The docs' worked example."""

    def __init__(self, model):
        self.model = model

    def attribute(self, x, target=None):
        return input_gradient(self.model, x, target).sign()


def test_a_new_method_is_one_class_and_one_register_line(trained_cnn, digits):
    x = digits[0][:2]
    registry.register("gradient-sign", GradientSign, kind="input", display="signed")
    try:
        assert registry.names()[-1] == "gradient-sign" and registry.names("input")[-1] == "gradient-sign"
        got = registry.attribute("gradient-sign", trained_cnn, x, target=3).value
        torch.testing.assert_close(got, Saliency(trained_cnn).attribute(x, 3, abs=False).sign())
        assert set(got.unique().tolist()) <= {-1.0, 0.0, 1.0} and (got != 0).any()
        with pytest.raises(ConfigError, match=r"'gradient-sign' is already registered"):
            registry.register("gradient-sign", GradientSign, kind="input")
    finally:
        registry.unregister("gradient-sign")
    assert "gradient-sign" not in registry.names()

    @registry.register("gradient-sign-2", kind="input", display="signed")  # decorator form
    class GradientSign2(GradientSign):
        pass

    try:
        assert registry.get("gradient-sign-2").cls is GradientSign2
    finally:
        registry.unregister("gradient-sign-2")


def test_registry_errors_are_one_line(trained_cnn):
    with pytest.raises(UnknownNameError, match=r"`method` must be one of saliency, inputxgradient, .*; got 'lime'"):
        registry.get("lime")
    with pytest.raises(ConfigError, match=r"`kind` must be one of input, layer; got 'output'"):
        registry.register("x", GradientSign, kind="output")
    with pytest.raises(ConfigError, match=r"`display` must be one of magnitude, signed, map, occlusion, layer; got 'pie'"):
        registry.register("x", GradientSign, kind="input", display="pie")
    with pytest.raises(ConfigError, match=r"method 'saliency' attributes to the input and takes no `layer`; got 'features.0'"):
        registry.get("saliency").create(trained_cnn, "features.0")
    with pytest.raises(UnknownNameError):
        registry.unregister("never-registered")
    assert "x" not in registry.names()


def test_listing_the_registry_does_not_import_torch():
    code = ("import sys; from cnnlab.explain import registry; n = registry.names(); "
            "assert 'torch' not in sys.modules, 'torch imported'; print(len(n))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(len(INPUT + LAYER))


def test_maximize_stays_the_function_when_its_module_is_imported_first():
    code = ("from cnnlab.explain.maximize import PRESETS; from cnnlab.explain import maximize; "
            "import cnnlab.explain as e; assert callable(maximize) and e.maximize is maximize, maximize")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_docs_worked_example_is_one_file_and_one_line(trained_cnn, digits, tmp_path, monkeypatch):
    """The file shown in docs/explain.md, written as a module, registered by a "module:Class" line."""
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "explain.md").read_text(encoding="utf-8")
    start = doc.index("# src/cnnlab/explain/gradsign.py\n")
    (tmp_path / "gradsign_doc.py").write_text(doc[start : doc.index("```", start)], encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.register("gradient-sign-doc", "gradsign_doc:GradientSign", kind="input", display="signed")
    try:
        x = digits[0][:2]
        got = registry.attribute("gradient-sign-doc", trained_cnn, x, target=lambda out: out[:, 5] - out[:, 1]).value
        expected = Saliency(trained_cnn).attribute(x, target=lambda out: out[:, 5] - out[:, 1], abs=False).sign()
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    finally:
        registry.unregister("gradient-sign-doc")
    assert '("gradient-sign", "cnnlab.explain.gradsign:GradientSign", dict(kind="input", display="signed")),' in doc
