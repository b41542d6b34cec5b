"""Global tables in ddb-harness through boto3, as a new user would try them.

Two clients sign for two regions of one server (``us-east-1`` and ``eu-west-1``), so each sees
its own region's tables. A replica is added with UpdateTable's ``ReplicaUpdates``; writes in
either region reach the other asynchronously (the server applies due replicated writes every
100 ms), so the tests poll as they would against AWS.

Run: ``DDB_ENDPOINT=http://127.0.0.1:8000 python3 -m pytest -q tests/python/test_global_tables.py``
"""

import os
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from stream_reading import shard_records

# No retries: a retried 500 would hide a server bug.
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)

EAST = "us-east-1"
WEST = "eu-west-1"


def _client(service, region):
    endpoint = os.environ.get("DDB_ENDPOINT")
    if not endpoint:
        pytest.fail("DDB_ENDPOINT is not set: start `ddb-harness serve` and export DDB_ENDPOINT=http://127.0.0.1:PORT")
    return boto3.client(
        service,
        endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=region,
        config=_CONFIG,
    )


@pytest.fixture(scope="module")
def east():
    return _client("dynamodb", EAST)


@pytest.fixture(scope="module")
def west():
    return _client("dynamodb", WEST)


@pytest.fixture
def table(east, west):
    """A unique table name; whatever exists of it in either region is deleted afterwards."""
    name = f"pytest-global-{uuid.uuid4().hex[:8]}"
    yield name
    for client in (west, east):
        try:
            client.delete_table(TableName=name)
        except ClientError:
            pass


def create(client, name, stream=False):
    extra = {}
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def wait_for_item(client, table, id_, timeout=10.0):
    """The item once it has arrived, polling as a client of a real global table would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = client.get_item(TableName=table, Key={"id": {"S": id_}}).get("Item")
        if item is not None:
            return item
        time.sleep(0.05)
    pytest.fail(f"item {id_} never reached the replica within {timeout} s")


def stream_records(region, client, table):
    streams = _client("dynamodbstreams", region)
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return shard_records(streams, arn, shards)


def test_a_write_in_one_region_appears_in_the_replica_table_and_stream(east, west, table):
    create(east, table)
    east.put_item(TableName=table, Item={"id": {"S": "early"}, "v": {"S": "0"}})
    out = east.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    assert out["TableDescription"]["Replicas"][0]["RegionName"] == WEST
    west.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    described = west.describe_table(TableName=table)["Table"]
    assert described["GlobalTableVersion"] == "2019.11.21"
    assert [r["RegionName"] for r in described["Replicas"]] == [EAST]
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    # Items written before the replica existed were copied to it.
    assert wait_for_item(west, table, "early")["v"] == {"S": "0"}

    east.put_item(TableName=table, Item={"id": {"S": "o1"}, "v": {"S": "1"}})
    assert wait_for_item(west, table, "o1")["v"] == {"S": "1"}

    records = stream_records(WEST, west, table)
    replicated = [r for r in records if r["dynamodb"]["Keys"]["id"]["S"] == "o1"]
    assert len(replicated) == 1
    assert replicated[0]["eventName"] == "INSERT"
    assert replicated[0]["awsRegion"] == WEST
    assert replicated[0]["dynamodb"]["NewImage"]["v"] == {"S": "1"}

    # And back: an update in eu-west-1 reaches us-east-1.
    west.update_item(
        TableName=table,
        Key={"id": {"S": "o1"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "2"}},
    )
    deadline = time.monotonic() + 10
    while east.get_item(TableName=table, Key={"id": {"S": "o1"}})["Item"]["v"] != {"S": "2"}:
        assert time.monotonic() < deadline, "the update never reached us-east-1"
        time.sleep(0.05)

    # Deleting the replica through the source removes the replica table.
    east.update_table(TableName=table, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}])
    with pytest.raises(ClientError) as e:
        west.describe_table(TableName=table)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "Replicas" not in east.describe_table(TableName=table)["Table"]


def test_replica_updates_are_validated(east, table):
    create(east, table)
    with pytest.raises(ClientError) as e:
        east.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": EAST}}])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"].startswith("Cannot add or delete the local region")
    with pytest.raises(ClientError) as e:
        east.update_table(
            TableName=table,
            ReplicaUpdates=[{"Create": {"RegionName": WEST}}],
            GlobalTableWitnessUpdates=[{"Create": {"RegionName": "eu-west-2"}}],
        )
    assert "MultiRegionConsistency must be set as STRONG" in e.value.response["Error"]["Message"]


def test_version_2017_operations(east, west, table):
    create(east, table, stream=True)
    create(west, table, stream=True)
    out = east.create_global_table(
        GlobalTableName=table, ReplicationGroup=[{"RegionName": EAST}, {"RegionName": WEST}]
    )["GlobalTableDescription"]
    assert out["GlobalTableName"] == table
    assert sorted(r["RegionName"] for r in out["ReplicationGroup"]) == sorted([EAST, WEST])
    with pytest.raises(ClientError) as e:
        east.create_global_table(GlobalTableName=table, ReplicationGroup=[{"RegionName": EAST}])
    assert e.value.response["Error"]["Code"] == "GlobalTableAlreadyExistsException"
    names = [g["GlobalTableName"] for g in east.list_global_tables(RegionName=WEST)["GlobalTables"]]
    assert table in names
    west.put_item(TableName=table, Item={"id": {"S": "x"}, "v": {"S": "1"}})
    assert wait_for_item(east, table, "x")["v"] == {"S": "1"}
    settings = east.describe_global_table_settings(GlobalTableName=table)["ReplicaSettings"]
    assert [s["RegionName"] for s in settings] == sorted([EAST, WEST])
    with pytest.raises(ClientError) as e:
        east.update_global_table(GlobalTableName=table, ReplicaUpdates=[{"Delete": {"RegionName": "ap-south-1"}}])
    assert e.value.response["Error"]["Code"] == "ReplicaNotFoundException"
    east.update_global_table(GlobalTableName=table, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}])
    with pytest.raises(ClientError) as e:
        east.describe_global_table(GlobalTableName=f"{table}-nope")
    assert e.value.response["Error"]["Code"] == "GlobalTableNotFoundException"
