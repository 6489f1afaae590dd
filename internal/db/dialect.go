package db

import "fmt"

// The two engines' SQL differs in a few named places, and only here: a
// store file asks for the clause it means ("lock this row for update")
// instead of testing the engine itself. SQLite needs no row locks: every
// write transaction begins IMMEDIATE and so holds the database's single
// write lock from its first statement (see docs/storage.md).

// LockForUpdate is the suffix of a SELECT that locks the rows it reads
// until the transaction ends: " FOR UPDATE" on PostgreSQL, nothing on
// SQLite.
func (d *DB) LockForUpdate() string {
	if d.Engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// LockForUpdateOf locks only the rows of the named table aliases of a
// joined SELECT (" FOR UPDATE OF en"), so the joined rows stay free.
func (d *DB) LockForUpdateOf(aliases string) string {
	if d.Engine == Postgres {
		return " FOR UPDATE OF " + aliases
	}
	return ""
}

// LockForUpdateSkipLocked locks the rows of the named aliases and skips
// rows another transaction holds, so concurrent workers claim disjoint
// batches (" FOR UPDATE OF d SKIP LOCKED").
func (d *DB) LockForUpdateSkipLocked(aliases string) string {
	if d.Engine == Postgres {
		return " FOR UPDATE OF " + aliases + " SKIP LOCKED"
	}
	return ""
}

// LockShare takes a share lock on the rows read: writers of those rows
// (a status flip) wait until the transaction ends, readers do not.
func (d *DB) LockShare() string {
	if d.Engine == Postgres {
		return " FOR SHARE"
	}
	return ""
}

// LockKeyShare takes the weakest row lock, the one a foreign-key check
// takes; taking it early fixes the order in which locks are acquired.
func (d *DB) LockKeyShare() string {
	if d.Engine == Postgres {
		return " FOR KEY SHARE"
	}
	return ""
}

// HasRowLocks reports whether SELECTs take row locks at all (PostgreSQL);
// on SQLite the write transaction already excludes every other writer.
func (d *DB) HasRowLocks() bool { return d.Engine == Postgres }

// HasWritableCTEs reports whether a statement may write in a WITH clause
// (INSERT/UPDATE … in a CTE): PostgreSQL yes, SQLite no.
func (d *DB) HasWritableCTEs() bool { return d.Engine == Postgres }

// HasLateral reports whether a subquery in FROM may refer to the tables
// before it (JOIN LATERAL): PostgreSQL yes, SQLite no.
func (d *DB) HasLateral() bool { return d.Engine == Postgres }

// JSONFieldIsSet is a condition that the JSON object in column has the
// field named by parameter $n (bind its argument with JSONFieldArg).
func (d *DB) JSONFieldIsSet(column string, n int) string {
	if d.Engine == Postgres {
		return fmt.Sprintf(`(%s::jsonb ->> $%d) IS NOT NULL`, column, n)
	}
	return fmt.Sprintf(`json_extract(%s, $%d) IS NOT NULL`, column, n)
}

// JSONFieldArg is the argument JSONFieldIsSet binds for field name: the
// name itself on PostgreSQL, a JSON path on SQLite. The name must be a
// plain identifier ([a-z0-9_]); the path quotes it.
func (d *DB) JSONFieldArg(name string) any {
	if d.Engine == Postgres {
		return name
	}
	return `$."` + name + `"`
}

// HasNotValidConstraints reports whether a constraint can be added NOT
// VALID and validated later (PostgreSQL); SQLite checks its constraints
// only as rows are written, so there is nothing to validate afterwards.
func (d *DB) HasNotValidConstraints() bool { return d.Engine == Postgres }

// TimeText is a time column as a read of many rows should select it, to
// scan into NullTime: on SQLite, which stores times as text, the text
// itself, which NullTime parses in one pass, where the driver would try a
// format Keel never writes before the one it does; on PostgreSQL the
// column, which its driver reads as a time already.
func (d *DB) TimeText(column string) string {
	if d.Engine == SQLite {
		return "CAST(" + column + " AS TEXT)"
	}
	return column
}
