/// Tenants and their API keys. `tenant_id` leads every key in every table, so tenants can be sharded.
/// Times are milliseconds since 1970 (bigint), the same in PostgreSQL and SQLite.
let migration0001Tenants = SQLMigration(
    version: 1,
    name: "tenants and API keys",
    statements: [
        """
        CREATE TABLE tenants (
            tenant_id       uuid PRIMARY KEY,
            name            text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
            holder_id       text NOT NULL UNIQUE,
            holder_name     text NOT NULL,
            holder_metadata text NOT NULL,
            created_at      bigint NOT NULL
        )
        """,
        """
        CREATE TABLE api_keys (
            tenant_id  uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            key_id     uuid NOT NULL,
            name       text NOT NULL,
            role       text NOT NULL CHECK (role IN ('mdm-admin', 'app-management', 'read-only')),
            key_hash   text NOT NULL UNIQUE,
            created_at bigint NOT NULL,
            PRIMARY KEY (tenant_id, key_id)
        )
        """,
    ]
)
