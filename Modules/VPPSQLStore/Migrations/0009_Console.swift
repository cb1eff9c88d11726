/// The web console: admin accounts (bcrypt hashes), sessions (SHA-256 of the cookie) and failed sign-in
/// counts. Accounts and sessions are tenant rows behind the row-level security wall; the failure counts
/// are keyed by account name or client address, before any tenant is known, like `rate_limits`.
let migration0009Console = SQLMigration(
    version: 9,
    name: "console",
    statements: [
        """
        CREATE TABLE console_admins (
            tenant_id     uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            admin_id      uuid NOT NULL,
            username      text NOT NULL,
            role          text NOT NULL,
            password_hash text NOT NULL,
            created_at    bigint NOT NULL,
            PRIMARY KEY (tenant_id, admin_id),
            UNIQUE (tenant_id, username)
        )
        """,
        "CREATE INDEX console_admins_by_username ON console_admins (username)",
        """
        CREATE TABLE console_sessions (
            tenant_id  uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            id_hash    text NOT NULL,
            admin_id   uuid NOT NULL,
            csrf_token text NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            PRIMARY KEY (tenant_id, id_hash),
            FOREIGN KEY (tenant_id, admin_id) REFERENCES console_admins (tenant_id, admin_id) ON DELETE CASCADE
        )
        """,
        "CREATE UNIQUE INDEX console_sessions_by_hash ON console_sessions (id_hash)",
        """
        CREATE TABLE console_sign_in_failures (
            throttle_key text PRIMARY KEY,
            failures     integer NOT NULL,
            window_start bigint NOT NULL
        )
        """,
        // The console's inventory pages count each device's and user's licences, and list an app's licences page by
        // page.
        "CREATE INDEX console_assignments_by_serial ON assignments (tenant_id, serial, state) WHERE serial IS NOT NULL",
        "CREATE INDEX console_assignments_by_user ON assignments (tenant_id, client_user_id, state) "
            + "WHERE client_user_id IS NOT NULL",
        "CREATE INDEX console_assignments_by_app ON assignments (tenant_id, adam_id, pricing)",
    ],
    postgresOnly: ["console_admins", "console_sessions"].flatMap { table in
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
