package rules

import (
	"fmt"
	"strings"
)

const peerAuthentication = "PeerAuthentication"

// isIstio reports whether r is an Istio security object of the given kind.
func isIstio(r Resource, kind string) bool {
	return strings.HasPrefix(r.Type, "kubernetes:security.istio.io/") && strings.HasSuffix(r.Type, ":"+kind)
}

func meshRules() []*Rule {
	return []*Rule{
		{
			Name:        "mtls-strict-mesh-wide",
			Description: "A mesh-wide PeerAuthentication enforces STRICT mutual TLS",
			Enforcement: mandatory,
			Controls:    transmissionSecurity,
			Remediation: "create PeerAuthentication default in istio-system with spec.mtls.mode STRICT (components/mesh does)",
			CheckStack: func(rs []Resource) ([]string, []Violation) {
				var evidence []string
				onCluster := false
				for _, r := range rs {
					onCluster = onCluster || strings.HasPrefix(r.Type, "kubernetes:")
					if isIstio(r, peerAuthentication) && str(r.Props, "metadata.namespace") == "istio-system" &&
						Lookup(r.Props, "spec.selector") == nil && str(r.Props, "spec.mtls.mode") == "STRICT" {
						evidence = append(evidence, r.URN)
					}
				}
				if !onCluster || len(evidence) > 0 {
					return evidence, nil
				}
				return nil, []Violation{{Message: "no mesh-wide STRICT PeerAuthentication in istio-system: service traffic may be plaintext"}}
			},
		},
		{
			Name:        "mtls-no-permissive",
			Description: "No PeerAuthentication weakens mTLS to PERMISSIVE or DISABLE",
			Enforcement: mandatory,
			Controls:    transmissionSecurity,
			Remediation: "use mode STRICT (or UNSET to inherit the mesh-wide STRICT policy)",
			Check: func(r Resource) (bool, []string) {
				if !isIstio(r, peerAuthentication) {
					return false, nil
				}
				var problems []string
				weak := func(mode, where string) {
					if mode == "PERMISSIVE" || mode == "DISABLE" {
						problems = append(problems, fmt.Sprintf("%s sets %s mTLS %s", workloadName(r), where, mode))
					}
				}
				weak(str(r.Props, "spec.mtls.mode"), "workload")
				if ports, ok := Lookup(r.Props, "spec.portLevelMtls").(map[string]any); ok {
					for port, v := range ports {
						weak(str(v, "mode"), "port "+port)
					}
				}
				return true, problems
			},
		},
	}
}
