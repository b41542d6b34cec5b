#!/usr/bin/env bash
# End-to-end acceptance script: drives ddb-harness with the AWS CLI.
#
#   DDB_ENDPOINT=http://127.0.0.1:8000 bash tests/cli/awscli.sh
#
# Creates a table, puts, gets, updates (UpdateExpression) and deletes items, describes and
# lists tables, checks every output, and deletes its table at the end. Exits non-zero with a
# message naming the failed check. Needs `aws` (v1 or v2) and python3 (for JSON checks).
set -euo pipefail

fail() {
    echo "awscli.sh: FAIL: $*" >&2
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

TABLE="awscli-$$-${RANDOM}${RANDOM}"
STEP="setup"

ddb() {
    aws --endpoint-url "$DDB_ENDPOINT" --output json dynamodb "$@"
}

cleanup() {
    local rc=$?
    ddb delete-table --table-name "$TABLE" >/dev/null 2>&1 || true
    if [[ $rc -ne 0 ]]; then
        echo "awscli.sh: failed during step: $STEP" >&2
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

# expect_error CODE ARGS...: runs `ddb ARGS...`, which must fail with the AWS error CODE.
expect_error() {
    local code=$1 out
    shift
    if out=$(ddb "$@" 2>&1); then
        echo "$out" >&2
        fail "[$STEP] 'aws dynamodb $*' succeeded, expected $code"
    fi
    if [[ "$out" != *"($code)"* ]]; then
        echo "$out" >&2
        fail "[$STEP] 'aws dynamodb $*' failed without $code"
    fi
    LAST_ERROR=$out
}

echo "awscli.sh: $(aws --version 2>&1) against $DDB_ENDPOINT, table $TABLE"

STEP="create-table"
out=$(ddb create-table \
    --table-name "$TABLE" \
    --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=N \
    --key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST)
expect "$out" 'd["TableDescription"]["TableName"]' "\"$TABLE\""
expect "$out" 'd["TableDescription"]["TableStatus"] in ("CREATING", "ACTIVE")' true
expect "$out" 'd["TableDescription"]["BillingModeSummary"]["BillingMode"]' '"PAY_PER_REQUEST"'

STEP="create-table (duplicate)"
expect_error ResourceInUseException create-table \
    --table-name "$TABLE" \
    --attribute-definitions AttributeName=pk,AttributeType=S \
    --key-schema AttributeName=pk,KeyType=HASH \
    --billing-mode PAY_PER_REQUEST
[[ "$LAST_ERROR" == *"Table already exists: $TABLE"* ]] || fail "[$STEP] unexpected message: $LAST_ERROR"

STEP="wait table-exists"
ddb wait table-exists --table-name "$TABLE"

STEP="describe-table"
out=$(ddb describe-table --table-name "$TABLE")
expect "$out" 'd["Table"]["TableName"]' "\"$TABLE\""
expect "$out" 'd["Table"]["TableStatus"]' '"ACTIVE"'
expect "$out" 'd["Table"]["KeySchema"]' '[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]'
expect "$out" 'sorted(d["Table"]["AttributeDefinitions"], key=lambda a: a["AttributeName"])' \
    '[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}]'
expect "$out" 'd["Table"]["TableArn"].startswith("arn:aws:dynamodb:") and d["Table"]["TableArn"].endswith(":table/" + d["Table"]["TableName"])' true
expect "$out" 'd["Table"]["ItemCount"]' 0
expect "$out" 'd["Table"]["BillingModeSummary"]["BillingMode"]' '"PAY_PER_REQUEST"'

STEP="list-tables"
out=$(ddb list-tables)
expect "$out" "\"$TABLE\" in d[\"TableNames\"]" true
# The CLI follows LastEvaluatedTableName itself; one table per page exercises that.
out=$(ddb list-tables --page-size 1)
expect "$out" "\"$TABLE\" in d[\"TableNames\"]" true
expect "$out" 'd["TableNames"] == sorted(d["TableNames"])' true
expect "$out" 'len(d["TableNames"]) == len(set(d["TableNames"]))' true

STEP="put-item"
out=$(ddb put-item --table-name "$TABLE" --item '{
    "pk": {"S": "user#1"}, "sk": {"N": "1"},
    "name": {"S": "Ada"}, "score": {"N": "10"}, "tags": {"SS": ["a", "b"]},
    "profile": {"M": {"langs": {"L": [{"S": "en"}, {"S": "fr"}]}, "active": {"BOOL": true}}}
}')
expect "$out" 'd.get("Attributes")' null
ddb put-item --table-name "$TABLE" --item '{"pk": {"S": "user#2"}, "sk": {"N": "2"}, "name": {"S": "Alan"}}' >/dev/null

STEP="put-item (condition fails)"
expect_error ConditionalCheckFailedException put-item --table-name "$TABLE" \
    --item '{"pk": {"S": "user#1"}, "sk": {"N": "1"}, "name": {"S": "Impostor"}}' \
    --condition-expression "attribute_not_exists(pk)"
[[ "$LAST_ERROR" == *"The conditional request failed"* ]] || fail "[$STEP] unexpected message: $LAST_ERROR"

STEP="get-item"
out=$(ddb get-item --table-name "$TABLE" --key '{"pk": {"S": "user#1"}, "sk": {"N": "1"}}' --consistent-read)
expect "$out" 'd["Item"]["name"]' '{"S": "Ada"}'
expect "$out" 'd["Item"]["score"]' '{"N": "10"}'
expect "$out" 'sorted(d["Item"]["tags"]["SS"])' '["a", "b"]'
expect "$out" 'd["Item"]["profile"]' '{"M": {"langs": {"L": [{"S": "en"}, {"S": "fr"}]}, "active": {"BOOL": true}}}'

STEP="get-item (missing)"
out=$(ddb get-item --table-name "$TABLE" --key '{"pk": {"S": "nobody"}, "sk": {"N": "1"}}')
expect "$out" '"Item" in d' false

STEP="get-item (wrong key type)"
expect_error ValidationException get-item --table-name "$TABLE" --key '{"pk": {"N": "1"}, "sk": {"N": "1"}}'
[[ "$LAST_ERROR" == *"The provided key element does not match the schema"* ]] || fail "[$STEP] unexpected message: $LAST_ERROR"

STEP="update-item"
out=$(ddb update-item --table-name "$TABLE" \
    --key '{"pk": {"S": "user#1"}, "sk": {"N": "1"}}' \
    --update-expression "SET #n = :n, score = score + :inc, profile.langs = list_append(profile.langs, :more) REMOVE tags ADD visits :one" \
    --condition-expression "attribute_exists(pk)" \
    --expression-attribute-names '{"#n": "name"}' \
    --expression-attribute-values '{":n": {"S": "Grace"}, ":inc": {"N": "5"}, ":more": {"L": [{"S": "de"}]}, ":one": {"N": "1"}}' \
    --return-values ALL_NEW)
expect "$out" 'd["Attributes"]["name"]' '{"S": "Grace"}'
expect "$out" 'd["Attributes"]["score"]' '{"N": "15"}'
expect "$out" 'd["Attributes"]["visits"]' '{"N": "1"}'
expect "$out" 'd["Attributes"]["profile"]["M"]["langs"]' '{"L": [{"S": "en"}, {"S": "fr"}, {"S": "de"}]}'
expect "$out" '"tags" in d["Attributes"]' false

STEP="update-item (UPDATED_OLD)"
out=$(ddb update-item --table-name "$TABLE" \
    --key '{"pk": {"S": "user#1"}, "sk": {"N": "1"}}' \
    --update-expression "ADD visits :one" \
    --expression-attribute-values '{":one": {"N": "1"}}' \
    --return-values UPDATED_OLD)
expect "$out" 'd["Attributes"]' '{"visits": {"N": "1"}}'

STEP="update-item (condition fails)"
expect_error ConditionalCheckFailedException update-item --table-name "$TABLE" \
    --key '{"pk": {"S": "user#9"}, "sk": {"N": "9"}}' \
    --update-expression "SET #n = :n" \
    --condition-expression "attribute_exists(pk)" \
    --expression-attribute-names '{"#n": "name"}' \
    --expression-attribute-values '{":n": {"S": "Ghost"}}'

STEP="get-item (after update)"
out=$(ddb get-item --table-name "$TABLE" --key '{"pk": {"S": "user#1"}, "sk": {"N": "1"}}' \
    --projection-expression "#n, score, visits" --expression-attribute-names '{"#n": "name"}')
expect "$out" 'd["Item"]' '{"name": {"S": "Grace"}, "score": {"N": "15"}, "visits": {"N": "2"}}'

STEP="describe-table (item count)"
out=$(ddb describe-table --table-name "$TABLE")
expect "$out" 'd["Table"]["ItemCount"]' 2

STEP="delete-item"
out=$(ddb delete-item --table-name "$TABLE" --key '{"pk": {"S": "user#2"}, "sk": {"N": "2"}}' --return-values ALL_OLD)
expect "$out" 'd["Attributes"]' '{"pk": {"S": "user#2"}, "sk": {"N": "2"}, "name": {"S": "Alan"}}'
out=$(ddb get-item --table-name "$TABLE" --key '{"pk": {"S": "user#2"}, "sk": {"N": "2"}}')
expect "$out" '"Item" in d' false
out=$(ddb describe-table --table-name "$TABLE")
expect "$out" 'd["Table"]["ItemCount"]' 1

STEP="delete-item (condition fails)"
expect_error ConditionalCheckFailedException delete-item --table-name "$TABLE" \
    --key '{"pk": {"S": "user#1"}, "sk": {"N": "1"}}' \
    --condition-expression "score > :max" --expression-attribute-values '{":max": {"N": "100"}}'

STEP="update-table"
out=$(ddb update-table --table-name "$TABLE" --billing-mode PROVISIONED \
    --provisioned-throughput ReadCapacityUnits=2,WriteCapacityUnits=3)
expect "$out" 'd["TableDescription"]["BillingModeSummary"]["BillingMode"]' '"PROVISIONED"'
ddb wait table-exists --table-name "$TABLE"
out=$(ddb describe-table --table-name "$TABLE")
expect "$out" '[d["Table"]["ProvisionedThroughput"][k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")]' '[2, 3]'

STEP="delete-table"
out=$(ddb delete-table --table-name "$TABLE")
expect "$out" 'd["TableDescription"]["TableName"]' "\"$TABLE\""
ddb wait table-not-exists --table-name "$TABLE"
out=$(ddb list-tables)
expect "$out" "\"$TABLE\" in d[\"TableNames\"]" false

STEP="describe-table (deleted)"
expect_error ResourceNotFoundException describe-table --table-name "$TABLE"
[[ "$LAST_ERROR" == *"Requested resource not found: Table: $TABLE not found"* ]] || fail "[$STEP] unexpected message: $LAST_ERROR"

STEP="done"
echo "awscli.sh: all checks passed"
