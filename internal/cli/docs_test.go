package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// knownEnv are the variables documentation may name: the configuration
// (see internal/config) and the test and benchmark switches.
var knownEnv = map[string]bool{
	"KEEL_DATABASE_URL": true, "KEEL_ADDR": true, "KEEL_PUBLIC_URL": true, "UNIPILE_DSN": true,
	"UNIPILE_API_KEY": true, "KEEL_WEBHOOK_SECRET": true, "KEEL_HEALTH_INTERVAL": true,
	"KEEL_SCHEDULER_INTERVAL": true, "KEEL_MIN_SPACING": true, "KEEL_WORKERS": true, "KEEL_OUTBOUND_ALLOW": true,
	"KEEL_TEST_POSTGRES_URL": true, "KEEL_REQUIRE_POSTGRES": true, "KEEL_PROPERTY_OPS": true,
	"KEEL_PROPERTY_SEED": true, "KEEL_BENCH_ACCOUNTS": true, "KEEL_BENCH_ENROLLMENTS": true,
	"KEEL_BENCH_NO_PROCESSING": true, "KEEL_REQUIRE_BROWSER": true, "KEEL_ARTIFACTS_DIR": true,
	"KEEL_LOG_LEVEL": true, "KEEL_LOG_FORMAT": true,
	"KEEL_CHAOS_DURATION": true, "KEEL_CHAOS_DEBUG": true, "KEEL_BENCH_SCALEOUT": true, "KEEL_BENCH_SECONDS": true, "KEEL_BENCH_WORKERS": true,
	"KEEL_BENCH_RSS": true, "KEEL_BENCH_RSS_DATABASE_URL": true, "KEEL_BENCH_RSS_ACCOUNTS": true, "KEEL_BENCH_RSS_PROSPECTS": true,
	"KEEL_BENCH_RSS_DURATION": true, "KEEL_BENCH_RSS_SCHEDULER_INTERVAL": true, "KEEL_BENCH_RSS_LOGS": true,
	"KEEL_BENCH_SMALL": true, "KEEL_BENCH_LARGE": true, "KEEL_BENCH_PASSES": true,
}

var (
	codeSpan = regexp.MustCompile("(?s)```.*?```|`[^`\n]+`")
	keelCmd  = regexp.MustCompile(`(?m)(?:^|[\s(` + "`" + `])keel ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?`)
	envName  = regexp.MustCompile(`\b(?:KEEL|UNIPILE)_[A-Z_]+\b`)
)

// TestDocsNameOnlyRealCommandsAndSettings reads the README and docs/ and
// runs `keel <command> [sub] --help` for every command they show, and
// checks every KEEL_/UNIPILE_ variable they name is a real setting.
func TestDocsNameOnlyRealCommandsAndSettings(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	seen := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range envName.FindAllString(string(raw), -1) {
			if !knownEnv[name] {
				t.Errorf("%s names %s, which is not a Keel setting", filepath.Base(f), name)
			}
		}
		for _, code := range codeSpan.FindAllString(string(raw), -1) {
			for _, m := range keelCmd.FindAllStringSubmatch(code, -1) {
				args := []string{m[1]}
				if m[2] != "" {
					args = append(args, m[2])
				}
				key := strings.Join(args, " ")
				if seen[key] {
					continue
				}
				seen[key] = true
				r := run(t, sqliteEnv(t), append(args, "--help")...)
				if r.code != ExitOK {
					// A leaf command followed by an argument word (keel workspace create SLUG is fine;
					// keel serve now is not): retry with the command alone.
					if r2 := run(t, sqliteEnv(t), m[1], "--help"); m[2] == "" || r2.code != ExitOK || strings.Contains(r.stderr, "subcommand") {
						t.Errorf("%s shows `keel %s`, which does not exist: %s", filepath.Base(f), key, strings.TrimSpace(r.stderr))
					}
				}
			}
		}
	}
	if len(seen) < 8 {
		t.Fatalf("only %d commands found in the docs: the scan is broken", len(seen))
	}
}
