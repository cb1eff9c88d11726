/// Leases get their own table. They were rows of `jobs` of kind `'lease'` with a far-future `run_at`, which
/// every job query had to skip (and the queue depth had to subtract). A lease is a name held by one owner
/// until a time, per tenant: `acquireLease` takes a free or expired one, `renewLease` extends one's own.
///
/// Leases live seconds to minutes, so the old rows are dropped rather than moved: a server holding one
/// during the upgrade loses it at worst, and its work is what leases already make safe to lose.
let migration0017Leases = SQLMigration(
    version: 17,
    name: "leases",
    statements: [
        """
        CREATE TABLE leases (
            tenant_id  uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            lease_name text NOT NULL,
            owner      text NOT NULL,
            held_until bigint NOT NULL,
            PRIMARY KEY (tenant_id, lease_name)
        )
        """,
        "DELETE FROM jobs WHERE kind = 'lease'",
    ],
    postgresOnly: [
        "ALTER TABLE leases ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE leases FORCE ROW LEVEL SECURITY",
        """
        CREATE POLICY tenant_wall ON leases
            USING (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
            WITH CHECK (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
        """,
    ]
)
