package rules

import (
	"fmt"
	"sort"
	"strings"
)

// RequiredTags are the tags every taggable AWS resource carries.
var RequiredTags = []string{"Environment", "Cluster", "ManagedBy"}

// taggable are AWS resource types that accept tags.
var taggable = map[string]bool{
	"aws:ec2/vpc:Vpc": true, "aws:ec2/subnet:Subnet": true, "aws:ec2/internetGateway:InternetGateway": true,
	"aws:ec2/natGateway:NatGateway": true, "aws:ec2/eip:Eip": true, "aws:ec2/routeTable:RouteTable": true,
	"aws:ec2/securityGroup:SecurityGroup": true, "aws:ec2/launchTemplate:LaunchTemplate": true,
	"aws:ec2/flowLog:FlowLog": true, "aws:cloudwatch/logGroup:LogGroup": true, "aws:iam/role:Role": true,
	"aws:kms/key:Key": true, "aws:eks/cluster:Cluster": true, "aws:eks/nodeGroup:NodeGroup": true,
	"aws:eks/addon:Addon": true, "eks:index:Cluster": true, "eks:index:ManagedNodeGroup": true,
	"aws:eks/podIdentityAssociation:PodIdentityAssociation": true, "aws:route53/zone:Zone": true,
	"aws:s3/bucketV2:BucketV2": true,
}

func operabilityRules() []*Rule {
	return []*Rule{
		{
			Name:        "operability-requests-and-limits",
			Description: "Every container sets CPU and memory requests and limits",
			Enforcement: mandatory,
			Controls:    availability,
			Remediation: "set resources.requests and resources.limits for cpu and memory (bac:<component>.resources)",
			Check: func(r Resource) (bool, []string) {
				spec := podSpec(r)
				if spec == nil {
					return false, nil
				}
				var problems []string
				for _, c := range containers(spec) {
					var missing []string
					for _, q := range []string{"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"} {
						if str(c.spec, "resources."+q) == "" {
							missing = append(missing, q)
						}
					}
					if len(missing) > 0 {
						problems = append(problems, fmt.Sprintf("%s: container %s has no %s", workloadName(r), str(c.spec, "name"), strings.Join(missing, ", ")))
					}
				}
				return true, problems
			},
		},
		{
			Name:        "operability-required-tags",
			Description: "Every taggable AWS resource carries the Environment, Cluster and ManagedBy tags",
			Enforcement: mandatory,
			Controls:    assetInventory,
			Remediation: "tag the resource, or set the tags as the AWS provider's defaultTags (stacks does)",
			Check: func(r Resource) (bool, []string) {
				if !taggable[r.Type] {
					return false, nil
				}
				tags := map[string]any{}
				if def, ok := Lookup(r.ProviderProps, "defaultTags.tags").(map[string]any); ok {
					for k, v := range def {
						tags[k] = v
					}
				}
				for _, path := range []string{"tags", "clusterTags"} {
					if own, ok := Lookup(r.Props, path).(map[string]any); ok {
						for k, v := range own {
							tags[k] = v
						}
					}
				}
				var missing []string
				for _, t := range RequiredTags {
					if str(tags, t) == "" {
						missing = append(missing, t)
					}
				}
				sort.Strings(missing)
				if len(missing) > 0 {
					return true, []string{"missing tags " + strings.Join(missing, ", ")}
				}
				return true, nil
			},
		},
	}
}

func manualRules() []*Rule {
	return []*Rule{{
		Name:        "manual-access-reviews",
		Description: "Periodic access reviews are performed and recorded",
		Enforcement: advisory,
		Controls: Controls{SOC2: []string{"CC6.2", "CC6.3"}, ISO27001: []string{"A.5.18"},
			GDPR: []string{"Art. 32(1)(d)"}, HIPAA: []string{"164.308(a)(4)(ii)(C)"}},
		Remediation: "attach the latest access-review record (who reviewed which grants, when) as evidence; code cannot prove it",
		Manual:      true,
	}}
}
