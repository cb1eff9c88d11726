/// Desired state: groups of devices and users, app scopes over them, what the reconciler remembers of each
/// scope member (its place in the waitlist, its grace period), and per-app alert levels.
///
/// - `group_members.member` and `scope_tracking.member` hold `serial:<serial>` or `user:<clientUserId>`, so one
///   key orders and finds members of either kind.
/// - `app_scopes` keeps its explicit serials and users as JSON arrays (read with the scope, never queried).
/// - `scope_tracking` is keyed by app and member: a member of two scopes of one app holds one licence.
let migration0014DesiredState = SQLMigration(
    version: 14,
    name: "desired state",
    statements: [
        """
        CREATE TABLE device_groups (
            tenant_id    uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            name         text NOT NULL,
            dynamic      boolean NOT NULL,
            platforms    text NOT NULL DEFAULT '',
            model_prefix text,
            updated_at   bigint NOT NULL,
            PRIMARY KEY (tenant_id, name)
        )
        """,
        """
        CREATE TABLE group_members (
            tenant_id  uuid NOT NULL,
            group_name text NOT NULL,
            member     text NOT NULL,
            added_at   bigint NOT NULL,
            PRIMARY KEY (tenant_id, group_name, member),
            FOREIGN KEY (tenant_id, group_name) REFERENCES device_groups ON DELETE CASCADE
        )
        """,
        """
        CREATE TABLE app_scopes (
            tenant_id             uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            name                  text NOT NULL,
            adam_id               text NOT NULL,
            pricing               text NOT NULL,
            group_names           text NOT NULL,
            serials               text NOT NULL,
            users                 text NOT NULL,
            priority              integer NOT NULL,
            removal_grace_seconds integer NOT NULL,
            uninstall_on_removal  boolean NOT NULL,
            mode                  text NOT NULL,
            updated_at            bigint NOT NULL,
            PRIMARY KEY (tenant_id, name)
        )
        """,
        "CREATE INDEX app_scopes_by_app ON app_scopes (tenant_id, adam_id, pricing)",
        """
        CREATE TABLE scope_tracking (
            tenant_id             uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            adam_id               text NOT NULL,
            pricing               text NOT NULL,
            member                text NOT NULL,
            scope_name            text NOT NULL,
            priority              integer NOT NULL,
            entered_at            bigint NOT NULL,
            left_at               bigint,
            granted_by_scope      boolean NOT NULL,
            removal_grace_seconds integer NOT NULL,
            uninstall_on_removal  boolean NOT NULL,
            mode                  text NOT NULL,
            PRIMARY KEY (tenant_id, adam_id, pricing, member)
        )
        """,
        // Per scoped app: how many waited after the last full reconcile (0 lets a membership change be planned
        // from the changed members alone: nobody else can be ahead of them).
        """
        CREATE TABLE scope_app_state (
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            adam_id   text NOT NULL,
            pricing   text NOT NULL,
            waiting   integer NOT NULL,
            PRIMARY KEY (tenant_id, adam_id, pricing)
        )
        """,
        """
        CREATE TABLE app_alerts (
            tenant_id     uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            adam_id       text NOT NULL,
            pricing       text NOT NULL,
            below         integer,
            below_percent integer,
            crossed_at    bigint,
            PRIMARY KEY (tenant_id, adam_id, pricing)
        )
        """,
    ],
    postgresOnly: ["device_groups", "group_members", "app_scopes", "scope_tracking", "scope_app_state", "app_alerts"]
        .flatMap { table in
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
