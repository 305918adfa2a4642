package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bac-platform/infra/policies/rules"
)

func TestReportWritesMarkdownJSONAndMetricsAndPushes(t *testing.T) {
	var pushed string
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		pushed = r.Method + " " + r.URL.Path + "\n" + string(body)
	}))
	defer gateway.Close()
	out := t.TempDir()
	code, stdout, errOut := runPlan(t, "report", "--dir", "../..", "--stack", "prod-us-east-1", "--out", out,
		"--push", gateway.URL+"/metrics/job/compliance_checker")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "score 100.0%") {
		t.Errorf("stdout = %s", stdout)
	}
	raw, err := os.ReadFile(filepath.Join(out, "compliance-prod-us-east-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Frameworks) != 5 || rep.Frameworks[0].Name != "SOC 2" || rep.Frameworks[0].Score != 100 {
		t.Fatalf("frameworks = %+v", rep.Frameworks)
	}
	manual := false
	for _, c := range rep.Frameworks[0].Controls {
		if c.ID == "CC6.2" && len(c.Evidence) == 0 {
			t.Error("CC6.2 is evidenced by identity rules, not only the manual review")
		}
	}
	for _, r := range rep.Rules {
		if r.Name == "manual-access-reviews" {
			manual = r.Status == "manual"
		}
	}
	if !manual {
		t.Error("access reviews must be reported as manual, never passed")
	}
	md, _ := os.ReadFile(filepath.Join(out, "compliance-prod-us-east-1.md"))
	if !strings.Contains(string(md), "| SOC 2 | 100.0% |") || !strings.Contains(string(md), "Needs evidence from outside the code") {
		t.Errorf("markdown:\n%s", md)
	}
	prom, _ := os.ReadFile(filepath.Join(out, "compliance-prod-us-east-1.prom"))
	for _, want := range []string{
		`compliance_score{stack="prod-us-east-1"} 100`,
		`compliance_check_status{stack="prod-us-east-1",check="mtls-strict-mesh-wide"} 1`,
		`compliance_check_manual{stack="prod-us-east-1",check="manual-access-reviews"} 1`,
	} {
		if !strings.Contains(string(prom), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !strings.HasPrefix(pushed, "POST /metrics/job/compliance_checker\n") || !strings.Contains(pushed, "compliance_score") {
		t.Errorf("pushed = %q", pushed)
	}
}

func TestReportScoresFailures(t *testing.T) {
	bad := []rules.Resource{{URN: "urn:k", Type: "aws:kms/key:Key", Props: map[string]any{"enableKeyRotation": false,
		"tags": map[string]any{"Environment": "p", "Cluster": "c", "ManagedBy": "pulumi"}}}}
	rep := buildReport("s", rules.Evaluate(bad, nil), time.Unix(0, 0))
	var rotation RuleReport
	for _, r := range rep.Rules {
		if r.Name == "encryption-kms-rotation" {
			rotation = r
		}
	}
	if rotation.Status != "failed" || len(rotation.Violations) != 1 || rotation.Violations[0].URN != "urn:k" {
		t.Fatalf("rotation = %+v", rotation)
	}
	// Two automated rules examined the key: tags passed, rotation failed.
	if rep.Score != 50 {
		t.Fatalf("score = %v, want 50", rep.Score)
	}
	for _, f := range rep.Frameworks {
		if f.Name == "ISO 27001" {
			for _, c := range f.Controls {
				if c.ID == "A.8.24" && c.Status != "failed" {
					t.Errorf("A.8.24 = %s, want failed", c.Status)
				}
			}
		}
	}
	if !strings.Contains(rep.Prometheus(), `compliance_check_status{stack="s",check="encryption-kms-rotation"} 0`) {
		t.Error("a failed check must be 0")
	}
}
