#!/usr/bin/env bash
# Fuzzes the native API's stacks and software endpoints with schemathesis (PyPI) against a
# live `updraft server`, from the OpenAPI document it serves. Not part of the test command
# (it runs for minutes); the issue-8 note records a run.
#   bash tests/schemathesis/run.sh [SECONDS]   (default 240)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_BUDGET="${1:-240}"
VENV="$PWD/target/schemathesis-venv"
[ -x "$VENV/bin/schemathesis" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q schemathesis; }
cargo build -q --bin updraft
WORK="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
./target/debug/updraft server --bind 127.0.0.1:0 --admin-token fuzz --data-dir "$WORK" > "$WORK/out" 2> "$WORK/log" &
SERVER=$!
for _ in $(seq 100); do grep -q 'listening on' "$WORK/out" && break; sleep 0.1; done
BASE="$(sed -n 's/^updraft: listening on //p' "$WORK/out")"
# A stack and a config for the path parameters, so requests reach more than 404s.
ID="$(curl -fsS -X POST -H 'X-Auth-Token: fuzz' -H 'Content-Type: application/json' "$BASE/v1/demo/stacks" \
  -d '{"stack_name": "fuzzed", "template": {"heat_template_version": "2018-08-31", "parameters": {"p": {"type": "string", "default": "x"}}, "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "p"}}}}, "outputs": {"o": {"value": {"get_attr": ["v", "value"]}}}}}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["stack"]["id"])')"
CONFIG="$(curl -fsS -X POST -H 'X-Auth-Token: fuzz' -H 'Content-Type: application/json' "$BASE/v1/demo/software_configs" \
  -d '{"name": "c", "group": "script", "config": "echo"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["software_config"]["id"])')"
cat > "$WORK/schemathesis.toml" <<TOML
[parameters]
"path.project" = "demo"
"path.stack" = "fuzzed"
"path.id" = "$ID"
"path.key" = "o"
"path.config_id" = "$CONFIG"
TOML
cd "$WORK"
"$VENV/bin/schemathesis" run "$BASE/openapi.json" -H "X-Auth-Token: fuzz" \
  --include-tag stacks --include-tag software --max-time "$SECONDS_BUDGET" \
  --phases examples,coverage,fuzzing,stateful "${@:2}"
