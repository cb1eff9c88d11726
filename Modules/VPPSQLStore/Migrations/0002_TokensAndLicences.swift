/// Content tokens (secret encrypted, with its key id), the app repository, per-token counts and licences.
let migration0002TokensAndLicences = SQLMigration(
    version: 2,
    name: "tokens, apps, counts and assignments",
    statements: [
        """
        CREATE TABLE tokens (
            tenant_id       uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            token_id        uuid NOT NULL,
            location_uid    text NOT NULL,
            location_name   text NOT NULL,
            country         text NOT NULL,
            org_name        text NOT NULL,
            expires_at      bigint NOT NULL,
            fingerprint     text NOT NULL,
            recipients      text NOT NULL DEFAULT '[]',
            revoked_at      bigint,
            invalid_since   bigint,
            holder_id       text,
            holder_name     text,
            holder_metadata text,
            secret_key_id   text NOT NULL,
            secret          bytea NOT NULL,
            PRIMARY KEY (tenant_id, token_id),
            UNIQUE (tenant_id, location_uid)
        )
        """,
        """
        CREATE TABLE token_sync (
            tenant_id           uuid NOT NULL,
            token_id            uuid NOT NULL,
            assignments_version text,
            last_success_at     bigint,
            last_attempt_at     bigint,
            last_error          text,
            failures            integer NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, token_id),
            FOREIGN KEY (tenant_id, token_id) REFERENCES tokens ON DELETE CASCADE
        )
        """,
        """
        CREATE TABLE apps (
            tenant_id         uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            adam_id           text NOT NULL,
            pricing           text NOT NULL CHECK (pricing IN ('STDQ', 'PLUS')),
            product_type      text NOT NULL,
            platforms         text NOT NULL DEFAULT '[]',
            device_assignable boolean NOT NULL,
            revocable         boolean NOT NULL,
            name              text,
            bundle_id         text,
            icon_url          text,
            version           text,
            PRIMARY KEY (tenant_id, adam_id, pricing)
        )
        """,
        """
        CREATE TABLE token_assets (
            tenant_id uuid NOT NULL,
            token_id  uuid NOT NULL,
            adam_id   text NOT NULL,
            pricing   text NOT NULL,
            total     bigint NOT NULL CHECK (total >= 0),
            assigned  bigint NOT NULL CHECK (assigned >= 0),
            available bigint NOT NULL CHECK (available >= 0),
            retired   bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, token_id, adam_id, pricing),
            FOREIGN KEY (tenant_id, token_id) REFERENCES tokens ON DELETE CASCADE,
            FOREIGN KEY (tenant_id, adam_id, pricing) REFERENCES apps
        )
        """,
        """
        CREATE TABLE assignments (
            tenant_id      uuid NOT NULL,
            assignment_id  uuid NOT NULL,
            token_id       uuid NOT NULL,
            adam_id        text NOT NULL,
            pricing        text NOT NULL,
            serial         text,
            client_user_id text,
            state          text NOT NULL
                CHECK (state IN ('reserved', 'pending', 'active', 'failed', 'revoking', 'revoked')),
            event_id       text,
            reason         text,
            origin         text NOT NULL DEFAULT 'vpp' CHECK (origin IN ('vpp', 'apple')),
            PRIMARY KEY (tenant_id, assignment_id),
            FOREIGN KEY (tenant_id, token_id) REFERENCES tokens ON DELETE CASCADE,
            FOREIGN KEY (tenant_id, adam_id, pricing) REFERENCES apps,
            CHECK ((serial IS NULL) <> (client_user_id IS NULL))
        )
        """,
        "CREATE INDEX assignments_by_token ON assignments (tenant_id, token_id)",
        "CREATE INDEX assignments_by_event ON assignments (tenant_id, event_id) WHERE event_id IS NOT NULL",
        """
        CREATE UNIQUE INDEX one_device_licence ON assignments (tenant_id, token_id, adam_id, pricing, serial)
            WHERE serial IS NOT NULL AND state IN ('reserved', 'pending', 'active', 'revoking')
        """,
        """
        CREATE UNIQUE INDEX one_user_licence ON assignments (tenant_id, token_id, adam_id, pricing, client_user_id)
            WHERE client_user_id IS NOT NULL AND state IN ('reserved', 'pending', 'active', 'revoking')
        """,
    ]
)
