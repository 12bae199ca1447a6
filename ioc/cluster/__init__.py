"""Many machines, one wall: ``ioc worker`` nodes hold camera leases in Redis and publish to Redis
Streams; API nodes (``ioc serve --no-engine``) consume, store to PostgreSQL and serve the wall."""
