"""The regression corpus: real traffic sampled per route by the serving processes (`recording`),
scrubbed of secrets and personal data (`scrub`), stored as rotated JSON lines (`store`), and
replayed against legacy and a candidate under the route's compare profile (`replay`,
`python -m proxy.cli replay`). Format and rules: docs/proxy.md, "Regression corpus"."""
