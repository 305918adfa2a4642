package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

func loggingRules() []*Rule {
	auditLogging := Controls{
		SOC2: []string{"CC7.2", "CC7.3"}, ISO27001: []string{"A.8.15", "A.8.16"},
		GDPR: []string{"Art. 30", "Art. 33"}, HIPAA: []string{"164.312(b)"}, CISEKS: []string{"2.1.1"},
	}
	return []*Rule{
		{
			Name:        "retention-log-groups",
			Description: "CloudWatch log groups keep logs for the minimum their kind requires, and not forever",
			Enforcement: mandatory,
			Controls: Controls{SOC2: []string{"CC7.2", "C1.2"}, ISO27001: []string{"A.5.33", "A.8.15"},
				GDPR: []string{"Art. 5(1)(e)"}, HIPAA: []string{"164.316(b)(2)(i)"}},
			Remediation: "set retentionInDays to at least the minimum for the log kind: control-plane (audit) logs 365 days in production and 90 elsewhere, VPC flow logs 90, other logs 30",
			Check: func(r Resource) (bool, []string) {
				if r.Type != "aws:cloudwatch/logGroup:LogGroup" {
					return false, nil
				}
				name := str(r.Props, "name")
				kind, least := minimumRetention(name, environment(r))
				n, ok := number(r.Props, "retentionInDays")
				switch {
				case !ok || n <= 0:
					return true, []string{fmt.Sprintf("log group %s keeps logs forever (no retentionInDays)", name)}
				case n < float64(least):
					return true, []string{fmt.Sprintf("log group %s keeps %s for %v days, less than the %d its controls require", name, kind, n, least)}
				}
				return true, nil
			},
		},
		{
			Name:        "audit-eks-control-plane-logs",
			Description: "EKS ships audit and authenticator control-plane logs",
			Enforcement: mandatory,
			Controls:    auditLogging,
			Remediation: "enable the api, audit, authenticator, controllerManager and scheduler log types",
			Check: func(r Resource) (bool, []string) {
				var types []string
				switch r.Type {
				case eksComponent:
					types = stringsAt(r.Props, "enabledClusterLogTypes")
				case eksCluster:
					types = stringsAt(r.Props, "enabledClusterLogTypes")
				default:
					return false, nil
				}
				var problems []string
				for _, want := range []string{"audit", "authenticator"} {
					if !slices.Contains(types, want) {
						problems = append(problems, want+" logs are off")
					}
				}
				return true, problems
			},
		},
	}
}

// controlPlaneLogGroup is the fixed name EKS writes control-plane logs to.
var controlPlaneLogGroup = regexp.MustCompile(`^/aws/eks/[^/]+/cluster$`)

// minimumRetention is the shortest retention, in days, a log group of that
// name may have. Control-plane logs carry the Kubernetes audit log: SOC 2
// CC7.2/CC7.3 and HIPAA 164.312(b) audits look back over a year-long audit
// period, so production keeps them 365 days (90 elsewhere); VPC flow logs
// are the network evidence of an incident investigation (90 days); any
// other log 30 days.
func minimumRetention(name, env string) (kind string, days int) {
	switch {
	case controlPlaneLogGroup.MatchString(name) && env == "production":
		return "control-plane (audit) logs", 365
	case controlPlaneLogGroup.MatchString(name):
		return "control-plane (audit) logs", 90
	case strings.Contains(name, "flow-log"):
		return "VPC flow logs", 90
	}
	return "logs", 30
}

// environment is the Environment tag of an AWS resource, its own or its
// provider's default.
func environment(r Resource) string {
	if env := str(r.Props, "tags.Environment"); env != "" {
		return env
	}
	return str(r.ProviderProps, "defaultTags.tags.Environment")
}
