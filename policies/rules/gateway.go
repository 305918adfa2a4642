package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// isKongPlugin reports whether r is a KongPlugin or KongClusterPlugin.
func isKongPlugin(r Resource) bool {
	return strings.HasPrefix(r.Type, "kubernetes:configuration.konghq.com/") &&
		(strings.HasSuffix(r.Type, ":KongPlugin") || strings.HasSuffix(r.Type, ":KongClusterPlugin"))
}

// isKongRelease reports whether r is a Helm release of the kong chart.
func isKongRelease(r Resource) bool {
	return strings.HasPrefix(r.Type, "kubernetes:helm.sh/") && str(r.Props, "chart") == "kong"
}

func gatewayRules() []*Rule {
	return []*Rule{
		{
			Name:        "tls-gateway-tls13-only",
			Description: "The API gateway accepts TLS 1.3 only",
			Enforcement: mandatory,
			Controls:    transmissionSecurity,
			Remediation: "set the Kong env ssl_protocols to TLSv1.3 (bac:gateway.sslProtocols)",
			Check: func(r Resource) (bool, []string) {
				if !isKongRelease(r) {
					return false, nil
				}
				if p := str(r.Props, "values.env.ssl_protocols"); p != "TLSv1.3" {
					return true, []string{fmt.Sprintf("Kong ssl_protocols is %q", p)}
				}
				return true, nil
			},
		},
		{
			Name:        "tls-cors-no-wildcard-with-credentials",
			Description: "No CORS policy allows any origin together with credentials",
			Enforcement: mandatory,
			Controls:    Controls{SOC2: []string{"CC6.6"}, ISO27001: []string{"A.8.26"}, GDPR: []string{"Art. 32(1)(b)"}, HIPAA: []string{"164.312(a)(1)"}},
			Remediation: "list the allowed origins explicitly in the cors plugin",
			Check: func(r Resource) (bool, []string) {
				if !isKongPlugin(r) || str(r.Props, "plugin") != "cors" {
					return false, nil
				}
				if isTrue(r.Props, "config.credentials") && slices.Contains(stringsAt(r.Props, "config.origins"), "*") {
					return true, []string{fmt.Sprintf("plugin %s allows origin * with credentials", str(r.Props, "metadata.name"))}
				}
				return true, nil
			},
		},
		{
			Name:        "gateway-rate-limited-routes",
			Description: "Every public route through Kong is rate limited",
			Enforcement: mandatory,
			Controls:    availability,
			Remediation: "add a rate-limiting plugin to the Ingress's konghq.com/plugins annotation",
			CheckStack: func(rs []Resource) ([]string, []Violation) {
				limiting := map[string]bool{}
				for _, r := range rs {
					if isKongPlugin(r) && strings.HasPrefix(str(r.Props, "plugin"), "rate-limiting") {
						limiting[str(r.Props, "metadata.name")] = true
					}
				}
				var evidence []string
				var violations []Violation
				for _, r := range rs {
					if r.Type != "kubernetes:networking.k8s.io/v1:Ingress" {
						continue
					}
					annotations := Lookup(r.Props, "metadata.annotations")
					class := str(r.Props, "spec.ingressClassName")
					if class == "" {
						class = str(annotations, "kubernetes.io/ingress.class")
					}
					if class != "kong" {
						continue
					}
					evidence = append(evidence, r.URN)
					plugins := str(annotations, "konghq.com/plugins")
					limited := false
					for _, p := range strings.Split(plugins, ",") {
						limited = limited || limiting[strings.TrimSpace(p)]
					}
					if !limited {
						violations = append(violations, Violation{URN: r.URN,
							Message: fmt.Sprintf("route %s has no rate-limiting plugin (plugins: %q)", workloadName(r), plugins)})
					}
				}
				sort.Slice(violations, func(i, j int) bool { return violations[i].URN < violations[j].URN })
				return evidence, violations
			},
		},
	}
}
