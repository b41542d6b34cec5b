"""Export to S3 and import from S3 in ddb-harness through boto3, as a new user would try them.

The server's local S3 directory (``serve --s3-dir``) stands in for the buckets: bucket ``b`` is
the folder ``<s3-dir>/b``. Issue #11's done-when: export a table and import the export into a
new table with identical items.

Environment: ``DDB_ENDPOINT`` (the server) and ``DDB_S3_DIR`` (its ``--s3-dir``).

Run: ``DDB_ENDPOINT=http://127.0.0.1:8000 DDB_S3_DIR=/tmp/s3 python3 -m pytest -q tests/python/test_export_import.py``
"""

import gzip
import json
import os
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

# No retries: a retried 500 would hide a server bug.
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)

KEYS = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}

# A table keyed by a string hash key alone.
HASH_KEYS = {
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


@pytest.fixture(scope="module")
def s3_dir():
    d = os.environ.get("DDB_S3_DIR")
    if not d:
        pytest.fail("DDB_S3_DIR is not set: export the server's --s3-dir")
    return d


@pytest.fixture
def tables(client):
    """Hands out unique table names; deletes whatever exists of them afterwards."""
    names = []

    def name(label):
        n = f"pytest-export-{label}-{uuid.uuid4().hex[:8]}"
        names.append(n)
        return n

    yield name
    for n in names:
        try:
            client.delete_table(TableName=n)
        except ClientError:
            pass


def bucket(s3_dir):
    """A fresh bucket (a folder of the S3 directory)."""
    name = f"bkt-{uuid.uuid4().hex[:8]}"
    os.makedirs(os.path.join(s3_dir, name))
    return name


def scan_all(client, table):
    items, start = [], None
    while True:
        kw = {"TableName": table}
        if start:
            kw["ExclusiveStartKey"] = start
        page = client.scan(**kw)
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return sorted(items, key=lambda i: (i["pk"]["S"], float(i["sk"]["N"])))


def test_export_a_table_and_import_the_export_into_a_new_table_with_identical_items(client, s3_dir, tables):
    source = tables("source")
    client.create_table(TableName=source, **KEYS)
    arn = client.describe_table(TableName=source)["Table"]["TableArn"]
    client.update_continuous_backups(
        TableName=source,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    for i in range(30):
        client.put_item(
            TableName=source,
            Item={
                "pk": {"S": f"user{i % 4}"},
                "sk": {"N": str(i)},
                "name": {"S": f"name {i}"},
                "score": {"N": f"{i}.5"},
                "tags": {"SS": ["x", f"t{i}"]},
                "blob": {"B": bytes([i, 255])},
                "doc": {"M": {"list": {"L": [{"BOOL": True}, {"NULL": True}, {"N": "-1E-5"}]}}},
            },
        )
    bkt = bucket(s3_dir)
    started = client.export_table_to_point_in_time(TableArn=arn, S3Bucket=bkt, S3Prefix="backups/daily")
    export = started["ExportDescription"]
    assert export["ExportStatus"] == "IN_PROGRESS"
    assert export["ExportArn"].startswith(arn + "/export/")
    done = client.describe_export(ExportArn=export["ExportArn"])["ExportDescription"]
    assert done["ExportStatus"] == "COMPLETED"
    assert done["ItemCount"] == 30
    assert done["ExportFormat"] == "DYNAMODB_JSON"
    assert done["ExportType"] == "FULL_EXPORT"

    # AWS's layout under <prefix>/AWSDynamoDB/<export id>/.
    export_id = export["ExportArn"].rsplit("/", 1)[1]
    base = os.path.join(s3_dir, bkt, "backups", "daily", "AWSDynamoDB", export_id)
    with open(os.path.join(base, "manifest-summary.json")) as f:
        summary = json.load(f)
    assert summary["exportArn"] == export["ExportArn"]
    assert summary["itemCount"] == 30
    assert summary["outputFormat"] == "DYNAMODB_JSON"
    assert os.path.exists(os.path.join(base, "_started"))
    with open(os.path.join(s3_dir, bkt, summary["manifestFilesS3Key"])) as f:
        files = [json.loads(line) for line in f if line.strip()]
    assert sum(f["itemCount"] for f in files) == 30
    with gzip.open(os.path.join(s3_dir, bkt, files[0]["dataFileS3Key"]), "rt") as f:
        first = json.loads(f.readline())
    assert set(first) == {"Item"}

    target = tables("copy")
    imported = client.import_table(
        S3BucketSource={"S3Bucket": bkt, "S3KeyPrefix": f"backups/daily/AWSDynamoDB/{export_id}/data/"},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters={"TableName": target, **KEYS},
    )["ImportTableDescription"]
    assert imported["ImportStatus"] == "IN_PROGRESS"
    assert "ProcessedSizeBytes" not in imported and "EndTime" not in imported
    desc = client.describe_import(ImportArn=imported["ImportArn"])["ImportTableDescription"]
    assert desc["ImportStatus"] == "COMPLETED"
    assert (desc["ProcessedItemCount"], desc["ImportedItemCount"], desc["ErrorCount"]) == (30, 30, 0)
    data_file = os.path.join(s3_dir, bkt, files[0]["dataFileS3Key"])
    assert desc["ProcessedSizeBytes"] == os.path.getsize(data_file)
    assert scan_all(client, target) == scan_all(client, source)

    listed = client.list_exports(TableArn=arn)["ExportSummaries"]
    assert [e["ExportArn"] for e in listed] == [export["ExportArn"]]
    target_arn = client.describe_table(TableName=target)["Table"]["TableArn"]
    imports = client.list_imports(TableArn=target_arn)["ImportSummaryList"]
    assert [i["ImportArn"] for i in imports] == [imported["ImportArn"]]


def test_export_and_import_a_hash_only_key_table_with_identical_items(client, s3_dir, tables):
    source, copy = tables("catalog"), tables("catalog-copy")
    client.create_table(TableName=source, **HASH_KEYS)
    client.get_waiter("table_exists").wait(TableName=source, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_continuous_backups(
        TableName=source,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    for i in range(12):
        client.put_item(
            TableName=source,
            Item={"id": {"S": f"p{i}"}, "v": {"S": f"price {i}"}, "n": {"N": f"{i}.25"}, "t": {"SS": ["a", f"t{i}"]}},
        )
    bkt = bucket(s3_dir)
    arn = client.describe_table(TableName=source)["Table"]["TableArn"]
    export_arn = client.export_table_to_point_in_time(TableArn=arn, S3Bucket=bkt, S3Prefix="exports")[
        "ExportDescription"
    ]["ExportArn"]
    export = client.describe_export(ExportArn=export_arn)["ExportDescription"]
    assert (export["ExportStatus"], export["ItemCount"]) == ("COMPLETED", 12)

    export_id = export_arn.rsplit("/", 1)[1]
    import_arn = client.import_table(
        S3BucketSource={"S3Bucket": bkt, "S3KeyPrefix": f"exports/AWSDynamoDB/{export_id}/data/"},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters={"TableName": copy, **HASH_KEYS},
    )["ImportTableDescription"]["ImportArn"]
    done = client.describe_import(ImportArn=import_arn)["ImportTableDescription"]
    assert (done["ImportStatus"], done["ImportedItemCount"], done["ErrorCount"]) == ("COMPLETED", 12, 0)

    def everything(table):
        return sorted(client.scan(TableName=table)["Items"], key=lambda i: i["id"]["S"])

    assert everything(copy) == everything(source)


def test_csv_import_counts_bad_lines_as_errors(client, s3_dir, tables):
    bkt = bucket(s3_dir)
    os.makedirs(os.path.join(s3_dir, bkt, "csv"))
    with open(os.path.join(s3_dir, bkt, "csv", "part1.csv"), "w") as f:
        f.write('pk,sk,city\nu1,1,Oslo\nu1,2,"Rio, de Janeiro"\nu2,not-a-number,Lima\n')
    target = tables("csv")
    started = client.import_table(
        S3BucketSource={"S3Bucket": bkt, "S3KeyPrefix": "csv/"},
        InputFormat="CSV",
        TableCreationParameters={"TableName": target, **KEYS},
    )["ImportTableDescription"]
    desc = client.describe_import(ImportArn=started["ImportArn"])["ImportTableDescription"]
    assert (desc["ProcessedItemCount"], desc["ImportedItemCount"], desc["ErrorCount"]) == (3, 2, 1)
    assert scan_all(client, target) == [
        {"pk": {"S": "u1"}, "sk": {"N": "1"}, "city": {"S": "Oslo"}},
        {"pk": {"S": "u1"}, "sk": {"N": "2"}, "city": {"S": "Rio, de Janeiro"}},
    ]


def test_export_without_point_in_time_recovery_is_refused(client, s3_dir, tables):
    name = tables("nopitr")
    client.create_table(TableName=name, **KEYS)
    arn = client.describe_table(TableName=name)["Table"]["TableArn"]
    with pytest.raises(ClientError) as e:
        client.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket(s3_dir))
    assert e.value.response["Error"]["Code"] == "PointInTimeRecoveryUnavailableException"
    assert e.value.response["Error"]["Message"] == f"Point in time recovery is not enabled for table '{name}'"
    with pytest.raises(ClientError) as e:
        client.describe_import(ImportArn=arn + "/import/01767225600000-00000000")
    assert e.value.response["Error"]["Code"] == "ImportNotFoundException"
