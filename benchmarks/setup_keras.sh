#!/usr/bin/env bash
# Keras 3 / TensorFlow for the speed comparisons, in a venv of its own (about 1.3 GB; cnnlab's venv stays small).
# Idempotent: `bash benchmarks/setup_keras.sh`; the benchmarks find benchmarks/.venv-keras by themselves.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv-keras/bin/python ]; then
    "$PYTHON" -m venv .venv-keras
fi
if ! .venv-keras/bin/python -c "import tensorflow, keras" 2>/dev/null; then
    .venv-keras/bin/pip install -q "tensorflow-cpu==2.21.0" "keras==3.15.1"
fi
.venv-keras/bin/python -c "import os; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'; import tensorflow as tf, keras; print('setup_keras: tensorflow', tf.__version__, 'keras', keras.__version__)"
