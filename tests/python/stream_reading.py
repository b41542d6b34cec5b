"""Reading DynamoDB Streams records through a boto3 ``dynamodbstreams`` client, shared by the
stream and global-table tests (imported by name: pytest puts this folder on ``sys.path``)."""

import pytest


def shard_records(streams, arn, shards):
    """Every record of ``shards`` of stream ``arn``, in order, each read from TRIM_HORIZON until
    a read is empty or has no next iterator (failing the test after 100 reads of one shard)."""
    records = []
    for shard in shards:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(100):
            if not it:
                break
            out = streams.get_records(ShardIterator=it)
            if not out["Records"]:
                break
            records.extend(out["Records"])
            it = out.get("NextShardIterator")
        else:
            pytest.fail("GetRecords kept returning records after 100 calls")
    return records
