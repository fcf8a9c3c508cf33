"""Evaluates yaql expressions the way Heat's `yaql` function does and prints the results.

Heat (heat/engine/hot/functions.py, class Yaql) builds one engine with
`yaql.limitIterators` = 200 and `yaql.memoryQuota` = 10000 (its config defaults), a context
from `yaql.create_context()`, and evaluates `{'data': data}` in a child of that context.
Reads a JSON list of {"expression": str, "data": any} on stdin; prints a JSON list of
{"ok": result} or {"error": "ExceptionType: message"}.
"""
import collections.abc  # noqa: F401 - yaql 3 uses collections.abc without importing it
import json
import sys

import yaql

ENGINE = yaql.YaqlFactory().create(
    {"yaql.limitIterators": 200, "yaql.memoryQuota": 10000}
)
CONTEXT = yaql.create_context()


def evaluate(case):
    statement = ENGINE(case["expression"])
    context = CONTEXT.create_child_context()
    return statement.evaluate({"data": case.get("data", {})}, context)


out = []
for case in json.load(sys.stdin):
    try:
        out.append({"ok": json.loads(json.dumps(evaluate(case)))})
    except Exception as e:  # noqa: BLE001 - every failure is an answer here
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
json.dump(out, sys.stdout)
