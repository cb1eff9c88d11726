#!/usr/bin/env python3
"""Posts one declarative status report per device to vppd, CONCURRENCY at a time, and prints what was answered.

Usage: status-load.py post|webhook URL SECRET_FILE DEVICES_JSON CONCURRENCY
  post:    POST URL/v1/device-status/{enrollmentId} with the report's JSON, SECRET_FILE holding the API key;
  webhook: POST URL (the tenant's MDM webhook) with a DeclarativeManagement check-in (Endpoint "status", the
           report in raw_payload's Data) as NanoMDM forwards it, signed X-Hmac-Signature with SECRET_FILE's key.
DEVICES_JSON: [{"udid": …, "declarationIdentifier": …, "bundleID": …}, …] (each device reports its app managed).
Prints one JSON line: {"sent", "ok", "refused", "errors", "seconds", "first_error"}. Every report is a new event
(its own event_id), so the webhook never takes one for a repeat.
"""
import base64
import hashlib
import hmac
import http.client
import json
import plistlib
import sys
import threading
import time
import urllib.parse
import uuid

mode, url, secret_file, devices_file, concurrency = sys.argv[1:6]
secret = open(secret_file).read().strip()
devices = json.load(open(devices_file))
target = urllib.parse.urlsplit(url)


def report(device):
    item = {
        "identifier": device["bundleID"], "declaration-identifier": device["declarationIdentifier"],
        "state": "managed", "name": device["bundleID"], "version": "1.0",
    }
    return json.dumps({"StatusItems": {"app": {"managed": {"list": [item]}}}, "Errors": []}).encode()


def request(device):
    if mode == "post":
        path = target.path.rstrip("/") + "/v1/device-status/" + urllib.parse.quote(device["udid"], safe="")
        headers = {"Content-Type": "application/json", "Authorization": "Bearer " + secret}
        return path, report(device), headers
    payload = {"MessageType": "DeclarativeManagement", "Endpoint": "status", "UDID": device["udid"],
               "Data": report(device)}
    body = json.dumps({
        "topic": "mdm.DeclarativeManagement", "event_id": str(uuid.uuid4()),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "checkin_event": {"udid": device["udid"], "url_params": None,
                          "raw_payload": base64.b64encode(plistlib.dumps(payload)).decode()},
    }).encode()
    mac = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return target.path, body, {"Content-Type": "application/json; charset=utf-8", "X-Hmac-Signature": mac}


prepared = [request(device) for device in devices]
lock = threading.Lock()
counts = {"sent": 0, "ok": 0, "refused": 0, "errors": 0, "first_error": None}
queue = list(reversed(prepared))


def worker():
    connection = None
    while True:
        with lock:
            if not queue:
                break
            path, body, headers = queue.pop()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            connection.request("POST", path, body=body, headers=headers)
            answer = connection.getresponse()
            text = answer.read()
            with lock:
                counts["sent"] += 1
                if 200 <= answer.status < 300:
                    counts["ok"] += 1
                else:
                    counts["refused"] += 1
                    counts["first_error"] = counts["first_error"] or f"{answer.status} {text[:200]!r}"
        except Exception as error:  # a dropped connection counts, and the next request opens a new one
            connection = None
            with lock:
                counts["sent"] += 1
                counts["errors"] += 1
                counts["first_error"] = counts["first_error"] or repr(error)[:200]


start = time.time()
threads = [threading.Thread(target=worker) for _ in range(int(concurrency))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
counts["seconds"] = time.time() - start
print(json.dumps(counts))
