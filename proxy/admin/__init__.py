"""The proxy's own endpoints: probes, metrics and the admin API under /_proxy/."""
