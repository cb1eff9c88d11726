/// A second wall between tenants on PostgreSQL: row-level security on every tenant table. Inside a
/// tenant's unit of work the store sets `vpp.tenant_id`, and rows of other tenants are invisible and
/// unwritable even to a query that forgot its `tenant_id` condition. Outside one (tenant lookups, API
/// keys, the job queue) the setting is empty and the policy lets the store's own cross-tenant queries
/// through. FORCE makes it apply to the table owner too; PostgreSQL superusers always bypass it, so
/// production should connect as an ordinary role.
let tenantTables = [
    "tenants", "api_keys", "tokens", "token_sync", "apps", "token_assets", "assignments", "devices", "managed_users",
    "device_commands", "notices", "pending_events", "audit_log", "jobs", "processed_notifications",
]

let migration0006RowLevelSecurity = SQLMigration(
    version: 6,
    name: "row-level security",
    statements: [],
    postgresOnly: tenantTables.flatMap { table in
        [
            "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
            """
            CREATE POLICY tenant_wall ON \(table)
                USING (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                    OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
                WITH CHECK (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                    OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
            """,
        ]
    }
)
