package rules

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// PackName and PackVersion identify the policy pack.
const (
	PackName    = "bac-compliance"
	PackVersion = "1.0.0"
)

// Pack builds the policy pack for `pulumi preview --policy-pack policies`:
// one policyx policy per automated rule. Enforcement levels can be changed
// per rule through Pulumi policy config (--policy-pack-config).
func Pack() (policyx.PolicyPack, error) {
	var policies []policyx.Policy
	for _, rule := range All() {
		switch {
		case rule.Check != nil:
			policies = append(policies, policyx.NewResourceValidationPolicy(rule.Name, policyx.ResourceValidationPolicyArgs{
				Description:      rule.Description,
				EnforcementLevel: rule.Enforcement,
				ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
					_, problems := rule.Check(FromAnalyzer(args.Resource))
					for _, p := range problems {
						args.Manager.ReportViolation(rule.explain(p), "")
					}
					return nil
				},
			}))
		case rule.CheckStack != nil:
			policies = append(policies, policyx.NewStackValidationPolicy(rule.Name, policyx.StackValidationPolicyArgs{
				Description:      rule.Description,
				EnforcementLevel: rule.Enforcement,
				ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
					resources := make([]Resource, len(args.Resources))
					for i, r := range args.Resources {
						resources[i] = FromAnalyzer(r)
					}
					_, violations := rule.CheckStack(resources)
					for _, v := range violations {
						args.Manager.ReportViolation(rule.explain(v.Message), v.URN)
					}
					return nil
				},
			}))
		}
	}
	return policyx.NewPolicyPack(PackName, semver.MustParse(PackVersion), policyx.EnforcementLevelMandatory, policies)
}

// explain adds the controls and the remediation to a violation message.
func (r *Rule) explain(problem string) string {
	return fmt.Sprintf("%s\ncontrols: %s\nremediation: %s", problem, r.Controls, r.Remediation)
}

// FromAnalyzer converts a resource as the Pulumi engine hands it to a policy.
// Secrets are unwrapped (rules need the values; they never print them) and
// unknown values read as nil.
func FromAnalyzer(r policyx.AnalyzerResource) Resource {
	return Resource{
		URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent,
		Props:         plainMap(r.Properties),
		ProviderProps: providerProps(plainMap(r.Provider.Properties)),
	}
}

// providerProps decodes provider inputs the engine keeps as JSON strings.
func providerProps(m map[string]any) map[string]any {
	for k, v := range m {
		if s, ok := v.(string); ok && len(s) > 0 && (s[0] == '{' || s[0] == '[') {
			var decoded any
			if json.Unmarshal([]byte(s), &decoded) == nil {
				m[k] = decoded
			}
		}
	}
	return m
}

func plainMap(m property.Map) map[string]any {
	out := make(map[string]any, m.Len())
	for k, v := range m.All {
		out[k] = plainValue(v)
	}
	return out
}

func plainValue(v property.Value) any {
	switch {
	case v.IsNull(), v.IsComputed():
		return nil
	case v.IsBool():
		return v.AsBool()
	case v.IsNumber():
		return v.AsNumber()
	case v.IsString():
		return v.AsString()
	case v.IsArray():
		arr := v.AsArray()
		out := make([]any, 0, arr.Len())
		for _, e := range arr.All {
			out = append(out, plainValue(e))
		}
		return out
	case v.IsMap():
		return plainMap(v.AsMap())
	case v.IsResourceReference():
		return string(v.AsResourceReference().URN)
	}
	return nil
}
