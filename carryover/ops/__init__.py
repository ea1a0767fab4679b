"""Running carryover in production: the client address behind proxies (`proxy`), request
ids and one JSON log line per event (`requestlog`, `logs`), health endpoints (`health`),
error reporting with personal data scrubbed (`sentry`), and the start-up refusals
(`startup`). Nothing here knows the product's domain."""
