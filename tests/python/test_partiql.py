"""PartiQL through boto3 against ddb-harness: ExecuteStatement (parameters, every literal
type, paging with NextToken), BatchExecuteStatement (per-statement errors) and
ExecuteTransaction (all or nothing, cancellation reasons, idempotency tokens).

The endpoint comes from ``DDB_ENDPOINT``; every test creates its own uniquely named table.

Run: ``DDB_ENDPOINT=http://127.0.0.1:8000 python3 -m pytest -q tests/python/test_partiql.py``
"""

import os
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@pytest.fixture(scope="module")
def client():
    endpoint = os.environ.get("DDB_ENDPOINT")
    if not endpoint:
        pytest.fail("DDB_ENDPOINT is not set: start `ddb-harness serve` and export DDB_ENDPOINT=http://127.0.0.1:PORT")
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=_CONFIG,
    )


@pytest.fixture
def table(client):
    name = "pq-" + uuid.uuid4().hex[:12]
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    client.delete_table(TableName=name)


def run(client, statement, *params, **kw):
    if params:
        kw["Parameters"] = list(params)
    return client.execute_statement(Statement=statement, **kw)


def test_every_literal_type_round_trips(client, table):
    run(
        client,
        f"""INSERT INTO "{table}" VALUE {{'pk': 'p', 'sk': 1, 's': 'it''s', 'n': -12.50, 'b': ?,
            'yes': TRUE, 'no': false, 'nul': NULL, 'ss': <<'a', 'b'>>, 'ns': <<1, 2.5>>,
            'l': [1, 'x', [true]], 'm': {{'k': {{'deep': 'v'}}}}}}""",
        {"B": b"\x00\x01"},
    )
    item = run(client, f'SELECT * FROM "{table}" WHERE pk = ? AND sk = ?', {"S": "p"}, {"N": "1"})["Items"][0]
    assert item["s"] == {"S": "it's"}
    assert item["n"] == {"N": "-12.5"}
    assert item["b"] == {"B": b"\x00\x01"}
    assert item["yes"] == {"BOOL": True} and item["no"] == {"BOOL": False}
    assert item["nul"] == {"NULL": True}
    assert sorted(item["ss"]["SS"]) == ["a", "b"]
    assert sorted(item["ns"]["NS"]) == ["1", "2.5"]
    assert item["l"] == {"L": [{"N": "1"}, {"S": "x"}, {"L": [{"BOOL": True}]}]}
    assert item["m"] == {"M": {"k": {"M": {"deep": {"S": "v"}}}}}
    with pytest.raises(ClientError) as e:
        run(client, f"INSERT INTO \"{table}\" VALUE {{'pk': 'q', 'sk': 1, 'bs': <<?>>}}", {"B": b"\xff"})
    assert e.value.response["Error"]["Message"].startswith(
        "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags")


def test_where_functions_order_by_and_paging(client, table):
    for i in range(10):
        run(client, f"INSERT INTO \"{table}\" VALUE {{'pk': 'p{i % 2}', 'sk': {i}, 'tag': 'x{i}'}}")
    out = run(client, f'SELECT sk FROM "{table}" WHERE pk = \'p0\' ORDER BY sk DESC')
    assert [int(i["sk"]["N"]) for i in out["Items"]] == [8, 6, 4, 2, 0]
    out = run(client, f"SELECT sk FROM \"{table}\" WHERE pk IN ['p0', 'p1'] AND sk BETWEEN 3 AND 6")
    assert sorted(int(i["sk"]["N"]) for i in out["Items"]) == [3, 4, 5, 6]
    out = run(client, f"SELECT sk FROM \"{table}\" WHERE begins_with(tag, 'x1') OR tag IS MISSING OR sk = 9")
    assert sorted(int(i["sk"]["N"]) for i in out["Items"]) == [1, 9]
    seen, token = [], None
    while True:
        kw = {"Limit": 3}
        if token:
            kw["NextToken"] = token
        out = run(client, f'SELECT sk FROM "{table}"', **kw)
        assert len(out["Items"]) <= 3
        seen += [int(i["sk"]["N"]) for i in out["Items"]]
        token = out.get("NextToken")
        if not token:
            break
    assert sorted(seen) == list(range(10))


def test_update_returning_and_errors(client, table):
    run(client, f"INSERT INTO \"{table}\" VALUE {{'pk': 'p', 'sk': 1, 'tags': <<'a'>>, 'l': [1]}}")
    out = run(
        client,
        f"UPDATE \"{table}\" SET tags = set_add(tags, <<'b'>>) SET l = list_append(l, [2]) "
        f"WHERE pk = 'p' AND sk = 1 RETURNING MODIFIED NEW *",
    )
    assert sorted(out["Items"][0]["tags"]["SS"]) == ["a", "b"]
    assert out["Items"][0]["l"] == {"L": [{"N": "1"}, {"N": "2"}]}
    with pytest.raises(ClientError) as e:
        run(client, f"INSERT INTO \"{table}\" VALUE {{'pk': 'p', 'sk': 1}}")
    assert e.value.response["Error"]["Code"] == "DuplicateItemException"
    with pytest.raises(ClientError) as e:
        run(client, f"UPDATE \"{table}\" SET x = 1 WHERE pk = 'p'")
    assert e.value.response["Error"]["Message"] == "Where clause does not contain a mandatory equality on all key attributes"
    with pytest.raises(ClientError) as e:
        run(client, f"SELECT * FROM \"{table}\" WHERE pk = ?")
    assert e.value.response["Error"]["Message"] == "Number of parameters in request and statement don't match."


def test_batch_and_transaction(client, table):
    out = client.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': 1, 'v': 1}}"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'b', 'sk': 1}}"},
            {"Statement": "not a statement"},
        ]
    )["Responses"]
    assert "Error" not in out[0] and "Error" not in out[1]
    assert out[2]["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as e:
        client.execute_transaction(
            TransactStatements=[
                {"Statement": f"UPDATE \"{table}\" SET v = 2 WHERE pk = 'a' AND sk = 1"},
                {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'b' AND sk = 1 AND v = 5",
                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
            ]
        )
    err = e.value.response
    assert err["Error"]["Code"] == "TransactionCanceledException"
    reasons = err["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"] == {"pk": {"S": "b"}, "sk": {"N": "1"}}
    got = client.execute_transaction(
        TransactStatements=[{"Statement": f"SELECT v FROM \"{table}\" WHERE pk = 'a' AND sk = 1"}]
    )["Responses"]
    assert got == [{"Item": {"v": {"N": "1"}}}]
