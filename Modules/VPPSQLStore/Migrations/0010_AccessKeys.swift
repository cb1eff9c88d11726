/// API keys gain who made them, when they were last used, an optional expiry and revocation; and the
/// encryption key check: one value sealed under the deployment's key, so a server proves at start that its
/// key opens the stored secrets (instead of answering ready and failing on every secret it touches).
let migration0010AccessKeys = SQLMigration(
    version: 10,
    name: "access keys",
    statements: [
        "ALTER TABLE api_keys ADD COLUMN created_by text NOT NULL DEFAULT ''",
        "ALTER TABLE api_keys ADD COLUMN last_used_at bigint",
        "ALTER TABLE api_keys ADD COLUMN expires_at bigint",
        "ALTER TABLE api_keys ADD COLUMN revoked_at bigint",
        """
        CREATE TABLE encryption_key_check (
            singleton  integer PRIMARY KEY CHECK (singleton = 1),
            key_id     text NOT NULL,
            sealed     bytea NOT NULL,
            updated_at bigint NOT NULL
        )
        """,
    ]
)
