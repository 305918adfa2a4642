package rules

import (
	"context"
	"fmt"

	"github.com/blang/semver"
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
					_, problems, deferred := rule.check(FromAnalyzer(args.Resource))
					if deferred {
						return nil // judged when the engine knows the values
					}
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
					_, violations, deferred := rule.checkStack(resources)
					if deferred {
						return nil // judged when the engine knows the values
					}
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
