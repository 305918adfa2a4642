package stackfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"tab indentation", "config:\n\tbac:region: us-east-1\n", []string{":2: invalid YAML: found character that cannot start any token"}},
		{"unclosed flow mapping", "config:\n  bac:network: {cidr: 10.0.0.0/16\n  bac:region: us-east-1\n", []string{":2: invalid YAML: did not find expected ',' or '}'"}},
		{"repeated top-level key", "config:\n  bac:region: us-east-1\n  bac:domain: a.bac-platform.io\n  bac:region: eu-west-1\n",
			[]string{`:4: key "bac:region" is already set at line 2`}},
		{"repeated nested key", "config:\n  bac:cluster:\n    nodePools:\n      gpu: {minSize: 0, minSize: 1}\n",
			[]string{`:4: key "minSize" is already set at line 4`}},
		{"two repeats", "config:\n  bac:region: a\n  bac:region: b\n  bac:tags: {A: x, A: y}\n",
			[]string{`:3: key "bac:region" is already set at line 2`, `:4: key "A" is already set at line 4`}},
		{"a list where the config goes", "config:\n  - bac:region\n", []string{":2: invalid YAML: cannot unmarshal !!seq into map[string]interface {}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "Pulumi.prod.yaml")
			if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(dir, "bac", "prod")
			var parseErr *ParseError
			if !errors.As(err, &parseErr) {
				t.Fatalf("err = %v, want a ParseError", err)
			}
			ps := parseErr.Problems
			if len(ps) != len(tt.want) {
				t.Fatalf("problems = %v, want %q", ps, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(ps[i].String(), path+w) {
					t.Errorf("problem %d = %q, want prefix %q", i, ps[i], path+w)
				}
			}
		})
	}
}

func TestReadValues(t *testing.T) {
	dir := t.TempDir()
	body := "config:\n  bac:region: us-east-1\n  bac:tags: {CostCenter: platform}\n  bac:jwtSecret: {secure: AAEA}\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.prod.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sf, err := Read(dir, "bac", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if sf.Values["bac:region"] != "us-east-1" || sf.Values["bac:tags"] != `{"CostCenter":"platform"}` || sf.Values["bac:jwtSecret"] != SecretPlaceholder {
		t.Fatalf("values = %v", sf.Values)
	}
}
