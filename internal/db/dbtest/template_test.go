package dbtest

import (
	"context"
	"testing"
)

// TestTemplateMatchesMigrator proves the reused template is the schema the
// migrator builds, and that the migrator sees nothing left to do.
func TestTemplateMatchesMigrator(t *testing.T) {
	t.Parallel()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fast := Open(t, e, Options{})
			slow := Open(t, e, Options{MigrateTo: -1})
			if _, err := slow.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := SchemaDump(ctx, fast)
			if err != nil {
				t.Fatal(err)
			}
			want, err := SchemaDump(ctx, slow)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("template and migrator differ at %s", FirstDifference(want, got))
			}
			if pending, err := fast.Pending(ctx); err != nil || pending {
				t.Fatalf("pending migrations on the template: %v %v", pending, err)
			}
			rep, err := fast.Migrate(ctx)
			if err != nil || len(rep.Applied) != 0 {
				t.Fatalf("migrating the template applied %v: %v", rep.Applied, err)
			}
		})
	}
}
