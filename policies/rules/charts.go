package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Helm values are workloads too: the security contexts of the pods a chart
// renders come from its values, the project's merged over the chart's
// defaults. The plan-time gate never sees those pods (the admission
// policies do, in the cluster), so privilege-restricted-context judges
// them where the project sets them: in each release's values, read at the
// keys the chart's templates take them from, with the chart's own defaults
// at the pinned version where the project leaves a key unset.

// chartPod is one pod a chart renders: where the values set the pod's and
// its containers' security contexts, and what the platform allows it.
type chartPod struct {
	name string
	// enabled is the values path of the switch that renders the pod ("" if
	// always rendered), on is its default.
	enabled string
	on      bool
	// pod and containers are values paths of the pod's and the containers'
	// security contexts ("" when the chart has no pod-level one).
	pod        string
	containers []string
	// render builds the contexts where the templates do not simply take
	// the merged values (it replaces pod and containers).
	render func(values any) (pod any, containers map[string]any)
	// readOnlyRoot requires readOnlyRootFilesystem (where the platform or
	// the chart sets it, so it cannot be dropped unnoticed).
	readOnlyRoot bool
	// root is the documented reason the pod runs as root ("" = it may not);
	// add are the capabilities it may add, with addWhy the reason.
	root   string
	add    []string
	addWhy string
}

// chartFacts are a chart's pods and its defaults at the security-context
// paths (values.yaml at version, source). The defaults count only for the
// release of that very version: at another one, the values must set every
// context themselves, or the facts are updated after reading its values.
type chartFacts struct {
	version, source string
	defaults        map[string]string // values path -> JSON of the chart's default there
	pods            []chartPod
	// checks judges values that change other pods than the chart's own
	// (istiod's sidecar template).
	checks func(values any) []string
}

// Security contexts the charts ship as defaults, as JSON.
const (
	restrictedJSON     = `{"runAsNonRoot":true,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"seccompProfile":{"type":"RuntimeDefault"},"capabilities":{"drop":["ALL"]}}`
	podRuntimeDefault  = `{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}}`
	containerNoPrivRO  = `{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"readOnlyRootFilesystem":true}`
	devicePluginReason = "the NVIDIA device plugin registers with the kubelet through the root-owned socket directory /var/lib/kubelet/device-plugins (a hostPath; deployments/helm/nvidia-device-plugin/templates/daemonset-device-plugin.yml at v0.19.3), so it runs as root; it adds no capability and cannot escalate"
	dcgmReason         = "DCGM reads GPU profiling counters (DCGM_FI_PROF_*) through the driver, which needs root and CAP_SYS_ADMIN (deployment/values.yaml at 4.5.3-4.8.2); it drops every other capability and cannot escalate"
)

// chartSecurity returns what the rule knows of a chart's pods, read from
// its values.yaml and templates at the version the project pins.
func chartSecurity(chart string) (chartFacts, bool) {
	switch chart {
	case "kong":
		// charts/kong/values.yaml and templates/_helpers.tpl at kong-3.2.0:
		// containerSecurityContext (all containers; enabled: false renders
		// none), securityContext (the pod).
		return chartFacts{version: "3.2.0", source: "charts/kong/values.yaml at kong-3.2.0",
			defaults: map[string]string{
				// kong-3.2.0 charts/kong/values.yaml: securityContext; rendered
				// as is by kong.podsecuritycontext (templates/_helpers.tpl).
				"securityContext": `{"seccompProfile":{"type":"RuntimeDefault"}}`,
				// kong-3.2.0 charts/kong/values.yaml: containerSecurityContext;
				// proxy, ingress-controller, clear-stale-pid, wait-for-db and
				// the migrations jobs render it minus "enabled"
				// (templates/deployment.yaml, _helpers.tpl, migrations*.yaml).
				"containerSecurityContext": `{"enabled":true,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"runAsUser":1000,"runAsGroup":1000,"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"},"capabilities":{"drop":["ALL"]}}`,
			},
			pods: []chartPod{{name: "kong", pod: "securityContext", containers: []string{"containerSecurityContext"}, readOnlyRoot: true}},
		}, true
	case "argo-cd":
		// charts/argo-cd/values.yaml at argo-cd-8.5.0 (global.securityContext
		// is every Argo CD pod's), and for redis-ha its subchart's
		// charts/redis-ha/values.yaml at redis-ha-4.33.7 under the parent's
		// readOnlyRootFilesystem.
		// Each line: argo-cd-8.5.0 charts/argo-cd/values.yaml at that key
		// (global.securityContext and redisSecretInit.securityContext are {});
		// the templates render each with "with" (argocd-*/, dex/, redis/,
		// redis-secret-init/). redis-ha lines: redis-ha-4.33.7 (the 8.5.0
		// Chart.yaml dependency) charts/redis-ha/values.yaml, plus the
		// parent's readOnlyRootFilesystem: true at the same key.
		d := map[string]string{
			"redis.securityContext":                     `{"runAsNonRoot":true,"runAsUser":999,"seccompProfile":{"type":"RuntimeDefault"}}`,
			"redis.containerSecurityContext":            `{"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}`,
			"redis-ha.securityContext":                  `{"runAsUser":1000,"fsGroup":1000,"runAsNonRoot":true}`,
			"redis-ha.containerSecurityContext":         `{"runAsUser":1000,"runAsNonRoot":true,"allowPrivilegeEscalation":false,"seccompProfile":{"type":"RuntimeDefault"},"capabilities":{"drop":["ALL"]},"readOnlyRootFilesystem":true}`,
			"redis-ha.haproxy.securityContext":          `{"runAsUser":99,"fsGroup":99,"runAsNonRoot":true}`,
			"redis-ha.haproxy.containerSecurityContext": `{"runAsNonRoot":true,"allowPrivilegeEscalation":false,"seccompProfile":{"type":"RuntimeDefault"},"capabilities":{"drop":["ALL"]},"readOnlyRootFilesystem":true}`,
			"redisSecretInit.containerSecurityContext":  restrictedJSON,
			"redis.exporter.containerSecurityContext":   restrictedJSON,
			"controller.containerSecurityContext":       restrictedJSON,
			"dex.containerSecurityContext":              restrictedJSON, // dex and its copyutil init
			"server.containerSecurityContext":           restrictedJSON,
			"repoServer.containerSecurityContext":       restrictedJSON, // repo-server and its copyutil init
			"applicationSet.containerSecurityContext":   restrictedJSON,
			"notifications.containerSecurityContext":    restrictedJSON,
			"commitServer.containerSecurityContext":     restrictedJSON,
		}
		// Switches (argo-cd-8.5.0 values.yaml): notifications.enabled,
		// dex.enabled, redisSecretInit.enabled, redis.enabled true;
		// commitServer.enabled, redis.exporter.enabled, redis-ha.enabled
		// false; redis-ha.haproxy.enabled true in the parent.
		component := func(name, enabled string, on bool) chartPod {
			return chartPod{name: name, enabled: enabled, on: on, pod: "global.securityContext",
				containers: []string{name + ".containerSecurityContext"}, readOnlyRoot: true}
		}
		return chartFacts{version: "8.5.0", source: "charts/argo-cd/values.yaml at argo-cd-8.5.0", defaults: d,
			pods: []chartPod{
				component("controller", "", true), component("repoServer", "", true), component("server", "", true),
				component("applicationSet", "", true), component("notifications", "notifications.enabled", true),
				component("dex", "dex.enabled", true), component("commitServer", "commitServer.enabled", false),
				{name: "redisSecretInit", enabled: "redisSecretInit.enabled", on: true, pod: "redisSecretInit.securityContext",
					containers: []string{"redisSecretInit.containerSecurityContext"}, readOnlyRoot: true},
				{name: "redis", enabled: "redis.enabled", on: true, pod: "redis.securityContext",
					containers: []string{"redis.containerSecurityContext"}, readOnlyRoot: true},
				{name: "redis.exporter", enabled: "redis.exporter.enabled", on: false, pod: "redis.securityContext",
					containers: []string{"redis.exporter.containerSecurityContext"}, readOnlyRoot: true},
				{name: "redis-ha", enabled: "redis-ha.enabled", on: false, pod: "redis-ha.securityContext",
					containers: []string{"redis-ha.containerSecurityContext"}, readOnlyRoot: true},
				{name: "redis-ha.haproxy", enabled: "redis-ha.enabled", on: false, pod: "redis-ha.haproxy.securityContext",
					containers: []string{"redis-ha.haproxy.containerSecurityContext"}, readOnlyRoot: true},
			}}, true
	case "istiod":
		// manifests/charts/istio-control/istio-discovery at 1.29.2: the
		// discovery container's context is fixed in templates/deployment.yaml
		// but for seccompProfile (values.yaml: {}, under
		// _internal_defaults_do_not_set, so set at the top level), no pod
		// context; global.proxy.privileged (values.yaml: false) makes every
		// injected sidecar privileged (files/injection-template.yaml).
		return chartFacts{version: "1.29.2", source: "manifests/charts/istio-control/istio-discovery/values.yaml at 1.29.2",
			pods: []chartPod{{name: "istiod", readOnlyRoot: true, render: func(values any) (any, map[string]any) {
				ctx := map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
					"capabilities": map[string]any{"drop": []any{"ALL"}}}
				if sp, ok := Lookup(values, "seccompProfile").(map[string]any); ok && len(sp) > 0 {
					ctx["seccompProfile"] = sp
				}
				return nil, map[string]any{"discovery (template)": ctx}
			}}},
			checks: func(values any) []string {
				if isTrue(values, "global.proxy.privileged") {
					return []string{"values global.proxy.privileged is true: every injected sidecar runs privileged"}
				}
				return nil
			}}, true
	case "base":
		// istio base at 1.29.2 (manifests/charts/base/templates) renders
		// CRDs, the default-revision validating webhook and admission policy
		// and a reader ServiceAccount, no pods.
		return chartFacts{version: "1.29.2", source: "manifests/charts/base at 1.29.2"}, true
	case "cluster-autoscaler":
		// cluster-autoscaler/charts/cluster-autoscaler/values.yaml at
		// cluster-autoscaler-chart-9.59.0: securityContext (pod) and
		// containerSecurityContext, both {}; templates/deployment.yaml
		// renders each only when set. No defaults to transcribe.
		return chartFacts{version: "9.59.0", source: "cluster-autoscaler/charts/cluster-autoscaler/values.yaml at cluster-autoscaler-chart-9.59.0",
			pods: []chartPod{{name: "cluster-autoscaler", pod: "securityContext", containers: []string{"containerSecurityContext"}, readOnlyRoot: true}}}, true
	case "metrics-server":
		// charts/metrics-server/values.yaml at metrics-server-helm-chart-3.13.1:
		// podSecurityContext {}, securityContext below (the metrics-server
		// container, templates/deployment.yaml; the addon-resizer nanny,
		// addonResizer.enabled false, is not modeled).
		return chartFacts{version: "3.13.1", source: "charts/metrics-server/values.yaml at metrics-server-helm-chart-3.13.1",
			defaults: map[string]string{"securityContext": `{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"runAsNonRoot":true,"runAsUser":1000,"seccompProfile":{"type":"RuntimeDefault"},"capabilities":{"drop":["ALL"]}}`}, // metrics-server-helm-chart-3.13.1 values.yaml: securityContext
			pods:     []chartPod{{name: "metrics-server", pod: "podSecurityContext", containers: []string{"securityContext"}, readOnlyRoot: true}}}, true
	case "aws-load-balancer-controller":
		// helm/aws-load-balancer-controller/values.yaml at v2.17.1 (chart
		// 1.17.1): no capability drop and no seccomp profile by default;
		// templates/deployment.yaml renders both unconditionally.
		return chartFacts{version: "1.17.1", source: "helm/aws-load-balancer-controller/values.yaml at v2.17.1 (chart 1.17.1)",
			defaults: map[string]string{
				// v2.17.1 values.yaml: podSecurityContext, securityContext.
				"podSecurityContext": `{"fsGroup":65534}`,
				"securityContext":    `{"readOnlyRootFilesystem":true,"runAsNonRoot":true,"allowPrivilegeEscalation":false}`,
			},
			pods: []chartPod{{name: "controller", pod: "podSecurityContext", containers: []string{"securityContext"}, readOnlyRoot: true}}}, true
	case "cert-manager":
		// deploy/charts/cert-manager/values.yaml at v1.20.3: each component's
		// securityContext (pod) is podRuntimeDefault and its
		// containerSecurityContext containerNoPrivRO; cainjector.enabled and
		// startupapicheck.enabled true; templates/*.yaml render each with
		// "with".
		d := map[string]string{}
		var pods []chartPod
		for _, c := range []struct{ name, prefix, enabled string }{
			{"controller", "", ""}, {"webhook", "webhook.", ""}, {"cainjector", "cainjector.", "cainjector.enabled"}, {"startupapicheck", "startupapicheck.", "startupapicheck.enabled"},
		} {
			d[c.prefix+"securityContext"], d[c.prefix+"containerSecurityContext"] = podRuntimeDefault, containerNoPrivRO
			pods = append(pods, chartPod{name: c.name, enabled: c.enabled, on: true, pod: c.prefix + "securityContext",
				containers: []string{c.prefix + "containerSecurityContext"}, readOnlyRoot: true})
		}
		return chartFacts{version: "v1.20.3", source: "deploy/charts/cert-manager/values.yaml at v1.20.3", defaults: d, pods: pods}, true
	case "external-dns":
		// charts/external-dns/values.yaml at external-dns-helm-chart-1.21.1;
		// templates/deployment.yaml renders both with "with".
		return chartFacts{version: "1.21.1", source: "charts/external-dns/values.yaml at external-dns-helm-chart-1.21.1",
			defaults: map[string]string{
				// external-dns-helm-chart-1.21.1 values.yaml: podSecurityContext,
				// securityContext.
				"podSecurityContext": `{"runAsNonRoot":true,"fsGroup":65534,"seccompProfile":{"type":"RuntimeDefault"}}`,
				"securityContext":    `{"privileged":false,"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"runAsNonRoot":true,"runAsUser":65532,"runAsGroup":65532,"capabilities":{"drop":["ALL"]}}`,
			},
			pods: []chartPod{{name: "external-dns", pod: "podSecurityContext", containers: []string{"securityContext"}, readOnlyRoot: true}}}, true
	case "velero":
		// charts/velero at velero-11.4.0. values.yaml: podSecurityContext,
		// containerSecurityContext, kubectl.containerSecurityContext and
		// nodeAgent.containerSecurityContext all {}, nodeAgent.podSecurityContext
		// {runAsUser: 0}, upgradeCRDs true, cleanUpCRDs and deployNodeAgent
		// false, initContainers unset. The templates merge the legacy keys
		// under the new ones (sprig merge: the new key wins): the pod context
		// of the server, the CRD upgrade and the CRD cleanup jobs is
		// podSecurityContext over securityContext, the node agent's container
		// context nodeAgent.containerSecurityContext over nodeAgent.securityContext.
		pod := func(values any) any {
			return coalesce(Lookup(values, "securityContext"), Lookup(values, "podSecurityContext"))
		}
		return chartFacts{version: "11.4.0", source: "charts/velero/values.yaml at velero-11.4.0",
			defaults: map[string]string{
				"upgradeCRDs":                  "true",            // velero-11.4.0 values.yaml: upgradeCRDs
				"nodeAgent.podSecurityContext": `{"runAsUser":0}`, // velero-11.4.0 values.yaml: nodeAgent.podSecurityContext
			},
			pods: []chartPod{
				// templates/deployment.yaml: the velero container takes
				// containerSecurityContext, initContainers are rendered as given.
				{name: "velero", readOnlyRoot: true, render: func(values any) (any, map[string]any) {
					containers := map[string]any{"containerSecurityContext": Lookup(values, "containerSecurityContext")}
					for i, c := range list(values, "initContainers") {
						containers[fmt.Sprintf("initContainers[%d] (%s).securityContext", i, str(c, "name"))] = Lookup(c, "securityContext")
					}
					return pod(values), containers
				}},
				// templates/upgrade-crds/upgrade-crds.yaml: the kubectl init
				// container takes kubectl.containerSecurityContext, the velero
				// container containerSecurityContext.
				{name: "upgrade-crds job", enabled: "upgradeCRDs", on: true, render: func(values any) (any, map[string]any) {
					return pod(values), map[string]any{"kubectl.containerSecurityContext": Lookup(values, "kubectl.containerSecurityContext"),
						"containerSecurityContext": Lookup(values, "containerSecurityContext")}
				}},
				// templates/cleanup-crds.yaml: one kubectl container.
				{name: "cleanup-crds job", enabled: "cleanUpCRDs", on: false, render: func(values any) (any, map[string]any) {
					return pod(values), map[string]any{"kubectl.containerSecurityContext": Lookup(values, "kubectl.containerSecurityContext")}
				}},
				// templates/node-agent-daemonset.yaml.
				{name: "node-agent", enabled: "deployNodeAgent", on: false, render: func(values any) (any, map[string]any) {
					return Lookup(values, "nodeAgent.podSecurityContext"), map[string]any{"nodeAgent.containerSecurityContext": coalesce(
						Lookup(values, "nodeAgent.securityContext"), Lookup(values, "nodeAgent.containerSecurityContext"))}
				}},
			}}, true
	case "nvidia-device-plugin":
		// deployments/helm/nvidia-device-plugin at v0.19.3. values.yaml:
		// podSecurityContext and securityContext {}, gfd.securityContext
		// {privileged: true}, gfd.enabled false, devicePlugin.enabled true,
		// migStrategy, deviceListStrategy and compatWithCPUManager unset,
		// config.name "" and config.map {}. templates/_helpers.tpl: the
		// device plugin's containers take securityContext when set, else
		// privileged with compatWithCPUManager, else SYS_ADMIN when
		// requiresCapSysAdmin, else no escalation and no capabilities; GFD's
		// the same from gfd.securityContext, without the CPU-manager branch.
		// Every pod's context is podSecurityContext.
		return chartFacts{version: "0.19.3", source: "deployments/helm/nvidia-device-plugin/values.yaml at v0.19.3",
			defaults: map[string]string{"gfd.securityContext": `{"privileged":true}`}, // v0.19.3 values.yaml: gfd.securityContext
			pods: []chartPod{
				// templates/daemonset-device-plugin.yml (devicePlugin.enabled).
				{name: "device-plugin", enabled: "devicePlugin.enabled", on: true, root: devicePluginReason, render: func(values any) (any, map[string]any) {
					sc, _ := Lookup(values, "securityContext").(map[string]any)
					switch {
					case len(sc) > 0:
					case isTrue(values, "compatWithCPUManager"):
						sc = map[string]any{"privileged": true}
					case deviceSysAdmin(values):
						sc = map[string]any{"capabilities": map[string]any{"add": []any{"SYS_ADMIN"}}}
					default:
						sc = map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}
					}
					return Lookup(values, "podSecurityContext"), map[string]any{"securityContext (both containers)": sc}
				}},
				// templates/daemonset-gfd.yml (gfd.enabled).
				{name: "gpu-feature-discovery", enabled: "gfd.enabled", on: false, render: func(values any) (any, map[string]any) {
					sc, _ := Lookup(values, "gfd.securityContext").(map[string]any)
					switch {
					case len(sc) > 0:
					case deviceSysAdmin(values):
						sc = map[string]any{"capabilities": map[string]any{"add": []any{"SYS_ADMIN"}}}
					default:
						sc = map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}
					}
					return Lookup(values, "podSecurityContext"), map[string]any{"gfd.securityContext": sc}
				}},
				// templates/daemonset-mps-control-daemon.yml: rendered whenever
				// devicePlugin.enabled (scheduled only on nodes labelled
				// nvidia.com/mps.capable=true, hostPID with mps.enableHostPID,
				// true by default); the mount-shm init container and the
				// daemon are privileged: true in the template, whatever the
				// values, and with a ConfigMap two config-manager containers
				// have no context at all. Its pods run only where that label
				// is, which gpu-feature-discovery sets for a device-plugin
				// config that shares GPUs through MPS: without a config
				// (config.name, config.map) no node is MPS-capable and the
				// DaemonSet runs no pod, so it is judged only with one.
				{name: "mps-control-daemon", enabled: "devicePlugin.enabled", on: true, render: func(values any) (any, map[string]any) {
					if !deviceConfigMap(values) {
						return nil, nil
					}
					containers := map[string]any{
						"mps-control-daemon-mounts (init, template)": map[string]any{"privileged": true},
						"mps-control-daemon-ctr (template)":          map[string]any{"privileged": true},
					}
					if deviceConfigMap(values) {
						containers["mps-control-daemon-init (init, template)"] = nil
						containers["mps-control-daemon-sidecar (template)"] = nil
					}
					return Lookup(values, "podSecurityContext"), containers
				}},
			},
			// Chart.yaml at v0.19.3: the node-feature-discovery 0.17.3
			// subchart is installed with nfd.enabled or gfd.enabled.
			checks: func(values any) []string {
				if isTrue(values, "nfd.enabled") || isTrue(values, "gfd.enabled") {
					return []string{"values nfd.enabled or gfd.enabled install the node-feature-discovery subchart, whose pods' security contexts the gate does not know"}
				}
				return nil
			}}, true
	case "dcgm-exporter":
		// deployment/values.yaml at 4.5.3-4.8.2 (chart 4.8.2):
		// podSecurityContext {}, securityContext below; templates/daemonset.yaml
		// renders the exporter container's unconditionally.
		return chartFacts{version: "4.8.2", source: "deployment/values.yaml at 4.5.3-4.8.2",
			defaults: map[string]string{"securityContext": `{"runAsNonRoot":false,"runAsUser":0,"capabilities":{"add":["SYS_ADMIN"],"drop":["ALL"]},"allowPrivilegeEscalation":false}`}, // 4.5.3-4.8.2 deployment/values.yaml: securityContext
			pods: []chartPod{{name: "exporter", pod: "podSecurityContext", containers: []string{"securityContext"},
				root: dcgmReason, add: []string{"SYS_ADMIN"}, addWhy: dcgmReason}}}, true
	}
	return chartFacts{}, false
}

// deviceConfigMap is the nvidia-device-plugin chart's hasConfigMap
// (templates/_helpers.tpl at v0.19.3): config.name or config.map set.
func deviceConfigMap(values any) bool {
	m, _ := Lookup(values, "config.map").(map[string]any)
	return str(values, "config.name") != "" || len(m) > 0
}

// deviceSysAdmin is the chart's requiresCapSysAdmin (templates/_helpers.tpl
// at v0.19.3): a MIG strategy other than none, or a device list strategy
// with volume-mounts; with either unset, a ConfigMap counts as both.
func deviceSysAdmin(values any) bool {
	cm := deviceConfigMap(values)
	mig, list := str(values, "migStrategy"), str(values, "deviceListStrategy")
	return (mig != "" && mig != "none") || (mig == "" && cm) ||
		strings.Contains(list, "volume-mounts") || (list == "" && cm)
}

// coalesce merges values over defaults as Helm does: maps key by key
// (recursively), anything else replaces, and a null value removes the key.
func coalesce(defaults, values any) any {
	d, dok := defaults.(map[string]any)
	v, vok := values.(map[string]any)
	switch {
	case !vok && values != nil:
		return values
	case !vok:
		return defaults
	case !dok:
		return values
	}
	out := maps.Clone(d)
	for k, e := range v {
		if e == nil {
			delete(out, k)
			continue
		}
		out[k] = coalesce(out[k], e)
	}
	return out
}

// chartValues returns a resource's Helm chart, version, name and values:
// a Helm release, or an Argo CD Application that installs a chart with
// values (valuesObject, or the values YAML).
func chartValues(r Resource) (chart, version, name string, values any, ok bool) {
	switch {
	case strings.HasPrefix(r.Type, "kubernetes:helm.sh/"):
		return str(r.Props, "chart"), str(r.Props, "version"), "release " + str(r.Props, "name"), Lookup(r.Props, "values"), true
	case strings.HasSuffix(r.Type, "argoproj.io/v1alpha1:Application") && str(r.Props, "spec.source.chart") != "":
		values := Lookup(r.Props, "spec.source.helm.valuesObject")
		if raw := str(r.Props, "spec.source.helm.values"); raw != "" {
			var parsed map[string]any
			if err := yaml.Unmarshal([]byte(raw), &parsed); err == nil {
				values = coalesce(parsed, values) // valuesObject wins over values
			}
		}
		return str(r.Props, "spec.source.chart"), str(r.Props, "spec.source.targetRevision"), "application " + str(r.Props, "metadata.name"), values, true
	}
	return "", "", "", nil, false
}

// chartContexts judges the security contexts of every pod a chart renders
// with the values a release or Application gives it.
func chartContexts(r Resource) (bool, []string) {
	chart, version, name, values, ok := chartValues(r)
	if !ok {
		return false, nil
	}
	facts, known := chartSecurity(chart)
	if !known {
		return true, []string{fmt.Sprintf("%s: chart %s is not one whose pods' security contexts the gate knows: read its values.yaml at %s and add it to chartSecurity (policies/rules/charts.go)", name, chart, version)}
	}
	withDefaults := version == facts.version
	merged := values
	if withDefaults {
		defaults := map[string]any{}
		for path, raw := range facts.defaults {
			var v any
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				panic(fmt.Sprintf("chart %s default %s: %v", chart, path, err)) // a typo in the table above
			}
			setValue(defaults, path, v)
		}
		merged = coalesce(defaults, values)
	}
	where := fmt.Sprintf("%s (chart %s %s)", name, chart, version)
	if !withDefaults {
		where = fmt.Sprintf("%s (chart %s %s; the gate knows the chart's defaults at %s only, so the values must set them)", name, chart, version, facts.version)
	}
	var problems []string
	if facts.checks != nil {
		for _, p := range facts.checks(merged) {
			problems = append(problems, where+": "+p)
		}
	}
	for _, p := range facts.pods {
		if p.enabled != "" {
			on := p.on
			if v := Lookup(merged, p.enabled); v != nil {
				on = isTrue(merged, p.enabled)
			}
			if !on {
				continue
			}
		}
		var pod any
		containers := map[string]any{}
		if p.render != nil {
			pod, containers = p.render(merged)
		} else {
			if p.pod != "" {
				pod = Lookup(merged, p.pod)
			}
			for _, c := range p.containers {
				containers[c] = Lookup(merged, c)
			}
		}
		for _, c := range slices.Sorted(maps.Keys(containers)) {
			sc := containers[c]
			if m, ok := sc.(map[string]any); ok {
				if e, set := m["enabled"]; set && (e == false || e == "false") {
					sc = nil // kong: containerSecurityContext.enabled false renders none
				}
			}
			problems = append(problems, p.judge(fmt.Sprintf("%s: pod %s, values %s", where, p.name, c), sc, pod)...)
		}
	}
	return true, problems
}

// judge checks one container's context (with its pod's) against the
// restricted baseline and the pod's documented exceptions.
func (p chartPod) judge(where string, sc, pod any) []string {
	var problems []string
	if isTrue(sc, "privileged") {
		problems = append(problems, where+" is privileged")
	}
	if ape := Lookup(sc, "allowPrivilegeEscalation"); ape != false && ape != "false" {
		problems = append(problems, where+" does not set allowPrivilegeEscalation: false")
	}
	user, hasUser := number(sc, "runAsUser")
	if !hasUser {
		user, hasUser = number(pod, "runAsUser")
	}
	nonRoot := Lookup(sc, "runAsNonRoot")
	if nonRoot == nil {
		nonRoot = Lookup(pod, "runAsNonRoot")
	}
	switch {
	case p.root != "":
	case hasUser && user == 0:
		problems = append(problems, where+" runs as root (runAsUser 0)")
	case (hasUser && user > 0) || nonRoot == true || nonRoot == "true":
	default:
		problems = append(problems, where+" may run as root: set runAsNonRoot: true or runAsUser > 0")
	}
	if !slices.Contains(stringsAt(sc, "capabilities.drop"), "ALL") {
		problems = append(problems, where+" does not drop ALL capabilities")
	}
	var extra []string
	for _, c := range stringsAt(sc, "capabilities.add") {
		if !slices.Contains(p.add, c) {
			extra = append(extra, c)
		}
	}
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("%s adds capabilities %v", where, extra))
	}
	seccomp := str(sc, "seccompProfile.type")
	if seccomp == "" {
		seccomp = str(pod, "seccompProfile.type")
	}
	if seccomp != "RuntimeDefault" && seccomp != "Localhost" {
		problems = append(problems, fmt.Sprintf("%s has seccomp profile %q, not RuntimeDefault", where, seccomp))
	}
	if p.readOnlyRoot && !isTrue(sc, "readOnlyRootFilesystem") {
		problems = append(problems, where+" does not set readOnlyRootFilesystem: true")
	}
	return problems
}

// setValue sets v at a dotted path of plain maps, creating the maps above.
func setValue(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}
