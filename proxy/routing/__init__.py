"""Which upstream answers a request: the route table, its file and its reloads, canary buckets, the
audit trail of changes, and write-ownership handovers."""
