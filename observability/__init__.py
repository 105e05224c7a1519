"""What every process of the platform shares for being observed: one JSON log line schema (the
proxy, the CDC relay and consumers, every service). Standard library only, so any image can carry it."""
