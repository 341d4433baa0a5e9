"""The bottom layer: what every app may import and which imports no app.

Keyring, the kept Redis client, the project's domain errors and the closed lists live here
(docs/architecture.md, "Layers"); nothing in `core` imports `workinggroup`, `audit`,
`cases`, `sharing`, `dashboard`, `plans` or `web`.
"""
