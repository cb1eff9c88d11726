/// Holds version 13's place on the `ha` branch only, so the list stays contiguous (the migrator requires it):
/// main's own 0013 replaces this file when the branch is merged. It changes nothing.
let migration0013Placeholder = SQLMigration(version: 13, name: "placeholder for main's 0013", statements: [])
