"""Vector indexes, SearchVectors and bulk operations through boto3, as a new user would try
them against ``ddb-harness serve``.

boto3 releases older than the 2025 DynamoDB model do not know ``SearchVectors`` or the bulk
operations, so the client is built from the installed botocore model merged with the shapes in
``dynamodb_model_additions.json`` (extracted, documentation stripped, from botocore 1.44's
``dynamodb/2012-08-10/service-2.json``). With a current boto3 the merge changes nothing.

Environment: ``DDB_ENDPOINT`` (the server) and ``DDB_S3_DIR`` (the server's ``--s3-dir``, where
the bulk test writes its input objects).

Run: ``DDB_ENDPOINT=http://127.0.0.1:8000 DDB_S3_DIR=/tmp/s3 python3 -m pytest -q tests/python/test_vector.py``
"""

import json
import math
import os
import struct
import tempfile
import time
import uuid

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)
_HERE = os.path.dirname(os.path.abspath(__file__))


def _merged_model_dir():
    """A botocore data directory whose DynamoDB model has the 2025 operations and shapes."""
    loader = botocore.session.Session().get_component("data_loader")
    model = loader.load_service_model("dynamodb", "service-2")
    with open(os.path.join(_HERE, "dynamodb_model_additions.json")) as f:
        extra = json.load(f)
    for name, op in extra["operations"].items():
        model["operations"].setdefault(name, op)
    for name, shape in extra["shapes"].items():
        model["shapes"].setdefault(name, shape)
    for name, members in extra["members"].items():
        model["shapes"][name].setdefault("members", {})
        for member, ref in members.items():
            model["shapes"][name]["members"].setdefault(member, ref)
    root = tempfile.mkdtemp(prefix="ddb-vector-model-")
    version = model["metadata"]["apiVersion"]
    os.makedirs(os.path.join(root, "dynamodb", version))
    with open(os.path.join(root, "dynamodb", version, "service-2.json"), "w") as f:
        json.dump(model, f)
    return root


@pytest.fixture(scope="module")
def client():
    endpoint = os.environ.get("DDB_ENDPOINT")
    if not endpoint:
        pytest.fail("DDB_ENDPOINT is not set: start `ddb-harness serve` and export DDB_ENDPOINT")
    core = botocore.session.Session()
    core.get_component("data_loader").search_paths.insert(0, _merged_model_dir())
    session = boto3.Session(
        botocore_session=core,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    return session.client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


def _name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def f32(x):
    """``x`` rounded to a 32-bit float, as the index stores and scores it."""
    return struct.unpack("f", struct.pack("f", x))[0]


def vec(values):
    return {"L": [{"N": repr(v)} for v in values]}


ITEMS = {
    "a": [1.0, 0.0, 0.0, 0.0],
    "b": [0.0, 1.0, 0.0, 0.0],
    "c": [1.0, 1.0, 0.0, 0.0],
    "d": [-1.0, 0.0, 0.0, 0.0],
    "e": [3.0, 0.0, 0.0, 0.5],
}
QUERY = [1.0, 0.0, 0.0, 0.0]


def _create_vector_table(client, function, extra_items=True):
    name = _name("vec")
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "genre", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        VectorIndexes=[
            {
                "IndexName": "emb-index",
                "VectorAttribute": {"AttributeName": "emb"},
                "Dimensions": 4,
                "DistanceFunction": function,
                "SearchSchema": [{"AttributeName": "genre", "SearchSchemaElementType": "INLINE_FILTER"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for i, (key, v) in enumerate(ITEMS.items()):
        client.put_item(
            TableName=name,
            Item={"id": {"S": key}, "emb": vec(v), "genre": {"S": "odd" if i % 2 else "even"}},
        )
    if extra_items:
        client.put_item(TableName=name, Item={"id": {"S": "no-vector"}, "genre": {"S": "even"}})
    return name


def _search(client, table, **kw):
    args = dict(
        TableName=table, IndexName="emb-index", SearchVector=[{"N": repr(x)} for x in QUERY], TopK=3
    )
    args.update(kw)
    out = client.search_vectors(**args)
    return [(r["Item"]["id"]["S"], r["Score"]) for r in out["SearchResults"]]


def _expected(function, k=3):
    def score(v):
        q = [f32(x) for x in QUERY]
        v = [f32(x) for x in v]
        dot = sum(a * b for a, b in zip(q, v))
        if function == "DOT_PRODUCT":
            return dot
        if function == "EUCLIDEAN":
            return math.sqrt(sum((a - b) ** 2 for a, b in zip(q, v)))
        return 1.0 - dot / (math.sqrt(sum(a * a for a in q)) * math.sqrt(sum(b * b for b in v)))

    scored = [(key, score(v)) for key, v in ITEMS.items()]
    sign = -1 if function == "DOT_PRODUCT" else 1
    scored.sort(key=lambda kv: (sign * kv[1], kv[0]))
    return scored[:k]


@pytest.mark.parametrize("function", ["COSINE", "EUCLIDEAN", "DOT_PRODUCT"])
def test_search_vectors_returns_the_nearest_items_with_documented_scores(client, function):
    table = _create_vector_table(client, function)
    try:
        got = _search(client, table)
        want = _expected(function)
        assert [k for k, _ in got] == [k for k, _ in want]
        for (_, g), (_, w) in zip(got, want):
            assert g == pytest.approx(w, abs=1e-6)
        desc = client.describe_table(TableName=table)["Table"]["VectorIndexes"][0]
        assert desc["IndexStatus"] == "ACTIVE"
        assert desc["ItemCount"] == len(ITEMS)
        assert desc["DistanceFunction"] == function
        assert desc["IndexArn"].endswith(f"table/{table}/index/emb-index")
    finally:
        client.delete_table(TableName=table)


def test_inline_filter_projection_and_errors(client):
    table = _create_vector_table(client, "EUCLIDEAN")
    try:
        got = _search(
            client,
            table,
            SearchConditionExpression="genre = :g",
            ExpressionAttributeValues={":g": {"S": "odd"}},
            ProjectionExpression="id, emb",
            ReturnConsumedCapacity="TOTAL",
        )
        assert [k for k, _ in got] == ["b", "d"]
        out = client.search_vectors(
            TableName=table,
            IndexName="emb-index",
            SearchVector=[{"N": "1"}] * 4,
            TopK=1,
            ProjectionExpression="emb",
            ReturnConsumedCapacity="TOTAL",
        )
        assert out["SearchResults"][0]["Item"] == {"emb": {"L": [{"N": "1"}, {"N": "1"}, {"N": "0"}, {"N": "0"}]}}
        assert out["ConsumedCapacity"]["VectorSearchRequestBytes"] >= 1024
        with pytest.raises(ClientError) as e:
            client.search_vectors(TableName=table, IndexName="emb-index", SearchVector=[{"N": "1"}], TopK=3)
        assert e.value.response["Error"]["Code"] == "ValidationException"
        assert "dimension 1 does not match vector index dimension 4" in e.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as e:
            client.search_vectors(
                TableName=table, IndexName="emb-index", SearchVector=[{"N": "1"}] * 4, TopK=101
            )
        assert "Provided TopK value '101' is out of valid range" in e.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as e:
            client.search_vectors(TableName=table, IndexName="nope", SearchVector=[{"N": "1"}] * 4, TopK=1)
        assert e.value.response["Error"]["Message"] == "The table does not have the specified index: nope"
        with pytest.raises(ClientError) as e:
            client.put_item(TableName=table, Item={"id": {"S": "bad"}, "emb": vec([1.0, 2.0])})
        assert e.value.response["Error"]["Code"] == "ValidationException"
    finally:
        client.delete_table(TableName=table)


def test_vector_index_added_by_update_table_is_backfilled(client):
    table = _create_vector_table(client, "COSINE")
    try:
        out = client.update_table(
            TableName=table,
            VectorIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "dot-index",
                        "VectorAttribute": {"AttributeName": "emb"},
                        "Dimensions": 4,
                        "DistanceFunction": "DOT_PRODUCT",
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    }
                }
            ],
        )
        created = [v for v in out["TableDescription"]["VectorIndexes"] if v["IndexName"] == "dot-index"]
        assert created[0]["IndexStatus"] == "CREATING"
        got = _search(client, table, IndexName="dot-index", TopK=1)
        assert got == [("e", 3.0)]
        client.update_table(TableName=table, VectorIndexUpdates=[{"Delete": {"IndexName": "dot-index"}}])
        names = [v["IndexName"] for v in client.describe_table(TableName=table)["Table"]["VectorIndexes"]]
        assert names == ["emb-index"]
    finally:
        client.delete_table(TableName=table)


def test_provisioned_tables_cannot_have_vector_indexes(client):
    with pytest.raises(ClientError) as e:
        client.create_table(
            TableName=_name("prov"),
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            VectorIndexes=[
                {
                    "IndexName": "emb-index",
                    "VectorAttribute": {"AttributeName": "emb"},
                    "Dimensions": 4,
                    "DistanceFunction": "COSINE",
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "PAY_PER_REQUEST" in e.value.response["Error"]["Message"]


def test_bulk_put_of_ten_thousand_items_from_a_local_directory(client):
    s3_dir = os.environ.get("DDB_S3_DIR")
    if not s3_dir:
        pytest.fail("DDB_S3_DIR is not set: export the server's --s3-dir")
    bucket = _name("bkt")
    table = _name("bulk")
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        folder = os.path.join(s3_dir, bucket, "input")
        os.makedirs(folder)
        for part in range(4):
            with open(os.path.join(folder, f"part-{part}.json"), "w") as f:
                for i in range(part * 2500, (part + 1) * 2500):
                    f.write(json.dumps({"Item": {"id": {"N": str(i)}, "name": {"S": f"item {i}"}}}) + "\n")
        # One record without its key: a validation failure that is counted, not written.
        with open(os.path.join(folder, "part-9.json"), "w") as f:
            f.write(json.dumps({"Item": {"name": {"S": "no key"}}}) + "\n")
        start = client.start_bulk_put_items(
            TableName=table,
            ClientToken=uuid.uuid4().hex,
            InputS3Configuration={"S3Bucket": bucket, "S3KeyPrefix": "input/", "InputFormat": "DYNAMODB_JSON"},
            OutputS3Configuration={"S3Bucket": bucket, "S3KeyPrefix": "errors", "OutputType": ["ERROR"]},
        )["BulkOperationDescription"]
        assert start["BulkOperationStatus"] == "IN_PROGRESS"
        arn = start["BulkOperationArn"]
        deadline = time.time() + 60
        while True:
            desc = client.describe_bulk_operation(BulkOperationArn=arn)["BulkOperationDescription"]
            if desc["BulkOperationStatus"] not in ("IN_PROGRESS", "CANCELLING"):
                break
            assert time.time() < deadline, desc
            time.sleep(0.5)
        assert desc["BulkOperationStatus"] == "COMPLETED_WITH_ERRORS"
        assert desc["ProcessedItemCount"] == 10001
        assert desc["FailedItemCount"] == 1
        assert "EndTime" in desc
        assert client.describe_table(TableName=table)["Table"]["ItemCount"] == 10000
        item = client.get_item(TableName=table, Key={"id": {"N": "9999"}})["Item"]
        assert item["name"] == {"S": "item 9999"}
        listed = client.list_bulk_operations(MaxResults=25)["BulkOperationsSummaryList"]
        assert arn in [o["BulkOperationArn"] for o in listed]
        op_id = arn.rsplit("/", 1)[1]
        with open(os.path.join(s3_dir, bucket, "errors", op_id, "errors.json")) as f:
            errors = [json.loads(line) for line in f]
        assert len(errors) == 1 and errors[0]["errorType"] == "ValidationException"
    finally:
        client.delete_table(TableName=table)
