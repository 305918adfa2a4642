package rules

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Rules that pin the security-relevant settings no other rule looks at:
// IAM grants, exposed admin APIs, the restricted container context (in pod
// specs and in the charts' values), TLS verification toward other services,
// and Argo CD projects.

// adminPolicies are AWS managed policies that grant administration, or the
// means to grant it to oneself.
var adminPolicies = []string{"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"}

// adminPolicy reports whether arn names an AWS managed admin policy.
func adminPolicy(arn string) bool {
	for _, p := range adminPolicies {
		if strings.HasSuffix(arn, ":policy/"+p) {
			return true
		}
	}
	return false
}

// wildcardStatements names the statements of an IAM policy document that
// allow every action, or every IAM action, on every resource.
func wildcardStatements(document string) []string {
	var doc struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(document), &doc) != nil {
		return nil
	}
	var statements []map[string]any
	if json.Unmarshal(doc.Statement, &statements) != nil {
		var one map[string]any
		if json.Unmarshal(doc.Statement, &one) != nil {
			return nil
		}
		statements = []map[string]any{one}
	}
	oneOrMany := func(v any) []string {
		switch t := v.(type) {
		case string:
			return []string{t}
		case []any:
			var out []string
			for _, e := range t {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	var out []string
	for i, s := range statements {
		if s["Effect"] != "Allow" || !slices.Contains(oneOrMany(s["Resource"]), "*") {
			continue
		}
		for _, action := range oneOrMany(s["Action"]) {
			if action == "*" || action == "*:*" || strings.EqualFold(action, "iam:*") {
				out = append(out, fmt.Sprintf("statement %d allows %s on every resource", i, action))
			}
		}
	}
	return out
}

// iamGrants checks the IAM resources a stack creates for admin grants.
func iamGrants(r Resource) (bool, []string) {
	var problems []string
	check := func(what, document string) {
		for _, w := range wildcardStatements(document) {
			problems = append(problems, what+": "+w)
		}
	}
	switch r.Type {
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment",
		"aws:iam/userPolicyAttachment:UserPolicyAttachment", "aws:iam/groupPolicyAttachment:GroupPolicyAttachment":
		if arn := str(r.Props, "policyArn"); adminPolicy(arn) {
			problems = append(problems, fmt.Sprintf("%s attaches %s", r.Name, arn))
		}
	case "aws:iam/role:Role":
		for _, arn := range stringsAt(r.Props, "managedPolicyArns") {
			if adminPolicy(arn) {
				problems = append(problems, fmt.Sprintf("role %s carries %s", r.Name, arn))
			}
		}
		for i, p := range list(r.Props, "inlinePolicies") {
			check(fmt.Sprintf("role %s inline policy %d", r.Name, i), str(p, "policy"))
		}
	case "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy":
		check(r.Name, str(r.Props, "policy"))
	default:
		return false, nil
	}
	return true, problems
}

// kongDefaults are the kong chart's defaults (kong-3.2.0 values.yaml) for
// the services the rules judge: the admin API is off, Kong Manager is on,
// and both are NodePort Services when enabled.
var kongDefaults = map[string]struct {
	enabled bool
	typ     string
}{"admin": {false, "NodePort"}, "manager": {true, "NodePort"}}

// exposure checks that no admin or internal API is reachable from outside
// the cluster: no Service of a planned kind LoadBalancer or NodePort
// (Kong's proxy, the one public entry, is the chart's), Kong's admin API and
// Kong Manager at most ClusterIP without an Ingress, Argo CD's server
// ClusterIP (its UI is routed through Kong).
func exposure(r Resource) (bool, []string) {
	open := func(typ string) bool { return typ == "LoadBalancer" || typ == "NodePort" }
	switch {
	case r.Type == "kubernetes:core/v1:Service":
		if t := str(r.Props, "spec.type"); open(t) {
			return true, []string{fmt.Sprintf("Service %s is a %s: internal APIs stay ClusterIP behind the gateway", workloadName(r), t)}
		}
		return true, nil
	case isKongRelease(r):
		var problems []string
		for _, svc := range []string{"admin", "manager"} {
			def := kongDefaults[svc]
			enabled, typ := def.enabled, def.typ
			if v := Lookup(r.Props, "values."+svc+".enabled"); v != nil {
				enabled = isTrue(r.Props, "values."+svc+".enabled")
			}
			if t := str(r.Props, "values."+svc+".type"); t != "" {
				typ = t
			}
			if enabled && open(typ) {
				problems = append(problems, fmt.Sprintf("Kong's %s API is a %s Service", svc, typ))
			}
			if enabled && isTrue(r.Props, "values."+svc+".ingress.enabled") {
				problems = append(problems, fmt.Sprintf("Kong's %s API has an Ingress", svc))
			}
		}
		return true, problems
	case r.Type == "kubernetes:networking.k8s.io/v1:Ingress":
		return true, identityRoutes(r)
	case strings.HasPrefix(r.Type, "kubernetes:helm.sh/") && str(r.Props, "chart") == "argo-cd":
		if t := str(r.Props, "values.server.service.type"); open(t) {
			return true, []string{fmt.Sprintf("Argo CD's server is a %s Service: its UI is routed through Kong", t)}
		}
		return true, nil
	}
	return false, nil
}

// identityRoutes reports the paths of an Ingress that reach Keycloak
// beyond what clients need, without the admin allow list.
func identityRoutes(r Resource) []string {
	plugins := strings.Split(str(Lookup(r.Props, "metadata.annotations"), "konghq.com/plugins"), ",")
	if slices.Contains(plugins, AdminAllowPlugin) {
		return nil
	}
	var problems []string
	rulesList, _ := Lookup(r.Props, "spec.rules").([]any)
	for _, rule := range rulesList {
		paths, _ := Lookup(rule, "http.paths").([]any)
		for _, p := range paths {
			if str(p, "backend.service.name") != IdentityService {
				continue
			}
			path := str(p, "path")
			public := false
			for _, allowed := range IdentityPublicPaths {
				public = public || strings.HasPrefix(path, allowed) || path == strings.TrimSuffix(allowed, "/")
			}
			if !public {
				problems = append(problems, fmt.Sprintf("Ingress %s routes %q of Keycloak to everyone: only %s are public; the admin console and API (/admin/) need the %s plugin",
					workloadName(r), path, strings.Join(IdentityPublicPaths, ", "), AdminAllowPlugin))
			}
		}
	}
	return problems
}

// restrictedContext checks a security context for the restricted baseline:
// every capability dropped, none added, the runtime's default seccomp
// profile (on the container, or inherited from the pod).
func restrictedContext(where string, sc, pod any) []string {
	var problems []string
	if !slices.Contains(stringsAt(sc, "capabilities.drop"), "ALL") {
		problems = append(problems, where+" does not drop ALL capabilities")
	}
	if add := stringsAt(sc, "capabilities.add"); len(add) > 0 {
		problems = append(problems, fmt.Sprintf("%s adds capabilities %v", where, add))
	}
	seccomp := str(sc, "seccompProfile.type")
	if seccomp == "" {
		seccomp = str(pod, "securityContext.seccompProfile.type")
	}
	if seccomp != "RuntimeDefault" && seccomp != "Localhost" {
		problems = append(problems, fmt.Sprintf("%s has seccomp profile %q, not RuntimeDefault", where, seccomp))
	}
	return problems
}

// restricted applies restrictedContext to pod specs, and judges the
// security contexts of the pods Helm charts render from their values
// (chartContexts).
func restricted(r Resource) (bool, []string) {
	if spec := podSpec(r); spec != nil {
		if exception(r) != "" {
			return true, nil
		}
		var problems []string
		for _, c := range containers(spec) {
			where := fmt.Sprintf("%s: container %s", workloadName(r), str(c.spec, "name"))
			problems = append(problems, restrictedContext(where, Lookup(c.spec, "securityContext"), spec)...)
		}
		return true, problems
	}
	return chartContexts(r)
}

// tlsVerification checks that connections to other services verify their
// peer: Kong's oidc plugin (ssl_verify) and the vault, keycloak and
// kubernetes providers.
func tlsVerification(r Resource) (bool, []string) {
	skip := func(key string) []string {
		if isTrue(r.Props, key) {
			return []string{fmt.Sprintf("%s sets %s: the connection trusts any certificate", r.Name, key)}
		}
		return nil
	}
	switch {
	case isKongPlugin(r) && str(r.Props, "plugin") == "oidc":
		if v := Lookup(r.Props, "config.ssl_verify"); v != true && v != "true" && v != "yes" {
			return true, []string{fmt.Sprintf("oidc plugin %s does not set ssl_verify: true", str(r.Props, "metadata.name"))}
		}
		return true, nil
	case r.Type == "pulumi:providers:vault":
		return true, skip("skipTlsVerify")
	case r.Type == "pulumi:providers:keycloak":
		return true, skip("tlsInsecureSkipVerify")
	case r.Type == "pulumi:providers:kubernetes":
		return true, skip("insecure")
	}
	return false, nil
}

// projects checks Argo CD AppProjects: named source repositories, named
// destination namespaces, no cluster-scoped kind wildcard.
func projects(r Resource) (bool, []string) {
	if !strings.HasSuffix(r.Type, "argoproj.io/v1alpha1:AppProject") {
		return false, nil
	}
	name := str(r.Props, "metadata.name")
	var problems []string
	if slices.Contains(stringsAt(r.Props, "spec.sourceRepos"), "*") {
		problems = append(problems, fmt.Sprintf("project %s accepts any source repository", name))
	}
	for i, d := range list(r.Props, "spec.destinations") {
		if str(d, "namespace") == "*" || str(d, "server") == "*" || str(d, "name") == "*" {
			problems = append(problems, fmt.Sprintf("project %s destination %d is a wildcard", name, i))
		}
	}
	for i, k := range list(r.Props, "spec.clusterResourceWhitelist") {
		if str(k, "kind") == "*" {
			problems = append(problems, fmt.Sprintf("project %s may create any cluster-scoped kind (clusterResourceWhitelist %d)", name, i))
		}
	}
	return true, problems
}

func pinnedSettingRules() []*Rule {
	accessControl := Controls{
		SOC2: []string{"CC6.1", "CC6.3"}, ISO27001: []string{"A.5.15", "A.8.2"},
		GDPR: []string{"Art. 25", "Art. 32(1)(b)"}, HIPAA: []string{"164.308(a)(4)(ii)(B)", "164.312(a)(1)"},
	}
	return []*Rule{
		{
			Name: "iam-no-admin-grants", Description: "No role, user or group is granted AWS administration or IAM-wide rights",
			Enforcement: mandatory, Controls: accessControl,
			Remediation: "grant the specific AWS managed policies or statements the role needs, never AdministratorAccess, PowerUserAccess, IAMFullAccess or * on *",
			Check:       iamGrants,
		},
		{
			Name: "exposure-internal-apis", Description: "Admin and internal APIs are reachable only inside the cluster",
			Enforcement: mandatory, Controls: networkSegregation,
			Remediation: "keep internal Services ClusterIP; turn Kong's admin API and Kong Manager off or ClusterIP without an Ingress (values.admin, values.manager); route UIs through Kong",
			Check:       exposure,
		},
		{
			Name: "privilege-restricted-context", Description: "Containers drop every capability, add none and run with the runtime's seccomp profile; charts' pods also run as non-root without privilege escalation, unless a documented exception says why",
			Enforcement: mandatory, Controls: withCIS(leastPrivilege, "4.2.7", "4.2.8", "4.2.9"),
			Remediation: "use kube.Restricted(): capabilities.drop [ALL], no capabilities.add, seccompProfile RuntimeDefault; in a chart's values set the pod and container security contexts at the keys its templates read (runAsNonRoot, allowPrivilegeEscalation false, readOnlyRootFilesystem where the chart allows it), or record the chart's defaults at its pinned version in policies/rules/charts.go",
			Check:       restricted,
		},
		{
			Name: "tls-verify-peers", Description: "Connections to other services verify their TLS certificates",
			Enforcement: mandatory, Controls: transmissionSecurity,
			Remediation: "set ssl_verify: true on the oidc plugin and leave the providers' TLS verification on; trust a private CA instead of skipping verification",
			Check:       tlsVerification,
		},
		{
			Name: "gitops-projects-restricted", Description: "Argo CD projects name their source repositories, destinations and cluster-scoped kinds",
			Enforcement: mandatory, Controls: changeIntegrity,
			Remediation: "list the repository, the destination namespaces and the cluster-scoped kinds each project needs instead of *",
			Check:       projects,
		},
	}
}
