/// Issue 23 continued: the scope decides its app's declaration, and user licences reach the user's enrollment.
///
/// - `app_scopes.install`, `app_version`, `automatic_updates`: the declaration's `Install` (`Required` unless the
///   scope says `Optional`), a pinned external version id and `UpdateBehavior.AutomaticAppUpdates` (never both a
///   version and an update behaviour: the domain refuses it before it is stored).
/// - `managed_users.enrollment_id`: the MDM enrollment a clientUserId's declarations go to (the MDM's webhook does
///   not say which VPP user an enrollment belongs to, so the MDM or an admin writes it).
/// - `declaration_set_changes.client_user_id`: a user licence's change names the user (its `serial` is empty).
let migration0020DeclarationTerms = SQLMigration(
    version: 20,
    name: "declaration_terms",
    statements: [
        "ALTER TABLE app_scopes ADD COLUMN install text NOT NULL DEFAULT 'Required'",
        "ALTER TABLE app_scopes ADD COLUMN app_version bigint",
        "ALTER TABLE app_scopes ADD COLUMN automatic_updates text",
        "ALTER TABLE managed_users ADD COLUMN enrollment_id text",
        "ALTER TABLE declaration_set_changes ADD COLUMN client_user_id text",
    ]
)
