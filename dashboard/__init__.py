"""The working group's dashboard: migration-flow figures each country contributes (CSV
revisions, all or nothing), the group's own figures counted over every record, and the one
disclosure rule every figure passes before anything shows it (docs/dashboard.md)."""
