package db_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// sqlCall matches a call that sends SQL to the database.
var sqlCall = regexp.MustCompile(`\.(QueryContext|ExecContext|QueryRowContext|TxExec|TxQueryRow|PrepareContext)\(`)

// sqlPending lists production files that still send SQL outside a store
// file, paths relative to internal/. It is empty: a file may leave the
// list but never join it.
var sqlPending = map[string]bool{}

// isStoreFile reports whether path (relative to internal/) is a package's
// door to SQL: store.go, store_<topic>.go, or any file of a store/ package.
func isStoreFile(path string) bool {
	base := filepath.Base(path)
	if base == "store.go" || (strings.HasPrefix(base, "store_") && strings.HasSuffix(base, ".go")) {
		return true
	}
	for _, dir := range strings.Split(filepath.ToSlash(filepath.Dir(path)), "/") {
		if dir == "store" {
			return true
		}
	}
	return false
}

// sqlExempt reports whether path may send SQL anywhere: the db package
// itself and the test-support packages.
func sqlExempt(path string) bool {
	p := filepath.ToSlash(path)
	return strings.HasPrefix(p, "db/") || strings.HasPrefix(p, "conformance/")
}

// TestSQLLocation keeps every package's SQL behind its store file, so a
// reader finds all of a package's queries in one place.
func TestSQLLocation(t *testing.T) {
	root := ".." // internal/, seen from internal/db
	var offenders []string
	stillPending := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if sqlExempt(rel) || isStoreFile(rel) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !sqlCall.Match(src) {
			return nil
		}
		if sqlPending[rel] {
			stillPending[rel] = true
			return nil
		}
		offenders = append(offenders, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("walking internal/: %v", err)
	}
	for _, f := range offenders {
		t.Errorf("internal/%s sends SQL outside a store file: move the query into the package's store.go (or store_<topic>.go)", f)
	}
	var stale []string
	for f := range sqlPending {
		if !stillPending[f] {
			stale = append(stale, f)
		}
	}
	sort.Strings(stale)
	for _, f := range stale {
		t.Errorf("internal/%s no longer sends SQL outside a store (or is gone): remove it from sqlPending", f)
	}
}

// TestSQLLocationSeesACall proves the pattern catches a call, so an empty
// result above means no calls rather than a pattern that never matches.
func TestSQLLocationSeesACall(t *testing.T) {
	for _, src := range []string{
		"rows, err := q.QueryContext(ctx, `SELECT 1`)",
		"d.SQL.ExecContext(ctx, q)",
		"tx.QueryRowContext(ctx, q).Scan(&n)",
		"s.db.TxExec(ctx, tx, q)",
		"s.db.TxQueryRow(ctx, tx, q)",
		"d.SQL.PrepareContext(ctx, q)",
	} {
		if !sqlCall.MatchString(src) {
			t.Errorf("pattern misses %q", src)
		}
	}
	for _, path := range []string{"send/store.go", "send/store_ledger.go", "send/store/claim.go"} {
		if !isStoreFile(path) {
			t.Errorf("%s should count as a store file", path)
		}
	}
	for _, path := range []string{"send/engine.go", "send/restore.go", "web/storefront.go"} {
		if isStoreFile(path) {
			t.Errorf("%s should not count as a store file", path)
		}
	}
}
