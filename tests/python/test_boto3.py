"""End-to-end tests of ddb-harness through boto3, written against real DynamoDB behaviour.

The server's endpoint comes from the environment variable ``DDB_ENDPOINT``
(for example ``http://127.0.0.1:8000``). Credentials can be any dummy values;
``test``/``test``/``us-east-1`` are used when none are set.

Every test creates its own uniquely named table(s) and deletes them afterwards,
so the suite can run against a shared server.

Run: ``DDB_ENDPOINT=http://127.0.0.1:8000 python3 -m pytest -q tests/python``
"""

import datetime
import os
import re
import uuid
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.types import Binary
from botocore.config import Config
from botocore.exceptions import ClientError

# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def session():
    endpoint = os.environ.get("DDB_ENDPOINT")
    if not endpoint:
        pytest.fail("DDB_ENDPOINT is not set: start `ddb-harness serve` and export DDB_ENDPOINT=http://127.0.0.1:PORT")
    return boto3.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


# No retries: a retried 500 would hide a server bug.
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@pytest.fixture(scope="session")
def client(session):
    return session.client("dynamodb", endpoint_url=os.environ["DDB_ENDPOINT"], config=_CONFIG)


@pytest.fixture(scope="session")
def resource(session):
    return session.resource("dynamodb", endpoint_url=os.environ["DDB_ENDPOINT"], config=_CONFIG)


def unique_name(label):
    return f"pytest-{label}-{uuid.uuid4().hex[:10]}"


class Tables:
    """Creates tables with unique names and deletes them at teardown."""

    def __init__(self, client):
        self.client = client
        self.names = []

    def name(self, label):
        n = unique_name(label)
        self.names.append(n)
        return n

    def create(self, label, hash_key=("pk", "S"), range_key=None, provisioned=None, **extra):
        name = self.name(label)
        attrs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
        schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
        if range_key:
            attrs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
            schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        kwargs = dict(TableName=name, AttributeDefinitions=attrs, KeySchema=schema, **extra)
        if provisioned:
            kwargs["BillingMode"] = "PROVISIONED"
            kwargs["ProvisionedThroughput"] = {
                "ReadCapacityUnits": provisioned[0],
                "WriteCapacityUnits": provisioned[1],
            }
        else:
            kwargs["BillingMode"] = "PAY_PER_REQUEST"
        resp = self.client.create_table(**kwargs)
        self.wait(name)
        return name, resp

    def wait(self, name):
        self.client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def cleanup(self):
        for name in self.names:
            try:
                desc = self.client.describe_table(TableName=name)["Table"]
            except ClientError as e:
                if code(e) == "ResourceNotFoundException":
                    continue
                raise
            if desc.get("DeletionProtectionEnabled"):
                self.client.update_table(TableName=name, DeletionProtectionEnabled=False)
                self.wait(name)
            self.client.delete_table(TableName=name)


@pytest.fixture
def tables(client):
    t = Tables(client)
    yield t
    t.cleanup()


@pytest.fixture
def table(tables):
    """A PAY_PER_REQUEST table with a string hash key `pk`."""
    name, _ = tables.create("items")
    return name


@pytest.fixture
def composite(tables):
    """A PAY_PER_REQUEST table with string hash key `pk` and number range key `sk`."""
    name, _ = tables.create("composite", range_key=("sk", "N"))
    return name


def code(err):
    return err.response["Error"]["Code"]


def message(err):
    return err.response["Error"]["Message"]


def expect_error(fn, error_code, msg=None, contains=None, status=400, **kwargs):
    with pytest.raises(ClientError) as info:
        fn(**kwargs)
    err = info.value
    assert code(err) == error_code, f"expected {error_code}, got {code(err)}: {message(err)}"
    if msg is not None:
        assert message(err) == msg
    if contains is not None:
        assert contains in message(err), message(err)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return err


# ---------------------------------------------------------------------------
# control plane
# ---------------------------------------------------------------------------


def test_create_table_pay_per_request_hash_only(client, tables):
    name, resp = tables.create("ppr")
    desc = resp["TableDescription"]
    assert desc["TableName"] == name
    assert desc["TableStatus"] in ("CREATING", "ACTIVE")
    assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert desc["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert desc["ItemCount"] == 0
    assert desc["TableSizeBytes"] == 0

    table = client.describe_table(TableName=name)["Table"]
    assert table["TableName"] == name
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert re.fullmatch(r"arn:aws:dynamodb:us-east-1:\d{12}:table/" + re.escape(name), table["TableArn"]), table[
        "TableArn"
    ]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", table["TableId"])
    assert table["TableId"] == desc["TableId"]
    assert table["TableArn"] == desc["TableArn"]
    assert isinstance(table["CreationDateTime"], datetime.datetime)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - table["CreationDateTime"]).total_seconds()) < 600
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 0
    assert table["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 0
    assert table["ItemCount"] == 0
    assert table["TableSizeBytes"] == 0
    assert table["DeletionProtectionEnabled"] is False


def test_create_table_provisioned_hash_and_range(client, tables):
    name, resp = tables.create("prov", range_key=("sk", "N"), provisioned=(5, 7))
    desc = resp["TableDescription"]
    assert desc["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    table = client.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == desc["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
    ]
    pt = table["ProvisionedThroughput"]
    assert (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"], pt["NumberOfDecreasesToday"]) == (5, 7, 0)
    if "BillingModeSummary" in table:
        assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"


def test_describe_table_item_count_and_size_after_writes(client, table):
    for i in range(3):
        client.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "payload": {"S": "x" * 100}})
    desc = client.describe_table(TableName=table)["Table"]
    assert desc["ItemCount"] == 3
    assert desc["TableSizeBytes"] > 300
    client.delete_item(TableName=table, Key={"pk": {"S": "k0"}})
    # Overwriting an item does not change the count.
    client.put_item(TableName=table, Item={"pk": {"S": "k1"}})
    desc = client.describe_table(TableName=table)["Table"]
    assert desc["ItemCount"] == 2


def test_list_tables_pagination(client, tables):
    prefix = f"pytest-list-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        tables.names.append(n)
        client.create_table(
            TableName=n,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )

    # Manual pagination with Limit / ExclusiveStartTableName, starting just before our tables.
    seen = []
    resp = client.list_tables(ExclusiveStartTableName=prefix, Limit=2)
    pages = 0
    while True:
        pages += 1
        assert len(resp["TableNames"]) <= 2
        seen.extend(resp["TableNames"])
        if "LastEvaluatedTableName" not in resp or not resp["TableNames"][-1].startswith(prefix):
            break
        assert resp["LastEvaluatedTableName"] == resp["TableNames"][-1]
        resp = client.list_tables(ExclusiveStartTableName=resp["LastEvaluatedTableName"], Limit=2)
    assert [n for n in seen if n.startswith(prefix)] == names
    assert pages >= 3
    # Table names come back in ascending order.
    assert seen == sorted(seen)

    # The paginator follows LastEvaluatedTableName.
    paginator = client.get_paginator("list_tables")
    all_names = []
    page_count = 0
    for page in paginator.paginate(PaginationConfig={"PageSize": 2}):
        page_count += 1
        assert len(page["TableNames"]) <= 2
        all_names.extend(page["TableNames"])
    assert [n for n in all_names if n.startswith(prefix)] == names
    assert len(all_names) == len(set(all_names))
    assert page_count >= 3

    # Starting after the last table gives an empty page without LastEvaluatedTableName.
    resp = client.list_tables(ExclusiveStartTableName=all_names[-1])
    assert resp["TableNames"] == []
    assert "LastEvaluatedTableName" not in resp


def test_list_tables_limit_validation(session):
    # botocore would refuse Limit=0 itself; turn its validation off to see the server's answer.
    raw = session.client(
        "dynamodb",
        endpoint_url=os.environ["DDB_ENDPOINT"],
        config=_CONFIG.merge(Config(parameter_validation=False)),
    )
    expect_error(
        raw.list_tables,
        "ValidationException",
        msg="1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
        Limit=0,
    )


def test_delete_table(client):
    name = unique_name("delete")
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    desc = client.delete_table(TableName=name)["TableDescription"]
    assert desc["TableName"] == name
    assert desc["TableStatus"] == "DELETING"
    client.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert name not in client.list_tables()["TableNames"]
    expect_error(
        client.describe_table,
        "ResourceNotFoundException",
        msg=f"Requested resource not found: Table: {name} not found",
        TableName=name,
    )


def test_missing_table_errors(client):
    name = unique_name("missing")
    expect_error(
        client.describe_table,
        "ResourceNotFoundException",
        msg=f"Requested resource not found: Table: {name} not found",
        TableName=name,
    )
    expect_error(
        client.delete_table,
        "ResourceNotFoundException",
        msg=f"Requested resource not found: Table: {name} not found",
        TableName=name,
    )
    expect_error(
        client.get_item,
        "ResourceNotFoundException",
        msg="Requested resource not found",
        TableName=name,
        Key={"pk": {"S": "a"}},
    )
    expect_error(
        client.put_item,
        "ResourceNotFoundException",
        msg="Requested resource not found",
        TableName=name,
        Item={"pk": {"S": "a"}},
    )
    expect_error(
        client.delete_item,
        "ResourceNotFoundException",
        msg="Requested resource not found",
        TableName=name,
        Key={"pk": {"S": "a"}},
    )
    expect_error(
        client.update_item,
        "ResourceNotFoundException",
        msg="Requested resource not found",
        TableName=name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET a = :a",
        ExpressionAttributeValues={":a": {"S": "x"}},
    )
    # The modeled exception class works too.
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=name)


def test_duplicate_create_table(client, table):
    err = expect_error(
        client.create_table,
        "ResourceInUseException",
        msg=f"Table already exists: {table}",
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert isinstance(err, client.exceptions.ResourceInUseException)


def test_create_table_validation(client, tables):
    name = tables.name("invalid")
    base = dict(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    expect_error(
        client.create_table,
        "ValidationException",
        msg="One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be "
        "specified when BillingMode is PROVISIONED",
        BillingMode="PROVISIONED",
        **base,
    )
    expect_error(
        client.create_table,
        "ValidationException",
        msg="One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
        "specified when BillingMode is PAY_PER_REQUEST",
        BillingMode="PAY_PER_REQUEST",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        **base,
    )
    expect_error(
        client.create_table,
        "ValidationException",
        msg="One or more parameter values were invalid: Some index key attributes are not defined in "
        "AttributeDefinitions. Keys: [id], AttributeDefinitions: [pk]",
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    expect_error(
        client.create_table,
        "ValidationException",
        msg="Invalid KeySchema: Some index key attribute have no definition",
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    expect_error(
        client.create_table,
        "ValidationException",
        msg="TableName must be at least 3 characters long and at most 255 characters long",
        TableName="ab",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # Nothing was created by the failed calls.
    expect_error(client.describe_table, "ResourceNotFoundException", TableName=name)


def test_update_table_billing_mode_switch(client, tables):
    name, _ = tables.create("billing", provisioned=(5, 5))
    desc = client.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")["TableDescription"]
    assert desc["TableName"] == name
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    tables.wait(name)
    table = client.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert isinstance(table["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"], datetime.datetime)
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 0

    desc = client.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )["TableDescription"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    tables.wait(name)
    table = client.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 4


def test_update_table_validation(client, table):
    expect_error(
        client.update_table,
        "ValidationException",
        msg="At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, "
        "SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
        "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required",
        TableName=table,
    )
    expect_error(
        client.update_table,
        "ResourceNotFoundException",
        msg=f"Requested resource not found: Table: {table}-nope not found",
        TableName=f"{table}-nope",
        BillingMode="PAY_PER_REQUEST",
    )


def test_deletion_protection(client, tables):
    name, resp = tables.create("protected", DeletionProtectionEnabled=True)
    assert resp["TableDescription"]["DeletionProtectionEnabled"] is True
    assert client.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
    expect_error(
        client.delete_table,
        "ValidationException",
        msg="Resource cannot be deleted as it is currently protected against deletion. "
        "Disable deletion protection first.",
        TableName=name,
    )
    # Still there.
    assert client.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"

    desc = client.update_table(TableName=name, DeletionProtectionEnabled=False)["TableDescription"]
    assert desc["DeletionProtectionEnabled"] is False
    tables.wait(name)
    assert client.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is False
    client.delete_table(TableName=name)
    expect_error(client.describe_table, "ResourceNotFoundException", TableName=name)

    # Turning protection on with UpdateTable works as well.
    name2, _ = tables.create("protected2")
    client.update_table(TableName=name2, DeletionProtectionEnabled=True)
    tables.wait(name2)
    expect_error(client.delete_table, "ValidationException", contains="protected against deletion", TableName=name2)


# ---------------------------------------------------------------------------
# items through the low-level client
# ---------------------------------------------------------------------------


def test_put_get_delete_item_client(client, composite):
    item = {
        "pk": {"S": "user#1"},
        "sk": {"N": "10"},
        "name": {"S": "Ada"},
        "age": {"N": "36"},
        "active": {"BOOL": True},
        "nothing": {"NULL": True},
        "blob": {"B": b"\x00\x01\xfe\xff"},
        "tagset": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2.5"]},
        "blobs": {"BS": [b"\x01", b"\x02"]},
        "profile": {"M": {"city": {"S": "London"}, "langs": {"L": [{"S": "en"}, {"N": "42"}]}}},
        "empty_s": {"S": ""},
        "empty_l": {"L": []},
        "empty_m": {"M": {}},
    }
    resp = client.put_item(TableName=composite, Item=item)
    assert "Attributes" not in resp

    got = client.get_item(TableName=composite, Key={"pk": {"S": "user#1"}, "sk": {"N": "10"}})["Item"]
    assert got["name"] == {"S": "Ada"}
    assert got["blob"] == {"B": b"\x00\x01\xfe\xff"}
    assert sorted(got["tagset"]["SS"]) == ["a", "b"]
    assert sorted(got["scores"]["NS"], key=Decimal) == ["1", "2.5"]
    assert sorted(got["blobs"]["BS"]) == [b"\x01", b"\x02"]
    assert got["profile"] == item["profile"]
    assert got["nothing"] == {"NULL": True}
    assert got["active"] == {"BOOL": True}
    assert got["empty_s"] == {"S": ""}
    assert got["empty_l"] == {"L": []}
    assert got["empty_m"] == {"M": {}}
    assert set(got) == set(item)

    # Strongly consistent read returns the same.
    got2 = client.get_item(
        TableName=composite, Key={"pk": {"S": "user#1"}, "sk": {"N": "10"}}, ConsistentRead=True
    )["Item"]
    assert got2 == got

    # Missing item: no Item key at all.
    resp = client.get_item(TableName=composite, Key={"pk": {"S": "user#1"}, "sk": {"N": "11"}})
    assert "Item" not in resp

    # Put with ReturnValues=ALL_OLD returns the replaced item.
    resp = client.put_item(
        TableName=composite,
        Item={"pk": {"S": "user#1"}, "sk": {"N": "10"}, "name": {"S": "Grace"}},
        ReturnValues="ALL_OLD",
    )
    assert resp["Attributes"]["name"] == {"S": "Ada"}
    got = client.get_item(TableName=composite, Key={"pk": {"S": "user#1"}, "sk": {"N": "10"}})["Item"]
    assert got == {"pk": {"S": "user#1"}, "sk": {"N": "10"}, "name": {"S": "Grace"}}

    # Delete with ReturnValues=ALL_OLD.
    resp = client.delete_item(
        TableName=composite, Key={"pk": {"S": "user#1"}, "sk": {"N": "10"}}, ReturnValues="ALL_OLD"
    )
    assert resp["Attributes"] == got
    assert "Item" not in client.get_item(TableName=composite, Key={"pk": {"S": "user#1"}, "sk": {"N": "10"}})
    # Deleting a missing item succeeds and returns nothing.
    resp = client.delete_item(
        TableName=composite, Key={"pk": {"S": "user#1"}, "sk": {"N": "10"}}, ReturnValues="ALL_OLD"
    )
    assert "Attributes" not in resp


def test_number_range_key_is_numeric(client, composite):
    # 10 and 10.0 and 1E1 are the same number, so the same key.
    client.put_item(TableName=composite, Item={"pk": {"S": "n"}, "sk": {"N": "10"}, "v": {"S": "first"}})
    client.put_item(TableName=composite, Item={"pk": {"S": "n"}, "sk": {"N": "10.0"}, "v": {"S": "second"}})
    got = client.get_item(TableName=composite, Key={"pk": {"S": "n"}, "sk": {"N": "1E1"}})["Item"]
    assert got["v"] == {"S": "second"}
    assert got["sk"] == {"N": "10"}
    assert client.describe_table(TableName=composite)["Table"]["ItemCount"] == 1


def test_number_normalization_and_limits(client, table):
    cases = {
        "1.50": "1.5",
        "-0.000100": "-0.0001",
        "1E+2": "100",
        "0.0": "0",
        "007": "7",
        "12345678901234567890123456789012345678": "12345678901234567890123456789012345678",
        "1.2345678901234567890123456789012345678E+100": "12345678901234567890123456789012345678" + "0" * 63,
        "9.9999999999999999999999999999999999999E+125": "9" * 38 + "0" * 88,
        "-1E-130": "-0." + "0" * 129 + "1",
        "1E-130": None,  # checked numerically only
    }
    item = {"pk": {"S": "nums"}}
    for i, raw in enumerate(cases):
        item[f"n{i}"] = {"N": raw}
    client.put_item(TableName=table, Item=item)
    got = client.get_item(TableName=table, Key={"pk": {"S": "nums"}})["Item"]
    for i, (raw, expected) in enumerate(cases.items()):
        value = got[f"n{i}"]["N"]
        assert Decimal(value) == Decimal(raw)
        if expected is not None:
            assert value == expected, f"{raw} should come back as {expected}, got {value}"

    expect_error(
        client.put_item,
        "ValidationException",
        msg="Attempting to store more than 38 significant digits in a Number",
        TableName=table,
        Item={"pk": {"S": "big"}, "n": {"N": "1.000000000000000000000000000000000000001"}},
    )
    expect_error(
        client.put_item,
        "ValidationException",
        msg="Number overflow. Attempting to store a number with magnitude larger than supported range",
        TableName=table,
        Item={"pk": {"S": "huge"}, "n": {"N": "1E+126"}},
    )
    expect_error(
        client.put_item,
        "ValidationException",
        msg="Number underflow. Attempting to store a number with magnitude smaller than supported range",
        TableName=table,
        Item={"pk": {"S": "tiny"}, "n": {"N": "1E-131"}},
    )
    expect_error(
        client.put_item,
        "ValidationException",
        contains="The parameter cannot be converted to a numeric value",
        TableName=table,
        Item={"pk": {"S": "bad"}, "n": {"N": "twelve"}},
    )


def test_key_validation_errors(client, table, composite):
    msg = "The provided key element does not match the schema"
    # Wrong type for the hash key.
    expect_error(client.get_item, "ValidationException", msg=msg, TableName=table, Key={"pk": {"N": "1"}})
    expect_error(client.delete_item, "ValidationException", msg=msg, TableName=table, Key={"pk": {"N": "1"}})
    # Wrong attribute name, extra attribute, missing range key.
    expect_error(client.get_item, "ValidationException", msg=msg, TableName=table, Key={"id": {"S": "1"}})
    expect_error(
        client.get_item,
        "ValidationException",
        msg=msg,
        TableName=table,
        Key={"pk": {"S": "1"}, "extra": {"S": "x"}},
    )
    expect_error(client.get_item, "ValidationException", msg=msg, TableName=composite, Key={"pk": {"S": "1"}})
    expect_error(
        client.get_item,
        "ValidationException",
        msg=msg,
        TableName=composite,
        Key={"pk": {"S": "1"}, "sk": {"S": "1"}},
    )
    # PutItem reports its own messages.
    expect_error(
        client.put_item,
        "ValidationException",
        msg="One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
        TableName=table,
        Item={"pk": {"N": "1"}},
    )
    expect_error(
        client.put_item,
        "ValidationException",
        msg="One or more parameter values were invalid: Missing the key pk in the item",
        TableName=table,
        Item={"other": {"S": "1"}},
    )
    # AWS words the empty-key error differently for PutItem and for key lookups.
    expect_error(
        client.put_item,
        "ValidationException",
        msg="One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain "
        "an empty string value. Key: pk",
        TableName=table,
        Item={"pk": {"S": ""}},
    )
    expect_error(
        client.get_item,
        "ValidationException",
        msg="One or more parameter values were invalid: The AttributeValue for a key attribute cannot contain "
        "an empty string value. Key: pk",
        TableName=table,
        Key={"pk": {"S": ""}},
    )
    # Sets may not be empty.
    expect_error(
        client.put_item,
        "ValidationException",
        msg="One or more parameter values were invalid: An string set  may not be empty",
        TableName=table,
        Item={"pk": {"S": "a"}, "s": {"SS": []}},
    )
    # Nothing was written by the failed calls.
    assert client.describe_table(TableName=table)["Table"]["ItemCount"] == 0


def test_item_size_limit(client, table):
    client.put_item(TableName=table, Item={"pk": {"S": "ok"}, "data": {"S": "x" * (399 * 1024)}})
    expect_error(
        client.put_item,
        "ValidationException",
        msg="Item size has exceeded the maximum allowed size",
        TableName=table,
        Item={"pk": {"S": "too-big"}, "data": {"S": "x" * (401 * 1024)}},
    )
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "too-big"}})


def test_conditional_put(client, table):
    client.put_item(
        TableName=table,
        Item={"pk": {"S": "once"}, "v": {"N": "1"}},
        ConditionExpression="attribute_not_exists(pk)",
    )
    err = expect_error(
        client.put_item,
        "ConditionalCheckFailedException",
        msg="The conditional request failed",
        TableName=table,
        Item={"pk": {"S": "once"}, "v": {"N": "2"}},
        ConditionExpression="attribute_not_exists(pk)",
    )
    assert isinstance(err, client.exceptions.ConditionalCheckFailedException)
    assert "Item" not in err.response
    # The item is unchanged.
    got = client.get_item(TableName=table, Key={"pk": {"S": "once"}})["Item"]
    assert got["v"] == {"N": "1"}

    # ReturnValuesOnConditionCheckFailure=ALL_OLD puts the current item in the error.
    err = expect_error(
        client.put_item,
        "ConditionalCheckFailedException",
        msg="The conditional request failed",
        TableName=table,
        Item={"pk": {"S": "once"}, "v": {"N": "3"}},
        ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    assert err.response["Item"] == {"pk": {"S": "once"}, "v": {"N": "1"}}

    # A condition on a value, with placeholders.
    client.put_item(
        TableName=table,
        Item={"pk": {"S": "once"}, "v": {"N": "2"}},
        ConditionExpression="#v = :one",
        ExpressionAttributeNames={"#v": "v"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert client.get_item(TableName=table, Key={"pk": {"S": "once"}})["Item"]["v"] == {"N": "2"}

    # Conditional delete.
    expect_error(
        client.delete_item,
        "ConditionalCheckFailedException",
        msg="The conditional request failed",
        TableName=table,
        Key={"pk": {"S": "absent"}},
        ConditionExpression="attribute_exists(pk)",
    )
    client.delete_item(TableName=table, Key={"pk": {"S": "once"}}, ConditionExpression="attribute_exists(pk)")
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "once"}})


def test_get_item_projection(client, table):
    client.put_item(
        TableName=table,
        Item={
            "pk": {"S": "p"},
            "a": {"S": "A"},
            "b": {"S": "B"},
            "m": {"M": {"x": {"N": "1"}, "y": {"L": [{"S": "y0"}, {"S": "y1"}]}}},
        },
    )
    got = client.get_item(
        TableName=table,
        Key={"pk": {"S": "p"}},
        ProjectionExpression="a, m.y[1], #n",
        ExpressionAttributeNames={"#n": "nope"},
    )["Item"]
    assert got == {"a": {"S": "A"}, "m": {"M": {"y": {"L": [{"S": "y1"}]}}}}


# ---------------------------------------------------------------------------
# update_item
# ---------------------------------------------------------------------------


def test_update_item_set_remove_add_return_values(client, table):
    key = {"pk": {"S": "u"}}
    client.put_item(
        TableName=table,
        Item={
            "pk": {"S": "u"},
            "a": {"N": "1"},
            "b": {"S": "gone soon"},
            "tagset": {"SS": ["x"]},
            "keep": {"S": "same"},
        },
    )

    # UPDATED_OLD: the updated attributes as they were (only those that existed).
    resp = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET a = a + :inc, c = :c REMOVE b ADD tagset :more, cnt :one",
        ExpressionAttributeValues={
            ":inc": {"N": "2"},
            ":c": {"S": "new"},
            ":more": {"SS": ["y", "z"]},
            ":one": {"N": "1"},
        },
        ReturnValues="UPDATED_OLD",
    )
    old = resp["Attributes"]
    assert old["a"] == {"N": "1"}
    assert old["b"] == {"S": "gone soon"}
    assert old["tagset"] == {"SS": ["x"]}
    assert set(old) == {"a", "b", "tagset"}

    got = client.get_item(TableName=table, Key=key)["Item"]
    assert got["a"] == {"N": "3"}
    assert got["c"] == {"S": "new"}
    assert "b" not in got
    assert sorted(got["tagset"]["SS"]) == ["x", "y", "z"]
    assert got["cnt"] == {"N": "1"}
    assert got["keep"] == {"S": "same"}

    # UPDATED_NEW: the updated attributes as they are now.
    resp = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="ADD cnt :one DELETE tagset :x",
        ExpressionAttributeValues={":one": {"N": "1"}, ":x": {"SS": ["x"]}},
        ReturnValues="UPDATED_NEW",
    )
    assert resp["Attributes"]["cnt"] == {"N": "2"}
    assert sorted(resp["Attributes"]["tagset"]["SS"]) == ["y", "z"]
    assert set(resp["Attributes"]) == {"cnt", "tagset"}

    # ALL_NEW and ALL_OLD.
    resp = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #k = :v",
        ExpressionAttributeNames={"#k": "keep"},
        ExpressionAttributeValues={":v": {"S": "changed"}},
        ReturnValues="ALL_OLD",
    )
    assert resp["Attributes"]["keep"] == {"S": "same"}
    assert resp["Attributes"]["pk"] == {"S": "u"}
    resp = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET n2 = if_not_exists(n2, :zero)",
        ExpressionAttributeValues={":zero": {"N": "0"}},
        ReturnValues="ALL_NEW",
    )
    assert resp["Attributes"]["keep"] == {"S": "changed"}
    assert resp["Attributes"]["n2"] == {"N": "0"}
    assert resp["Attributes"]["pk"] == {"S": "u"}

    # NONE (the default): no Attributes.
    resp = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="REMOVE n2",
    )
    assert "Attributes" not in resp


def test_update_item_creates_missing_item(client, table):
    resp = client.update_item(
        TableName=table,
        Key={"pk": {"S": "fresh"}},
        UpdateExpression="SET greeting = :g ADD visits :one",
        ExpressionAttributeValues={":g": {"S": "hi"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    assert resp["Attributes"] == {"pk": {"S": "fresh"}, "greeting": {"S": "hi"}, "visits": {"N": "1"}}
    assert client.describe_table(TableName=table)["Table"]["ItemCount"] == 1


def test_update_item_nested_and_lists(client, table):
    key = {"pk": {"S": "doc"}}
    client.put_item(
        TableName=table,
        Item={
            "pk": {"S": "doc"},
            "m": {"M": {"inr": {"M": {"x": {"N": "1"}}}}},
            "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]},
        },
    )
    resp = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET m.inr.y = :y, l = list_append(l, :tail), m.inr.x = m.inr.x + :one",
        ExpressionAttributeValues={":y": {"S": "why"}, ":tail": {"L": [{"S": "d"}]}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    attrs = resp["Attributes"]
    assert attrs["m"] == {"M": {"inr": {"M": {"x": {"N": "2"}, "y": {"S": "why"}}}}}
    assert attrs["l"] == {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}, {"S": "d"}]}

    # UPDATED_NEW returns a nested change in its nested shape; REMOVE takes list indexes.
    resp = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET m.inr.x = :ten",
        ExpressionAttributeValues={":ten": {"N": "10"}},
        ReturnValues="UPDATED_NEW",
    )
    assert resp["Attributes"] == {"m": {"M": {"inr": {"M": {"x": {"N": "10"}}}}}}
    client.update_item(TableName=table, Key=key, UpdateExpression="REMOVE l[0]")
    got = client.get_item(TableName=table, Key=key)["Item"]
    assert got["l"] == {"L": [{"S": "b"}, {"S": "c"}, {"S": "d"}]}

    # Two actions on overlapping paths are rejected.
    expect_error(
        client.update_item,
        "ValidationException",
        msg="Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of "
        "these paths; path one: [l], path two: [l, [0]]",
        TableName=table,
        Key=key,
        UpdateExpression="SET l = :v REMOVE l[0]",
        ExpressionAttributeValues={":v": {"L": []}},
    )


def test_update_item_conditional_and_errors(client, table):
    key = {"pk": {"S": "v"}}
    client.put_item(TableName=table, Item={"pk": {"S": "v"}, "ver": {"N": "1"}})

    # Optimistic locking.
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET ver = :new",
        ConditionExpression="ver = :old",
        ExpressionAttributeValues={":new": {"N": "2"}, ":old": {"N": "1"}},
    )
    expect_error(
        client.update_item,
        "ConditionalCheckFailedException",
        msg="The conditional request failed",
        TableName=table,
        Key=key,
        UpdateExpression="SET ver = :new",
        ConditionExpression="ver = :old",
        ExpressionAttributeValues={":new": {"N": "3"}, ":old": {"N": "1"}},
    )
    # An update with attribute_exists on a missing item does not create it.
    expect_error(
        client.update_item,
        "ConditionalCheckFailedException",
        msg="The conditional request failed",
        TableName=table,
        Key={"pk": {"S": "ghost"}},
        UpdateExpression="SET a = :a",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":a": {"S": "x"}},
    )
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "ghost"}})

    # Key attributes cannot be updated.
    expect_error(
        client.update_item,
        "ValidationException",
        msg="One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key",
        TableName=table,
        Key=key,
        UpdateExpression="SET pk = :p",
        ExpressionAttributeValues={":p": {"S": "other"}},
    )
    # Undefined and unused placeholders.
    expect_error(
        client.update_item,
        "ValidationException",
        msg="Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
        "attribute value: :missing",
        TableName=table,
        Key=key,
        UpdateExpression="SET a = :missing",
    )
    expect_error(
        client.update_item,
        "ValidationException",
        msg="Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
        TableName=table,
        Key=key,
        UpdateExpression="SET a = :a",
        ExpressionAttributeValues={":a": {"S": "x"}, ":unused": {"S": "y"}},
    )
    # Reserved words need a placeholder.
    expect_error(
        client.update_item,
        "ValidationException",
        msg="Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: count",
        TableName=table,
        Key=key,
        UpdateExpression="SET count = :a",
        ExpressionAttributeValues={":a": {"N": "1"}},
    )
    # Wrong key type.
    expect_error(
        client.update_item,
        "ValidationException",
        msg="The provided key element does not match the schema",
        TableName=table,
        Key={"pk": {"N": "1"}},
        UpdateExpression="SET a = :a",
        ExpressionAttributeValues={":a": {"S": "x"}},
    )
    # The item still has the version written by the successful update.
    assert client.get_item(TableName=table, Key=key)["Item"] == {"pk": {"S": "v"}, "ver": {"N": "2"}}


# ---------------------------------------------------------------------------
# the resource API
# ---------------------------------------------------------------------------


def test_resource_api_round_trip(resource, tables):
    name = tables.name("resource")
    table = resource.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    table.reload()
    assert table.table_status == "ACTIVE"
    assert table.key_schema == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table.billing_mode_summary["BillingMode"] == "PAY_PER_REQUEST"

    item = {
        "pk": "order#1",
        "sk": "line#1",
        "price": Decimal("1.50"),
        "qty": 3,
        "neg": Decimal("-12.3400"),
        "big": Decimal("123456789012345678901234567890"),
        "flag": False,
        "none": None,
        "data": Binary(b"\x00bin\xff"),
        "raw": b"raw-bytes",
        "colors": {"red", "green"},
        "sizes": {Decimal("1"), Decimal("2.50")},
        "blobs": {Binary(b"a"), Binary(b"b")},
        "doc": {"list": [1, "two", {"three": [Decimal("3.0")]}], "map": {"deep": {"deeper": "yes"}}},
        "empty_list": [],
        "empty_map": {},
    }
    table.put_item(Item=item)
    got = table.get_item(Key={"pk": "order#1", "sk": "line#1"})["Item"]

    assert got["price"] == Decimal("1.5")
    assert str(got["price"]) == "1.5"
    assert str(got["neg"]) == "-12.34"
    assert got["big"] == Decimal("123456789012345678901234567890")
    assert got["qty"] == Decimal(3)
    assert got["flag"] is False
    assert got["none"] is None
    assert isinstance(got["data"], Binary)
    assert got["data"].value == b"\x00bin\xff"
    assert got["raw"] == Binary(b"raw-bytes")
    assert got["colors"] == {"red", "green"}
    assert got["sizes"] == {Decimal("1"), Decimal("2.5")}
    assert {b.value for b in got["blobs"]} == {b"a", b"b"}
    assert got["doc"] == {"list": [Decimal(1), "two", {"three": [Decimal(3)]}], "map": {"deep": {"deeper": "yes"}}}
    assert str(got["doc"]["list"][2]["three"][0]) == "3"
    assert got["empty_list"] == []
    assert got["empty_map"] == {}

    # Update through the resource, with ReturnValues.
    resp = table.update_item(
        Key={"pk": "order#1", "sk": "line#1"},
        UpdateExpression="SET price = :p, doc.#m.added = :a REMOVE #n ADD qty :q, colors :c",
        ExpressionAttributeNames={"#m": "map", "#n": "none"},
        ExpressionAttributeValues={":p": Decimal("2.25"), ":a": "new", ":q": 2, ":c": {"blue"}},
        ReturnValues="UPDATED_NEW",
    )
    assert resp["Attributes"]["price"] == Decimal("2.25")
    assert resp["Attributes"]["qty"] == Decimal(5)
    assert resp["Attributes"]["colors"] == {"red", "green", "blue"}
    got = table.get_item(Key={"pk": "order#1", "sk": "line#1"}, ConsistentRead=True)["Item"]
    assert "none" not in got
    assert got["doc"]["map"]["added"] == "new"

    # Conditions built with boto3.dynamodb.conditions.
    with pytest.raises(ClientError) as info:
        table.put_item(Item={"pk": "order#1", "sk": "line#1"}, ConditionExpression=Attr("pk").not_exists())
    assert code(info.value) == "ConditionalCheckFailedException"
    table.put_item(Item={"pk": "order#1", "sk": "line#2", "qty": 1}, ConditionExpression=Attr("pk").not_exists())
    table.update_item(
        Key={"pk": "order#1", "sk": "line#2"},
        UpdateExpression="SET qty = :q",
        ConditionExpression=Attr("qty").eq(1) & Attr("absentattr").not_exists(),
        ExpressionAttributeValues={":q": 9},
    )
    assert table.get_item(Key={"pk": "order#1", "sk": "line#2"})["Item"]["qty"] == 9

    table.reload()
    assert table.item_count == 2
    assert table.table_size_bytes > 0

    resp = table.delete_item(Key={"pk": "order#1", "sk": "line#2"}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {"pk": "order#1", "sk": "line#2", "qty": Decimal(9)}
    assert "Item" not in table.get_item(Key={"pk": "order#1", "sk": "line#2"})

    # The resource collection lists our table.
    assert name in [t.name for t in resource.tables.all()]

    table.delete()
    table.wait_until_not_exists()


def test_resource_number_round_trip(resource, table):
    t = resource.Table(table)
    values = {
        "a": Decimal("1.50"),
        "b": Decimal("100"),
        "c": Decimal("0.001"),
        "d": Decimal("-5"),
        "e": Decimal("1.23E+20"),
        "f": Decimal("1E-130"),
        # Not here: numbers whose plain form is longer than 38 digits (1E+100, the largest
        # number): DynamoDB answers them in plain notation and boto3's TypeDeserializer raises
        # decimal.Rounded on them (boto/boto3#2500). The low-level client test covers them.
    }
    t.put_item(Item={"pk": "n", **values})
    got = t.get_item(Key={"pk": "n"})["Item"]
    for k, v in values.items():
        assert got[k] == v, k
    assert str(got["a"]) == "1.5"
    assert str(got["b"]) == "100"


def check_capacity(consumed, table, units, kind):
    assert consumed["TableName"] == table
    assert consumed["CapacityUnits"] == units
    # Newer DynamoDB also reports the read/write split; when present it must agree.
    assert consumed.get(kind, units) == units
    assert set(consumed) <= {"TableName", "CapacityUnits", kind}


def test_return_consumed_capacity(client, table):
    resp = client.put_item(TableName=table, Item={"pk": {"S": "cc"}}, ReturnConsumedCapacity="TOTAL")
    check_capacity(resp["ConsumedCapacity"], table, 1.0, "WriteCapacityUnits")
    # 1.5 KB item: two write units.
    resp = client.put_item(
        TableName=table, Item={"pk": {"S": "cc2"}, "d": {"S": "x" * 1500}}, ReturnConsumedCapacity="TOTAL"
    )
    check_capacity(resp["ConsumedCapacity"], table, 2.0, "WriteCapacityUnits")
    resp = client.get_item(
        TableName=table, Key={"pk": {"S": "cc"}}, ConsistentRead=True, ReturnConsumedCapacity="TOTAL"
    )
    check_capacity(resp["ConsumedCapacity"], table, 1.0, "ReadCapacityUnits")
    resp = client.get_item(TableName=table, Key={"pk": {"S": "cc"}}, ReturnConsumedCapacity="TOTAL")
    check_capacity(resp["ConsumedCapacity"], table, 0.5, "ReadCapacityUnits")
    resp = client.get_item(TableName=table, Key={"pk": {"S": "cc"}})
    assert "ConsumedCapacity" not in resp


def test_put_item_return_values_validation(client, table):
    expect_error(
        client.put_item,
        "ValidationException",
        msg="ReturnValues can only be ALL_OLD or NONE",
        TableName=table,
        Item={"pk": {"S": "rv"}},
        ReturnValues="UPDATED_OLD",
    )
