"""The supervisor and its serving processes: uvicorn, the client-facing request handling (header
rules, errors, access log, write coalescing) and forwarding to an upstream."""
