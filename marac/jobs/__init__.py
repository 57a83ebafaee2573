"""Background jobs: run now (tests), on an RQ worker (REDIS_URL) or in a thread of the process."""
