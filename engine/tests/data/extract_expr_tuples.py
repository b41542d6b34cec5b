#!/usr/bin/env python3
"""Extracts the expression-related ValidationException tuples of the dynalite suite.

Input: /work/shared/reference/dynalite/error_tuples.json.gz (mhart/dynalite's test suite,
maintained against live DynamoDB). Output: expr_tuples.json next to this script, replayed by
engine/tests/expr_tuples.rs through ddb_engine::expr::parse.

Kept: ValidationException tuples whose request carries an expression parameter or
ExpressionAttributeNames/Values and whose expected message is about expressions.
"""
import gzip
import json
import os
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/dynalite/error_tuples.json.gz"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expr_tuples.json")

FIELDS = [
    "ConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
]
# Key attributes of the suite's tables (setup_tables.json); other names do not exist.
KEYS = {"{{testHashTable}}": ["a"], "{{testRangeTable}}": ["a", "b"]}
ABOUT_EXPRESSIONS = (
    "ExpressionAttribute",
    "Value provided in ExpressionAttribute",
    "KeyConditionExpression",
    "Filter Expression",
    "Conditions can be of length",
    "Cannot update attribute",
)


def expected_text(e):
    return e.get("message") or e.get("message_regex") or e.get("message_prefix") or ""


def main():
    data = json.load(gzip.open(SRC))
    out = []
    for t in data["tuples"]:
        e = t["expected"]
        if not e.get("__type", "").endswith("ValidationException"):
            continue
        req = t["request"]
        if not isinstance(req, dict) or not any(f in req for f in FIELDS):
            continue
        text = expected_text(e).lstrip("^")
        if not (text.startswith("Invalid ") or any(k in text for k in ABOUT_EXPRESSIONS)):
            continue
        if text.startswith("Can not use both expression and non-expression"):
            continue
        expected = {k: e[k] for k in ("message", "message_regex", "message_prefix", "message_parts_any_order") if k in e}
        out.append({
            "id": t["id"],
            "operation": t["operation"],
            "test": t.get("test", ""),
            "key_attributes": KEYS.get(req.get("TableName"), []),
            "request": {f: req[f] for f in FIELDS if f in req},
            "expected": expected,
        })
    # One tuple per line: small and diff-friendly.
    with open(OUT, "w") as f:
        f.write('{"source": "mhart/dynalite test suite via %s",\n "tuples": [\n' % os.path.basename(SRC))
        f.write(",\n".join(json.dumps(t, ensure_ascii=False) for t in out))
        f.write("\n]}\n")
    print(f"{len(out)} tuples -> {OUT}")


if __name__ == "__main__":
    main()
