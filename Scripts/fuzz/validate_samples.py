"""Validates JSON samples against the OpenAPI document's component schemas (JSON Schema 2020-12).

Usage: validate_samples.py DOCUMENT.json SAMPLES.json
SAMPLES is a list of {"schema": "<component name>" | {inline schema}, "value": <json>, "source": "<text>"}.
Objects are validated closed (a field the schema does not declare fails), so a field added to a Swift type
without its schema is caught. Prints one line per failure and the component schemas no sample covered;
exits 1 on any failure or uncovered schema.
"""
import copy
import json
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def closed(node):
    if isinstance(node, dict):
        node = {key: closed(value) for key, value in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [closed(item) for item in node]
    return node


def referenced(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            referenced(value, found)
    elif isinstance(node, list):
        for item in node:
            referenced(item, found)


def main():
    document = closed(json.load(open(sys.argv[1])))
    samples = json.load(open(sys.argv[2]))
    uri = "urn:vpp:openapi"
    registry = Registry().with_resource(uri, Resource.from_contents(document, default_specification=DRAFT202012))
    names = set(document["components"]["schemas"])
    covered = set()
    failures = 0
    for sample in samples:
        target = sample["schema"]
        if isinstance(target, str):
            if target not in names:
                print(f"FAIL {sample.get('source')}: no component schema {target}")
                failures += 1
                continue
            schema = {"$ref": f"{uri}#/components/schemas/{target}"}
            covered.add(target)
        else:
            schema = json.loads(json.dumps(target).replace('"#/components/', f'"{uri}#/components/'))
            referenced(target, covered)
        validator = Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for error in validator.iter_errors(sample["value"]):
            print(f"FAIL {sample.get('source')} ({target if isinstance(target, str) else 'inline'}): "
                  f"{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}")
            failures += 1
    # A schema reached only through another's $ref is covered by that sample's validation.
    changed = True
    while changed:
        before = len(covered)
        for name in list(covered):
            referenced(document["components"]["schemas"].get(name, {}), covered)
        changed = len(covered) != before
    uncovered = sorted(names - covered)
    for name in uncovered:
        print(f"UNCOVERED {name}: no sample was validated against it")
    print(f"{len(samples)} samples, {len(covered & names)} of {len(names)} schemas covered, {failures} failures")
    sys.exit(1 if failures or uncovered else 0)


if __name__ == "__main__":
    main()
