"""Applications of CNNs beyond image classification, one sub-package each (text, speech, go, superres, ...).

An application brings its data loading, its models (registered in the zoo), its metrics as a task and a
thin CLI module; it never writes its own training loop, model loader, normaliser or explanation
dispatcher (it uses :func:`cnnlab.train.fit`, :func:`cnnlab.bundle.resolve`, the tasks and the
explanation registry).

``MODEL_MODULES`` names each application's model module; the zoo imports them on first lookup, so
``cnnlab.zoo.create("textcnn")`` works without importing the application first.
"""

from __future__ import annotations

MODEL_MODULES: tuple[str, ...] = ("cnnlab.apps.speech.models", "cnnlab.apps.text.model", "cnnlab.apps.go.models")
