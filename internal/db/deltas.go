package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// DeltaTable names a table of count deltas: rows of text key columns and
// a signed n, appended by the database's own triggers, whose sums per key
// are the counts (docs/storage.md#enrollment-state-counts,
// docs/storage.md#campaign-send-counts). The first key column is the scope
// a fold may be limited to.
type DeltaTable struct {
	Name string
	Keys []string
}

// FoldDeltas replaces a delta table's rows of one scope value (of every
// scope value with more than one delta of a key, when scope is empty) by
// their sums, in tx, and reports how many rows it removed. It sums exactly
// the rows its DELETE returned, so deltas appended meanwhile by other
// transactions stay and no count moves; a sum of zero leaves no row.
func FoldDeltas(ctx context.Context, tx *sql.Tx, t DeltaTable, scope string) (int, error) {
	cols := strings.Join(t.Keys, ", ")
	query, args := `DELETE FROM `+t.Name+` WHERE `+t.Keys[0]+` = $1 RETURNING `+cols+`, n`, []any{scope}
	if scope == "" {
		query, args = `DELETE FROM `+t.Name+` WHERE `+t.Keys[0]+` IN (
			SELECT `+t.Keys[0]+` FROM `+t.Name+` GROUP BY `+cols+` HAVING count(*) > 1)
			RETURNING `+cols+`, n`, nil
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("folding %s: %w", t.Name, err)
	}
	type sum struct {
		key []any
		n   int64
	}
	sums := map[string]*sum{}
	var order []string
	deleted := 0
	for rows.Next() {
		vals := make([]string, len(t.Keys))
		dest := make([]any, 0, len(t.Keys)+1)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		var n int64
		if err := rows.Scan(append(dest, &n)...); err != nil {
			rows.Close()
			return 0, fmt.Errorf("folding %s: %w", t.Name, err)
		}
		id := strings.Join(vals, "\x00")
		s, ok := sums[id]
		if !ok {
			s = &sum{}
			for _, v := range vals {
				s.key = append(s.key, v)
			}
			sums[id] = s
			order = append(order, id)
		}
		s.n += n
		deleted++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("folding %s: %w", t.Name, err)
	}
	marks := make([]string, len(t.Keys)+1)
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	insert := `INSERT INTO ` + t.Name + ` (` + cols + `, n) VALUES (` + strings.Join(marks, ", ") + `)`
	for _, id := range order {
		s := sums[id]
		if s.n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, insert, append(s.key, s.n)...); err != nil {
			return 0, fmt.Errorf("folding %s: %w", t.Name, err)
		}
	}
	return deleted, nil
}
