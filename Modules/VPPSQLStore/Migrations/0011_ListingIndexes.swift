/// The audit log is listed newest first in keyset pages (`at DESC, audit_id DESC`): one index serves every page,
/// the tie on equal times included. It replaces 0003's `(tenant_id, at DESC)`.
let migration0011ListingIndexes = SQLMigration(
    version: 11,
    name: "audit listing index",
    statements: [
        "CREATE INDEX audit_by_time_and_id ON audit_log (tenant_id, at DESC, audit_id DESC)",
        "DROP INDEX audit_by_time",
    ]
)
