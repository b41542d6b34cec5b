"""Backups, point-in-time recovery, the system backup of a deleted PITR table and warm throughput
in ddb-harness through boto3, as a new user would try them.

The server's endpoint comes from ``DDB_ENDPOINT``; the server runs on the system clock, so the
point-in-time test waits real seconds between its writes. Every test creates its own uniquely
named tables and deletes them afterwards.

Run: ``DDB_ENDPOINT=http://127.0.0.1:8000 python3 -m pytest -q tests/python/test_backups.py``
"""

import os
import time
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

# No retries: a retried 500 would hide a server bug.
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@pytest.fixture(scope="module")
def client():
    endpoint = os.environ.get("DDB_ENDPOINT")
    if not endpoint:
        pytest.fail("DDB_ENDPOINT is not set: start `ddb-harness serve` and export DDB_ENDPOINT=http://127.0.0.1:PORT")
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=_CONFIG,
    )


@pytest.fixture
def tables(client):
    """Hands out unique table names; deletes whatever exists of them afterwards."""
    names = []

    def name(label):
        n = f"pytest-backups-{label}-{uuid.uuid4().hex[:8]}"
        names.append(n)
        return n

    yield name
    for n in names:
        try:
            client.delete_table(TableName=n)
        except ClientError:
            pass


def create(client, name):
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def put(client, table, id_, v):
    client.put_item(TableName=table, Item={"id": {"S": id_}, "v": {"S": v}})


def contents(client, table):
    """id -> v of every item (the tables here are small: one Scan page)."""
    items = client.scan(TableName=table)["Items"]
    return {i["id"]["S"]: i["v"]["S"] for i in items}


def test_back_up_change_restore_sees_old_items(client, tables):
    table, restored = tables("src"), tables("restored")
    create(client, table)
    put(client, table, "a", "old")
    put(client, table, "b", "old")

    backup = client.create_backup(TableName=table, BackupName="before-change")["BackupDetails"]
    arn = backup["BackupArn"]
    assert arn.startswith(client.describe_table(TableName=table)["Table"]["TableArn"] + "/backup/")

    put(client, table, "a", "new")
    client.delete_item(TableName=table, Key={"id": {"S": "b"}})
    put(client, table, "c", "new")
    assert contents(client, table) == {"a": "new", "c": "new"}

    out = client.restore_table_from_backup(TargetTableName=restored, BackupArn=arn)
    assert out["TableDescription"]["RestoreSummary"]["SourceBackupArn"] == arn
    client.get_waiter("table_exists").wait(TableName=restored, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert contents(client, restored) == {"a": "old", "b": "old"}

    summaries = client.list_backups(TableName=table)["BackupSummaries"]
    assert [s["BackupArn"] for s in summaries] == [arn]
    assert summaries[0]["BackupStatus"] == "AVAILABLE"
    assert client.describe_backup(BackupArn=arn)["BackupDescription"]["SourceTableDetails"]["ItemCount"] == 2

    client.delete_backup(BackupArn=arn)
    with pytest.raises(ClientError) as e:
        client.describe_backup(BackupArn=arn)
    assert e.value.response["Error"]["Code"] == "BackupNotFoundException"


def test_pitr_restores_the_middle_state(client, tables):
    table, middle_table = tables("pitr"), tables("middle")
    create(client, table)
    with pytest.raises(ClientError) as e:
        client.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName=middle_table, UseLatestRestorableTime=True
        )
    assert e.value.response["Error"]["Code"] == "PointInTimeRecoveryUnavailableException"

    desc = client.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )["ContinuousBackupsDescription"]
    assert desc["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    put(client, table, "a", "first")
    put(client, table, "b", "first")
    time.sleep(1.2)
    middle = datetime.now(timezone.utc)
    time.sleep(1.2)
    put(client, table, "a", "second")
    client.delete_item(TableName=table, Key={"id": {"S": "b"}})

    pitr = client.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["EarliestRestorableDateTime"] <= middle <= pitr["LatestRestorableDateTime"]

    client.restore_table_to_point_in_time(
        SourceTableName=table, TargetTableName=middle_table, RestoreDateTime=middle
    )
    client.get_waiter("table_exists").wait(TableName=middle_table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert contents(client, middle_table) == {"a": "first", "b": "first"}
    assert contents(client, table) == {"a": "second"}

    with pytest.raises(ClientError) as e:
        client.restore_table_to_point_in_time(
            SourceTableName=table,
            TargetTableName=tables("future"),
            RestoreDateTime=datetime.now(timezone.utc) + timedelta(hours=1),
        )
    assert e.value.response["Error"]["Code"] == "InvalidRestoreTimeException"


def test_a_deleted_pitr_table_comes_back_from_its_system_backup(client, tables):
    table = tables("profiles")
    create(client, table)
    client.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    put(client, table, "u1", "ada")
    put(client, table, "u2", "grace")
    client.delete_table(TableName=table)
    client.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    # ListBackups shows USER backups unless asked for SYSTEM (or ALL) ones.
    assert client.list_backups(TableName=table)["BackupSummaries"] == []
    system = client.list_backups(TableName=table, BackupType="SYSTEM")["BackupSummaries"]
    assert [s["BackupName"] for s in system] == [f"{table}$DeletedTableBackup"]
    backup = system[0]
    assert backup["BackupType"] == "SYSTEM"
    assert backup["BackupArn"].endswith("-00000000")
    days = (backup["BackupExpiryDateTime"] - backup["BackupCreationDateTime"]).total_seconds() / 86400
    assert days == pytest.approx(35)

    with pytest.raises(ClientError) as refused:
        client.delete_backup(BackupArn=backup["BackupArn"])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "User is not allowed to delete the system backup" in refused.value.response["Error"]["Message"]

    client.restore_table_from_backup(TargetTableName=table, BackupArn=backup["BackupArn"])
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert contents(client, table) == {"u1": "ada", "u2": "grace"}


def test_warm_throughput_is_described_and_only_rises(client, tables):
    table = tables("events")
    create(client, table)
    warm = client.describe_table(TableName=table)["Table"]["WarmThroughput"]
    assert warm == {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"}

    answered = client.update_table(
        TableName=table, WarmThroughput={"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 5000}
    )["TableDescription"]["WarmThroughput"]
    assert answered["Status"] == "UPDATING"
    warm = client.describe_table(TableName=table)["Table"]["WarmThroughput"]
    assert warm == {"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 5000, "Status": "ACTIVE"}

    with pytest.raises(ClientError) as lower:
        client.update_table(TableName=table, WarmThroughput={"ReadUnitsPerSecond": 12000})
    assert lower.value.response["Error"]["Message"] == (
        "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table "
        "is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
    )
