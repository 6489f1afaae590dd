// Package chaos holds Keel's crash-and-fault test and its scale-out
// benchmark (docs/operations.md#the-chaos-check, docs/benchmarks.md#chaos-issue-16).
// Everything lives in its tests: they build the keel binary, run `keel
// worker` processes against one PostgreSQL database and the fake Unipile
// server, kill and restart them, inject the fake's faults, and then check
// the fake's call log and the database for every safety rule.
package chaos
