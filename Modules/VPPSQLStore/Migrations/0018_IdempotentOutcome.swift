/// Whether an idempotency key's request committed a write (`carried_out`), set in the write's own transaction:
/// a retry after a server that died before keeping the answer learns the outcome was lost instead of carrying
/// the request out again.
let migration0018IdempotentOutcome = SQLMigration(
    version: 18,
    name: "idempotent outcome",
    statements: [
        "ALTER TABLE idempotency_keys ADD COLUMN carried_out boolean NOT NULL DEFAULT false"
    ]
)
