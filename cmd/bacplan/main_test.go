package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runPlan(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestPlanEveryStack(t *testing.T) {
	code, out, errOut := runPlan(t, "plan", "--dir", "../..")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, stack := range []string{"prod-us-east-1", "prod-eu-west-1", "staging-us-east-1", "staging-eu-west-1"} {
		if !strings.Contains(out, "Stack "+stack+" (") {
			t.Errorf("plan lacks stack %s", stack)
		}
	}
	if !strings.Contains(out, "eks:index:ManagedNodeGroup  bac-prod-us-east-1-general") || !strings.Contains(out, "[protected, retained on delete]") {
		t.Errorf("plan tree lacks expected lines:\n%s", out)
	}
}

func TestPlanJSONHoldsTheSeedCluster(t *testing.T) {
	code, out, errOut := runPlan(t, "plan", "--dir", "../..", "--stack", "prod-us-east-1", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var preview struct {
		Steps []struct {
			Op       string `json:"op"`
			URN      string `json:"urn"`
			Type     string `json:"type"`
			NewState struct {
				Type    string         `json:"type"`
				Parent  string         `json:"parent"`
				Protect bool           `json:"protect"`
				Inputs  map[string]any `json:"inputs"`
			} `json:"newState"`
		} `json:"steps"`
		ChangeSummary map[string]int `json:"changeSummary"`
	}
	if err := json.Unmarshal([]byte(out), &preview); err != nil {
		t.Fatalf("not preview JSON: %v", err)
	}
	if preview.ChangeSummary["create"] != len(preview.Steps) || len(preview.Steps) == 0 {
		t.Fatalf("changeSummary %v for %d steps", preview.ChangeSummary, len(preview.Steps))
	}
	groups := map[string]map[string]any{}
	var cluster map[string]any
	for _, s := range preview.Steps {
		if s.Op != "create" || s.NewState.Type != s.Type || !strings.HasPrefix(s.URN, "urn:pulumi:prod-us-east-1::bac::") {
			t.Fatalf("malformed step %+v", s)
		}
		switch s.Type {
		case "eks:index:ManagedNodeGroup":
			groups[strings.TrimSuffix(s.NewState.Inputs["nodeGroupNamePrefix"].(string), "-")] = s.NewState.Inputs
		case "eks:index:Cluster":
			cluster = s.NewState.Inputs
		}
	}
	want := map[string]string{
		"general-purpose":   `{"desiredSize":30,"maxSize":100,"minSize":10}`,
		"compute-optimized": `{"desiredSize":10,"maxSize":50,"minSize":5}`,
		"memory-optimized":  `{"desiredSize":10,"maxSize":30,"minSize":5}`,
		"gpu-nodes":         `{"desiredSize":2,"maxSize":20,"minSize":0}`,
	}
	if len(groups) != 4 {
		t.Fatalf("node groups = %v", groups)
	}
	for name, scaling := range want {
		got, _ := json.Marshal(groups[name]["scalingConfig"])
		if string(got) != scaling {
			t.Errorf("%s scaling = %s, want %s", name, got, scaling)
		}
	}
	for key, want := range map[string]string{
		"enabledClusterLogTypes": `["api","audit","authenticator","controllerManager","scheduler"]`,
		"endpointPrivateAccess":  `true`,
		"publicAccessCidrs":      `["198.51.100.10/32"]`,
	} {
		got, _ := json.Marshal(cluster[key])
		if string(got) != want {
			t.Errorf("cluster %s = %s, want %s", key, got, want)
		}
	}
	if arn, _ := cluster["encryptionConfigKeyArn"].(string); !strings.HasPrefix(arn, "arn:aws:kms:us-east-1:") {
		t.Errorf("encryptionConfigKeyArn = %v", cluster["encryptionConfigKeyArn"])
	}
}

// badProject writes a project with one stack file into a temp dir.
func badProject(t *testing.T, stackFile string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Pulumi.yaml", "name: bac\nruntime: go\n")
	write("Pulumi.prod-us-east-1.yaml", stackFile)
	return dir
}

func TestPlanRejectsBadConfigWithExitCode2(t *testing.T) {
	dir := badProject(t, `config:
  bac:environment: production
  bac:region: us-east-1
  bac:network: {cidr: 10.10.0.0/16}
  bac:cluster:
    nodePools:
      compute: {minSize: 60}
    publicAccessCidrs: [0.0.0.0/0]
`)
	code, out, errOut := runPlan(t, "plan", "--dir", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if out != "" {
		t.Fatalf("a bad config must print no plan, got:\n%s", out)
	}
	for _, want := range []string{
		"bac:cluster.nodePools.compute: minSize 60 > maxSize 50",
		"bac:cluster.publicAccessCidrs: with runnerCidrs, admits the whole IPv4 internet to the production API endpoint",
		"Pulumi.prod-us-east-1.yaml",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestBrokenYAMLIsAConfigurationError: a syntax error or a repeated key
// exits 2 naming the file and line, and the other files' problems are
// reported beside it.
func TestBrokenYAMLIsAConfigurationError(t *testing.T) {
	dir := badProject(t, "config:\n  bac:environment: production\n  bac:region: us-east-1\n  bac:network: {cidr: 10.10.0.0/16\n")
	for name, body := range map[string]string{
		"Pulumi.staging-us-east-1.yaml": "config:\n  bac:environment: staging\n  bac:region: us-east-1\n  bac:environment: production\n",
		"Pulumi.staging-eu-west-1.yaml": "config:\n  bac:environment: staging\n  bac:region: eu-west-1\n  bac:network: {cidr: 10.120.0.0/33}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runPlan(t, "plan", "--dir", dir)
	if code != 2 || out != "" {
		t.Fatalf("exit %d, stdout %q, want 2 and no plan", code, out)
	}
	for _, want := range []string{
		filepath.Join(dir, "Pulumi.prod-us-east-1.yaml") + ":4: invalid YAML: did not find expected ',' or '}'",
		filepath.Join(dir, "Pulumi.staging-us-east-1.yaml") + `:4: key "bac:environment" is already set at line 2`,
		filepath.Join(dir, "Pulumi.staging-eu-west-1.yaml") + `: bac:network.cidr: "10.120.0.0/33" is not a CIDR block`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestPlanRejectsOverlappingRegions(t *testing.T) {
	dir := badProject(t, "config:\n  bac:environment: production\n  bac:region: us-east-1\n  bac:network: {cidr: 10.10.0.0/16}\n")
	other := "config:\n  bac:environment: staging\n  bac:region: eu-west-1\n  bac:network: {cidr: 10.10.0.0/17}\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.staging-eu-west-1.yaml"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runPlan(t, "plan", "--dir", dir, "--stack", "prod-us-east-1")
	if code != 2 || !strings.Contains(errOut, "overlaps stack") {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
}

func TestPlanUnknownStackAndUsage(t *testing.T) {
	if code, _, errOut := runPlan(t, "plan", "--dir", "../..", "--stack", "prod-mars-1"); code != 1 || !strings.Contains(errOut, `no stack "prod-mars-1"`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := runPlan(t, "apply"); code != 2 || !strings.Contains(errOut, "bacplan plan") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
