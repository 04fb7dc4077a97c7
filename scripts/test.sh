#!/usr/bin/env bash
# What `make test` runs: installs the Lambda Runtime Interface Emulator,
# starts DynamoDB Local (kumo runs in-process in the tests), runs every test
# with the race detector, stops the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Lambda Runtime Interface Emulator, for the binaries' smoke test.
[ -x .tools/bin/aws-lambda-rie ] || GOBIN="$PWD/.tools/bin" go install \
  github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
# The setup page's browser tests (web/): Debian's chromium and axe-core
# (pinned in web/package-lock.json); without them the tests would skip, so
# here they must run.
command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }
[ -f web/node_modules/axe-core/axe.min.js ] || npm ci --prefix web --no-audit --no-fund
export WEB_BROWSER_REQUIRED=1
endpoint=$(scripts/dynamodb-local.sh start)
trap 'scripts/dynamodb-local.sh stop' EXIT
echo "DynamoDB Local at $endpoint"
JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 DYNAMODB_LOCAL_ENDPOINT=$endpoint go test -race -count=1 "${@:-./...}"
