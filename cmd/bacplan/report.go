package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bac-platform/infra/policies/rules"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Report is the compliance report of one stack: of its plan, or of its
// deployed state (a `pulumi stack export`).
type Report struct {
	Stack       string            `json:"stack"`
	Source      string            `json:"source"`
	GeneratedAt string            `json:"generatedAt"`
	Score       float64           `json:"complianceScore"`
	Frameworks  []FrameworkReport `json:"frameworks"`
	Rules       []RuleReport      `json:"rules"`
}

// FrameworkReport scores one framework and lists its controls.
type FrameworkReport struct {
	Name     string          `json:"name"`
	Score    float64         `json:"score"`
	Passed   int             `json:"passed"`
	Failed   int             `json:"failed"`
	Manual   int             `json:"manual"`
	Controls []ControlReport `json:"controls"`
}

// ControlReport is one control: its status, the rules evidencing it and the
// resources they examined.
type ControlReport struct {
	ID       string   `json:"id"`
	Status   string   `json:"status"`
	Rules    []string `json:"rules"`
	Evidence []string `json:"evidence"`
	// EnforcedAt is where the control's rules are enforced (see enforcedAt).
	EnforcedAt []string `json:"enforcedAt"`
}

// RuleReport is one rule's outcome.
type RuleReport struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Enforcement string         `json:"enforcement"`
	Status      string         `json:"status"`
	Controls    rules.Controls `json:"controls"`
	Remediation string         `json:"remediation"`
	// EnforcedAt is where the rule is enforced (see enforcedAt).
	EnforcedAt string          `json:"enforcedAt"`
	Evidence   []string        `json:"evidence"`
	Violations []ViolationJSON `json:"violations"`
}

// Where a rule is enforced.
const (
	atPlan          = "plan-time gate"
	atPlanAdmission = "plan-time gate + admission"
	atAdmissionWarn = "plan-time gate + admission warnings"
	reportedOnly    = "reported"
	manualOnly      = "manual"
	notEnforced     = "not enforced"
)

// admissionActions maps each rule an admission policy of the stack mirrors
// to whether its binding denies: the bindings in resources name their
// policy, and each policy is named after its rule (components/admission).
func admissionActions(resources []rules.Resource) map[string]bool {
	denies := map[string]bool{}
	for _, r := range resources {
		if r.Type != "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding" {
			continue
		}
		name, _ := r.Get("spec.policyName").(string)
		actions, _ := r.Get("spec.validationActions").([]any)
		deny := false
		for _, a := range actions {
			deny = deny || a == "Deny"
		}
		denies[name] = denies[name] || deny
	}
	return denies
}

// enforcedAt says where a rule is enforced: a mandatory rule blocks plans
// (the plan-time gate) and, when the stack binds an admission policy of the
// same name, pods in the cluster (denied, or only warned about and
// audited); an advisory rule is only reported; a manual one needs evidence
// from outside the code.
func enforcedAt(o rules.Outcome, admission map[string]bool) string {
	switch {
	case o.Rule.Manual:
		return manualOnly
	case o.Level == policyx.EnforcementLevelDisabled:
		return notEnforced
	case o.Level == policyx.EnforcementLevelAdvisory:
		return reportedOnly
	}
	deny, bound := admission[o.Rule.Name]
	switch {
	case bound && deny:
		return atPlanAdmission
	case bound:
		return atAdmissionWarn
	}
	return atPlan
}

// ViolationJSON is one violation in the report.
type ViolationJSON struct {
	URN     string `json:"urn"`
	Message string `json:"message"`
}

// buildReport scores a stack's rule outcomes per framework. A control fails
// when any rule evidencing it fails, passes when its rules examined resources
// and none failed, and is manual when only evidence from outside the code
// (access reviews) can prove it. Scores count passed and failed controls.
func buildReport(stack, source string, resources []rules.Resource, result rules.Result, now time.Time) Report {
	rep := Report{Stack: stack, Source: source, GeneratedAt: now.UTC().Format(time.RFC3339)}
	admission := admissionActions(resources)
	passedRules, failedRules := 0, 0
	type acc struct {
		statuses []string
		rules    []string
		evidence map[string]bool
		enforced map[string]bool
	}
	byFramework := map[string]map[string]*acc{}
	for _, o := range result.Outcomes {
		status := o.Status()
		rr := RuleReport{Name: o.Rule.Name, Description: o.Rule.Description, Enforcement: rules.LevelName(o.Level),
			Status: status, Controls: o.Rule.Controls, Remediation: o.Rule.Remediation, EnforcedAt: enforcedAt(o, admission),
			Evidence: append([]string{}, o.Evidence...), Violations: []ViolationJSON{}}
		for _, v := range o.Violations {
			rr.Violations = append(rr.Violations, ViolationJSON{URN: v.URN, Message: v.Message})
		}
		rep.Rules = append(rep.Rules, rr)
		switch status {
		case "passed":
			passedRules++
		case "failed":
			failedRules++
		}
		for framework, ids := range o.Rule.Controls.ByFramework() {
			if byFramework[framework] == nil {
				byFramework[framework] = map[string]*acc{}
			}
			for _, id := range ids {
				a := byFramework[framework][id]
				if a == nil {
					a = &acc{evidence: map[string]bool{}, enforced: map[string]bool{}}
					byFramework[framework][id] = a
				}
				a.statuses = append(a.statuses, status)
				a.rules = append(a.rules, o.Rule.Name)
				a.enforced[rr.EnforcedAt] = true
				for _, e := range o.Evidence {
					a.evidence[e] = true
				}
			}
		}
	}
	rep.Score = score(passedRules, failedRules)
	for _, framework := range rules.Frameworks {
		controls := byFramework[framework]
		fr := FrameworkReport{Name: framework}
		ids := make([]string, 0, len(controls))
		for id := range controls {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			a := controls[id]
			c := ControlReport{ID: id, Status: controlStatus(a.statuses), Rules: a.rules, Evidence: []string{}, EnforcedAt: sortedKeys(a.enforced)}
			for e := range a.evidence {
				c.Evidence = append(c.Evidence, e)
			}
			sort.Strings(c.Evidence)
			switch c.Status {
			case "passed":
				fr.Passed++
			case "failed":
				fr.Failed++
			case "manual":
				fr.Manual++
			}
			fr.Controls = append(fr.Controls, c)
		}
		fr.Score = score(fr.Passed, fr.Failed)
		rep.Frameworks = append(rep.Frameworks, fr)
	}
	return rep
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// controlStatus combines the statuses of the rules evidencing a control.
func controlStatus(statuses []string) string {
	has := func(s string) bool {
		for _, v := range statuses {
			if v == s {
				return true
			}
		}
		return false
	}
	switch {
	case has("failed"):
		return "failed"
	case has("deferred"):
		return "deferred"
	case has("passed"):
		return "passed"
	case has("manual"):
		return "manual"
	}
	return "not-applicable"
}

// score is the percentage of passed among passed and failed.
func score(passed, failed int) float64 {
	if passed+failed == 0 {
		return 0
	}
	return float64(passed) * 100 / float64(passed+failed)
}

// Markdown renders the report for people.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Compliance report: %s\n\nGenerated %s from %s. Overall score: **%.1f%%** of automated checks passed.\n\n", r.Stack, r.GeneratedAt, r.Source, r.Score)
	b.WriteString("Where controls are enforced: the **plan-time gate** blocks a `pulumi preview`/`up` that violates a mandatory rule; " +
		"**admission** means the cluster's ValidatingAdmissionPolicies also refuse such pods (or, with warnings, admit and audit them); " +
		"**reported** rules never block; **manual** controls need evidence from outside the code.\n\n")
	b.WriteString("| framework | score | passed | failed | manual |\n|---|---|---|---|---|\n")
	for _, f := range r.Frameworks {
		fmt.Fprintf(&b, "| %s | %.1f%% | %d | %d | %d |\n", f.Name, f.Score, f.Passed, f.Failed, f.Manual)
	}
	for _, f := range r.Frameworks {
		fmt.Fprintf(&b, "\n## %s\n\n| control | status | enforced at | rules | evidence |\n|---|---|---|---|---|\n", f.Name)
		for _, c := range f.Controls {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d resource(s) |\n", c.ID, c.Status, strings.Join(c.EnforcedAt, "; "), strings.Join(c.Rules, ", "), len(c.Evidence))
		}
	}
	b.WriteString("\n## Rules\n")
	for _, rr := range r.Rules {
		fmt.Fprintf(&b, "\n### %s: %s\n\n%s (%s; enforced at: %s). Evidence: %d resource(s).\n", rr.Name, rr.Status, rr.Description, rr.Enforcement, rr.EnforcedAt, len(rr.Evidence))
		if rr.Status == "manual" {
			fmt.Fprintf(&b, "\nNeeds evidence from outside the code: %s\n", rr.Remediation)
		}
		for _, v := range rr.Violations {
			fmt.Fprintf(&b, "\n- `%s`: %s\n  - remediation: %s\n", v.URN, v.Message, rr.Remediation)
		}
	}
	return b.String()
}

// Prometheus renders the report in the text exposition format, as the
// seed's checker pushes to the Pushgateway.
func (r Report) Prometheus() string {
	var b strings.Builder
	b.WriteString("# HELP compliance_score Percentage of automated compliance checks that passed.\n# TYPE compliance_score gauge\n")
	fmt.Fprintf(&b, "compliance_score{stack=%q} %g\n", r.Stack, r.Score)
	b.WriteString("# HELP compliance_framework_score Percentage of a framework's controls that passed.\n# TYPE compliance_framework_score gauge\n")
	for _, f := range r.Frameworks {
		fmt.Fprintf(&b, "compliance_framework_score{stack=%q,framework=%q} %g\n", r.Stack, f.Name, f.Score)
	}
	b.WriteString("# HELP compliance_check_status 1 when a check passed, 0 when it failed; manual checks are reported by compliance_check_manual.\n# TYPE compliance_check_status gauge\n")
	for _, rr := range r.Rules {
		switch rr.Status {
		case "passed":
			fmt.Fprintf(&b, "compliance_check_status{stack=%q,check=%q} 1\n", r.Stack, rr.Name)
		case "failed":
			fmt.Fprintf(&b, "compliance_check_status{stack=%q,check=%q} 0\n", r.Stack, rr.Name)
		}
	}
	b.WriteString("# HELP compliance_check_manual 1 for a check that needs evidence from outside the code.\n# TYPE compliance_check_manual gauge\n")
	for _, rr := range r.Rules {
		if rr.Status == "manual" {
			fmt.Fprintf(&b, "compliance_check_manual{stack=%q,check=%q} 1\n", r.Stack, rr.Name)
		}
	}
	return b.String()
}

// writeReport evaluates a stack's resources (its plan, or its deployed
// state, as source says) and writes the Markdown, JSON and Prometheus files
// to dir, and pushes the metrics when pushURL is set.
func writeReport(stack, source string, resources []rules.Resource, levels rules.Levels, dir, pushURL string, stdout io.Writer) error {
	rep := buildReport(stack, source, resources, rules.Evaluate(resources, levels), time.Now())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	base := filepath.Join(dir, "compliance-"+stack)
	for ext, body := range map[string][]byte{".md": []byte(rep.Markdown()), ".json": js, ".prom": []byte(rep.Prometheus())} {
		if err := os.WriteFile(base+ext, body, 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	fmt.Fprintf(stdout, "compliance report for %s (%s): score %.1f%%; wrote %s.md, .json, .prom\n", stack, source, rep.Score, base)
	if pushURL != "" {
		resp, err := http.Post(pushURL, "text/plain; version=0.0.4", bytes.NewBufferString(rep.Prometheus()))
		if err != nil {
			return fmt.Errorf("push metrics: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("push metrics to %s: %s", pushURL, resp.Status)
		}
		fmt.Fprintf(stdout, "pushed metrics to %s\n", pushURL)
	}
	return nil
}
