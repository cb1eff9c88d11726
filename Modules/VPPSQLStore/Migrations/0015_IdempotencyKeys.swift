/// Idempotency keys of the API's writes: per tenant, the fingerprint of the request that claimed a key and,
/// once answered, that answer (status, content type, body), kept for a day so a client that lost an answer
/// can ask again and get the same one. A claim without an answer expires at `claimed_until`.
let migration0015IdempotencyKeys = SQLMigration(
    version: 15,
    name: "idempotency keys",
    statements: [
        """
        CREATE TABLE idempotency_keys (
            tenant_id       uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            idempotency_key text NOT NULL,
            fingerprint     text NOT NULL,
            status          integer,
            content_type    text,
            body            bytea,
            created_at      bigint NOT NULL,
            claimed_until   bigint NOT NULL,
            expires_at      bigint NOT NULL,
            PRIMARY KEY (tenant_id, idempotency_key)
        )
        """,
        "CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (tenant_id, expires_at)",
    ],
    postgresOnly: [
        "ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY",
        """
        CREATE POLICY tenant_wall ON idempotency_keys
            USING (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
            WITH CHECK (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
        """,
    ]
)
