#!/usr/bin/env python3
"""Extracts dynalite functionality tests that exercise expressions successfully.

Input: /work/shared/reference/dynalite/exchanges.json.gz (every HTTP exchange of dynalite's
suite). Output: expr_scenarios.json next to this script, replayed by
engine/tests/expr_scenarios.rs. The responses are dynalite's, but every test here passed, and
its assertions were validated against live DynamoDB by dynalite's author; the replay checks
only what those tests assert about expressions (condition outcomes, returned attributes,
items read back, scan/query membership).

Kept: tests on the suite's five fixed tables with at least one request carrying an
expression that did not fail validation.
"""
import gzip
import json
import os
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/dynalite/exchanges.json.gz"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expr_scenarios.json")
KEYS = {
    "{{testHashTable}}": ["a"],
    "{{testHashNTable}}": ["a"],
    "{{testRangeTable}}": ["a", "b"],
    "{{testRangeNTable}}": ["a", "b"],
    "{{testRangeBTable}}": ["a", "b"],
}
EXPRS = ("UpdateExpression", "ConditionExpression", "ProjectionExpression", "FilterExpression", "KeyConditionExpression")


def main():
    data = json.load(gzip.open(SRC))
    out = []
    for t in data["tests"]:
        steps = []
        interesting = False
        for e in t["exchanges"]:
            try:
                body = json.loads(e["request"]["body"])
                resp = json.loads(e["dynalite_response"]["body"] or "{}")
            except (TypeError, ValueError):
                continue
            if not isinstance(body, dict):
                continue
            op = e["request"]["headers"].get("X-Amz-Target", "").split(".")[-1]
            status = e["dynalite_response"]["status"]
            if any(k in body for k in EXPRS) and (status == 200 or "ConditionalCheckFailed" in json.dumps(resp)):
                interesting = True
            steps.append({"op": op, "request": body, "status": status, "response": resp})
        tables = {json.dumps(s["request"].get("TableName")) for s in steps}
        for s in steps:
            items = s["request"].get("RequestItems")
            if isinstance(items, dict):
                tables |= {json.dumps(k) for k in items}
        # Scan and Query answers list every item of the shared table; keep those this test wrote.
        written = set()
        for s in steps:
            r = s["request"]
            for it in [r.get("Item"), r.get("Key")]:
                if isinstance(it, dict):
                    written.add(json.dumps(it.get("a"), sort_keys=True))
            items = r.get("RequestItems")
            if isinstance(items, dict):
                for reqs in items.values():
                    for w in reqs if isinstance(reqs, list) else []:
                        if not isinstance(w, dict):
                            continue
                        for kind, field in (("PutRequest", "Item"), ("DeleteRequest", "Key")):
                            it = (w.get(kind) or {}).get(field) if isinstance(w.get(kind), dict) else None
                            if isinstance(it, dict):
                                written.add(json.dumps(it.get("a"), sort_keys=True))
        for s in steps:
            if s["op"] in ("Scan", "Query") and isinstance(s["response"].get("Items"), list):
                s["response"]["Items"] = [
                    i for i in s["response"]["Items"]
                    if isinstance(i, dict) and json.dumps(i.get("a"), sort_keys=True) in written
                ]
        known = {json.dumps(k) for k in KEYS}
        if interesting and tables <= known | {"null"} and tables - {"null"}:
            out.append({"test": t["file"] + ": " + t["test"], "steps": steps})
    with open(OUT, "w") as f:
        f.write('{"source": "mhart/dynalite test suite via %s",\n "key_attributes": %s,\n "tests": [\n'
                % (os.path.basename(SRC), json.dumps(KEYS)))
        f.write(",\n".join(json.dumps(t, ensure_ascii=False) for t in out))
        f.write("\n]}\n")
    print(f"{len(out)} tests -> {OUT}")


if __name__ == "__main__":
    main()
