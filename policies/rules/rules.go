// Package rules is the BAC compliance gate: policy rules that map each check
// to SOC 2, ISO 27001, GDPR and HIPAA controls (and CIS EKS where one fits).
// The same rules run in `pulumi preview --policy-pack policies` (through the
// Go policy SDK, see Pack) and in the offline plan (through Evaluate).
//
// Rules see resources as either engine presents them: offline, the inputs of
// pulumi-eks components and Helm releases; in a real preview, also the
// children the eks provider creates (aws:eks/cluster:Cluster, ...).
package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Controls are the framework controls a rule evidences.
type Controls struct {
	SOC2     []string `json:"soc2,omitempty"`
	ISO27001 []string `json:"iso27001,omitempty"`
	GDPR     []string `json:"gdpr,omitempty"`
	HIPAA    []string `json:"hipaa,omitempty"`
	CISEKS   []string `json:"cisEks,omitempty"`
}

// Frameworks names the frameworks in report order.
var Frameworks = []string{"SOC 2", "ISO 27001", "GDPR", "HIPAA", "CIS EKS"}

// ByFramework returns the controls per framework name.
func (c Controls) ByFramework() map[string][]string {
	return map[string][]string{"SOC 2": c.SOC2, "ISO 27001": c.ISO27001, "GDPR": c.GDPR, "HIPAA": c.HIPAA, "CIS EKS": c.CISEKS}
}

// String renders the controls for a violation message.
func (c Controls) String() string {
	var parts []string
	for _, f := range Frameworks {
		if ids := c.ByFramework()[f]; len(ids) > 0 {
			parts = append(parts, f+" "+strings.Join(ids, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// Resource is a planned resource as the rules see it.
type Resource struct {
	URN, Type, Name, Parent string
	// Props are the resource's inputs as plain JSON values.
	Props map[string]any
	// ProviderProps are the inputs of the resource's provider (default tags).
	ProviderProps map[string]any

	// reads counts the unknown values rules read (see Unknown); set by the
	// constructors NewResource, FromProperties and FromAnalyzer.
	reads *readCount
}

// Get returns the property at a dotted path (see Lookup).
func (r Resource) Get(path string) any { return Lookup(r.Props, path) }

// Violation is one failed check.
type Violation struct {
	Rule    *Rule
	URN     string
	Message string
}

// Rule is one compliance check. Exactly one of Check, CheckStack is set,
// or neither for a manual control that code cannot prove.
type Rule struct {
	Name        string
	Description string
	Enforcement policyx.EnforcementLevel
	Controls    Controls
	Remediation string
	// Check examines one resource: applies says whether the rule concerns
	// it (evidence), problems are its violations.
	Check func(r Resource) (applies bool, problems []string)
	// CheckStack examines the whole stack; evidence are the URNs examined.
	CheckStack func(rs []Resource) (evidence []string, violations []Violation)
	// Manual marks a control that needs evidence from outside the code.
	Manual bool
}

// Family groups rules in the README table.
func (r *Rule) Family() string { return strings.SplitN(r.Name, "-", 2)[0] }

// All returns every rule, in a stable order.
func All() []*Rule {
	all := []*Rule{}
	for _, family := range [][]*Rule{
		encryptionRules(), meshRules(), privilegeRules(), loggingRules(), networkRules(),
		gatewayRules(), identityRules(), vaultRules(), supplyChainRules(), operabilityRules(), pinnedSettingRules(), addonRules(), manualRules(),
	} {
		all = append(all, family...)
	}
	return all
}

// Levels overrides rules' enforcement levels by rule name (policy config).
type Levels map[string]policyx.EnforcementLevel

// level is the rule's enforcement after overrides.
func (l Levels) level(r *Rule) policyx.EnforcementLevel {
	if lv, ok := l[r.Name]; ok {
		return lv
	}
	return r.Enforcement
}

// ParseLevel reads "mandatory", "advisory" or "disabled".
func ParseLevel(s string) (policyx.EnforcementLevel, error) {
	switch strings.ToLower(s) {
	case "mandatory":
		return policyx.EnforcementLevelMandatory, nil
	case "advisory":
		return policyx.EnforcementLevelAdvisory, nil
	case "disabled":
		return policyx.EnforcementLevelDisabled, nil
	}
	return 0, fmt.Errorf("enforcement level %q is not mandatory, advisory or disabled", s)
}

// LevelName names an enforcement level.
func LevelName(l policyx.EnforcementLevel) string {
	switch l {
	case policyx.EnforcementLevelMandatory:
		return "mandatory"
	case policyx.EnforcementLevelAdvisory:
		return "advisory"
	case policyx.EnforcementLevelDisabled:
		return "disabled"
	}
	return fmt.Sprintf("level-%d", l)
}

// Outcome is one rule's result over a stack.
type Outcome struct {
	Rule       *Rule
	Level      policyx.EnforcementLevel
	Evidence   []string
	Violations []Violation
	// Deferred are the verdicts that read a value the engine does not know
	// yet (a preview): not violations; the rule judges the known values when
	// the engine registers the resources (see Unknown).
	Deferred []Violation
}

// Status is passed, failed, deferred, manual, not-applicable or disabled.
func (o Outcome) Status() string {
	switch {
	case o.Level == policyx.EnforcementLevelDisabled:
		return "disabled"
	case o.Rule.Manual:
		return "manual"
	case len(o.Violations) > 0:
		return "failed"
	case len(o.Deferred) > 0:
		return "deferred"
	case len(o.Evidence) == 0:
		return "not-applicable"
	}
	return "passed"
}

// Result is every rule's outcome for one stack.
type Result struct {
	Outcomes []Outcome
}

// Mandatory returns the violations of mandatory rules (the gate).
func (r Result) Mandatory() []Violation {
	var out []Violation
	for _, o := range r.Outcomes {
		if o.Level == policyx.EnforcementLevelMandatory {
			out = append(out, o.Violations...)
		}
	}
	return out
}

// Advisory returns the violations of advisory rules.
func (r Result) Advisory() []Violation {
	var out []Violation
	for _, o := range r.Outcomes {
		if o.Level == policyx.EnforcementLevelAdvisory {
			out = append(out, o.Violations...)
		}
	}
	return out
}

// Deferred returns the verdicts deferred because they read unknown values.
func (r Result) Deferred() []Violation {
	var out []Violation
	for _, o := range r.Outcomes {
		out = append(out, o.Deferred...)
	}
	return out
}

// check runs a resource rule on r and reports whether its verdict read an
// unknown value (and is therefore deferred, see Unknown).
func (rule *Rule) check(r Resource) (applies bool, problems []string, deferred bool) {
	before := r.unknownReads()
	applies, problems = rule.Check(r)
	return applies, problems, len(problems) > 0 && r.unknownReads() > before
}

// checkStack runs a stack rule and reports whether its verdict read an
// unknown value in any resource. A stack verdict combines resources (a
// namespace's policies), so one unknown read defers all of its violations.
func (rule *Rule) checkStack(rs []Resource) (evidence []string, violations []Violation, deferred bool) {
	reads := func() (n int64) {
		for _, r := range rs {
			n += r.unknownReads()
		}
		return n
	}
	before := reads()
	evidence, violations = rule.CheckStack(rs)
	for i := range violations {
		violations[i].Rule = rule
	}
	return evidence, violations, len(violations) > 0 && reads() > before
}

// Evaluate runs every rule over a stack's resources.
func Evaluate(resources []Resource, levels Levels) Result {
	var res Result
	for _, rule := range All() {
		o := Outcome{Rule: rule, Level: levels.level(rule)}
		if o.Level != policyx.EnforcementLevelDisabled {
			switch {
			case rule.Check != nil:
				for _, r := range resources {
					applies, problems, deferred := rule.check(r)
					if applies {
						o.Evidence = append(o.Evidence, r.URN)
					}
					for _, p := range problems {
						v := Violation{Rule: rule, URN: r.URN, Message: p}
						if deferred {
							o.Deferred = append(o.Deferred, v)
						} else {
							o.Violations = append(o.Violations, v)
						}
					}
				}
			case rule.CheckStack != nil:
				evidence, violations, deferred := rule.checkStack(resources)
				o.Evidence = evidence
				if deferred {
					o.Deferred = violations
				} else {
					o.Violations = violations
				}
			}
		}
		sort.Strings(o.Evidence)
		res.Outcomes = append(res.Outcomes, o)
	}
	return res
}

// Format renders a violation for people: resource, rule, controls, fix.
func (v Violation) Format() string {
	return fmt.Sprintf("%s\n    rule: %s (%s)\n    problem: %s\n    controls: %s\n    remediation: %s",
		v.URN, v.Rule.Name, v.Rule.Description, v.Message, v.Rule.Controls, v.Rule.Remediation)
}
