"""Loads YAML files the way Heat does and prints one JSON object per file.

Heat (heat/common/template_format.py) tries JSON first, then PyYAML's (C)SafeLoader
subclass whose `str` and `timestamp` constructors return the scalar's text.
Usage: heat_load.py FILE... ; prints {"FILE": {"ok": value} | {"error": message}}.
Non-finite floats are printed as null (JSON cannot hold them; Updraft gives null).
"""
import json
import math
import sys

import yaml

BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class HeatLoader(BASE):
    def _construct_yaml_str(self, node):
        return self.construct_scalar(node)


HeatLoader.add_constructor("tag:yaml.org,2002:str", HeatLoader._construct_yaml_str)
HeatLoader.add_constructor("tag:yaml.org,2002:timestamp", HeatLoader._construct_yaml_str)


def finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def load(text):
    try:
        return json.loads(text)
    except ValueError:
        tpl = yaml.load(text, Loader=HeatLoader)
        return {} if tpl is None else tpl


out = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        out[path] = {"ok": json.loads(json.dumps(finite(load(text))))}
    except Exception as e:  # noqa: BLE001 - every failure is an answer here
        out[path] = {"error": "%s: %s" % (type(e).__name__, e)}
json.dump(out, sys.stdout)
