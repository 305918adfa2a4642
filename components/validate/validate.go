// Package validate collects configuration problems so that a stack reports
// every mistake at once, each one named by its config path.
package validate

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
)

// Problem is one invalid configuration value.
type Problem struct {
	// Path is the config path of the value, e.g. "bac:cluster.nodePools.compute".
	Path string
	// Message says what is wrong and, where it helps, what is allowed.
	Message string
}

// String renders the problem as "path: message".
func (p Problem) String() string { return p.Path + ": " + p.Message }

// Problems is a list of configuration problems. A non-empty list is an error.
type Problems []Problem

// Add records a problem at path; the message is formatted like fmt.Sprintf.
func (ps *Problems) Add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Extend appends every problem of other.
func (ps *Problems) Extend(other Problems) { *ps = append(*ps, other...) }

// Err returns the problems as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Error lists every problem on its own line, sorted by path for stable output.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	sort.Stable(sort.StringSlice(lines))
	return fmt.Sprintf("invalid configuration (%d problem(s)):\n  %s", len(ps), strings.Join(lines, "\n  "))
}

// CIDR parses an IPv4 or IPv6 CIDR block and records a problem at path when it
// is not one, or when its address has host bits set (10.0.0.1/16).
func CIDR(ps *Problems, path, value string) (netip.Prefix, bool) {
	prefix, err := netip.ParsePrefix(value)
	if err != nil {
		ps.Add(path, "%q is not a CIDR block", value)
		return netip.Prefix{}, false
	}
	if prefix.Masked() != prefix {
		ps.Add(path, "%q has host bits set; did you mean %s?", value, prefix.Masked())
		return netip.Prefix{}, false
	}
	return prefix, true
}

// RetentionDays are the retention periods CloudWatch Logs accepts.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Retention records a problem at path when days is not a CloudWatch Logs
// retention period.
func Retention(ps *Problems, path string, days int) {
	if !slices.Contains(RetentionDays, days) {
		ps.Add(path, "%d is not a CloudWatch Logs retention period (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, ... 3653)", days)
	}
}
