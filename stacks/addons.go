package stacks

import (
	"maps"
	"slices"
	"strings"

	"github.com/bac-platform/infra/components/addons"
	"github.com/bac-platform/infra/components/cluster"
	"github.com/bac-platform/infra/components/namespaces"
	"github.com/bac-platform/infra/components/validate"
)

// TLS Secrets the stack issues certificates into (one per Ingress namespace).
const (
	APITLSSecret    = "api-tls"
	AuthTLSSecret   = "auth-tls"
	ArgoCDTLSSecret = "argocd-tls"
)

// gpuPool is the cluster's GPU node pool: the one with an NVIDIA AMI or a
// nvidia.com/gpu taint (the first by key when several match).
func (c Config) gpuPool() (cluster.NodePool, bool) {
	for _, key := range c.Cluster.PoolKeys() {
		p := c.Cluster.NodePools[key]
		if strings.Contains(p.AMIType, "NVIDIA") || slices.ContainsFunc(p.Taints, func(t cluster.Taint) bool { return t.Key == "nvidia.com/gpu" }) {
			return p, true
		}
	}
	return cluster.NodePool{}, false
}

// checkAddons reports add-ons the stack cannot run: those that need this
// stack's own EKS cluster on an existing cluster (turn them off for a
// bring-your-own cluster), and the GPU add-ons without a GPU pool.
func (c Config) checkAddons() validate.Problems {
	var ps validate.Problems
	if c.ExistingCluster() {
		for _, key := range c.Addons.NeedAWS() {
			ps.Add(Namespace+":"+KeyAddons+"."+key+".enabled",
				"needs the EKS cluster this stack builds (AWS identities, node groups, VPC); set it false on an existing cluster")
		}
	}
	if c.Addons.GPU.Enabled {
		if _, ok := c.gpuPool(); !ok {
			ps.Add(Namespace+":"+KeyAddons+".gpu.enabled", "no node pool has an NVIDIA AMI or a nvidia.com/gpu taint; set it false or add the GPU pool")
		}
	}
	return ps
}

// wireAddons derives the add-ons' shared facts:
//   - the cluster, region, domain and tags, and the stack's cluster name
//     as external-dns's owner ID (unique per environment and region);
//   - the GPU pool's labels and taints, where the GPU add-ons run;
//   - every node pool is autoscaled when the autoscaler runs, so an up
//     never resets the size the autoscaler chose;
//   - the Kong proxy Service goes to the load balancer controller;
//   - one certificate per Ingress namespace for the public hosts (api. in
//     each routed service's namespace, auth. and argocd. in theirs), and
//     the Ingresses serve them;
//   - the backup schedule covers the namespaces the platform creates
//     (platform and service tiers; peer namespaces hold data the platform
//     does not own).
func (a *wiredConfig) wireAddons() {
	c := a.Config
	ad := &a.Addons
	ad.Cluster, ad.Region, ad.Domain, ad.OwnerID = c.Cluster.Name, c.Region, c.Domain, c.Cluster.Name
	ad.Tags = c.ResourceTags()
	if pool, ok := c.gpuPool(); ok {
		ad.GPUNodeLabels = maps.Clone(pool.Labels)
		ad.GPUTaints = nil
		for _, t := range pool.Taints {
			ad.GPUTaints = append(ad.GPUTaints, addons.Toleration{Key: t.Key, Value: t.Value, Effect: t.Effect})
		}
	}
	if c.Addons.Autoscaler.Enabled && !c.ExistingCluster() {
		pools := make(map[string]cluster.NodePool, len(c.Cluster.NodePools))
		for k, p := range c.Cluster.NodePools {
			p.Autoscaled = true
			pools[k] = p
		}
		a.Cluster.NodePools = pools
	}
	if c.Addons.LoadBalancer.Enabled && c.Gateway.Enabled && c.Gateway.AWSLoadBalancer {
		a.Gateway.ProxyAnnotations = addons.ProxyAnnotations(c.Addons.LoadBalancer)
		// The NLB connects from its subnets, inside the VPC.
		a.Gateway.ProxyProtocolFrom = []string{c.Network.CIDR}
	}
	if c.Addons.Certificates.Enabled {
		ad.TLS = nil
		if c.Gateway.Enabled {
			// One certificate for the API host, in the first route's
			// namespace: Kong's certificates are global, matched by SNI,
			// and its ingress controller collects them from every
			// Ingress's tls section (KIC v3.5.13 translate_ingress.go,
			// mergeCerts in translate_certs.go serves one certificate per
			// SNI), so the first route's Ingress serves it for every
			// route, and Let's Encrypt gets one order per region, not one
			// per routed namespace.
			for _, r := range c.Gateway.Routes {
				for _, s := range c.Services {
					if s.Name == r.Service && a.Gateway.TLSNamespace == "" {
						a.Gateway.TLSNamespace = s.Namespace
						ad.TLS = append(ad.TLS, addons.TLSCertificate{Name: APITLSSecret, Namespace: s.Namespace, Hosts: []string{a.Gateway.Host}})
					}
				}
			}
			a.Gateway.TLSSecret = APITLSSecret
			if c.Identity.Enabled {
				ad.TLS = append(ad.TLS, addons.TLSCertificate{Name: AuthTLSSecret, Namespace: c.Identity.Namespace, Hosts: []string{a.Identity.Hostname}})
				a.Identity.TLSSecret = AuthTLSSecret
			}
		}
		if c.GitOps.Enabled {
			ad.TLS = append(ad.TLS, addons.TLSCertificate{Name: ArgoCDTLSSecret, Namespace: c.GitOps.Namespace, Hosts: []string{a.GitOps.Hostname}})
			a.GitOps.TLSSecret = ArgoCDTLSSecret
		}
	}
	if c.Addons.Backups.Enabled {
		ad.BackupNamespaces = nil
		for _, n := range a.Namespaces.Namespaces {
			if n.Tier == namespaces.TierPlatform || n.Tier == namespaces.TierService {
				ad.BackupNamespaces = append(ad.BackupNamespaces, n.Name)
			}
		}
	}
}

// addonNamespaces are the namespaces of the enabled add-ons (kube-system
// exists on every cluster).
func (c Config) addonNamespaces() []string {
	var out []string
	if c.Addons.Certificates.Enabled {
		out = append(out, addons.CertManagerNamespace)
	}
	if c.Addons.DNS.Enabled {
		out = append(out, addons.ExternalDNSNamespace)
	}
	if c.Addons.Backups.Enabled {
		out = append(out, addons.VeleroNamespace)
	}
	return out
}
