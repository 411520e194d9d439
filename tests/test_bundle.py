"""The model bundle and the one resolver: run folders, JSON descriptions, zoo names (pretrained when the
weight table has them), any module; input shapes of cnnlab-built models; old runs still load."""

import json

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from cnnlab import bundle, preprocess, spec, zoo
from cnnlab.errors import CheckpointError, ConfigError, DataError, UnknownNameError
from test_spec import branchy_model


def _resolve(ref):
    b = bundle.resolve(ref, pretrained=False)
    return b.model, b.desc, b.input_shape


def test_resolve_zoo_name_json_and_run_folder(tmp_path):
    model, desc, shape = _resolve("lenet5")
    assert desc == {"zoo": "lenet5", "kwargs": {}} and shape == (1, 28, 28)
    assert sum(p.numel() for p in model.parameters()) == 61_706

    spec.save({"zoo": "lecture_cnn", "kwargs": {"num_classes": 4}}, tmp_path / "m.json")
    model, desc, shape = _resolve(str(tmp_path / "m.json"))
    assert model.dense_1.out_features == 4 and shape == (1, 28, 28)

    run = tmp_path / "run"
    trained = zoo.create("lecture_cnn", num_classes=4)
    with torch.no_grad():
        trained.conv2d.weight.fill_(0.5)
    spec.save(trained, run / "model.json")
    save_file({k: v.contiguous() for k, v in trained.state_dict().items()}, str(run / "weights.safetensors"))
    model, desc, shape = _resolve(run)
    assert not model.training and torch.equal(model.conv2d.weight, trained.conv2d.weight)
    assert desc == {"zoo": "lecture_cnn", "kwargs": {"num_classes": 4}} and shape == (1, 28, 28)

    built_run = tmp_path / "built"
    spec.save(branchy_model(), built_run / "model.json")
    assert _resolve(built_run)[2] == (3, 8, 8)


def test_resolve_errors(tmp_path):
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(DataError, match=r"run folder '.*empty_run' has no model.json \(its model was not built by cnnlab\)"):
        bundle.resolve(tmp_path / "empty_run")
    with pytest.raises(UnknownNameError, match=r"MODEL 'resnet1000' is not a zoo name, a JSON description or a run "
                                               r"folder; zoo names: .*lenet5"):
        bundle.resolve("resnet1000")
    run = tmp_path / "run"
    spec.save({"zoo": "lenet5", "kwargs": {}}, run / "model.json")
    save_file({"features.0.weight": torch.zeros(6, 1, 5, 5)}, str(run / "weights.safetensors"))
    with pytest.raises(CheckpointError, match=r"weights in `.*weights.safetensors` do not match the model: missing"):
        bundle.resolve(run)
    (run / "weights.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match=r"weights file `.*weights.safetensors` is corrupt or truncated"):
        bundle.resolve(run)


def test_run_folder_bundle_carries_preprocessing_classes_and_task(tmp_path):
    from cnnlab import data
    from cnnlab.train import fit

    digits = data.load("digits")

    model = spec.build({"sequential": [{"class": "Flatten", "config": {}}, {"class": "Dense", "config": {"units": 10}}],
                        "input_shape": [1, 8, 8]})
    fit(model, digits.subset(train=64), epochs=1, out=tmp_path, batch_size=32, progress=False, precision="fp32",
        layout="nchw")
    b = bundle.resolve(tmp_path)
    assert b.source == "trained" and b.input_shape == (1, 8, 8) and b.classes == digits.classes
    assert b.task == {"name": "classification", "label_smoothing": 0.0, "topk": 5}
    assert isinstance(b.preprocess, preprocess.Normalize) and b.preprocess.mean == pytest.approx(digits.mean)
    x = digits.x_test[:4]
    torch.testing.assert_close(b.norm(x), (x - digits.mean[0]) / digits.std[0])
    # a run written before preprocessing was recorded: the data statistics are used, as fit used them then
    cfg = json.loads((tmp_path / "config.json").read_text())
    del cfg["preprocess"], cfg["task"], cfg["data"]["input_dtype"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    old = bundle.resolve(tmp_path)
    assert old.preprocess.to_config() == b.preprocess.to_config() and old.task is None
    from cnnlab.train import load_run

    assert load_run(tmp_path).task.name == "classification"
    assert bundle.resolve(tmp_path, weights="best").source == "trained"


def test_pretrained_zoo_weights_come_from_the_weight_table():
    from cnnlab.errors import MissingDependencyError

    try:
        b = bundle.resolve("mobilenet_v2")
    except MissingDependencyError as exc:  # the asset package is installed by scripts/setup.sh
        pytest.skip(f"MobileNetV2 weights not installed: {exc}")
    assert b.source == "pretrained" and len(b.classes) == 1000 and b.input_shape == (3, 224, 224)
    assert b.preprocess.to_config() == zoo.weight_spec("mobilenet_v2").normalizer().to_config()
    assert bundle.resolve("mobilenet_v2", pretrained=False).source == "random"
    assert bundle.resolve("lenet5").source == "random"  # no weight spec: random weights


def test_modules_and_shapes():
    from cnnlab.layers import Conv1D, Dense, Embedding, GlobalMaxPooling1D, Sequential

    text = Sequential([Embedding(20, 4), Conv1D(3, 2), GlobalMaxPooling1D(), Dense(2)], input_shape=(7,))
    b = bundle.resolve(text)
    assert (b.input_shape, b.input_dtype, b.source) == ((7,), "int64", "module")
    assert b.example(2).dtype == torch.int64 and b.model(b.example(2)).shape == (2, 2)
    assert bundle.input_shape_of(zoo.create("lenet5", in_channels=3)) == (3, 28, 28)
    plain = bundle.resolve(nn.Conv2d(1, 2, 3))
    assert plain.input_shape is None
    with pytest.raises(ConfigError, match="needs the input shape of Conv2d, which cnnlab did not build; pass it"):
        plain.example()
    with pytest.raises(TypeError, match="`model` must be a zoo name, a run folder, a JSON file or an nn.Module"):
        bundle.resolve(3)


def test_normalize_round_trip_and_errors():
    n = preprocess.Normalize((104.0, 116.0, 122.0), scale=255.0, bgr=True)
    x = torch.rand(2, 3, 4, 4)
    torch.testing.assert_close(n.inverse(n(x)), x)
    torch.testing.assert_close(n(x)[:, 0], x[:, 2] * 255 - 104.0)
    assert preprocess.from_config(n.to_config()).to_config() == n.to_config()
    assert isinstance(preprocess.from_config(None), preprocess.Identity)
    with pytest.raises(ConfigError, match="`std` must be > 0"):
        preprocess.Normalize((0.5,), (0.0,))
    with pytest.raises(ConfigError, match="kind 'normalize' or 'identity'"):
        preprocess.from_config({"kind": "whiten"})
    from cnnlab.errors import ShapeError

    with pytest.raises(ShapeError, match=r"Normalize expects \(..., 3, H, W\) images; got shape \(2, 1, 4, 4\)"):
        n(torch.rand(2, 1, 4, 4))


def test_tools_infer_the_input_shape_of_cnnlab_models():
    import cnnlab
    from cnnlab import explain

    lecture = zoo.create("lecture_cnn")
    assert cnnlab.summary(lecture).to_dict() == cnnlab.summary(lecture, (1, 28, 28)).to_dict()
    res = explain.maximize(lecture, layer=None, unit=3, kind="class", steps=3)
    assert res.image.shape == (1, 1, 28, 28)
    # a bundle brings its preprocessing: the same as passing mean/std by hand
    b = bundle.resolve(lecture)
    b.preprocess = preprocess.Normalize((0.1307,), (0.3081,))
    by_bundle = explain.maximize(b, unit=3, kind="class", steps=3)
    by_hand = explain.maximize(lecture, unit=3, kind="class", steps=3, mean=[0.1307], std=[0.3081])
    torch.testing.assert_close(by_bundle.image, by_hand.image)
    plain = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(72, 3))
    with pytest.raises(ConfigError, match="summary needs the input shape of Sequential, which cnnlab did not build"):
        cnnlab.summary(plain)
    with pytest.raises(ConfigError, match=r"`shape` must be \(C, H, W\) when `start` is not a tensor; got None"):
        explain.maximize(plain, unit=0, kind="class")
    assert cnnlab.summary(plain, (1, 8, 8)).to_dict()["input_shape"] == [1, 8, 8]
