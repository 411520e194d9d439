"""`cnnlab explain` and `cnnlab report` end to end on a real run folder, and the ImageNet Grad-CAM example."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.cli import app as cli_app

DOG = Path("/usr/share/darknet/data/dog.jpg")
METHODS = ["filters", "featuremaps", "maximize", "saliency", "inputxgradient", "smoothgrad", "guided", "deconv",
           "gradcam", "gradcam++", "guided-gradcam", "occlusion", "layer-gradxact"]


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    from cnnlab import data

    x = data.load("digits").x_test[0, 0].numpy()
    path = tmp_path_factory.mktemp("img") / "digit.png"
    Image.fromarray((x * 255).round().astype(np.uint8)).save(path)
    return path


def _run_json(capsys, args):
    code = cli_app.main(args + ["--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)  # exactly one JSON document


@pytest.mark.parametrize("method", METHODS)
def test_explain_writes_pngs_for_every_method(method, digits_run, digit_png, tmp_path, capsys):
    rec = _run_json(capsys, ["explain", str(digits_run), "--image", str(digit_png), "--method", method,
                             "--out", str(tmp_path), "--steps", "4"])
    assert rec["method"] == method and rec["weights"] == "trained" and rec["files"]
    for f in rec["files"]:
        with Image.open(f) as img:
            assert img.width >= 8 and img.height >= 8 and img.mode == "RGB"
    assert sorted(str(p) for p in tmp_path.iterdir()) == sorted(rec["files"])  # nothing else (no temp files)
    if method not in ("filters", "maximize"):
        from cnnlab.data import load_image
        from cnnlab.train.runs import load_run

        run = load_run(digits_run)
        with torch.no_grad():
            pred = int(run.model(run.normalize(load_image(digit_png, (8, 8), 1)[None])).argmax())
        assert rec["predicted"] == pred == rec["target"]


def test_every_registry_method_is_a_cli_method_and_listed_in_the_help(capsys):
    from cnnlab.explain import registry
    from cnnlab.workflows.explain import methods

    assert methods() == ["filters", "featuremaps", "maximize", *registry.names()]
    assert sorted(METHODS) == sorted(methods())  # the test above covers each of them
    assert cli_app.main(["explain", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "filters, featuremaps, maximize, or an attribution method of the registry: " + ", ".join(registry.names()) in text


class GradientSign:
    """sign(∂score/∂x): the docs' worked example of a new method."""

    def __init__(self, model):
        self.model = model

    def attribute(self, x, target=None):
        from cnnlab.explain.saliency import input_gradient

        return input_gradient(self.model, x, target).sign()


def test_a_temporarily_registered_method_runs_through_the_cli_dispatcher(digits_run, digit_png, tmp_path, capsys):
    from cnnlab.data import load_image
    from cnnlab.explain import Saliency, registry
    from cnnlab import pictures as im
    from cnnlab.train.runs import load_run

    registry.register("gradient-sign", GradientSign, kind="input", display="signed")
    try:
        rec = _run_json(capsys, ["explain", str(digits_run), "--image", str(digit_png), "--method", "gradient-sign",
                                 "--target", "3", "--out", str(tmp_path)])
    finally:
        registry.unregister("gradient-sign")
    run = load_run(digits_run)
    sign = Saliency(run.model).attribute(run.normalize(load_image(digit_png, (8, 8), 1)[None]), target=3, abs=False).sign()
    expected = im.upscale(im.to_rgb8(im.normalize(sign[0], "std")), im.auto_factor(8, 8, target=224))
    png = next(f for f in rec["files"] if f.endswith("gradient-sign-3.png"))
    np.testing.assert_array_equal(np.asarray(Image.open(png)), expected)
    assert rec["method"] == "gradient-sign" and "layer" not in rec
    assert cli_app.main(["explain", str(digits_run), "--image", str(digit_png), "--method", "gradient-sign",
                         "--out", str(tmp_path)]) == 2  # gone again
    assert "`--method` must be one of" in capsys.readouterr().err


def test_explain_layer_gradxact_png_is_the_channel_sum_at_the_layer(digits_run, digit_png, tmp_path, capsys):
    from cnnlab.data import load_image
    from cnnlab.explain import LayerGradientXActivation
    from cnnlab import pictures as im
    from cnnlab.train.runs import load_run

    rec = _run_json(capsys, ["explain", str(digits_run), "--image", str(digit_png), "--method", "layer-gradxact",
                             "--layer", "conv2d", "--target", "2", "--out", str(tmp_path)])
    run = load_run(digits_run)
    attr = LayerGradientXActivation(run.model, "conv2d").attribute(run.normalize(load_image(digit_png, (8, 8), 1)[None]), 2)
    expected = im.upscale(im.heatmap(attr[0].sum(0), "RdBu_r", mode="symmetric"), im.auto_factor(8, 8, target=224))
    png = next(f for f in rec["files"] if f.endswith("layer-gradxact-2.png"))
    np.testing.assert_array_equal(np.asarray(Image.open(png)), expected)
    assert rec["layer"] == "conv2d"


def test_explain_target_and_layer_options(digits_run, digit_png, tmp_path, capsys):
    rec = _run_json(capsys, ["explain", str(digits_run), "--image", str(digit_png), "--method", "gradcam",
                             "--target", "7", "--layer", "conv2d", "--out", str(tmp_path)])
    assert rec["target"] == 7 and rec["target_name"] == "7" and rec["layer"] == "conv2d"
    assert any(f.endswith("gradcam-7-overlay.png") for f in rec["files"])
    code = cli_app.main(["explain", str(digits_run), "--image", str(digit_png), "--method", "gradcam", "--out", str(tmp_path)])
    assert code == 0 and "predicted" in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["--method", "lime"], "error: `--method` must be one of filters, featuremaps, maximize, saliency"),
    (["--method", "gradcam", "--target", "cat"], "error: `--target` 'cat' is not a class of"),
    (["--method", "gradcam", "--target", "12"], "error: `--target` must be in [0, 9]; got 12"),
    (["--method", "gradcam", "--layer", "nope"], "error: `layer` 'nope' is not a module of the model; known: conv2d"),
    (["--method", "gradcam", "--size", "4"], "error: `--size` must be two numbers H,W; got '4'"),
    (["--method", "saliency", "--layer", "conv2d"], "error: method 'saliency' attributes to the input and takes no `layer`"),
])
def test_explain_errors_are_one_line(args, message, digits_run, digit_png, tmp_path, capsys):
    code = cli_app.main(["explain", str(digits_run), "--image", str(digit_png), "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(message) and err.count("\n") == 1, err


def test_explain_needs_an_image_for_attributions(digits_run, tmp_path, capsys):
    assert cli_app.main(["explain", str(digits_run), "--method", "saliency", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: `--image` is needed for --method saliency\n"


def test_report_command(digits_run, tmp_path, capsys):
    out = tmp_path / "r.html"
    rec = _run_json(capsys, ["report", str(digits_run), "--out", str(out), "--steps", "3", "--n-test", "100",
                             "--examples", "1"])
    assert rec == {"report": str(out)}
    text = out.read_text(encoding="utf-8")
    assert "Accuracy on 100 test images" in text and text.count("test image #") == 1
    assert cli_app.main(["report", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.assets
def test_imagenet_gradcam_maps_differ_for_dog_bicycle_and_truck():
    """MobileNetV2 on darknet's dog.jpg at 336×448: the dog map sits left, the bicycle's centre, the truck's top right."""
    if not DOG.is_file():
        pytest.skip("Debian darknet's dog.jpg is not installed (apt-get install darknet)")
    from cnnlab.errors import MissingDependencyError
    from cnnlab.explain import GradCAM
    from cnnlab.workflows.explain import load_explainable, resolve_class
    from cnnlab.data import load_image

    try:
        ex = load_explainable("mobilenet_v2")
    except MissingDependencyError as exc:
        pytest.skip(str(exc))
    x = ex.norm(load_image(DOG, (336, 448), 3)[None])
    gc = GradCAM(ex.model)
    peaks = {}
    cams = {}
    for name in ("malamute", "mountain bike", "pickup"):
        cam = gc.attribute(x, target=resolve_class(ex, name))[0, 0]
        cams[name] = cam / cam.max()
        r, c = divmod(int(cam.argmax()), cam.shape[1])
        peaks[name] = (r / cam.shape[0], c / cam.shape[1])  # relative (row, column) of the hottest pixel
    assert peaks["malamute"][1] < 0.4 and peaks["malamute"][0] > 0.3, peaks       # the dog: left, lower half
    assert 0.3 < peaks["mountain bike"][1] < 0.85 and peaks["mountain bike"][0] > 0.25, peaks
    assert peaks["pickup"][0] < 0.35 and peaks["pickup"][1] > 0.5, peaks          # the truck: top right
    for a, b in (("malamute", "mountain bike"), ("malamute", "pickup"), ("mountain bike", "pickup")):
        corr = torch.corrcoef(torch.stack([cams[a].flatten(), cams[b].flatten()]))[0, 1]
        assert corr < 0.5, (a, b, float(corr))


def test_explain_gradcam_png_is_the_rendered_library_map(digits_run, digit_png, tmp_path, capsys):
    from cnnlab.data import load_image
    from cnnlab.explain import GradCAM
    from cnnlab import pictures as im
    from cnnlab.train.runs import load_run

    rec = _run_json(capsys, ["explain", str(digits_run), "--image", str(digit_png), "--method", "gradcam",
                             "--target", "4", "--out", str(tmp_path)])
    run = load_run(digits_run)
    raw = load_image(digit_png, (8, 8), 1)[None]
    cam = GradCAM(run.model).attribute(run.normalize(raw), target=4)[0, 0]
    expected = im.upscale(im.heatmap(cam, "jet"), im.auto_factor(8, 8, target=224))
    png = next(f for f in rec["files"] if f.endswith("gradcam-4.png"))
    np.testing.assert_array_equal(np.asarray(Image.open(png)), expected)
    assert rec["layer"] == "conv2d_1"  # the last spatial conv of the digits net
