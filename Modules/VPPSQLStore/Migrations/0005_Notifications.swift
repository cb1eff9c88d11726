/// The per-token secret Apple sends back on notifications (sealed like the token), and the ids of
/// notifications already handled, so Apple's retries are dropped.
let migration0005Notifications = SQLMigration(
    version: 5,
    name: "notification secrets and dedupe",
    statements: [
        "ALTER TABLE tokens ADD COLUMN notification_key_id text",
        "ALTER TABLE tokens ADD COLUMN notification_secret bytea",
        """
        CREATE TABLE processed_notifications (
            tenant_id       uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            notification_id text NOT NULL,
            received_at     bigint NOT NULL,
            type            text NOT NULL,
            PRIMARY KEY (tenant_id, notification_id)
        )
        """,
    ]
)
