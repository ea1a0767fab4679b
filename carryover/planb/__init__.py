"""Plan B (app label `matching`): uploads of filled-in logins files, their review, and
the background jobs that match and merge them. The matcher itself is the pure library
`carryover.namematch`."""
