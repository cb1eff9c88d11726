/// Indexes for the bounded lookups that replaced whole-table reads on paths that run often:
/// - an MDM device's InstalledApplicationList names bundle ids, mapped to apps by `(tenant_id, bundle_id)`;
/// - a sync fills in metadata only for apps that have none (`name IS NULL`: a partial index stays small);
/// - a tenant's due Apple events are a range on `(tenant_id, next_poll_at)` (0007's index has no tenant);
let migration0012LookupIndexes = SQLMigration(
    version: 12,
    name: "lookup indexes",
    statements: [
        "CREATE INDEX apps_by_bundle ON apps (tenant_id, bundle_id)",
        "CREATE INDEX apps_missing_metadata ON apps (tenant_id, adam_id, pricing) WHERE name IS NULL",
        "CREATE INDEX pending_events_by_tenant_due ON pending_events (tenant_id, next_poll_at)",
    ]
)
