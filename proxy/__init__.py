"""The routing proxy: every client request passes through it; a route table decides per route
whether the monolith (legacy) or a new service answers. See docs/proxy.md."""
