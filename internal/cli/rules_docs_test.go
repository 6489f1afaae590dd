package cli

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository root as seen from this package's directory,
// where go test runs.
const repoRoot = "../.."

var (
	// outOfTreeSpec matches a citation of the specification documents that
	// live outside the repository; the rules are restated in docs/.
	outOfTreeSpec = regexp.MustCompile(`\b(?:PRODUCT|CONTRACT)\.md\b`)
	// docsCitation is a rule citation from anywhere in the tree:
	// docs/<file>.md#<anchor>.
	docsCitation = regexp.MustCompile(`\bdocs/([A-Za-z0-9_-]+\.md)#([A-Za-z0-9_-]+)`)
	// mdLink is a Markdown link to a local page, optionally with an anchor.
	mdLink = regexp.MustCompile(`\]\(([A-Za-z0-9_./-]*)(?:#([^)\s]+))?\)`)
	// explicitAnchor is an HTML anchor a page sets by hand.
	explicitAnchor = regexp.MustCompile(`<a (?:id|name)="([^"]+)"`)
)

// ruleSource reports whether a tracked file is one whose text may cite a
// rule: Go, SQL and Markdown.
func ruleSource(name string) bool {
	switch path.Ext(name) {
	case ".go", ".sql", ".md":
		return true
	}
	return false
}

// trackedFiles lists the repository's files, slash-separated and relative
// to its root: git's index when git is there, else a walk of the tree.
func trackedFiles(t *testing.T) []string {
	t.Helper()
	if out, err := exec.Command("git", "-C", repoRoot, "ls-files", "-z").Output(); err == nil && len(out) > 0 {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
		return files
	}
	var files []string
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != repoRoot && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(repoRoot, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking the tree: %v", err)
	}
	return files
}

// readTracked reads a tracked file; a file listed by git but deleted in
// the work tree is skipped.
func readTracked(t *testing.T, name string) (string, bool) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(name)))
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return string(raw), true
}

// lineOf is the 1-based line of byte offset i in text.
func lineOf(text string, i int) int { return strings.Count(text[:i], "\n") + 1 }

// TestNothingCitesTheOutOfTreeSpec fails when a Go, SQL or Markdown file
// cites the specification documents kept outside the repository: a reader
// of the repository cannot open them. Cite the rule pages in docs/.
func TestNothingCitesTheOutOfTreeSpec(t *testing.T) {
	t.Parallel()
	for _, name := range trackedFiles(t) {
		if !ruleSource(name) {
			continue
		}
		text, ok := readTracked(t, name)
		if !ok {
			continue
		}
		for _, loc := range outOfTreeSpec.FindAllStringIndex(text, -1) {
			t.Errorf("%s:%d cites %s, which is not in the repository; cite the rule in docs/ instead",
				name, lineOf(text, loc[0]), text[loc[0]:loc[1]])
		}
	}
}

// TestCitedDocAnchorsExist fails when a docs/<file>.md#<anchor> cited
// anywhere in the tree, or a Markdown link between the documents, names a
// page or a heading that does not exist. Anchors are computed from the
// headings the way GitHub renders them.
func TestCitedDocAnchorsExist(t *testing.T) {
	t.Parallel()
	files := trackedFiles(t)
	anchorsOf := map[string]map[string]bool{} // page path -> anchors; nil when missing
	anchors := func(page string) map[string]bool {
		if a, ok := anchorsOf[page]; ok {
			return a
		}
		text, ok := readTracked(t, page)
		if !ok {
			anchorsOf[page] = nil
			return nil
		}
		anchorsOf[page] = headingAnchors(text)
		return anchorsOf[page]
	}
	check := func(from string, line int, page, anchor string) {
		t.Helper()
		a := anchors(page)
		switch {
		case a == nil:
			t.Errorf("%s:%d cites %s, which does not exist", from, line, page)
		case anchor != "" && !a[anchor]:
			t.Errorf("%s:%d cites %s#%s, but %s has no such heading", from, line, page, anchor, page)
		}
	}
	citations := 0
	for _, name := range files {
		if !ruleSource(name) {
			continue
		}
		text, ok := readTracked(t, name)
		if !ok {
			continue
		}
		for _, m := range docsCitation.FindAllStringSubmatchIndex(text, -1) {
			citations++
			check(name, lineOf(text, m[0]), "docs/"+text[m[2]:m[3]], text[m[4]:m[5]])
		}
		if path.Ext(name) != ".md" {
			continue
		}
		for _, m := range mdLink.FindAllStringSubmatchIndex(text, -1) {
			target, anchor := text[m[2]:m[3]], ""
			if m[4] >= 0 {
				anchor = text[m[4]:m[5]]
			}
			switch {
			case target == "" && anchor != "":
				check(name, lineOf(text, m[0]), name, anchor)
			case strings.HasSuffix(target, ".md"):
				check(name, lineOf(text, m[0]), path.Clean(path.Join(path.Dir(name), target)), anchor)
			}
		}
	}
	if citations < 20 {
		t.Fatalf("only %d docs/<file>.md#<anchor> citations found in the tree: the scan is broken", citations)
	}
}

// headingAnchors lists the anchors of a Markdown page: one per heading
// outside code fences, as GitHub derives them (lower-cased, punctuation
// dropped, spaces as hyphens, repeats numbered -1, -2, …), and any anchor
// set by hand with <a id="…">.
func headingAnchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	fence := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		for _, m := range explicitAnchor.FindAllStringSubmatch(line, -1) {
			out[m[1]] = true
		}
		level := len(line) - len(strings.TrimLeft(line, "#"))
		if level == 0 || level > 6 || len(line) == level || line[level] != ' ' {
			continue
		}
		slug := slugify(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(line[level:]), "#")))
		if n := seen[slug]; n > 0 {
			out[slug+"-"+itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// slugify turns a heading into its GitHub anchor.
func slugify(heading string) string {
	var b bytes.Buffer
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

// TestSlugify pins the anchor rule on headings the documents use.
func TestSlugify(t *testing.T) {
	t.Parallel()
	for heading, want := range map[string]string{
		"Why isn't it sending?": "why-isnt-it-sending",
		"Mass-404 burst guard":  "mass-404-burst-guard",
		"SQLite: one writer":    "sqlite-one-writer",
		"The audit row is the flip (migration 11, both engines)":    "the-audit-row-is-the-flip-migration-11-both-engines",
		"Outbound webhooks: destinations and the allow-list":        "outbound-webhooks-destinations-and-the-allow-list",
		"`keel repair split-state`":                                 "keel-repair-split-state",
		"State flips with audit (issue 2)":                          "state-flips-with-audit-issue-2",
		"Health sweep of 10,000 accounts (issue 3)":                 "health-sweep-of-10000-accounts-issue-3",
		"Caps and ceilings":                                         "caps-and-ceilings",
		"Accounts page with 10,000 accounts (issue 6)":              "accounts-page-with-10000-accounts-issue-6",
		"Scheduler pass over 1,000,000 enrollments and 10,000 acc…": "scheduler-pass-over-1000000-enrollments-and-10000-acc",
	} {
		if got := slugify(heading); got != want {
			t.Errorf("slugify(%q) = %q, want %q", heading, got, want)
		}
	}
	got := headingAnchors("# A\n## B\n```\n## Not a heading\n```\n## B\n<a id=\"hand-made\"></a>\n#NoSpace\n")
	for _, want := range []string{"a", "b", "b-1", "hand-made"} {
		if !got[want] {
			t.Errorf("headingAnchors lacks %q: %v", want, got)
		}
	}
	if got["not-a-heading"] || got["nospace"] {
		t.Errorf("headingAnchors took a line that is not a heading: %v", got)
	}
}
