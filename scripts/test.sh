#!/usr/bin/env bash
# What `make test` runs: starts DynamoDB Local (kumo runs in-process in the
# tests), runs every test with the race detector, stops the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
endpoint=$(scripts/dynamodb-local.sh start)
trap 'scripts/dynamodb-local.sh stop' EXIT
echo "DynamoDB Local at $endpoint"
DYNAMODB_LOCAL_ENDPOINT=$endpoint go test -race -count=1 "${@:-./...}"
