package rules

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
)

// coverage records, per rule, whether a test saw it pass a compliant input
// and refuse a non-compliant one. Table tests record each row whose
// assertion held.
type coverage struct {
	mu              sync.Mutex
	passed, refused map[string]int
}

var covered = &coverage{passed: map[string]int{}, refused: map[string]int{}}

// pass records that rule admitted a compliant input in a test.
func (c *coverage) pass(rule string) { c.mu.Lock(); c.passed[rule]++; c.mu.Unlock() }

// refuse records that rule refused a non-compliant input in a test.
func (c *coverage) refuse(rule string) { c.mu.Lock(); c.refused[rule]++; c.mu.Unlock() }

// missing names the automated rules without a passing or a refusing row.
func (c *coverage) missing() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range All() {
		if r.Manual {
			continue
		}
		if c.passed[r.Name] == 0 {
			out = append(out, r.Name+": no test shows it admitting a compliant resource or stack")
		}
		if c.refused[r.Name] == 0 {
			out = append(out, r.Name+": no test shows it refusing a non-compliant resource or stack")
		}
	}
	sort.Strings(out)
	return out
}

// TestMain runs the package's tests, then, when the whole package ran
// (no -run or -skip filter), requires every automated rule to have been
// seen passing a compliant input and refusing a non-compliant one: a new
// rule without a failing test fails the suite.
func TestMain(m *testing.M) {
	code := m.Run()
	filtered := false
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			filtered = true
		}
	}
	if !filtered {
		if gaps := covered.missing(); len(gaps) > 0 {
			fmt.Fprintln(os.Stderr, "rules without both a passing and a refusing test row:")
			for _, g := range gaps {
				fmt.Fprintln(os.Stderr, "  "+g)
			}
			code = 1
		}
	}
	os.Exit(code)
}
