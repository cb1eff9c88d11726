"""schemathesis checks for vpp's API (loaded with SCHEMATHESIS_HOOKS=vpp_checks, PYTHONPATH=Scripts/fuzz).

Beyond schemathesis's own checks: an answer never carries the database's own words, and every error body
has the documented shape with the request id also sent in X-Request-ID.
"""
import json

import schemathesis

DATABASE_WORDS = ("PostgreSQL", "postgres", "SQLSTATE", "SQLite", "violates", "duplicate key", "constraint", "syntax error")


def header(response, name):
    for key, value in (response.headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, (list, tuple)) else value
    return None


@schemathesis.check
def no_database_text(ctx, response, case):
    text = response.text or ""
    # Words the request itself carried may be echoed back (a refused field name); only others are the database's.
    sent = json.dumps([case.body, case.query, case.path_parameters], default=str, ensure_ascii=False) if case else ""
    for word in DATABASE_WORDS:
        if word in text and word not in sent:
            raise AssertionError(f"the answer contains database text ({word!r}): {text[:300]}")


@schemathesis.check
def error_has_request_id(ctx, response, case):
    if response.status_code < 400 or not (header(response, "content-type") or "").startswith("application/json"):
        return
    body = json.loads(response.text)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not error.get("code") or "requestId" not in error:
        raise AssertionError(f"error body without code or requestId: {response.text[:300]}")
    given = header(response, "x-request-id")
    # A write replayed for a retry with the same Idempotency-Key is the first answer, body and all: its requestId
    # names the request that was carried out, not the retry.
    replayed = (header(response, "idempotent-replayed") or "").lower() == "true"
    if given and given != error["requestId"] and not replayed:
        raise AssertionError("X-Request-ID differs from the error body's requestId")
