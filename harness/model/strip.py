#!/usr/bin/env python3
"""Regenerate the stripped service models and the Coral validation fixture.

Usage (from the repository root or anywhere):

    python3 harness/model/strip.py [REFERENCE_DIR]

REFERENCE_DIR defaults to /work/shared/reference. Reads
  botocore-model/{dynamodb,dynamodbstreams}/service-2.json.gz  (botocore 1.44.8, Apache-2.0)
  dynalite/error_tuples.json.gz                                (dynalite test-suite expectations, MIT)
and writes
  harness/model/dynamodb.json, harness/model/streams.json      (documentation stripped)
  harness/tests/data/coral_tuples.json                         (fixture for protocol::validate tests)
"""
import gzip
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.dirname(HERE)
REF = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference"

SHAPE_KEYS = ("type", "required", "min", "max", "pattern", "enum", "exception")
OP_KEYS = ("input", "output", "errors")
META_KEYS = ("apiVersion", "jsonVersion", "protocol", "serviceId", "targetPrefix", "signingName")


def strip_model(src):
    model = json.load(gzip.open(src))
    out = {"metadata": {k: model["metadata"][k] for k in META_KEYS if k in model["metadata"]}}
    ops = {}
    for name, op in sorted(model["operations"].items()):
        o = {}
        for k in OP_KEYS:
            if k in op:
                v = op[k]
                o[k] = [e["shape"] for e in v] if k == "errors" else v["shape"]
        ops[name] = o
    out["operations"] = ops
    shapes = {}
    for name, shape in sorted(model["shapes"].items()):
        s = {k: shape[k] for k in SHAPE_KEYS if k in shape}
        if "members" in shape:
            # member order is kept as in the model (it is the wire/documentation order)
            s["members"] = {m: mv["shape"] for m, mv in shape["members"].items()}
        for k in ("member", "key", "value"):
            if k in shape:
                s[k] = shape[k]["shape"]
        shapes[name] = s
    out["shapes"] = shapes
    return out


def dump(obj, path):
    # one operation / shape per line: small and diff-friendly
    with open(path, "w") as f:
        f.write("{\n")
        f.write('"metadata": %s,\n' % json.dumps(obj["metadata"], separators=(",", ":")))
        for section in ("operations", "shapes"):
            f.write('"%s": {\n' % section)
            items = list(obj[section].items())
            for i, (k, v) in enumerate(items):
                f.write("%s:%s%s\n" % (json.dumps(k), json.dumps(v, separators=(",", ":")),
                                       "," if i + 1 < len(items) else ""))
            f.write("}%s\n" % ("," if section == "operations" else ""))
        f.write("}\n")


CONSTRAINT = re.compile(r"^\^?\d+ validation errors? detected: ")


def extract_tuples(src, dst):
    data = json.load(gzip.open(src))
    out = []
    for t in data["tuples"]:
        e = t["expected"]
        if t["kind"] == "assertType":
            pass
        elif t["kind"] == "assertValidation":
            m = e.get("message") or e.get("message_regex") or e.get("message_prefix") or ""
            if not CONSTRAINT.match(m):
                continue
            parts = e.get("message_parts_any_order") or []
            texts = [p["regex"] if isinstance(p, dict) else p for p in parts] or [m]
            if not all("failed to satisfy constraint" in p for p in texts):
                continue
        else:
            continue
        exp = {"type": e["__type"].split("#")[-1], "message_key": e["message_key"]}
        for k in ("message", "message_regex", "message_prefix"):
            if k in e:
                exp[k] = e[k]
        if "message_parts_any_order" in e:
            exp["parts"] = [
                {"regex": p["regex"]} if isinstance(p, dict) else p for p in e["message_parts_any_order"]
            ]
        out.append({"id": t["id"], "operation": t["operation"], "request": t["request"], "expected": exp})
    with open(dst, "w") as f:
        f.write('{"source": "dynalite 58d0955 test expectations (MIT), extracted by harness/model/strip.py",\n')
        f.write('"tuples": [\n')
        for i, t in enumerate(out):
            f.write(json.dumps(t, separators=(",", ":"), ensure_ascii=False))
            f.write(",\n" if i + 1 < len(out) else "\n")
        f.write("]}\n")
    return len(out)


def main():
    dump(strip_model(os.path.join(REF, "botocore-model/dynamodb/service-2.json.gz")),
         os.path.join(HERE, "dynamodb.json"))
    dump(strip_model(os.path.join(REF, "botocore-model/dynamodbstreams/service-2.json.gz")),
         os.path.join(HERE, "streams.json"))
    os.makedirs(os.path.join(HARNESS, "tests", "data"), exist_ok=True)
    n = extract_tuples(os.path.join(REF, "dynalite/error_tuples.json.gz"),
                       os.path.join(HARNESS, "tests", "data", "coral_tuples.json"))
    print("wrote models and %d tuples" % n)


if __name__ == "__main__":
    main()
