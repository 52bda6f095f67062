"""`/support` and `/support-admin` for every platform: the router, the verb table, the grammar."""
