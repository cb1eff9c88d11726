/// The queued declaration set changes of a tenant in the order they are claimed. Claiming a batch read every
/// queued change of the tenant and sorted it (the index on `(state, next_attempt_at)` does not give the order),
/// so the claims of one large assignment grew with the square of its size: 3.5 ms a claim at 14,000 queued
/// changes (`Scripts/bench-declarations.sh`, issue 23's benchmark). Partial: only queued changes are claimed.
let migration0021DeclarationClaimOrder = SQLMigration(
    version: 21,
    name: "declaration_claim_order",
    statements: [
        """
        CREATE INDEX declaration_set_changes_claim_order
            ON declaration_set_changes (tenant_id, created_at, kind, change_id) WHERE state = 'queued'
        """
    ]
)
