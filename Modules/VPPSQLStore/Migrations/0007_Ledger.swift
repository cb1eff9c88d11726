/// The exact licence ledger.
///
/// - A new state, `revocation-queued`: the table is rebuilt (SQLite cannot change a CHECK constraint), the
///   same way on both databases so the schemas stay one.
/// - Reserved rows are the durable intents to call Apple: a worker claims them with a lease
///   (`lease_owner`, `lease_until`), counting attempts, so any server resumes an intent whose worker died.
/// - `revoke_requested` carries a revoke asked for before Apple settled the assignment.
/// - One licence per app per device or user among rows that hold one, across tokens (partial unique indexes).
/// - `token_assets.withheld`: what Apple's snapshot neither assigned nor offered; `available` derives from it.
/// - One device command of each kind per licence.
/// - Indexes for finding due work across all tenants by time.
let migration0007Ledger = SQLMigration(
    version: 7,
    name: "ledger",
    statements: [
        """
        CREATE TABLE assignments_v7 (
            tenant_id        uuid NOT NULL,
            assignment_id    uuid NOT NULL,
            token_id         uuid NOT NULL,
            adam_id          text NOT NULL,
            pricing          text NOT NULL,
            serial           text,
            client_user_id   text,
            state            text NOT NULL CHECK (state IN ('reserved', 'pending', 'active', 'failed',
                                                            'revocation-queued', 'revoking', 'revoked')),
            event_id         text,
            reason           text,
            origin           text NOT NULL DEFAULT 'vpp' CHECK (origin IN ('vpp', 'apple')),
            send_attempts    integer NOT NULL DEFAULT 0,
            lease_owner      text,
            lease_until      bigint,
            revoke_requested boolean NOT NULL DEFAULT false,
            changed_at       bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, assignment_id),
            FOREIGN KEY (tenant_id, token_id) REFERENCES tokens ON DELETE CASCADE,
            FOREIGN KEY (tenant_id, adam_id, pricing) REFERENCES apps,
            CHECK ((serial IS NULL) <> (client_user_id IS NULL))
        )
        """,
        """
        INSERT INTO assignments_v7 (tenant_id, assignment_id, token_id, adam_id, pricing, serial, client_user_id, state,
            event_id, reason, origin)
        SELECT tenant_id, assignment_id, token_id, adam_id, pricing, serial, client_user_id, state, event_id, reason,
            origin
        FROM assignments
        """,
        "DROP TABLE assignments",
        "ALTER TABLE assignments_v7 RENAME TO assignments",
        "CREATE INDEX assignments_by_token ON assignments (tenant_id, token_id, adam_id, pricing, state)",
        "CREATE INDEX assignments_by_event ON assignments (tenant_id, event_id) WHERE event_id IS NOT NULL",
        """
        CREATE UNIQUE INDEX one_licence_per_device ON assignments (tenant_id, adam_id, pricing, serial)
        WHERE serial IS NOT NULL AND state IN ('reserved', 'pending', 'active', 'revocation-queued', 'revoking')
        """,
        """
        CREATE UNIQUE INDEX one_licence_per_user ON assignments (tenant_id, adam_id, pricing, client_user_id)
        WHERE client_user_id IS NOT NULL AND state IN ('reserved', 'pending', 'active', 'revocation-queued', 'revoking')
        """,
        "CREATE INDEX assignments_by_serial ON assignments (tenant_id, adam_id, pricing, serial)",
        "CREATE INDEX assignments_by_user ON assignments (tenant_id, adam_id, pricing, client_user_id)",
        "CREATE INDEX assignments_due_intents ON assignments (lease_until) "
            + "WHERE state IN ('reserved', 'revocation-queued')",
        "ALTER TABLE token_assets ADD COLUMN withheld bigint NOT NULL DEFAULT 0",
        "ALTER TABLE device_commands ADD COLUMN assignment_id uuid",
        "CREATE UNIQUE INDEX device_commands_once_per_licence ON device_commands (tenant_id, assignment_id, kind)",
        // Scheduling by due time across tenants (see SQLStore.dueWork): each question is an index range.
        "CREATE INDEX tokens_by_expiry ON tokens (expires_at)",
        "CREATE INDEX token_sync_by_success ON token_sync (last_success_at)",
        "CREATE INDEX token_sync_failing ON token_sync (failures) WHERE failures >= 3",
        "CREATE INDEX tokens_refused ON tokens (tenant_id) WHERE revoked_at IS NOT NULL OR invalid_since IS NOT NULL",
        "CREATE INDEX pending_events_due ON pending_events (next_poll_at)",
        "CREATE INDEX notices_due ON notices (next_attempt_at) WHERE sent_at IS NULL",
        // A streaming sync's pages of Apple's assignment list, merged in one transaction at the end.
        """
        CREATE TABLE sync_staging (
            tenant_id      uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            sync_id        uuid NOT NULL,
            token_id       uuid NOT NULL,
            row_id         uuid NOT NULL,
            adam_id        text NOT NULL,
            pricing        text NOT NULL,
            assignee       text NOT NULL,
            serial         text,
            client_user_id text,
            PRIMARY KEY (tenant_id, sync_id, adam_id, pricing, assignee)
        )
        """,
        "CREATE INDEX sync_staging_by_token ON sync_staging (tenant_id, token_id)",
    ],
    postgresOnly: ["assignments", "sync_staging"].flatMap { table in
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
