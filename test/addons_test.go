package test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/addons"
	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/stackfile"
)

// TestAddonsOnEveryAWSStack: every AWS stack plans the add-ons at their
// pinned versions, each AWS identity through Pod Identity on the stack's
// cluster, and wires them into the platform: autoscaled pools, Kong's proxy
// on the load balancer controller, certificates on every public Ingress,
// external-dns owning this stack's records, backups of its namespaces.
func TestAddonsOnEveryAWSStack(t *testing.T) {
	charts := map[string]string{
		"cluster-autoscaler": "9.59.0", "metrics-server": "3.13.1", "nvidia-device-plugin": "0.19.3", "dcgm-exporter": "4.8.2",
		"aws-load-balancer-controller": "1.17.1", "cert-manager": "v1.20.3", "external-dns": "1.21.1", "velero": "11.4.0",
	}
	for _, name := range awsStackNames(t) {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			cfg, m := run.config, run.mocks
			for release, version := range charts {
				r := find(t, m, "kubernetes:helm.sh/v3:Release", "addons-"+release)
				if r.Input("version") != version {
					t.Errorf("%s version = %v, want %s", release, r.Input("version"), version)
				}
			}
			assocs := m.ByType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
			if len(assocs) != 5 {
				t.Errorf("%d Pod Identity associations, want autoscaler, load balancer, cert-manager, external-dns, velero", len(assocs))
			}
			for _, a := range assocs {
				if a.Input("clusterName") != cfg.Cluster.Name {
					t.Errorf("association %s cluster = %v", a.Name, a.Input("clusterName"))
				}
			}
			for _, g := range m.ByType("eks:index:ManagedNodeGroup") {
				if g.Input("ignoreScalingChanges") != true {
					t.Errorf("node group %s: the autoscaler owns its size, but an up would reset it", g.Name)
				}
			}

			kong := find(t, m, "kubernetes:helm.sh/v3:Release", "gateway-kong")
			for k, v := range addons.ProxyAnnotations(cfg.Addons.LoadBalancer) {
				if got := kong.Input("values.proxy.annotations." + k); got != v {
					t.Errorf("kong proxy %s = %v, want %s", k, got, v)
				}
			}
			// Kong sees each client's address: the NLB sends it in a PROXY
			// protocol header, both listens expect one, and Kong trusts it
			// from the VPC only (per-client rate limits count clients, not
			// the NLB's addresses).
			if got := kong.Input("values.proxy.annotations." + addons.ProxyProtocolAnnotation); got != "*" {
				t.Errorf("the NLB does not send the PROXY protocol (%s = %v)", addons.ProxyProtocolAnnotation, got)
			}
			for listen, want := range map[string][]any{"http": {"proxy_protocol"}, "tls": {"http2", "proxy_protocol"}} {
				if got := kong.Input("values.proxy." + listen + ".parameters"); !reflect.DeepEqual(got, want) {
					t.Errorf("Kong's %s listen parameters = %v, want %v", listen, got, want)
				}
			}
			if got := kong.Input("values.env.real_ip_header"); got != "proxy_protocol" {
				t.Errorf("Kong real_ip_header = %v, want proxy_protocol", got)
			}
			if got := kong.Input("values.env.trusted_ips"); got != cfg.Network.CIDR {
				t.Errorf("Kong trusted_ips = %v, want the VPC's %s only", got, cfg.Network.CIDR)
			}
			lbc := find(t, m, "kubernetes:helm.sh/v3:Release", "addons-aws-load-balancer-controller")
			if !slices.Contains(kong.DependsOn, lbc.URN) {
				t.Error("Kong's proxy Service must wait for the load balancer controller")
			}

			// Every public host is served a certificate: Kong's certificates
			// are global, matched by SNI, so one Ingress naming the host's
			// certificate (issued into its namespace) serves every route of
			// the host, and each host has exactly one certificate (one
			// Let's Encrypt order per host and region).
			issued := map[string]string{} // namespace/secret -> host
			perHost := map[string]int{}
			for _, c := range m.ByType("kubernetes:cert-manager.io/v1:Certificate") {
				host := fmt.Sprint(c.Input("spec.dnsNames[0]"))
				issued[fmt.Sprint(c.Input("metadata.namespace"), "/", c.Input("spec.secretName"))] = host
				perHost[host]++
			}
			ingresses := m.ByType("kubernetes:networking.k8s.io/v1:Ingress")
			served := map[string]bool{}
			hostServed := map[string]bool{}
			for _, ing := range ingresses {
				if ing.Input("spec.tls") == nil {
					continue
				}
				key := fmt.Sprint(ing.Input("metadata.namespace"), "/", ing.Input("spec.tls[0].secretName"))
				served[key] = true
				host := ing.Input("spec.rules[0].host")
				if issued[key] != host {
					t.Errorf("ingress %s serves %s for %v; issued there: %v", ing.Name, key, host, issued)
				}
				hostServed[fmt.Sprint(host)] = true
			}
			for _, ing := range ingresses {
				if host := fmt.Sprint(ing.Input("spec.rules[0].host")); !hostServed[host] {
					t.Errorf("ingress %s: no Ingress serves a certificate for %s", ing.Name, host)
				}
			}
			for host, n := range perHost {
				if n != 1 {
					t.Errorf("%d certificates for %s, want one (Kong serves one per SNI)", n, host)
				}
			}
			argocd := find(t, m, "kubernetes:helm.sh/v3:Release", "gitops-argocd")
			if key := fmt.Sprint("argocd/", argocd.Input("values.server.ingress.extraTls[0].secretName")); issued[key] != "argocd."+cfg.Domain {
				t.Errorf("argo cd serves %s; issued: %v", key, issued)
			}
			if len(issued) != len(served)+1 {
				t.Errorf("%d certificates for the %d secrets the ingresses serve and argo cd's: %v", len(issued), len(served), issued)
			}

			dns := find(t, m, "kubernetes:helm.sh/v3:Release", "addons-external-dns")
			if dns.Input("values.txtOwnerId") != cfg.Cluster.Name || dns.Input("values.domainFilters[0]") != cfg.Domain {
				t.Errorf("external-dns owner %v, domains %v", dns.Input("values.txtOwnerId"), dns.Input("values.domainFilters"))
			}
			velero := find(t, m, "kubernetes:helm.sh/v3:Release", "addons-velero")
			raw, _ := json.Marshal(velero.Input("values.schedules.platform.template.includedNamespaces"))
			for _, ns := range []string{"api-gateway", "auth", "argocd", "crm", "velero"} {
				if !strings.Contains(string(raw), `"`+ns+`"`) {
					t.Errorf("backups skip namespace %s: %s", ns, raw)
				}
			}
			if strings.Contains(string(raw), `"database"`) {
				t.Errorf("backups include the peer namespace database, which the platform does not own: %s", raw)
			}
			for _, out := range []string{"hostedZoneNameServers", "backupBucket"} {
				if a, ok := run.outputs[out]; !ok || !a.Known {
					t.Errorf("output %s missing or unknown", out)
				}
			}
		})
	}
}

// TestLocalStackHasNoAddons: the laptop stack keeps planning without AWS.
func TestLocalStackHasNoAddons(t *testing.T) {
	run := runStack(t, "local")
	for _, r := range run.mocks.Resources() {
		if strings.HasPrefix(r.Name, "addons") || r.Type == "kubernetes:cert-manager.io/v1:Certificate" {
			t.Errorf("local stack plans %s %s", r.Type, r.Name)
		}
	}
}

// TestBringYourOwnClusterTurnsAWSAddonsOff: a stack on an existing cluster
// must turn the AWS add-ons off, each named by its path.
func TestBringYourOwnClusterTurnsAWSAddonsOff(t *testing.T) {
	project, _ := stackfile.ProjectName(repoRoot)
	sf, err := stackfile.Read(repoRoot, project, "prod-us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	sf.Values["bac:cluster"] = `{"kubeconfig":"{}","name":"bac-prod-us-east-1"}`
	_, ps := stacks.Decode(sf.Values)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	for _, key := range []string{"autoscaler", "loadBalancer", "certificates", "dns", "backups"} {
		want := "bac:addons." + key + ".enabled: needs the EKS cluster this stack builds"
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("no problem %q in %q", want, got)
		}
	}
	sf.Values["bac:addons"] = `{"autoscaler":{"enabled":false},"loadBalancer":{"enabled":false},"certificates":{"enabled":false},"dns":{"enabled":false},"backups":{"enabled":false}}`
	if _, ps := stacks.Decode(sf.Values); len(ps) != 0 {
		t.Errorf("with the AWS add-ons off: %v", ps)
	}
}

// TestGPUAddonsNeedAGPUPool: the GPU add-ons on a cluster without a GPU
// pool are a config error; off, the stack plans.
func TestGPUAddonsNeedAGPUPool(t *testing.T) {
	project, _ := stackfile.ProjectName(repoRoot)
	sf, err := stackfile.Read(repoRoot, project, "staging-us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	sf.Values["bac:cluster"] = `{"name":"bac-staging-us-east-1","publicAccessCidrs":["198.51.100.10/32"],"nodePools":{` +
		`"gpu":{"amiType":"AL2023_x86_64_STANDARD","instanceTypes":["m6i.large"],"taints":[],"labels":{"role":"batch"}}}}`
	// The seed's nvidia.com/gpu label stays (objects merge key by key),
	// which the cluster's own check refuses beside the add-on's.
	_, ps := stacks.Decode(sf.Values)
	found := false
	for _, p := range ps {
		found = found || strings.HasPrefix(p.String(), "bac:addons.gpu.enabled: no node pool has an NVIDIA AMI")
	}
	if !found {
		t.Errorf("problems = %v, want the GPU add-ons refused", ps)
	}
}
