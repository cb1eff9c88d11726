/// Tenants: one logical MDM server each; every other table's key starts with `tenant_id`.
let migration0001Tenants = PostgresMigration(version: 1, name: "tenants", statements: [
    """
    CREATE TABLE tenants (
        tenant_id   uuid PRIMARY KEY,
        name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        holder_id   text NOT NULL UNIQUE,
        holder_name text NOT NULL,
        holder_metadata text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
    )
    """,
])
