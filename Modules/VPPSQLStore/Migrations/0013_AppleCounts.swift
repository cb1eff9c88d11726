/// Apple's own numbers beside the ledger's, so a token never offers more than Apple has.
///
/// - `apple_assigned`, `apple_available`: Apple's last `assignedCount` and `availableCount` for the asset. An
///   incremental sync recounts an asset whose numbers moved even when its listing delta did not touch it.
/// - `unlisted`: licences Apple counts as assigned but does not list (yet): part of `withheld`, never offered,
///   shown as assigned. Kept apart so reports can say how many of the assigned vpp cannot see.
let migration0013AppleCounts = SQLMigration(
    version: 13,
    name: "apple counts",
    statements: [
        "ALTER TABLE token_assets ADD COLUMN apple_assigned bigint",
        "ALTER TABLE token_assets ADD COLUMN apple_available bigint",
        "ALTER TABLE token_assets ADD COLUMN unlisted bigint NOT NULL DEFAULT 0",
    ]
)
