#!/usr/bin/env bash
# The PartiQL statements of AWS's developer guide ("PartiQL select/insert/update/delete
# statements for DynamoDB", ../shared/reference/aws-devguide-docs/ql-reference.*.md) run with
# `aws dynamodb execute-statement` against ddb-harness, checking the documented results:
#
#   DDB_ENDPOINT=http://127.0.0.1:8000 bash tests/cli/partiql.sh
#
# Creates the guide's tables (Music, Orders with an index, WatchList), which must not exist,
# and deletes them at the end. Where the guide abbreviates a result (its RETURNING ALL NEW *
# output leaves out the key attributes), the check is on the attributes it shows. Exits
# non-zero with a message naming the failed check. Needs `aws` (v1 or v2) and python3.
set -euo pipefail

fail() {
    echo "partiql.sh: FAIL: $*" >&2
    exit 1
}

[[ -n "${DDB_ENDPOINT:-}" ]] || fail "DDB_ENDPOINT is not set (e.g. DDB_ENDPOINT=http://127.0.0.1:8000)"
command -v aws >/dev/null 2>&1 || fail "the AWS CLI ('aws') is not installed: pip install awscli, or see https://aws.amazon.com/cli/"
command -v python3 >/dev/null 2>&1 || fail "python3 is needed for the JSON checks"

export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_PAGER=""
export AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_SESSION_TOKEN || true

STEP="setup"
ddb() {
    aws --endpoint-url "$DDB_ENDPOINT" --output json dynamodb "$@"
}

cleanup() {
    local rc=$?
    for t in Music Orders WatchList; do
        ddb delete-table --table-name "$t" >/dev/null 2>&1 || true
    done
    if [[ $rc -ne 0 ]]; then
        echo "partiql.sh: failed during step: $STEP" >&2
    fi
}
trap cleanup EXIT

# expect JSON EXPR EXPECTED_JSON: fails unless the Python expression EXPR, with `d` bound to
# the parsed JSON, equals EXPECTED_JSON.
expect() {
    local json=$1 expr=$2 expected=$3 actual want
    actual=$(python3 -c '
import json, sys
text = sys.argv[1].strip()
d = json.loads(text) if text else {}
try:
    v = eval(sys.argv[2], {"d": d})
except Exception as e:
    v = "<%s: %s>" % (type(e).__name__, e)
print(json.dumps(v, sort_keys=True))
' "$json" "$expr")
    want=$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))' "$expected")
    if [[ "$actual" != "$want" ]]; then
        echo "--- output was:" >&2
        echo "$json" >&2
        fail "[$STEP] $expr: expected $want, got $actual"
    fi
}

# run STATEMENT: execute-statement, printing the response.
run() {
    STEP="$1"
    ddb execute-statement --statement "$1"
}

# run_fails STATEMENT ERROR: the statement must fail with ERROR (an AWS error code).
run_fails() {
    STEP="$1"
    local err
    if err=$(ddb execute-statement --statement "$1" 2>&1); then
        fail "[$STEP] succeeded; expected $2"
    fi
    [[ "$err" == *"$2"* ]] || fail "[$STEP] expected $2, got: $err"
}

echo "partiql.sh: $(aws --version 2>&1) against $DDB_ENDPOINT"

STEP="create tables"
ddb create-table --table-name Music \
    --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S \
    --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST >/dev/null
ddb create-table --table-name Orders \
    --attribute-definitions AttributeName=OrderID,AttributeType=N AttributeName=Total,AttributeType=N \
    --key-schema AttributeName=OrderID,KeyType=HASH \
    --global-secondary-indexes 'IndexName=ByTotal,KeySchema=[{AttributeName=Total,KeyType=HASH}],Projection={ProjectionType=ALL}' \
    --billing-mode PAY_PER_REQUEST >/dev/null
ddb create-table --table-name WatchList \
    --attribute-definitions AttributeName=CustomerID,AttributeType=S AttributeName=MovieID,AttributeType=S \
    --key-schema AttributeName=CustomerID,KeyType=HASH AttributeName=MovieID,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST >/dev/null

# ql-reference.insert.md
out=$(run "INSERT INTO \"Music\" value {'Artist' : 'Acme Band','SongTitle' : 'PartiQL Rocks'}")
expect "$out" 'd["Items"]' '[]'
# "If the DynamoDB table already has an item with the same primary key … DuplicateItemException"
# (DynamoDB Local types it `DuplicateItem`; AWS's model and guide say DuplicateItemException.)
run_fails "INSERT INTO \"Music\" value {'Artist' : 'Acme Band','SongTitle' : 'PartiQL Rocks'}" DuplicateItem

# ql-reference.update.md
out=$(run "UPDATE \"Music\" SET AwardsWon=1 SET AwardDetail={'Grammys':[2020, 2018]} WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks' RETURNING ALL OLD *")
expect "$out" 'd' '{"Items": [{"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "PartiQL Rocks"}}]}'
out=$(run "UPDATE \"Music\" SET AwardsWon=1 SET AwardDetail={'Grammys':[2020, 2018]} WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks' RETURNING ALL NEW *")
expect "$out" '{k: d["Items"][0][k] for k in ("AwardDetail", "AwardsWon")}' \
    '{"AwardDetail": {"M": {"Grammys": {"L": [{"N": "2020"}, {"N": "2018"}]}}}, "AwardsWon": {"N": "1"}}'
expect "$out" 'd["Items"][0]["Artist"]' '{"S": "Acme Band"}'
out=$(run "UPDATE \"Music\" SET AwardDetail.Grammys =list_append(AwardDetail.Grammys,[2016]) WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'")
expect "$out" 'd["Items"]' '[]'
out=$(run "SELECT AwardDetail FROM \"Music\" WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'")
expect "$out" 'd["Items"][0]["AwardDetail"]["M"]["Grammys"]' '{"L": [{"N": "2020"}, {"N": "2018"}, {"N": "2016"}]}'
run "UPDATE \"Music\" REMOVE AwardDetail.Grammys[2] WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'" >/dev/null
out=$(run "SELECT AwardDetail FROM \"Music\" WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'")
expect "$out" 'd["Items"][0]["AwardDetail"]["M"]["Grammys"]' '{"L": [{"N": "2020"}, {"N": "2018"}]}'
run "UPDATE \"Music\" SET AwardDetail.BillBoard=[2020] WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'" >/dev/null
out=$(run "SELECT AwardDetail.BillBoard FROM \"Music\" WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'")
expect "$out" 'd["Items"]' '[{"BillBoard": {"L": [{"N": "2020"}]}}]'
run "UPDATE \"Music\" SET BandMembers =<<'member1', 'member2'>> WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'" >/dev/null
out=$(run "SELECT BandMembers FROM \"Music\" WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'")
expect "$out" 'sorted(d["Items"][0]["BandMembers"]["SS"])' '["member1", "member2"]'
run "UPDATE \"Music\" SET BandMembers =set_add(BandMembers, <<'newbandmember'>>) WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'" >/dev/null
out=$(run "SELECT BandMembers FROM \"Music\" WHERE Artist='Acme Band' AND SongTitle='PartiQL Rocks'")
expect "$out" 'sorted(d["Items"][0]["BandMembers"]["SS"])' '["member1", "member2", "newbandmember"]'
# "If the WHERE clause … does not evaluate to true for any item …, ConditionalCheckFailedException"
run_fails "UPDATE \"Music\" SET AwardsWon=1 WHERE Artist='Nobody' AND SongTitle='PartiQL Rocks'" ConditionalCheckFailedException

# ql-reference.delete.md
out=$(run "DELETE FROM \"Music\" WHERE \"Artist\" = 'Acme Band' AND \"SongTitle\" = 'PartiQL Rocks'")
expect "$out" 'd["Items"]' '[]'
out=$(run "SELECT * FROM \"Music\" WHERE Artist='Acme Band'")
expect "$out" 'd["Items"]' '[]'
# "If the DynamoDB table does not have any item with the same primary key … SUCCESS is returned"
out=$(run "DELETE FROM \"Music\" WHERE \"Artist\" = 'Acme Band' AND \"SongTitle\" = 'PartiQL Rocks'")
expect "$out" 'd["Items"]' '[]'
run "INSERT INTO \"Music\" value {'Artist' : 'Acme Band','SongTitle' : 'PartiQL Rocks'}" >/dev/null
out=$(run "DELETE FROM \"Music\" WHERE \"Artist\" = 'Acme Band' AND \"SongTitle\" = 'PartiQL Rocks' RETURNING ALL OLD *")
expect "$out" 'd' '{"Items": [{"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "PartiQL Rocks"}}]}'

# ql-reference.select.md
for o in "1, 450, 'some address'" "2, 550, 'elsewhere'" "3, 600, 'some address'" "100, 700, 'some address'"; do
    IFS=, read -r id total address <<<"$o"
    run "INSERT INTO \"Orders\" VALUE {'OrderID': $id, 'Total': $total, 'Address': $address}" >/dev/null
done
out=$(run "SELECT OrderID, Total FROM \"Orders\" WHERE OrderID = 1")
expect "$out" 'd["Items"]' '[{"OrderID": {"N": "1"}, "Total": {"N": "450"}}]'
out=$(run "SELECT OrderID, Total FROM \"Orders\" WHERE OrderID = 1 OR OrderID = 2")
expect "$out" 'sorted(int(i["OrderID"]["N"]) for i in d["Items"])' '[1, 2]'
out=$(run "SELECT OrderID, Total FROM \"Orders\" WHERE OrderID IN [1, 2, 3] ORDER BY OrderID DESC")
expect "$out" '[int(i["OrderID"]["N"]) for i in d["Items"]]' '[3, 2, 1]'
out=$(run "SELECT OrderID, Total FROM \"Orders\" WHERE Total > 500")
expect "$out" 'sorted(int(i["OrderID"]["N"]) for i in d["Items"])' '[2, 3, 100]'
out=$(run "SELECT OrderID, Total FROM \"Orders\" WHERE Total IN [500, 600]")
expect "$out" '[int(i["OrderID"]["N"]) for i in d["Items"]]' '[3]'
out=$(run "SELECT OrderID, Total FROM \"Orders\" WHERE Total BETWEEN 500 AND 600")
expect "$out" 'sorted(int(i["OrderID"]["N"]) for i in d["Items"])' '[2, 3]'
out=$(run "SELECT * FROM \"Orders\" WHERE OrderID = 100")
expect "$out" 'd["Items"]' '[{"Address": {"S": "some address"}, "OrderID": {"N": "100"}, "Total": {"N": "700"}}]'
out=$(run "SELECT * FROM \"Orders\" WHERE OrderID = 100 and Address='some address'")
expect "$out" 'len(d["Items"])' '1'
out=$(run "SELECT * FROM \"Orders\" WHERE OrderID = 100 or pk = 200")
expect "$out" '[i["OrderID"]["N"] for i in d["Items"]]' '["100"]'
out=$(run "SELECT * FROM \"Orders\" WHERE OrderID IN [100, 300, 234]")
expect "$out" '[i["OrderID"]["N"] for i in d["Items"]]' '["100"]'
out=$(run "SELECT * FROM \"Orders\" WHERE OrderID > 1")
expect "$out" 'sorted(int(i["OrderID"]["N"]) for i in d["Items"])' '[2, 3, 100]'
out=$(run "SELECT * FROM \"Orders\" WHERE Address='some address'")
expect "$out" 'sorted(int(i["OrderID"]["N"]) for i in d["Items"])' '[1, 3, 100]'
out=$(run "SELECT * FROM \"Orders\" WHERE OrderID = 100 OR Address='some address'")
expect "$out" 'sorted(int(i["OrderID"]["N"]) for i in d["Items"])' '[1, 3, 100]'
out=$(run "SELECT * FROM \"Orders\".\"ByTotal\" WHERE Total = 550")
expect "$out" '[i["OrderID"]["N"] for i in d["Items"]]' '["2"]'
out=$(run "SELECT * FROM \"Orders\"")
expect "$out" 'len(d["Items"])' '4'

run "INSERT INTO \"WatchList\" VALUE {'CustomerID': 'C1', 'MovieID': 'M1', 'Devices': {'FireStick': {'DateWatched': ['12/14/19', '11/11/19']}}}" >/dev/null
run "INSERT INTO \"WatchList\" VALUE {'CustomerID': 'C2', 'MovieID': 'M1', 'Devices': {'FireStick': {'DateWatched': ['01/01/19']}}}" >/dev/null
out=$(run "SELECT Devices.FireStick.DateWatched[0] FROM WatchList WHERE CustomerID= 'C1' AND MovieID= 'M1'")
expect "$out" 'd["Items"]' '[{"DateWatched[0]": {"S": "12/14/19"}}]'
out=$(run "SELECT Devices FROM WatchList WHERE Devices.FireStick.DateWatched[0] >= '12/12/19'")
expect "$out" 'len(d["Items"])' '1'
expect "$out" 'd["Items"][0]["Devices"]["M"]["FireStick"]["M"]["DateWatched"]["L"][0]' '{"S": "12/14/19"}'

STEP="paging with --limit"
out=$(ddb execute-statement --statement "SELECT * FROM \"Orders\"" --limit 3)
expect "$out" 'len(d["Items"]) <= 3 and "NextToken" in d' 'true'

echo "partiql.sh: ok"
