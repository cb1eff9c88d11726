/// Issue 23 continued: vpp reads devices' declarative status back from KMFDDM (`GET /v1/status-report/{id}`)
/// when the devices' DeclarativeManagement check-ins go to KMFDDM rather than to vpp.
///
/// - `declaration_status_polls`: one row per enrollment whose declarations are not settled yet. `next_poll_at`
///   is when to read its status again (NULL: nothing to read, every join verified, failed or left); a server that
///   takes a row moves it past its lease first, so replicas do not read one enrollment at once. `idle` counts the
///   reads in a row that found nothing new (or failed): the back-off. `last_report` is the fingerprint of the
///   newest report already recorded, so a report is recorded once however often it is read; `last_error` says why
///   the last read failed.
let migration0022DeclarationStatusPolls = SQLMigration(
    version: 22,
    name: "declaration_status_polls",
    statements: [
        """
        CREATE TABLE declaration_status_polls (
            tenant_id     uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            enrollment_id text NOT NULL,
            next_poll_at  bigint,
            idle          integer NOT NULL DEFAULT 0,
            last_report   text,
            last_error    text,
            polled_at     bigint,
            PRIMARY KEY (tenant_id, enrollment_id)
        )
        """,
        """
        CREATE INDEX declaration_status_polls_due ON declaration_status_polls (next_poll_at)
            WHERE next_poll_at IS NOT NULL
        """,
    ],
    postgresOnly: [
        "ALTER TABLE declaration_status_polls ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE declaration_status_polls FORCE ROW LEVEL SECURITY",
        """
        CREATE POLICY tenant_wall ON declaration_status_polls
            USING (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                   OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
            WITH CHECK (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                        OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
        """,
    ]
)
