#!/usr/bin/env python3
"""Drives a DynamoDB endpoint (normally `ddb-harness proxy` in front of it) through every
operation DynamoDB Local supports and their common errors, with boto3.

Usage: record.py ENDPOINT_URL

Every request is deterministic (fixed table names, items, idempotency tokens), so a
re-recording differs from the previous one only where the upstream's behaviour changed.
Errors are expected: they are what the recording is for, so they are printed and not raised.
"""
import json
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = sys.argv[1]
REGION = "us-east-1"
cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=False)
session = boto3.session.Session(
    aws_access_key_id="AKIDRECORDING", aws_secret_access_key="recording", region_name=REGION
)
ddb = session.client("dynamodb", endpoint_url=ENDPOINT, config=cfg)
streams = session.client("dynamodbstreams", endpoint_url=ENDPOINT, config=cfg)
counts = {"ok": 0, "error": 0}


def call(client, op, **kwargs):
    """Calls `op`; returns the response, or None after printing the AWS error."""
    try:
        out = getattr(client, op)(**kwargs)
        counts["ok"] += 1
        return out
    except ClientError as e:
        counts["error"] += 1
        err = e.response.get("Error", {})
        print(f"  {op}: {err.get('Code')}: {err.get('Message')}", file=sys.stderr)
        return None


def raw(target, body):
    """Sends a request boto3 would refuse to build (bad JSON, unknown operation)."""
    req = urllib.request.Request(
        ENDPOINT,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": target,
            "X-Amz-Date": "20240101T000000Z",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDRECORDING/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
        },
    )
    try:
        urllib.request.urlopen(req).read()
    except urllib.error.HTTPError as e:
        e.read()


S = lambda v: {"S": v}
N = lambda v: {"N": v}

# --- tables -------------------------------------------------------------------------------
call(ddb, "list_tables")
call(ddb, "create_table", TableName="rec_users",
     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
     BillingMode="PAY_PER_REQUEST")
call(ddb, "create_table", TableName="rec_orders",
     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                           {"AttributeName": "sk", "AttributeType": "N"},
                           {"AttributeName": "status", "AttributeType": "S"},
                           {"AttributeName": "total", "AttributeType": "N"}],
     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
     GlobalSecondaryIndexes=[{"IndexName": "by_status",
                              "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                            {"AttributeName": "sk", "KeyType": "RANGE"}],
                              "Projection": {"ProjectionType": "ALL"},
                              "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}],
     LocalSecondaryIndexes=[{"IndexName": "by_total",
                             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                           {"AttributeName": "total", "KeyType": "RANGE"}],
                             "Projection": {"ProjectionType": "KEYS_ONLY"}}],
     ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
# Errors: an existing table, a bad key schema, missing attribute definitions.
call(ddb, "create_table", TableName="rec_users",
     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
call(ddb, "create_table", TableName="rec_bad",
     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
     KeySchema=[{"AttributeName": "id", "KeyType": "RANGE"}], BillingMode="PAY_PER_REQUEST")
call(ddb, "create_table", TableName="rec_bad",
     AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}],
     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
call(ddb, "describe_table", TableName="rec_users")
call(ddb, "describe_table", TableName="rec_missing")
call(ddb, "list_tables", Limit=1)
call(ddb, "list_tables", ExclusiveStartTableName="rec_orders")
call(ddb, "update_table", TableName="rec_orders",
     ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 10})
call(ddb, "update_table", TableName="rec_missing", BillingMode="PAY_PER_REQUEST")

# --- items --------------------------------------------------------------------------------
call(ddb, "put_item", TableName="rec_users",
     Item={"id": S("u1"), "name": S("Ada"), "age": N("36"), "tags": {"SS": ["b", "a"]},
           "big": N("12345678901234567890123456789012345678"), "empty": S(""),
           "doc": {"M": {"nested": {"L": [N("1"), S("two"), {"BOOL": True}, {"NULL": True}]}}}})
call(ddb, "put_item", TableName="rec_users", Item={"id": S("u2"), "name": S("Grace")},
     ReturnValues="ALL_OLD")
call(ddb, "put_item", TableName="rec_users", Item={"id": S("u2"), "name": S("Grace H")},
     ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL")
call(ddb, "put_item", TableName="rec_users", Item={"id": S("u1")},
     ConditionExpression="attribute_not_exists(id)")
call(ddb, "put_item", TableName="rec_users", Item={"id": S("u1"), "name": S("Ada")},
     ConditionExpression="attribute_not_exists(id)",
     ReturnValuesOnConditionCheckFailure="ALL_OLD")
call(ddb, "put_item", TableName="rec_users", Item={"id": N("1")})
call(ddb, "put_item", TableName="rec_users", Item={"name": S("no key")})
call(ddb, "put_item", TableName="rec_users", Item={"id": S("u9"), "n": N("1e126")})
call(ddb, "put_item", TableName="rec_users", Item={"id": S("u9"), "n": N("123456789012345678901234567890123456789")})
call(ddb, "put_item", TableName="rec_missing", Item={"id": S("u1")})
call(ddb, "get_item", TableName="rec_users", Key={"id": S("u1")})
call(ddb, "get_item", TableName="rec_users", Key={"id": S("u1")}, ConsistentRead=True,
     ProjectionExpression="#n, doc.nested[1]", ExpressionAttributeNames={"#n": "name"},
     ReturnConsumedCapacity="TOTAL")
call(ddb, "get_item", TableName="rec_users", Key={"id": S("nobody")})
call(ddb, "get_item", TableName="rec_users", Key={"id": N("1")})
call(ddb, "get_item", TableName="rec_users", Key={"id": S("u1"), "extra": S("x")})
call(ddb, "update_item", TableName="rec_users", Key={"id": S("u1")},
     UpdateExpression="SET age = age + :one, #n = :n REMOVE empty ADD tags :t",
     ExpressionAttributeNames={"#n": "name"},
     ExpressionAttributeValues={":one": N("1"), ":n": S("Ada L"), ":t": {"SS": ["c"]}},
     ReturnValues="ALL_NEW")
call(ddb, "update_item", TableName="rec_users", Key={"id": S("u1")},
     UpdateExpression="DELETE tags :t SET doc.nested[0] = :z",
     ExpressionAttributeValues={":t": {"SS": ["a"]}, ":z": N("0")}, ReturnValues="UPDATED_OLD")
call(ddb, "update_item", TableName="rec_users", Key={"id": S("u3")},
     UpdateExpression="SET visits = if_not_exists(visits, :zero) + :one",
     ExpressionAttributeValues={":zero": N("0"), ":one": N("1")}, ReturnValues="UPDATED_NEW")
call(ddb, "update_item", TableName="rec_users", Key={"id": S("u3")},
     UpdateExpression="SET visits = :v", ConditionExpression="visits > :v",
     ExpressionAttributeValues={":v": N("5")})
call(ddb, "update_item", TableName="rec_users", Key={"id": S("u3")},
     UpdateExpression="SET id = :v", ExpressionAttributeValues={":v": S("x")})
call(ddb, "update_item", TableName="rec_users", Key={"id": S("u3")},
     UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": S("x"), ":unused": S("y")})
call(ddb, "update_item", TableName="rec_users", Key={"id": S("u3")},
     UpdateExpression="SET a = :v SET b = :v", ExpressionAttributeValues={":v": S("x")})
call(ddb, "update_item", TableName="rec_users", Key={"id": S("u3")},
     UpdateExpression="SET #bad = :v", ExpressionAttributeValues={":v": S("x")})
call(ddb, "delete_item", TableName="rec_users", Key={"id": S("u3")}, ReturnValues="ALL_OLD")
call(ddb, "delete_item", TableName="rec_users", Key={"id": S("u2")},
     ConditionExpression="#n = :n", ExpressionAttributeNames={"#n": "name"},
     ExpressionAttributeValues={":n": S("nobody")})
call(ddb, "delete_item", TableName="rec_users", Key={"id": S("nobody")}, ReturnValues="ALL_OLD")

# --- orders: writes, queries, scans, indexes, streams --------------------------------------
for i in range(1, 9):
    call(ddb, "put_item", TableName="rec_orders",
         Item={"pk": S("c1" if i <= 5 else "c2"), "sk": N(str(i)),
               "status": S("open" if i % 2 else "shipped"), "total": N(f"{i * 10}.5")})
call(ddb, "query", TableName="rec_orders", KeyConditionExpression="pk = :p",
     ExpressionAttributeValues={":p": S("c1")})
call(ddb, "query", TableName="rec_orders", KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
     ExpressionAttributeValues={":p": S("c1"), ":a": N("2"), ":b": N("4")},
     ScanIndexForward=False, ReturnConsumedCapacity="TOTAL")
call(ddb, "query", TableName="rec_orders", KeyConditionExpression="pk = :p",
     ExpressionAttributeValues={":p": S("c1")}, Limit=2)
call(ddb, "query", TableName="rec_orders", KeyConditionExpression="pk = :p",
     ExpressionAttributeValues={":p": S("c1")}, Limit=2,
     ExclusiveStartKey={"pk": S("c1"), "sk": N("2")})
call(ddb, "query", TableName="rec_orders", KeyConditionExpression="pk = :p",
     FilterExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
     ExpressionAttributeValues={":p": S("c1"), ":s": S("open")}, Limit=3)
call(ddb, "query", TableName="rec_orders", KeyConditionExpression="pk = :p", Select="COUNT",
     ExpressionAttributeValues={":p": S("c1")})
call(ddb, "query", TableName="rec_orders", IndexName="by_status",
     KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
     ExpressionAttributeValues={":s": S("shipped")})
call(ddb, "query", TableName="rec_orders", IndexName="by_total",
     KeyConditionExpression="pk = :p AND total > :t",
     ExpressionAttributeValues={":p": S("c1"), ":t": N("25")})
call(ddb, "query", TableName="rec_orders", KeyConditionExpression="sk = :k",
     ExpressionAttributeValues={":k": N("1")})
call(ddb, "query", TableName="rec_orders", KeyConditionExpression="pk = :p",
     FilterExpression="pk = :p", ExpressionAttributeValues={":p": S("c1")})
call(ddb, "query", TableName="rec_orders", IndexName="nope", KeyConditionExpression="pk = :p",
     ExpressionAttributeValues={":p": S("c1")})
call(ddb, "scan", TableName="rec_orders")
call(ddb, "scan", TableName="rec_orders", Limit=3)
call(ddb, "scan", TableName="rec_orders", FilterExpression="total >= :t",
     ExpressionAttributeValues={":t": N("50")}, Select="COUNT")
call(ddb, "scan", TableName="rec_orders", Segment=0, TotalSegments=2)
call(ddb, "scan", TableName="rec_orders", Segment=1, TotalSegments=2)
call(ddb, "scan", TableName="rec_orders", Segment=2, TotalSegments=2)
call(ddb, "scan", TableName="rec_orders", IndexName="by_status")

# --- batches and transactions ---------------------------------------------------------------
call(ddb, "batch_write_item", RequestItems={
    "rec_users": [{"PutRequest": {"Item": {"id": S(f"b{i}"), "n": N(str(i))}}} for i in range(5)]
    + [{"DeleteRequest": {"Key": {"id": S("u2")}}}]})
call(ddb, "batch_write_item", RequestItems={
    "rec_users": [{"PutRequest": {"Item": {"id": S("d")}}}, {"PutRequest": {"Item": {"id": S("d")}}}]})
call(ddb, "batch_write_item", RequestItems={"rec_missing": [{"PutRequest": {"Item": {"id": S("x")}}}]})
call(ddb, "batch_get_item", RequestItems={
    "rec_users": {"Keys": [{"id": S(f"b{i}")} for i in range(4)] + [{"id": S("none")}],
                  "ProjectionExpression": "id, n"},
    "rec_orders": {"Keys": [{"pk": S("c1"), "sk": N("1")}], "ConsistentRead": True}},
    ReturnConsumedCapacity="TOTAL")
call(ddb, "batch_get_item", RequestItems={"rec_users": {"Keys": [{"id": S("b1")}, {"id": S("b1")}]}})
call(ddb, "transact_write_items", ClientRequestToken="rec-token-1", TransactItems=[
    {"Put": {"TableName": "rec_users", "Item": {"id": S("t1"), "n": N("1")},
             "ConditionExpression": "attribute_not_exists(id)"}},
    {"Update": {"TableName": "rec_orders", "Key": {"pk": S("c1"), "sk": N("1")},
                "UpdateExpression": "SET #s = :s", "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":s": S("paid")}}},
    {"Delete": {"TableName": "rec_users", "Key": {"id": S("b4")}}},
    {"ConditionCheck": {"TableName": "rec_users", "Key": {"id": S("u1")},
                        "ConditionExpression": "attribute_exists(id)"}}])
call(ddb, "transact_write_items", ClientRequestToken="rec-token-2", TransactItems=[
    {"Put": {"TableName": "rec_users", "Item": {"id": S("t2")}}},
    {"ConditionCheck": {"TableName": "rec_users", "Key": {"id": S("u1")},
                        "ConditionExpression": "attribute_not_exists(id)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}])
call(ddb, "transact_write_items", ClientRequestToken="rec-token-3", TransactItems=[
    {"Put": {"TableName": "rec_users", "Item": {"id": S("t3")}}},
    {"Delete": {"TableName": "rec_users", "Key": {"id": S("t3")}}}])
call(ddb, "transact_get_items", TransactItems=[
    {"Get": {"TableName": "rec_users", "Key": {"id": S("t1")}}},
    {"Get": {"TableName": "rec_users", "Key": {"id": S("none")}}},
    {"Get": {"TableName": "rec_orders", "Key": {"pk": S("c1"), "sk": N("1")},
             "ProjectionExpression": "#s", "ExpressionAttributeNames": {"#s": "status"}}}])
call(ddb, "transact_get_items", TransactItems=[
    {"Get": {"TableName": "rec_missing", "Key": {"id": S("t1")}}}])

# --- TTL, tags, limits, endpoints -----------------------------------------------------------
call(ddb, "describe_time_to_live", TableName="rec_users")
call(ddb, "update_time_to_live", TableName="rec_users",
     TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
call(ddb, "describe_time_to_live", TableName="rec_users")
call(ddb, "update_time_to_live", TableName="rec_users",
     TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
users = call(ddb, "describe_table", TableName="rec_users")
arn = users["Table"]["TableArn"] if users else "arn:aws:dynamodb:us-east-1:000000000000:table/rec_users"
call(ddb, "tag_resource", ResourceArn=arn, Tags=[{"Key": "team", "Value": "core"},
                                                {"Key": "env", "Value": "test"}])
call(ddb, "list_tags_of_resource", ResourceArn=arn)
call(ddb, "untag_resource", ResourceArn=arn, TagKeys=["env"])
call(ddb, "list_tags_of_resource", ResourceArn=arn)
call(ddb, "describe_limits")
call(ddb, "describe_endpoints")

# --- PartiQL --------------------------------------------------------------------------------
call(ddb, "execute_statement", Statement="SELECT * FROM rec_users WHERE id = ?", Parameters=[S("u1")])
call(ddb, "execute_statement", Statement="INSERT INTO rec_users VALUE {'id': 'p1', 'n': 1}")
call(ddb, "batch_execute_statement", Statements=[
    {"Statement": "SELECT * FROM rec_users WHERE id = ?", "Parameters": [S("p1")]},
    {"Statement": "UPDATE rec_users SET n = 2 WHERE id = 'p1'"}])
call(ddb, "execute_transaction", ClientRequestToken="rec-token-4", TransactStatements=[
    {"Statement": "DELETE FROM rec_users WHERE id = 'p1'"}])

# --- DynamoDB Streams -----------------------------------------------------------------------
listed = call(streams, "list_streams", TableName="rec_orders")
if listed and listed.get("Streams"):
    stream_arn = listed["Streams"][0]["StreamArn"]
    desc = call(streams, "describe_stream", StreamArn=stream_arn)
    shards = desc["StreamDescription"]["Shards"] if desc else []
    if shards:
        it = call(streams, "get_shard_iterator", StreamArn=stream_arn,
                  ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON")
        if it:
            call(streams, "get_records", ShardIterator=it["ShardIterator"], Limit=5)
        call(streams, "get_shard_iterator", StreamArn=stream_arn, ShardId="shardId-nope",
             ShardIteratorType="TRIM_HORIZON")
call(streams, "list_streams")
call(streams, "describe_stream", StreamArn="arn:aws:dynamodb:us-east-1:000000000000:table/rec_missing/stream/2024-01-01T00:00:00.000")

# --- malformed requests ---------------------------------------------------------------------
raw("DynamoDB_20120810.ListTables", b"{not json")
raw("DynamoDB_20120810.NoSuchOperation", b"{}")
raw("DynamoDB_20120810.GetItem", b'{"TableName": 5}')

# --- clean up -------------------------------------------------------------------------------
call(ddb, "delete_table", TableName="rec_users")
call(ddb, "delete_table", TableName="rec_users")
call(ddb, "delete_table", TableName="rec_orders")
call(ddb, "list_tables")
print(json.dumps(counts), file=sys.stderr)
