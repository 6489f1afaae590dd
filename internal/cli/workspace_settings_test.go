package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestWorkspaceSettingsCommand(t *testing.T) {
	t.Parallel()
	forEngineEnvs(t, func(t *testing.T, env map[string]string) {
		if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
			t.Fatal(r)
		}
		if r := run(t, env, "workspace", "settings", "--workspace", "acme"); r.code != ExitOK || !strings.Contains(r.stdout, "recontact cool-off 30d") {
			t.Fatalf("default: %+v", r)
		}
		for _, bad := range []string{"-1d", "3651d", "soon", "1.5d"} {
			if r := run(t, env, "workspace", "settings", "--workspace", "acme", "--recontact-cooloff", bad); r.code != ExitUsage {
				t.Errorf("%s: %+v", bad, r)
			}
		}
		if r := run(t, env, "workspace", "settings", "--workspace", "acme", "--recontact-cooloff", "never"); r.code != ExitOK ||
			!strings.Contains(r.stdout, "recontact cool-off never") {
			t.Fatalf("never: %+v", r)
		}
		r := run(t, env, "workspace", "settings", "--workspace", "acme", "--recontact-cooloff", "14d", "--json")
		var got map[string]any
		if r.code != ExitOK || json.Unmarshal([]byte(r.stdout), &got) != nil || got["recontact_cooloff_days"] != 14.0 || got["slug"] != "acme" {
			t.Fatalf("14d --json: %+v", r)
		}
		if r := run(t, env, "workspace", "settings", "--workspace", "nobody"); r.code == ExitOK {
			t.Fatalf("unknown workspace: %+v", r)
		}
	})
}
