/// The device's declarative status acted on: what a report made of each join, healing `Error.LicenseNotFound`,
/// and re-publishing a declaration with a new ServerToken.
///
/// - `declaration_set_changes.install_state` is the licence's install in the command path's words (`verified` when
///   the device reports the app `managed`, `failed` once healing gave up), so reports and the console read one truth.
/// - `heal_*` keep the healing of one join: attempts (at most `VPP_DECLARATION_HEAL_ATTEMPTS`), the step it is at, a
///   lease (`heal_until`, so two servers that receive the same report heal once, and a server that died mid-way is
///   replaced after it), the last reason, and when the re-publish reached the DDM server (a report that arrives
///   before then says nothing about the re-published declaration).
/// - `declaration_publications` numbers each declaration's publications: a heal bumps `publication`, the delivery
///   job publishes it with a new ServerToken and records `published`.
let migration0018DeclarationStatus = SQLMigration(
    version: 18,
    name: "declaration_status",
    statements: [
        "ALTER TABLE declaration_set_changes ADD COLUMN install_state text",
        "ALTER TABLE declaration_set_changes ADD COLUMN heal_attempts integer NOT NULL DEFAULT 0",
        "ALTER TABLE declaration_set_changes ADD COLUMN heal_state text",
        "ALTER TABLE declaration_set_changes ADD COLUMN heal_until bigint",
        "ALTER TABLE declaration_set_changes ADD COLUMN heal_error text",
        "ALTER TABLE declaration_set_changes ADD COLUMN republished_at bigint",
        """
        CREATE TABLE declaration_publications (
            tenant_id     uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            adam_id       text NOT NULL,
            pricing       text NOT NULL,
            licence_kind  text NOT NULL CHECK (licence_kind IN ('Device', 'User')),
            publication   integer NOT NULL DEFAULT 0,
            published     integer NOT NULL DEFAULT 0,
            updated_at    bigint NOT NULL,
            PRIMARY KEY (tenant_id, adam_id, pricing, licence_kind)
        )
        """,
    ],
    postgresOnly: [
        "ALTER TABLE declaration_publications ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE declaration_publications FORCE ROW LEVEL SECURITY",
        """
        CREATE POLICY tenant_wall ON declaration_publications
            USING (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                   OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
            WITH CHECK (coalesce(current_setting('vpp.tenant_id', true), '') = ''
                        OR tenant_id = nullif(current_setting('vpp.tenant_id', true), '')::uuid)
        """,
    ]
)
