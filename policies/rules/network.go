package rules

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
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
			Description: "Every business namespace has an enforced default-deny NetworkPolicy and an Istio AuthorizationPolicy, and no policy there allows all traffic",
			Enforcement: mandatory,
			Controls:    networkSegregation,
			Remediation: "add a NetworkPolicy with an empty podSelector, policyTypes [Ingress, Egress] and no rules, and an AuthorizationPolicy, to the namespace (components/mesh does); name the allowed peers in every rule; on EKS turn on the vpc-cni add-on's enableNetworkPolicy (bac:cluster.networkPolicyEnforcement)",
			CheckStack:  checkNamespaceIsolation,
		},
	}
}

// checkNamespaceIsolation is network-namespace-isolation. NetworkPolicies
// are credited only where the cluster enforces them: an EKS cluster does
// only with the vpc-cni add-on's enableNetworkPolicy (amazon-vpc-cni-k8s
// v1.14.0); an existing cluster's CNI is outside the plan, so there the
// policies are credited as declared (README, "The compliance gate").
func checkNamespaceIsolation(rs []Resource) ([]string, []Violation) {
	denies, authz := map[string]bool{}, map[string]bool{}
	allowAll := map[string][]string{}
	onEKS, enforced := false, false
	for _, r := range rs {
		ns := str(r.Props, "metadata.namespace")
		switch {
		case r.Type == eksComponent || r.Type == eksCluster:
			onEKS = true
		case r.Type == "aws:eks/addon:Addon" && str(r.Props, "addonName") == "vpc-cni":
			var values map[string]any
			if json.Unmarshal([]byte(str(r.Props, "configurationValues")), &values) == nil && isTrue(values, "enableNetworkPolicy") {
				enforced = true
			}
		case r.Type == "kubernetes:networking.k8s.io/v1:NetworkPolicy":
			if isDefaultDeny(r) {
				denies[ns] = true
			}
			allowAll[ns] = append(allowAll[ns], networkPolicyAllowAll(r)...)
		case isIstio(r, "AuthorizationPolicy"):
			authz[ns] = true
			allowAll[ns] = append(allowAll[ns], authorizationAllowAll(r)...)
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
		var problems []string
		switch {
		case !denies[ns]:
			problems = append(problems, "has no default-deny NetworkPolicy")
		case onEKS && !enforced:
			problems = append(problems, "has a default-deny NetworkPolicy that nothing enforces (the vpc-cni add-on does not set enableNetworkPolicy)")
		}
		if !authz[ns] {
			problems = append(problems, "has no AuthorizationPolicy")
		}
		problems = append(problems, allowAll[ns]...)
		if len(problems) > 0 {
			violations = append(violations, Violation{URN: r.URN,
				Message: fmt.Sprintf("business namespace %s %s", ns, strings.Join(problems, "; "))})
		}
	}
	sort.Slice(violations, func(i, j int) bool { return violations[i].URN < violations[j].URN })
	return evidence, violations
}

// networkPolicyAllowAll names the rules of a NetworkPolicy that admit every
// peer: a rule without peers (Kubernetes reads a missing from/to as "all
// sources/destinations"), an empty namespaceSelector without a pod
// selector (every pod of every namespace) or an ipBlock of /0.
func networkPolicyAllowAll(r Resource) []string {
	var out []string
	for _, dir := range []struct{ list, peers, what string }{{"spec.ingress", "from", "ingress"}, {"spec.egress", "to", "egress"}} {
		for i, rule := range list(r.Props, dir.list) {
			peers := list(rule, dir.peers)
			open := len(peers) == 0
			for _, p := range peers {
				_, hasNS := Lookup(p, "namespaceSelector").(map[string]any)
				cidr := str(p, "ipBlock.cidr")
				open = open || (hasNS && selectsAll(p, "namespaceSelector") && selectsAll(p, "podSelector")) || cidr == "0.0.0.0/0" || cidr == "::/0"
			}
			if open {
				out = append(out, fmt.Sprintf("NetworkPolicy %s %s rule %d allows every %s", str(r.Props, "metadata.name"), dir.what, i,
					map[string]string{"ingress": "source", "egress": "destination"}[dir.what]))
			}
		}
	}
	return out
}

// authorizationAllowAll names the rules of an ALLOW AuthorizationPolicy
// that match every request: a rule with no from, to or when (Istio's
// documented allow-all is `rules: [{}]`).
func authorizationAllowAll(r Resource) []string {
	if action := str(r.Props, "spec.action"); action != "" && action != "ALLOW" {
		return nil
	}
	var out []string
	for i, rule := range list(r.Props, "spec.rules") {
		if len(list(rule, "from")) == 0 && len(list(rule, "to")) == 0 && len(list(rule, "when")) == 0 {
			out = append(out, fmt.Sprintf("AuthorizationPolicy %s rule %d allows every request", str(r.Props, "metadata.name"), i))
		}
	}
	return out
}

// isDefaultDeny reports whether a NetworkPolicy selects every pod and allows
// no traffic in either direction.
func isDefaultDeny(r Resource) bool {
	types := stringsAt(r.Props, "spec.policyTypes")
	return selectsAll(r.Props, "spec.podSelector") && slices.Contains(types, "Ingress") && slices.Contains(types, "Egress") &&
		len(list(r.Props, "spec.ingress")) == 0 && len(list(r.Props, "spec.egress")) == 0
}

// selectsAll reports whether the label selector at path (absent, or with
// neither matchLabels nor matchExpressions) selects everything.
func selectsAll(v any, path string) bool {
	sel := Lookup(v, path)
	if seen(sel) {
		return false
	}
	labels, _ := Lookup(sel, "matchLabels").(map[string]any)
	return len(labels) == 0 && len(list(sel, "matchExpressions")) == 0
}
