#!/usr/bin/env python3
"""Counts vppd's devices by enrollment state, following GET /v1/devices' Link: rel="next" pages to the end.

Usage: device-states.py API_URL API_KEY [SERIAL_PREFIX] [STATE]
Prints the number of devices in STATE (default "enrolled"), or with STATE "all" the counts as JSON. The listing
is paged (1,000 a page at most): a script that reads only the first page never sees more than 1,000 devices.
"""
import json
import re
import sys
import urllib.parse
import urllib.request

api, key = sys.argv[1], sys.argv[2]
prefix = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
wanted = sys.argv[4] if len(sys.argv) > 4 else "enrolled"
url = api + "/v1/devices?limit=1000" + ("&serialPrefix=" + urllib.parse.quote(prefix) if prefix else "")
counts = {}
while url:
    answer = urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + key}))
    for device in json.load(answer):
        state = device.get("enrollment") or "none"
        counts[state] = counts.get(state, 0) + 1
    found = re.search(r'<([^>]+)>;\s*rel="next"', answer.headers.get("Link") or "")
    url = None if not found else (api + found.group(1) if found.group(1).startswith("/") else found.group(1))
print(json.dumps(counts, sort_keys=True) if wanted == "all" else counts.get(wanted, 0))
