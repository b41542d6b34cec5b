"""boto3's Query and Scan paginators walk complete result sets (tables and indexes, both
directions, small pages), as application code relies on."""

import os
import uuid

import boto3
import pytest
from botocore.config import Config


@pytest.fixture(scope="module")
def client():
    endpoint = os.environ.get("DDB_ENDPOINT")
    if not endpoint:
        pytest.fail("DDB_ENDPOINT is not set: start `ddb-harness serve` and export DDB_ENDPOINT=http://127.0.0.1:PORT")
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="pager",
        aws_secret_access_key="pager",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def table(client):
    name = f"pages-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by_g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
        BillingMode="PAY_PER_REQUEST",
    )
    for p in range(3):
        for s in range(25):
            item = {"pk": {"S": f"p{p}"}, "sk": {"N": str(s)}, "pad": {"S": "x" * 50}}
            if s % 2 == 0:
                item["g"] = {"S": "even"}
            client.put_item(TableName=name, Item=item)
    yield name
    client.delete_table(TableName=name)


def keys(items):
    return [(i["pk"]["S"], int(i["sk"]["N"])) for i in items]


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("page_size", [1, 4, 7, 100])
def test_query_paginator_walks_the_partition(client, table, forward, page_size):
    pages = client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p1"}},
        ScanIndexForward=forward,
        PaginationConfig={"PageSize": page_size},
    )
    items = [i for page in pages for i in page["Items"]]
    want = [("p1", s) for s in range(25)]
    assert keys(items) == (want if forward else want[::-1])


@pytest.mark.parametrize("page_size", [1, 6, 100])
def test_query_paginator_on_a_gsi_with_filter(client, table, page_size):
    pages = client.get_paginator("query").paginate(
        TableName=table,
        IndexName="by_g",
        KeyConditionExpression="g = :g AND sk < :hi",
        ExpressionAttributeValues={":g": {"S": "even"}, ":hi": {"N": "10"}},
        PaginationConfig={"PageSize": page_size},
    )
    items = [i for page in pages for i in page["Items"]]
    assert sorted(keys(items)) == sorted((f"p{p}", s) for p in range(3) for s in range(0, 10, 2))
    assert all(set(i) == {"pk", "sk", "g"} for i in items), "KEYS_ONLY projection"


@pytest.mark.parametrize("page_size", [3, 50])
def test_scan_paginator_sees_every_item_once(client, table, page_size):
    pages = client.get_paginator("scan").paginate(TableName=table, PaginationConfig={"PageSize": page_size})
    items = [i for page in pages for i in page["Items"]]
    assert sorted(keys(items)) == sorted((f"p{p}", s) for p in range(3) for s in range(25))


def test_parallel_scan_segments_partition_the_table(client, table):
    seen = []
    for segment in range(3):
        pages = client.get_paginator("scan").paginate(
            TableName=table, Segment=segment, TotalSegments=3, PaginationConfig={"PageSize": 5}
        )
        seen += keys(i for page in pages for i in page["Items"])
    assert sorted(seen) == sorted((f"p{p}", s) for p in range(3) for s in range(25))
