"""End-to-end tests of DynamoDB Streams in ddb-harness through boto3 (``dynamodb`` and
``dynamodbstreams`` clients), written against real DynamoDB behaviour.

The server's endpoint comes from the environment variable ``DDB_ENDPOINT``; credentials can
be any dummy values (``test``/``test``/``us-east-1`` when none are set). Every test creates its
own uniquely named table and deletes it afterwards.

Run: ``DDB_ENDPOINT=http://127.0.0.1:8000 python3 -m pytest -q tests/python/test_streams.py``
"""

import os
import uuid

import boto3
import pytest
from botocore.config import Config
from stream_reading import shard_records

VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]

# No retries: a retried 500 would hide a server bug.
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@pytest.fixture(scope="module")
def session():
    endpoint = os.environ.get("DDB_ENDPOINT")
    if not endpoint:
        pytest.fail("DDB_ENDPOINT is not set: start `ddb-harness serve` and export DDB_ENDPOINT=http://127.0.0.1:PORT")
    return boto3.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


@pytest.fixture(scope="module")
def client(session):
    return session.client("dynamodb", endpoint_url=os.environ["DDB_ENDPOINT"], config=_CONFIG)


@pytest.fixture(scope="module")
def streams(session):
    return session.client("dynamodbstreams", endpoint_url=os.environ["DDB_ENDPOINT"], config=_CONFIG)


@pytest.fixture
def make_table(client):
    names = []

    def create(label, view_type):
        name = f"pytest-streams-{label}-{uuid.uuid4().hex[:10]}"
        names.append(name)
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
        )
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        return name

    yield create
    for name in names:
        try:
            client.delete_table(TableName=name)
        except client.exceptions.ResourceNotFoundException:
            pass


def stream_arn_of(streams, table):
    """The table's stream ARN, found through ListStreams."""
    listed = streams.list_streams(TableName=table)["Streams"]
    assert len(listed) == 1, listed
    assert listed[0]["TableName"] == table
    return listed[0]["StreamArn"]


def read_all(streams, arn):
    """Every record of every shard of the stream, from TRIM_HORIZON until a read is empty."""
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamArn"] == arn
    assert desc["Shards"], desc
    return desc, shard_records(streams, arn, desc["Shards"])


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_insert_modify_remove_per_view_type(client, streams, make_table, view_type):
    table = make_table(view_type.lower().replace("_", "-"), view_type)
    desc = client.describe_table(TableName=table)["Table"]
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view_type}
    arn = stream_arn_of(streams, table)
    assert desc["LatestStreamArn"] == arn

    key = {"pk": {"S": "k1"}}
    v1 = {"pk": {"S": "k1"}, "n": {"N": "1"}, "s": {"S": "one"}}
    v2 = {"pk": {"S": "k1"}, "n": {"N": "2"}, "s": {"S": "one"}}
    client.put_item(TableName=table, Item=v1)
    # Same item again: no change, so no record.
    client.put_item(TableName=table, Item=v1)
    client.update_item(
        TableName=table, Key=key, UpdateExpression="SET n = :n", ExpressionAttributeValues={":n": {"N": "2"}}
    )
    client.delete_item(TableName=table, Key=key)

    sdesc, records = read_all(streams, arn)
    assert sdesc["StreamViewType"] == view_type
    assert sdesc["TableName"] == table
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"], records

    region = client.meta.region_name
    seqs = []
    for r in records:
        assert r["eventSource"] == "aws:dynamodb"
        assert r["eventVersion"] == "1.1"
        assert r["awsRegion"] == region
        assert r["eventID"]
        d = r["dynamodb"]
        assert d["Keys"] == key
        assert d["StreamViewType"] == view_type
        assert d["SizeBytes"] > 0
        seqs.append(int(d["SequenceNumber"]))
    assert seqs == sorted(seqs) and len(set(seqs)) == 3, seqs

    want_new = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    want_old = view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    expected = [(v1, None), (v2, v1), (None, v2)]  # (new image, old image) per record
    for r, (new, old) in zip(records, expected):
        d = r["dynamodb"]
        if want_new and new is not None:
            assert d["NewImage"] == new, r
        else:
            assert "NewImage" not in d, r
        if want_old and old is not None:
            assert d["OldImage"] == old, r
        else:
            assert "OldImage" not in d, r


def test_reenabling_gives_new_stream_arn(client, streams, make_table):
    table = make_table("reenable", "NEW_AND_OLD_IMAGES")
    first = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]

    client.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    desc = client.describe_table(TableName=table)["Table"]
    assert desc.get("StreamSpecification", {}).get("StreamEnabled", False) is False
    assert streams.describe_stream(StreamArn=first)["StreamDescription"]["StreamStatus"] in ("DISABLING", "DISABLED")

    client.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    desc = client.describe_table(TableName=table)["Table"]
    second = desc["LatestStreamArn"]
    assert second != first
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert streams.describe_stream(StreamArn=second)["StreamDescription"]["StreamStatus"] in ("ENABLING", "ENABLED")

    # Records after re-enabling go to the new stream only.
    client.put_item(TableName=table, Item={"pk": {"S": "after"}})
    _, old_records = read_all(streams, first)
    assert old_records == []
    _, new_records = read_all(streams, second)
    assert [r["eventName"] for r in new_records] == ["INSERT"]
    assert new_records[0]["dynamodb"]["Keys"] == {"pk": {"S": "after"}}
