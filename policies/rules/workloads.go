package rules

import "strings"

// Kubernetes kinds that carry a pod template, and where it sits.
var podSpecPaths = map[string]string{
	"kubernetes:core/v1:Pod":         "spec",
	"kubernetes:apps/v1:Deployment":  "spec.template.spec",
	"kubernetes:apps/v1:DaemonSet":   "spec.template.spec",
	"kubernetes:apps/v1:StatefulSet": "spec.template.spec",
	"kubernetes:apps/v1:ReplicaSet":  "spec.template.spec",
	"kubernetes:batch/v1:Job":        "spec.template.spec",
	"kubernetes:batch/v1:CronJob":    "spec.jobTemplate.spec.template.spec",
}

// PrivilegedExceptionAnnotation carries the documented reason a workload
// may run privileged or in host namespaces.
const PrivilegedExceptionAnnotation = "compliance.bac-platform.io/privileged-exception"

// Keycloak's routes, as the gate judges them: only IdentityPublicPaths are
// public (Keycloak 26.4 reverse-proxy guide, "Exposed path
// recommendations"); any other path of IdentityService, the admin console
// and admin REST API above all, is routed only with AdminAllowPlugin, the
// gateway's allow list of administrators' networks and deploying runners.
const (
	IdentityService  = "keycloak"
	AdminAllowPlugin = "admin-allow"
)

// IdentityPublicPaths are the Keycloak paths every client needs.
var IdentityPublicPaths = []string{"/realms/", "/resources/", "/.well-known/"}

// podSpec returns a workload's pod spec, or nil for other resources.
func podSpec(r Resource) map[string]any {
	path, ok := podSpecPaths[r.Type]
	if !ok {
		return nil
	}
	spec, _ := Lookup(r.Props, path).(map[string]any)
	return spec
}

// container is one container of a pod spec, with its list ("containers").
type container struct {
	list string
	spec map[string]any
}

// containers returns every container and init container of a pod spec.
func containers(spec map[string]any) []container {
	var out []container
	for _, l := range []string{"initContainers", "containers"} {
		for _, c := range list(spec, l) {
			if m, ok := c.(map[string]any); ok {
				out = append(out, container{l, m})
			}
		}
	}
	return out
}

// exception returns the documented privileged-exception reason, if any.
func exception(r Resource) string {
	return strings.TrimSpace(str(Lookup(r.Props, "metadata.annotations"), PrivilegedExceptionAnnotation))
}

// workloadName is "namespace/name" for messages.
func workloadName(r Resource) string {
	ns, name := str(r.Props, "metadata.namespace"), str(r.Props, "metadata.name")
	if name == "" {
		name = r.Name
	}
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
