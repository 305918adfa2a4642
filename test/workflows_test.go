package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestActionsArePinnedByCommit: the workflows request id-token: write, so
// every third-party action runs with the power to assume the deploy role; a
// moved tag would run someone else's code. Each external action is pinned
// to a full commit SHA with its release tag in a comment.
func TestActionsArePinnedByCommit(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	uses := regexp.MustCompile(`^\s*(?:-\s*)?uses:\s*(\S+)(.*)$`)
	pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	tag := regexp.MustCompile(`^\s*#\s*v\d+\.\d+\.\d+$`)
	external := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(raw), "\n") {
			m := uses.FindStringSubmatch(line)
			if m == nil || strings.HasPrefix(m[1], "./") {
				continue
			}
			external++
			if !pinned.MatchString(m[1]) || !tag.MatchString(m[2]) {
				t.Errorf("%s:%d: %q is not pinned as owner/repo@<commit sha> # vX.Y.Z", filepath.Base(f), i+1, strings.TrimSpace(line))
			}
		}
	}
	if external == 0 {
		t.Error("found no external actions; the pattern no longer matches the workflows")
	}
}
