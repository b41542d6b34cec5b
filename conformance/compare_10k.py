#!/usr/bin/env python3
"""Compares ddb-harness with a reference (DynamoDB Local) on 10,000 items of ~1 KB.

Creates the same table (a GSI and an LSI) on both endpoints, writes the same deterministic
pseudo-random items with BatchWriteItem, then runs paginated Query (base table, LSI, GSI; both
directions; with a filter; with a projection) and paginated Scan (table and both indexes, plain
and parallel) on both. Query results on the table and the LSI must be identical page by page (items, order,
Count, ScannedCount, LastEvaluatedKey). GSI Query results must hold the same items in the same
index key order; items with equal GSI keys (same `g` and `v`) may come in any order, as AWS
specifies only the sort-key order, and DynamoDB Local orders such ties neither by table key nor
by insertion. Scan results must be the same multiset, since scan order across partitions is
hash-based and legitimately differs.

    python3 conformance/compare_10k.py --ours http://127.0.0.1:8123 \\
        --reference http://127.0.0.1:8124

Exit status 0 when every result set matches, 1 otherwise.
"""

import argparse
import json
import random
import sys
import time

import boto3
from botocore.config import Config

TABLE = "cmp10k"


def client(endpoint):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDCOMPARE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 10, "mode": "standard"}),
    )


def create_table(c):
    try:
        c.delete_table(TableName=TABLE)
        c.get_waiter("table_not_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1})
    except c.exceptions.ResourceNotFoundException:
        pass
    attrs = [("pk", "S"), ("sk", "N"), ("g", "S"), ("v", "N"), ("l", "S")]
    c.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in attrs],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "v", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["tag"]},
            }
        ],
    )
    c.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1})


def make_items(count, partitions, groups, seed):
    """Deterministic items of about 1 KB: `g` on 90 % of them, `l` on 80 %, `v` with ties."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    seen = set()
    items = []
    while len(items) < count:
        pk = "p%04d" % rng.randrange(partitions)
        sk = rng.randrange(-10**9, 10**9)
        if (pk, sk) in seen:
            continue
        seen.add((pk, sk))
        item = {
            "pk": {"S": pk},
            "sk": {"N": str(sk)},
            "v": {"N": str(rng.randrange(1000))},
            "tag": {"S": rng.choice(["red", "green", "blue"])},
            "pad": {"S": "".join(rng.choice(letters) for _ in range(rng.randrange(900, 1000)))},
        }
        if rng.random() < 0.9:
            item["g"] = {"S": "g%02d" % rng.randrange(groups)}
        if rng.random() < 0.8:
            item["l"] = {"S": "".join(rng.choice(letters) for _ in range(4))}
        items.append(item)
    return items


def load(c, items):
    for start in range(0, len(items), 25):
        requests = {TABLE: [{"PutRequest": {"Item": i}} for i in items[start:start + 25]]}
        while requests:
            out = c.batch_write_item(RequestItems=requests)
            requests = out.get("UnprocessedItems") or None


def pages(call, **kwargs):
    """Every page of a paginated Query or Scan: (items, Count, ScannedCount, LastEvaluatedKey)."""
    out = []
    while True:
        page = call(TableName=TABLE, **kwargs)
        lek = page.get("LastEvaluatedKey")
        out.append((page.get("Items"), page["Count"], page["ScannedCount"], lek))
        if not lek:
            return out
        kwargs["ExclusiveStartKey"] = lek


def canon(item):
    return json.dumps(item, sort_keys=True)


def query_checks(partitions, groups, seed):
    """(name, kwargs) of every Query to compare."""
    rng = random.Random(seed + 1)
    chosen = sorted(rng.sample(range(partitions), min(20, partitions)))
    checks = []
    for p in chosen:
        pk = {":p": {"S": "p%04d" % p}}
        for fwd in (True, False):
            d = "fwd" if fwd else "bwd"
            base = {"KeyConditionExpression": "pk = :p", "ScanIndexForward": fwd}
            checks.append((f"query p{p:04d} {d}", dict(base, ExpressionAttributeValues=pk, Limit=17)))
            checks.append((f"query p{p:04d} {d} filter", dict(
                base, FilterExpression="v < :v", Limit=9,
                ExpressionAttributeValues=dict(pk, **{":v": {"N": "500"}}))))
            checks.append((f"query p{p:04d} {d} projection", dict(
                base, ProjectionExpression="pk, sk, v, #t", ExpressionAttributeNames={"#t": "tag"},
                ExpressionAttributeValues=pk, Limit=23)))
            checks.append((f"query p{p:04d} {d} sk range", dict(
                base, KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues=dict(pk, **{":a": {"N": "-500000000"}, ":b": {"N": "500000000"}}),
                Limit=11)))
            checks.append((f"lsi p{p:04d} {d}", dict(base, IndexName="by_l", ExpressionAttributeValues=pk, Limit=7)))
            checks.append((f"lsi p{p:04d} {d} filter+projection", dict(
                base, IndexName="by_l", KeyConditionExpression="pk = :p AND l >= :l",
                FilterExpression="#t <> :t", ProjectionExpression="pk, sk, l, #t",
                ExpressionAttributeNames={"#t": "tag"},
                ExpressionAttributeValues=dict(pk, **{":l": {"S": "h"}, ":t": {"S": "red"}}), Limit=5)))
    for g in range(groups):
        gv = {":g": {"S": "g%02d" % g}}
        for fwd in (True, False):
            d = "fwd" if fwd else "bwd"
            base = {"IndexName": "by_g", "KeyConditionExpression": "g = :g", "ScanIndexForward": fwd}
            checks.append((f"gsi g{g:02d} {d}", dict(base, ExpressionAttributeValues=gv, Limit=50)))
            checks.append((f"gsi g{g:02d} {d} v range+filter", dict(
                base, KeyConditionExpression="g = :g AND v BETWEEN :a AND :b",
                FilterExpression="attribute_exists(l)",
                ExpressionAttributeValues=dict(gv, **{":a": {"N": "100"}, ":b": {"N": "400"}}), Limit=13)))
            checks.append((f"gsi g{g:02d} {d} projection", dict(
                base, ProjectionExpression="pk, sk, g, v", ExpressionAttributeValues=gv, Limit=31)))
    return checks


SCANS = [
    ("scan table", {"Limit": 500}),
    ("scan table filter+projection", {"Limit": 300, "FilterExpression": "v >= :v",
                                      "ProjectionExpression": "pk, sk, v",
                                      "ExpressionAttributeValues": {":v": {"N": "900"}}}),
    ("scan gsi by_g", {"IndexName": "by_g", "Limit": 700}),
    ("scan lsi by_l", {"IndexName": "by_l", "Limit": 900}),
    ("scan gsi by_g COUNT", {"IndexName": "by_g", "Select": "COUNT"}),
]


def run_scans(c):
    out = {}
    for name, kwargs in SCANS:
        out[name] = pages(c.scan, **kwargs)
    for index in (None, "by_g"):
        name = "parallel scan %s (4 segments)" % (index or "table")
        got = []
        for seg in range(4):
            kwargs = {"Segment": seg, "TotalSegments": 4, "Limit": 400}
            if index:
                kwargs["IndexName"] = index
            got.extend(pages(c.scan, **kwargs))
        out[name] = got
    return out


def tie_canon(page_list):
    """Items of GSI Query pages with runs of equal index keys (g, v) sorted, and the totals."""
    flat = [i for p in page_list for i in (p[0] or [])]
    out, run = [], []
    for item in flat + [None]:
        if run and (item is None or (item.get("g"), item.get("v")) != (run[0].get("g"), run[0].get("v"))):
            out.extend(sorted(canon(i) for i in run))
            run = []
        if item is not None:
            run.append(item)
    return out, sum(p[1] for p in page_list), sum(p[2] for p in page_list)


def scan_summary(page_list):
    items = sorted(canon(i) for p in page_list for i in (p[0] or []))
    return items, sum(p[1] for p in page_list), sum(p[2] for p in page_list)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--partitions", type=int, default=200)
    ap.add_argument("--groups", type=int, default=20)
    ap.add_argument("--seed", type=int, default=20261124)
    args = ap.parse_args()

    items = make_items(args.items, args.partitions, args.groups, args.seed)
    size = sum(len(canon(i)) for i in items) / len(items)
    print(f"{len(items)} items, about {size:.0f} bytes of JSON each, "
          f"{args.partitions} partitions, {args.groups} GSI groups")
    checks = query_checks(args.partitions, args.groups, args.seed)
    endpoints = [("ours", args.ours), ("reference", args.reference)]
    results, timings = {}, {}
    for label, url in endpoints:
        c = client(url)
        t = {}
        start = time.perf_counter()
        create_table(c)
        t["create"] = time.perf_counter() - start
        start = time.perf_counter()
        load(c, items)
        t["load"] = time.perf_counter() - start
        start = time.perf_counter()
        queries = {name: pages(c.query, **kwargs) for name, kwargs in checks}
        t["queries"] = time.perf_counter() - start
        start = time.perf_counter()
        scans = run_scans(c)
        t["scans"] = time.perf_counter() - start
        desc = c.describe_table(TableName=TABLE)["Table"]
        counts = (desc["ItemCount"], [(i["IndexName"], i["ItemCount"]) for i in
                                      desc.get("GlobalSecondaryIndexes", []) + desc.get("LocalSecondaryIndexes", [])])
        results[label] = (queries, scans, counts)
        timings[label] = t

    ours, ref = results["ours"], results["reference"]
    failures = []
    query_pages = query_items = ties = 0
    for name, _ in checks:
        a, b = ours[0][name], ref[0][name]
        query_pages += len(b)
        query_items += sum(len(p[0] or []) for p in b)
        if a != b and name.startswith("gsi"):
            if tie_canon(a) == tie_canon(b):
                ties += 1
                continue
            failures.append(f"{name}: items differ beyond the order of equal GSI keys")
        elif a != b:
            flat = lambda ps: [canon(i) for p in ps for i in (p[0] or [])]
            same_items = flat(a) == flat(b)
            failures.append(f"{name}: pages differ ({len(a)} vs {len(b)} pages; "
                            f"items {'identical' if same_items else 'differ'})")
    print(f"Query: {len(checks)} paginated queries, {query_pages} pages, {query_items} items: "
          f"{len(checks) - len(failures) - ties} identical page by page, "
          f"{ties} GSI queries identical but for the order of items with equal index keys")
    for name in ours[1]:
        a, b = scan_summary(ours[1][name]), scan_summary(ref[1][name])
        status = "same multiset" if a == b else "DIFFER"
        print(f"{name}: {len(b[0])} items, Count {b[1]}, ScannedCount {b[2]}; "
              f"{len(ours[1][name])} vs {len(ref[1][name])} pages: {status}")
        if a != b:
            failures.append(f"{name}: ours {len(a[0])} items / Count {a[1]} / Scanned {a[2]}")
    print(f"DescribeTable counts: ours {ours[2]}, reference {ref[2]}")
    if sorted(map(str, ours[2][1])) != sorted(map(str, ref[2][1])) or ours[2][0] != ref[2][0]:
        failures.append("DescribeTable counts differ")
    for label, t in timings.items():
        print(f"{label:9}: " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items()))
    for f in failures:
        print("MISMATCH", f)
    print("RESULT:", "all result sets identical" if not failures else f"{len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
