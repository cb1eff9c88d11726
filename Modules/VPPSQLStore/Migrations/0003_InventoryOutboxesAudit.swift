/// Devices, managed users, the device-command and notice outboxes, pending Apple events and the audit log.
let migration0003InventoryOutboxesAudit = SQLMigration(
    version: 3,
    name: "inventory, outboxes, events and audit",
    statements: [
        """
        CREATE TABLE devices (
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            serial    text NOT NULL,
            name      text,
            installed text NOT NULL DEFAULT '[]',
            retired   boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, serial)
        )
        """,
        """
        CREATE TABLE managed_users (
            tenant_id      uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            client_user_id text NOT NULL,
            email          text,
            status         text NOT NULL,
            PRIMARY KEY (tenant_id, client_user_id)
        )
        """,
        """
        CREATE TABLE device_commands (
            tenant_id  uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            command_id uuid NOT NULL,
            serial     text NOT NULL,
            kind       text NOT NULL CHECK (kind IN ('InstallApplication', 'RemoveApplication')),
            adam_id    text NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (tenant_id, command_id)
        )
        """,
        """
        CREATE TABLE notices (
            tenant_id        uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            notice_id        uuid NOT NULL,
            token_id         uuid NOT NULL,
            kind             text NOT NULL,
            token_expires_at bigint NOT NULL,
            recipients       text NOT NULL,
            subject          text NOT NULL,
            body             text NOT NULL,
            attempts         integer NOT NULL DEFAULT 0,
            next_attempt_at  bigint NOT NULL,
            sent_at          bigint,
            last_error       text,
            PRIMARY KEY (tenant_id, notice_id),
            UNIQUE (tenant_id, token_id, kind, token_expires_at)
        )
        """,
        """
        CREATE TABLE pending_events (
            tenant_id    uuid NOT NULL,
            event_id     text NOT NULL,
            token_id     uuid NOT NULL,
            kind         text NOT NULL,
            created_at   bigint NOT NULL,
            next_poll_at bigint NOT NULL,
            PRIMARY KEY (tenant_id, event_id),
            FOREIGN KEY (tenant_id, token_id) REFERENCES tokens ON DELETE CASCADE
        )
        """,
        """
        CREATE TABLE audit_log (
            tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            audit_id  uuid NOT NULL,
            at        bigint NOT NULL,
            actor     text NOT NULL,
            action    text NOT NULL,
            target    text NOT NULL,
            outcome   text NOT NULL,
            detail    text NOT NULL DEFAULT '',
            PRIMARY KEY (tenant_id, audit_id)
        )
        """,
        "CREATE INDEX audit_by_time ON audit_log (tenant_id, at DESC)",
    ]
)
