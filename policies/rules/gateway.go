package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/gateway/kongtls"
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

// kongConfig reads Kong's configuration from the kong chart's values as the
// chart hands it to Kong: each env key becomes KONG_<KEY> and customEnv
// entries are passed as they are (templates/_helpers.tpl kong.env at
// kong-3.2.0), and Kong reads KONG_<KEY> as the kong.conf key <key>
// (kong.conf.default at 3.9.1). A TLS setting taken from a Secret or
// ConfigMap (valueFrom) is one the gate cannot see, and is refused.
func kongConfig(r Resource) (kongtls.Config, []string) {
	conf := kongtls.Config{}
	var problems []string
	set := func(key string, v any) {
		key = strings.ToLower(key)
		if !slices.Contains(kongtls.Keys(), key) {
			return
		}
		if seen(v) {
			problems = append(problems, fmt.Sprintf("release %s: %s is not known yet", str(r.Props, "name"), key))
			return
		}
		switch t := v.(type) {
		case string:
			conf[key] = t
		case float64, int, bool:
			conf[key] = fmt.Sprint(t)
		default:
			problems = append(problems, fmt.Sprintf("release %s: %s comes from outside the values (%v): the gate cannot judge what Kong serves", str(r.Props, "name"), key, t))
		}
	}
	if env, ok := Lookup(r.Props, "values.env").(map[string]any); ok {
		for k, v := range env {
			set(k, v)
		}
	}
	if env, ok := Lookup(r.Props, "values.customEnv").(map[string]any); ok {
		for k, v := range env {
			if key, ok := strings.CutPrefix(strings.ToUpper(k), "KONG_"); ok {
				set(key, v)
			}
		}
	}
	sort.Strings(problems)
	return conf, problems
}

func gatewayRules() []*Rule {
	return []*Rule{
		{
			Name:        "tls-gateway-tls13-only",
			Description: "The API gateway serves TLS 1.3 only, with AEAD ciphers",
			Enforcement: mandatory,
			Controls:    transmissionSecurity,
			Remediation: "set the Kong env ssl_cipher_suite to modern and ssl_protocols to TLSv1.3 (bac:gateway.sslCipherSuite, sslProtocols); name only ECDHE/DHE AEAD ciphers in ssl_ciphers and leave the nginx ssl_conf_command directives alone",
			Check: func(r Resource) (bool, []string) {
				if !isKongRelease(r) {
					return false, nil
				}
				conf, problems := kongConfig(r)
				for _, p := range conf.Problems() {
					problems = append(problems, "release "+str(r.Props, "name")+": "+p)
				}
				return true, problems
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
