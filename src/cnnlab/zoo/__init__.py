"""The cnnlab model zoo: classic CNN architectures as plain ``torch.nn`` modules.

``create(name, **kwargs)`` builds a model with random weights, ``info(name)`` describes it, ``names()``
lists them. Architectures that torchvision also has use its module structure and state-dict key names
(so its weight files load) and match its parameter counts. Pretrained weights come only from offline
asset packages (:mod:`cnnlab.zoo.weights`): ``load_pretrained``, ``weight_spec``, ``vgg16_trunk``,
``imagenet_classes``.
"""

from __future__ import annotations

from cnnlab.zoo.registry import create, info, input_shape_for, names, register
from cnnlab.zoo.weights import (WeightSpec, asset_path, imagenet_classes, load_pretrained, vgg16_trunk,
                                weight_spec)

# importing a family registers its models
from cnnlab.zoo import (seeds, lenet, alexnet, vgg, googlenet, nin, resnet, mobilenet,  # noqa: E402,F401  isort: skip
                        efficientnet, dilated, srcnn, fsrcnn, espcn)

__all__ = ["create", "info", "names", "register", "input_shape_for", "load_pretrained", "weight_spec",
           "WeightSpec", "asset_path", "vgg16_trunk", "imagenet_classes"]
