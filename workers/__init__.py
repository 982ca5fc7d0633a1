"""RQ job functions (ingest, digests) and the worker and scheduler processes."""
