"""Issue #11's done-when, tried as a new boto3 user would: back up, restore, recover to a point
in time, export and import, recover a deleted table from its system backup, and read and raise a
table's warm throughput.

The server runs on the system clock, so "advance the clock" is a real wait of about a second
(the serve command has no clock control over HTTP). Every table has a unique name and is deleted
afterwards. The S3 bucket is a folder of the server's ``--s3-dir``.

Environment: ``DDB_ENDPOINT`` (the server) and ``DDB_S3_DIR`` (its ``--s3-dir``).

Run: ``DDB_ENDPOINT=http://127.0.0.1:8000 DDB_S3_DIR=/tmp/s3 python3 -m pytest -q tests/python/test_issue11_user.py``
"""

import os
import time
import uuid
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

# No retries: a retried 500 would hide a server bug.
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)

KEYS = {
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}


@pytest.fixture(scope="module")
def client():
    endpoint = os.environ.get("DDB_ENDPOINT")
    if not endpoint:
        pytest.fail("DDB_ENDPOINT is not set: start `ddb-harness serve --s3-dir DIR` and export DDB_ENDPOINT")
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
        n = f"pytest-i11-{label}-{uuid.uuid4().hex[:8]}"
        names.append(n)
        return n

    yield name
    for n in names:
        try:
            client.delete_table(TableName=n)
        except ClientError:
            pass


def create(client, name):
    client.create_table(TableName=name, **KEYS)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def put(client, table, id_, v):
    client.put_item(TableName=table, Item={"id": {"S": id_}, "v": {"S": v}})


def contents(client, table):
    """id -> v of every item (the tables here are small: one Scan page)."""
    return {i["id"]["S"]: i["v"]["S"] for i in client.scan(TableName=table, ConsistentRead=True)["Items"]}


def test_back_up_change_and_restore_the_old_items(client, tables):
    table, restored = tables("orders"), tables("orders-restored")
    create(client, table)
    put(client, table, "o1", "placed")
    put(client, table, "o2", "placed")
    backup = client.create_backup(TableName=table, BackupName="before-shipping")["BackupDetails"]

    put(client, table, "o1", "shipped")
    client.delete_item(TableName=table, Key={"id": {"S": "o2"}})
    put(client, table, "o3", "placed")

    client.restore_table_from_backup(TargetTableName=restored, BackupArn=backup["BackupArn"])
    client.get_waiter("table_exists").wait(TableName=restored, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert contents(client, restored) == {"o1": "placed", "o2": "placed"}
    assert contents(client, table) == {"o1": "shipped", "o3": "placed"}


def test_point_in_time_restore_to_the_middle(client, tables):
    table, middle_copy = tables("ledger"), tables("ledger-middle")
    create(client, table)
    client.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    put(client, table, "a", "first")
    time.sleep(1.1)  # the clock moves on
    middle = datetime.now(timezone.utc)
    time.sleep(1.1)
    put(client, table, "a", "second")
    put(client, table, "b", "second")

    window = client.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    assert window["PointInTimeRecoveryStatus"] == "ENABLED"
    assert window["EarliestRestorableDateTime"] <= middle <= window["LatestRestorableDateTime"]

    client.restore_table_to_point_in_time(
        SourceTableName=table, TargetTableName=middle_copy, RestoreDateTime=middle
    )
    assert contents(client, middle_copy) == {"a": "first"}


def test_export_and_import_into_a_new_table_with_identical_items(client, tables):
    s3_dir = os.environ.get("DDB_S3_DIR")
    if not s3_dir:
        pytest.fail("DDB_S3_DIR is not set: export the server's --s3-dir")
    source, copy = tables("catalog"), tables("catalog-copy")
    create(client, source)
    client.update_continuous_backups(
        TableName=source,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    for i in range(12):
        client.put_item(
            TableName=source,
            Item={"id": {"S": f"p{i}"}, "v": {"S": f"price {i}"}, "n": {"N": f"{i}.25"}, "t": {"SS": ["a", f"t{i}"]}},
        )
    bucket = f"i11-{uuid.uuid4().hex[:8]}"
    os.makedirs(os.path.join(s3_dir, bucket))
    arn = client.describe_table(TableName=source)["Table"]["TableArn"]
    export_arn = client.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="exports")[
        "ExportDescription"
    ]["ExportArn"]
    export = client.describe_export(ExportArn=export_arn)["ExportDescription"]
    assert (export["ExportStatus"], export["ItemCount"]) == ("COMPLETED", 12)

    export_id = export_arn.rsplit("/", 1)[1]
    import_arn = client.import_table(
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": f"exports/AWSDynamoDB/{export_id}/data/"},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters={"TableName": copy, **KEYS},
    )["ImportTableDescription"]["ImportArn"]
    done = client.describe_import(ImportArn=import_arn)["ImportTableDescription"]
    assert (done["ImportStatus"], done["ImportedItemCount"], done["ErrorCount"]) == ("COMPLETED", 12, 0)

    def everything(table):
        return sorted(client.scan(TableName=table)["Items"], key=lambda i: i["id"]["S"])

    assert everything(copy) == everything(source)


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
