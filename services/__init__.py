"""FastAPI services, one carved domain each (see docs/architecture.md)."""
