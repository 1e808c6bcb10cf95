"""The audit trail: one append-only, hash-chained event per state change."""
