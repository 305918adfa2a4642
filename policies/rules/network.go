package rules

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// ServiceTierLabel marks business-service namespaces (components/namespaces).
const ServiceTierLabel = "bac-platform.io/tier"

func networkRules() []*Rule {
	exposure := withCIS(networkSegregation, "5.4.1", "5.4.2")
	return []*Rule{
		{
			Name:        "network-eks-endpoint",
			Description: "The EKS API has a private endpoint and its public endpoint is never open to the internet",
			Enforcement: mandatory,
			Controls:    exposure,
			Remediation: "set endpointPrivateAccess: true and list the office/VPN CIDRs in publicAccessCidrs (or turn the public endpoint off)",
			Check: func(r Resource) (bool, []string) {
				var private, public any
				var cidrs []string
				switch r.Type {
				case eksComponent:
					private, public = Lookup(r.Props, "endpointPrivateAccess"), Lookup(r.Props, "endpointPublicAccess")
					cidrs = stringsAt(r.Props, "publicAccessCidrs")
				case eksCluster:
					private, public = Lookup(r.Props, "vpcConfig.endpointPrivateAccess"), Lookup(r.Props, "vpcConfig.endpointPublicAccess")
					cidrs = stringsAt(r.Props, "vpcConfig.publicAccessCidrs")
				default:
					return false, nil
				}
				var problems []string
				if private != true {
					problems = append(problems, "the private endpoint is off: nodes and operators reach the API over the internet")
				}
				// Both engines default the public endpoint to on and its CIDRs to 0.0.0.0/0.
				if public != false {
					if len(cidrs) == 0 {
						problems = append(problems, "the public endpoint is open to 0.0.0.0/0 (no publicAccessCidrs)")
					}
					for _, c := range cidrs {
						if p, err := netip.ParsePrefix(c); err == nil && p.Bits() == 0 {
							problems = append(problems, "the public endpoint is open to "+c)
						}
					}
				}
				return true, problems
			},
		},
		{
			Name:        "network-namespace-isolation",
			Description: "Every business namespace has a default-deny NetworkPolicy and an Istio AuthorizationPolicy",
			Enforcement: mandatory,
			Controls:    networkSegregation,
			Remediation: "add a NetworkPolicy with an empty podSelector and policyTypes [Ingress, Egress] and no rules, and an AuthorizationPolicy, to the namespace (components/mesh does)",
			CheckStack: func(rs []Resource) ([]string, []Violation) {
				denies, authz := map[string]bool{}, map[string]bool{}
				for _, r := range rs {
					ns := str(r.Props, "metadata.namespace")
					switch {
					case r.Type == "kubernetes:networking.k8s.io/v1:NetworkPolicy" && isDefaultDeny(r):
						denies[ns] = true
					case isIstio(r, "AuthorizationPolicy"):
						authz[ns] = true
					}
				}
				var evidence []string
				var violations []Violation
				for _, r := range rs {
					if r.Type != "kubernetes:core/v1:Namespace" || str(r.Props, "metadata.labels."+ServiceTierLabel) != "service" {
						continue
					}
					evidence = append(evidence, r.URN)
					ns := str(r.Props, "metadata.name")
					var missing []string
					if !denies[ns] {
						missing = append(missing, "a default-deny NetworkPolicy")
					}
					if !authz[ns] {
						missing = append(missing, "an AuthorizationPolicy")
					}
					if len(missing) > 0 {
						violations = append(violations, Violation{URN: r.URN,
							Message: fmt.Sprintf("business namespace %s has no %s", ns, strings.Join(missing, " and no "))})
					}
				}
				sort.Slice(violations, func(i, j int) bool { return violations[i].URN < violations[j].URN })
				return evidence, violations
			},
		},
	}
}

// isDefaultDeny reports whether a NetworkPolicy selects every pod and allows
// no traffic in either direction.
func isDefaultDeny(r Resource) bool {
	selector, _ := Lookup(r.Props, "spec.podSelector").(map[string]any)
	types := stringsAt(r.Props, "spec.policyTypes")
	return len(selector) == 0 && len(types) == 2 && len(list(r.Props, "spec.ingress")) == 0 && len(list(r.Props, "spec.egress")) == 0
}
