package validate

import (
	"strings"
	"testing"
)

func TestProblemsErrorListsEveryProblemSorted(t *testing.T) {
	var ps Problems
	if ps.Err() != nil {
		t.Fatal("empty problems must not be an error")
	}
	ps.Add("bac:cluster.nodePools.compute", "minSize %d > maxSize %d", 60, 50)
	ps.Add("bac:network.cidr", "bad")
	err := ps.Err()
	if err == nil {
		t.Fatal("expected an error")
	}
	want := "invalid configuration (2 problem(s)):\n  bac:cluster.nodePools.compute: minSize 60 > maxSize 50\n  bac:network.cidr: bad"
	if err.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", err, want)
	}
}

func TestCIDR(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		message string
	}{
		{"10.0.0.0/16", true, ""},
		{"2001:db8::/32", true, ""},
		{"10.0.0.1/16", false, `"10.0.0.1/16" has host bits set; did you mean 10.0.0.0/16?`},
		{"10.0.0.0", false, `"10.0.0.0" is not a CIDR block`},
		{"office", false, `"office" is not a CIDR block`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var ps Problems
			_, ok := CIDR(&ps, "p", tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !tt.ok && (len(ps) != 1 || !strings.Contains(ps[0].String(), "p: "+tt.message)) {
				t.Fatalf("problems = %v, want %q", ps, tt.message)
			}
		})
	}
}
