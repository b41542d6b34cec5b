#!/usr/bin/env bash
# DynamoDB Streams walkthrough with the AWS CLI against ddb-harness:
#
#   DDB_ENDPOINT=http://127.0.0.1:8000 bash tests/cli/streams.sh
#
# Creates a table with a NEW_AND_OLD_IMAGES stream, puts, updates and deletes an item, then
# reads the stream the way a user would (list-streams, describe-stream, get-shard-iterator
# TRIM_HORIZON, get-records until a read is empty) and checks that exactly three records
# arrive: INSERT, MODIFY and REMOVE with the right keys and images. Deletes its table at the
# end. Exits non-zero with a message naming the failed check. Needs `aws` (v1 or v2) and
# python3 (for JSON checks).
set -euo pipefail

fail() {
    echo "streams.sh: FAIL: $*" >&2
    exit 1
}

[[ -n "${DDB_ENDPOINT:-}" ]] || fail "DDB_ENDPOINT is not set (e.g. DDB_ENDPOINT=http://127.0.0.1:8000)"
command -v aws >/dev/null 2>&1 || fail "the AWS CLI ('aws') is not installed: pip install awscli, or see https://aws.amazon.com/cli/"
command -v python3 >/dev/null 2>&1 || fail "python3 is needed for the JSON checks"

# Dummy credentials are enough; never touch a real account's settings.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_PAGER=""
export AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_SESSION_TOKEN || true

TABLE="streams-$$-${RANDOM}${RANDOM}"
STEP="setup"

ddb() {
    aws --endpoint-url "$DDB_ENDPOINT" --output json dynamodb "$@"
}

ddbs() {
    aws --endpoint-url "$DDB_ENDPOINT" --output json dynamodbstreams "$@"
}

cleanup() {
    local rc=$?
    ddb delete-table --table-name "$TABLE" >/dev/null 2>&1 || true
    if [[ $rc -ne 0 ]]; then
        echo "streams.sh: failed during step: $STEP" >&2
    fi
}
trap cleanup EXIT

# json_get JSON EXPR: evaluates the Python expression EXPR with `d` bound to the parsed JSON
# (an empty output is {}) and prints the result as JSON.
json_get() {
    python3 -c '
import json, sys
text = sys.argv[1].strip()
d = json.loads(text) if text else {}
try:
    v = eval(sys.argv[2], {"d": d})
except Exception as e:
    v = "<%s: %s>" % (type(e).__name__, e)
print(json.dumps(v, sort_keys=True))
' "$1" "$2"
}

# json_raw JSON EXPR: like json_get, but prints a string result without quotes.
json_raw() {
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
v = eval(sys.argv[2], {"d": d})
print(v if isinstance(v, str) else json.dumps(v))
' "$1" "$2"
}

# expect JSON EXPR EXPECTED_JSON: fails unless EXPR over JSON equals EXPECTED_JSON.
expect() {
    local json=$1 expr=$2 expected=$3 actual want
    actual=$(json_get "$json" "$expr")
    want=$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))' "$expected")
    if [[ "$actual" != "$want" ]]; then
        echo "--- output was:" >&2
        echo "$json" >&2
        fail "[$STEP] $expr: expected $want, got $actual"
    fi
}

echo "streams.sh: $(aws --version 2>&1) against $DDB_ENDPOINT, table $TABLE"

STEP="create-table"
out=$(ddb create-table \
    --table-name "$TABLE" \
    --attribute-definitions AttributeName=pk,AttributeType=S \
    --key-schema AttributeName=pk,KeyType=HASH \
    --billing-mode PAY_PER_REQUEST \
    --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)
expect "$out" 'd["TableDescription"]["StreamSpecification"]' '{"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}'
expect "$out" 'd["TableDescription"]["LatestStreamArn"].startswith(d["TableDescription"]["TableArn"] + "/stream/")' true
ddb wait table-exists --table-name "$TABLE"

STEP="put-item"
ddb put-item --table-name "$TABLE" --item '{"pk": {"S": "order#1"}, "status": {"S": "new"}, "qty": {"N": "1"}}' >/dev/null

STEP="put-item (unchanged)"
# The same item again changes nothing, so it writes no record.
ddb put-item --table-name "$TABLE" --item '{"pk": {"S": "order#1"}, "status": {"S": "new"}, "qty": {"N": "1"}}' >/dev/null

STEP="update-item"
ddb update-item --table-name "$TABLE" --key '{"pk": {"S": "order#1"}}' \
    --update-expression "SET #s = :s" \
    --expression-attribute-names '{"#s": "status"}' \
    --expression-attribute-values '{":s": {"S": "shipped"}}' >/dev/null

STEP="delete-item"
ddb delete-item --table-name "$TABLE" --key '{"pk": {"S": "order#1"}}' >/dev/null

STEP="list-streams"
out=$(ddbs list-streams --table-name "$TABLE")
expect "$out" 'len(d["Streams"])' 1
expect "$out" 'd["Streams"][0]["TableName"]' "\"$TABLE\""
ARN=$(json_raw "$out" 'd["Streams"][0]["StreamArn"]')
table_out=$(ddb describe-table --table-name "$TABLE")
expect "$table_out" 'd["Table"]["LatestStreamArn"]' "\"$ARN\""

STEP="describe-stream"
out=$(ddbs describe-stream --stream-arn "$ARN")
expect "$out" 'd["StreamDescription"]["StreamArn"]' "\"$ARN\""
expect "$out" 'd["StreamDescription"]["StreamStatus"]' '"ENABLED"'
expect "$out" 'd["StreamDescription"]["StreamViewType"]' '"NEW_AND_OLD_IMAGES"'
expect "$out" 'd["StreamDescription"]["TableName"]' "\"$TABLE\""
expect "$out" 'len(d["StreamDescription"]["Shards"]) >= 1' true
SHARDS=$(json_raw "$out" '" ".join(s["ShardId"] for s in d["StreamDescription"]["Shards"])')

STEP="get-shard-iterator / get-records"
RECORDS='[]'
for shard in $SHARDS; do
    it_out=$(ddbs get-shard-iterator --stream-arn "$ARN" --shard-id "$shard" --shard-iterator-type TRIM_HORIZON)
    ITER=$(json_raw "$it_out" 'd.get("ShardIterator") or ""')
    for _ in $(seq 1 100); do
        [[ -n "$ITER" ]] || break
        page=$(ddbs get-records --shard-iterator "$ITER")
        n=$(json_raw "$page" 'len(d["Records"])')
        [[ "$n" != 0 ]] || break
        RECORDS=$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]) + json.loads(sys.argv[2])["Records"]))' "$RECORDS" "$page")
        ITER=$(json_raw "$page" 'd.get("NextShardIterator") or ""')
    done
done

STEP="check records"
KEY='{"pk": {"S": "order#1"}}'
V1='{"pk": {"S": "order#1"}, "status": {"S": "new"}, "qty": {"N": "1"}}'
V2='{"pk": {"S": "order#1"}, "status": {"S": "shipped"}, "qty": {"N": "1"}}'
expect "$RECORDS" '[r["eventName"] for r in d]' '["INSERT", "MODIFY", "REMOVE"]'
expect "$RECORDS" 'sorted({r["eventSource"] for r in d})' '["aws:dynamodb"]'
expect "$RECORDS" 'sorted({r["eventVersion"] for r in d})' '["1.1"]'
expect "$RECORDS" 'sorted({r["awsRegion"] for r in d})' "[\"$AWS_DEFAULT_REGION\"]"
expect "$RECORDS" '[r["dynamodb"]["Keys"] for r in d]' "[$KEY, $KEY, $KEY]"
expect "$RECORDS" '[int(r["dynamodb"]["SequenceNumber"]) for r in d] == sorted({int(r["dynamodb"]["SequenceNumber"]) for r in d})' true
expect "$RECORDS" 'd[0]["dynamodb"].get("NewImage")' "$V1"
expect "$RECORDS" '"OldImage" in d[0]["dynamodb"]' false
expect "$RECORDS" 'd[1]["dynamodb"].get("OldImage")' "$V1"
expect "$RECORDS" 'd[1]["dynamodb"].get("NewImage")' "$V2"
expect "$RECORDS" 'd[2]["dynamodb"].get("OldImage")' "$V2"
expect "$RECORDS" '"NewImage" in d[2]["dynamodb"]' false

STEP="delete-table"
ddb delete-table --table-name "$TABLE" >/dev/null
ddb wait table-not-exists --table-name "$TABLE"

STEP="done"
echo "streams.sh: all checks passed"
