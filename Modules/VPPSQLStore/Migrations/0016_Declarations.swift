/// Declarative app delivery: each tenant's default (`commands` or `declarations`), and the outbox of
/// declaration-set changes — an enrollment joining an app's set once its licence is active at Apple, or
/// leaving it when the licence goes.
///
/// - `declaration_set_changes` keeps one change of each kind per licence (unique on the assignment and kind), so
///   however many servers learn that a licence became active, the device joins the set once.
/// - A join row also keeps what the device last reported about the app (`app.managed.list`: its state and
///   reasons as JSON), so one row answers whether the app reached the device.
/// - A tenant without a row in `tenant_app_delivery` delivers by commands and has no DDM server (`publisher` off);
///   the DDM server's API key is sealed like the MDM connection's.
let migration0016Declarations = SQLMigration(
    version: 16,
    name: "declarations",
    statements: [
        """
        CREATE TABLE tenant_app_delivery (
            tenant_id  uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            delivery   text NOT NULL DEFAULT 'commands' CHECK (delivery IN ('commands', 'declarations')),
            publisher  text NOT NULL DEFAULT 'off',
            publisher_url    text,
            publisher_key_id text,
            publisher_key    bytea,
            updated_at bigint NOT NULL,
            PRIMARY KEY (tenant_id)
        )
        """,
        """
        CREATE TABLE declaration_set_changes (
            tenant_id       uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            change_id       uuid NOT NULL,
            assignment_id   uuid NOT NULL,
            serial          text NOT NULL,
            adam_id         text NOT NULL,
            pricing         text NOT NULL,
            licence_kind    text NOT NULL CHECK (licence_kind IN ('Device', 'User')),
            kind            text NOT NULL CHECK (kind IN ('join', 'leave')),
            state           text NOT NULL DEFAULT 'queued',
            attempts        integer NOT NULL DEFAULT 0,
            next_attempt_at bigint NOT NULL,
            lease_owner     text,
            lease_until     bigint,
            last_error      text,
            device_state    text,
            device_reasons  text,
            reported_at     bigint,
            created_at      bigint NOT NULL,
            updated_at      bigint,
            PRIMARY KEY (tenant_id, change_id)
        )
        """,
        """
        CREATE UNIQUE INDEX declaration_set_changes_once_per_licence
            ON declaration_set_changes (tenant_id, assignment_id, kind)
        """,
        "CREATE INDEX declaration_set_changes_due ON declaration_set_changes (state, next_attempt_at)",
        "CREATE INDEX declaration_set_changes_by_serial ON declaration_set_changes (tenant_id, serial, created_at)",
    ],
    postgresOnly: ["tenant_app_delivery", "declaration_set_changes"].flatMap { table in
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
