package send

import (
	"os"
	"regexp"
	"testing"
)

// TestAllActionsAreTheLedgerCheck: the actions the chart's per-day counts
// name (allActions) are those the sends table allows (sends_action_chk in
// both engines' schema snapshots), so no send goes uncounted.
func TestAllActionsAreTheLedgerCheck(t *testing.T) {
	t.Parallel()
	chk := regexp.MustCompile(`sends_action_chk CHECK \(+action\)? (?:IN|= ANY) \((?:ARRAY\[)?([^)\]]*)`)
	for _, engine := range []string{"sqlite", "postgres"} {
		schema, err := os.ReadFile("../db/schema/" + engine + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		m := chk.FindSubmatch(schema)
		if m == nil {
			t.Fatalf("no sends_action_chk in the %s schema", engine)
		}
		want := regexp.MustCompile(`'[a-z_]+'`).FindAllString(string(m[1]), -1)
		got := regexp.MustCompile(`'[a-z_]+'`).FindAllString(allActions, -1)
		if len(want) == 0 || !sameSet(got, want) {
			t.Fatalf("%s: allActions %v, sends_action_chk %v", engine, got, want)
		}
	}
}

func sameSet(a, b []string) bool {
	in := map[string]bool{}
	for _, x := range a {
		in[x] = true
	}
	for _, x := range b {
		if !in[x] {
			return false
		}
	}
	return len(in) == len(b)
}
