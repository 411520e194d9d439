"""Filters, feature maps and diagnostics against direct computations."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnnlab.errors import ConfigError, ShapeError
from cnnlab.explain import confident_mistakes, confusion_matrix, feature_maps, filters, per_class_accuracy, predict_proba


def test_filters_layouts(trained_cnn):
    w0 = trained_cnn.features[0].weight
    torch.testing.assert_close(filters(trained_cnn), w0.detach())
    w3 = trained_cnn.features[3].weight.detach()  # (16, 8, 3, 3)
    ch = filters(trained_cnn, "features.3", max_channels=2)
    assert ch.shape == (32, 1, 3, 3)
    torch.testing.assert_close(ch[3, 0], w3[1, 1])
    torch.testing.assert_close(filters(trained_cnn, "features.3", mode="norm")[:, 0], w3.norm(dim=1))
    with pytest.raises(ConfigError, match=r"`mode`='rgb' needs 1 or 3 input channels; the layer has 8"):
        filters(trained_cnn, "features.3", mode="rgb")
    with pytest.raises(ShapeError, match=r"`layer` must be a 2-D convolution"):
        filters(trained_cnn, "features.1")


def test_feature_maps_equal_the_layer_output(trained_cnn, digits):
    x = digits[0][:3]
    fm = feature_maps(trained_cnn, "features.0", x)
    torch.testing.assert_close(fm, F.conv2d(x, trained_cnn.features[0].weight, trained_cnn.features[0].bias, padding=1))
    relu_out = feature_maps(trained_cnn, "features.1", x)  # the in-place ReLU's output
    torch.testing.assert_close(relu_out, fm.clamp(min=0))


def test_diagnostics(trained_cnn, digits):
    from sklearn.metrics import confusion_matrix as sk_cm

    x, y = digits
    probs = predict_proba(trained_cnn, x, batch_size=100)
    torch.testing.assert_close(probs.sum(1), torch.ones(len(x)))
    pred = probs.argmax(1)
    cm = confusion_matrix(y, pred, 10)
    assert cm.tolist() == sk_cm(y.numpy(), pred.numpy(), labels=list(range(10))).tolist()
    acc = per_class_accuracy(cm)
    assert acc[3].item() == pytest.approx(((pred == 3) & (y == 3)).sum().item() / (y == 3).sum().item())
    mistakes = confident_mistakes(probs, y, k=5)
    assert 0 < len(mistakes) <= 5
    confs = [m.confidence for m in mistakes]
    assert confs == sorted(confs, reverse=True)
    wrong = pred != y
    assert confs[0] == pytest.approx(probs.max(1).values[wrong].max().item())
    for m in mistakes:
        assert m.true == int(y[m.index]) and m.predicted == int(pred[m.index]) != m.true
    with pytest.raises(ShapeError, match=r"`y_true` and `y_pred` must have the same length; got 3 and 2"):
        confusion_matrix([0, 1, 2], [0, 1], 3)
