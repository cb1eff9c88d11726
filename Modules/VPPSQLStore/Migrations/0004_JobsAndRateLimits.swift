/// The shared job queue (leases) and the shared per-token request limiter.
let migration0004JobsAndRateLimits = SQLMigration(
    version: 4,
    name: "jobs and rate limits",
    statements: [
        """
        CREATE TABLE jobs (
            tenant_id   uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
            job_id      uuid NOT NULL,
            kind        text NOT NULL,
            job_key     text NOT NULL,
            run_at      bigint NOT NULL,
            attempts    integer NOT NULL DEFAULT 0,
            lease_owner text,
            lease_until bigint,
            last_error  text,
            PRIMARY KEY (tenant_id, job_id),
            UNIQUE (tenant_id, kind, job_key)
        )
        """,
        "CREATE INDEX jobs_due ON jobs (run_at)",
        // Keyed by the Apple token's fingerprint, not by tenant: Apple's budget is per token, whoever holds it.
        """
        CREATE TABLE rate_limits (
            limit_key text PRIMARY KEY,
            next_slot bigint NOT NULL
        )
        """,
    ]
)
