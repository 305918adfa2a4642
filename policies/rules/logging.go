package rules

import (
	"fmt"
	"slices"
)

func loggingRules() []*Rule {
	auditLogging := Controls{
		SOC2: []string{"CC7.2", "CC7.3"}, ISO27001: []string{"A.8.15", "A.8.16"},
		GDPR: []string{"Art. 30", "Art. 33"}, HIPAA: []string{"164.312(b)"}, CISEKS: []string{"2.1.1"},
	}
	return []*Rule{
		{
			Name:        "retention-log-groups",
			Description: "CloudWatch log groups have a retention period",
			Enforcement: mandatory,
			Controls: Controls{SOC2: []string{"CC7.2", "C1.2"}, ISO27001: []string{"A.5.33", "A.8.15"},
				GDPR: []string{"Art. 5(1)(e)"}, HIPAA: []string{"164.316(b)(2)(i)"}},
			Remediation: "set retentionInDays (the stacks use 365 in production, 90 in staging)",
			Check: func(r Resource) (bool, []string) {
				if r.Type != "aws:cloudwatch/logGroup:LogGroup" {
					return false, nil
				}
				if n, ok := number(r.Props, "retentionInDays"); !ok || n <= 0 {
					return true, []string{fmt.Sprintf("log group %s keeps logs forever (no retentionInDays)", str(r.Props, "name"))}
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
