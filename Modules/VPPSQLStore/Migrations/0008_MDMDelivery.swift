/// MDM delivery: device commands gain a visible delivery state and a claim lease (the table is rebuilt,
/// because SQLite cannot widen the old kind check); devices gain their MDM enrollment; per-tenant MDM
/// connections; the MDM webhook's events, recorded before they are processed.
let mdmTables = ["device_commands", "mdm_connections", "mdm_events"]

let migration0008MDMDelivery = SQLMigration(
    version: 8,
    name: "MDM delivery",
    statements: [
        """
        CREATE TABLE device_commands_v8 (
            tenant_id       uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            command_id      uuid NOT NULL,
            serial          text NOT NULL,
            kind            text NOT NULL
                CHECK (kind IN ('InstallApplication', 'RemoveApplication', 'InstalledApplicationList')),
            adam_id         text NOT NULL,
            assignment_id   uuid,
            created_at      bigint NOT NULL,
            state           text NOT NULL DEFAULT 'queued',
            attempts        integer NOT NULL DEFAULT 0,
            next_attempt_at bigint NOT NULL DEFAULT 0,
            lease_owner     text,
            lease_until     bigint,
            delivered_at    bigint,
            updated_at      bigint,
            last_error      text,
            enrollment_id   text,
            PRIMARY KEY (tenant_id, command_id)
        )
        """,
        """
        INSERT INTO device_commands_v8 (tenant_id, command_id, serial, kind, adam_id, assignment_id, created_at,
            next_attempt_at)
        SELECT tenant_id, command_id, serial, kind, adam_id, assignment_id, created_at, created_at FROM device_commands
        """,
        "DROP TABLE device_commands",
        "ALTER TABLE device_commands_v8 RENAME TO device_commands",
        "CREATE UNIQUE INDEX device_commands_once_per_licence ON device_commands (tenant_id, assignment_id, kind)",
        "CREATE INDEX device_commands_due ON device_commands (state, next_attempt_at)",
        "CREATE INDEX device_commands_by_serial ON device_commands (tenant_id, serial, created_at)",
        "ALTER TABLE devices ADD COLUMN enrollment_state text NOT NULL DEFAULT 'manual'",
        "ALTER TABLE devices ADD COLUMN enrollment_id text",
        "ALTER TABLE devices ADD COLUMN model text",
        "ALTER TABLE devices ADD COLUMN os_version text",
        "ALTER TABLE devices ADD COLUMN platform text NOT NULL DEFAULT 'iOS'",
        "ALTER TABLE devices ADD COLUMN last_seen_at bigint",
        "ALTER TABLE devices ADD COLUMN unenrolled_at bigint",
        "ALTER TABLE devices ADD COLUMN reclaimed_at bigint",
        "CREATE INDEX devices_by_enrollment ON devices (tenant_id, enrollment_id)",
        """
        CREATE TABLE mdm_connections (
            tenant_id         uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            kind              text NOT NULL,
            url               text NOT NULL,
            api_key_id        text,
            api_key           bytea,
            hmac_key_id       text,
            hmac_key          bytea,
            signing_key_id    text,
            signing_secret    bytea,
            reclaim_after     bigint NOT NULL DEFAULT 86400,
            silent_days       integer,
            licence_only      boolean NOT NULL DEFAULT false,
            licence_only_apps text NOT NULL DEFAULT '[]',
            disabled_reason   text,
            updated_at        bigint NOT NULL,
            PRIMARY KEY (tenant_id)
        )
        """,
        """
        CREATE TABLE mdm_events (
            tenant_id   uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            event_id    uuid NOT NULL,
            received_at bigint NOT NULL,
            topic       text NOT NULL,
            dedupe_key  text,
            body        text NOT NULL,
            state       text NOT NULL DEFAULT 'pending',
            detail      text NOT NULL DEFAULT '',
            PRIMARY KEY (tenant_id, event_id)
        )
        """,
        "CREATE UNIQUE INDEX mdm_events_once ON mdm_events (tenant_id, dedupe_key)",
        "CREATE INDEX mdm_events_pending ON mdm_events (state, received_at)",
    ],
    postgresOnly: mdmTables.flatMap { table in
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
