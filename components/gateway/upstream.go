package gateway

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/services"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TenantAffinityName names the object that keeps a tenant on one pod (a
// DestinationRule in the mesh, a KongUpstreamPolicy outside it).
const TenantAffinityName = "tenant-affinity"

// Annotation keys KIC 3.5 reads (internal/annotations/annotations.go at
// v3.5.13). service-upstream keeps its pre-konghq.com prefix: KIC
// recognises only ingress.kubernetes.io/service-upstream.
const (
	AnnotationPlugins         = "konghq.com/plugins"
	AnnotationStripPath       = "konghq.com/strip-path"
	AnnotationPreserveHost    = "konghq.com/preserve-host"
	AnnotationProtocols       = "konghq.com/protocols"
	AnnotationMethods         = "konghq.com/methods"
	AnnotationServiceUpstream = "ingress.kubernetes.io/service-upstream"
	AnnotationHostHeader      = "konghq.com/host-header"
	AnnotationUpstreamPolicy  = "konghq.com/upstream-policy"
	AnnotationConnectTimeout  = "konghq.com/connect-timeout"
	AnnotationReadTimeout     = "konghq.com/read-timeout"
	AnnotationWriteTimeout    = "konghq.com/write-timeout"
)

// IngressAnnotations are the annotations of a route's Ingress: its plugins
// and, for a tenant-affinity route, crmUpstream's route settings. In the
// mesh no route preserves the client's Host (see CRMUpstream.PreserveHost);
// KIC preserves it by default, so it is turned off explicitly.
func IngressAnnotations(a Args, r Route) map[string]string {
	out := map[string]string{AnnotationPlugins: strings.Join(r.Plugins, ",")}
	if a.InMesh {
		out[AnnotationPreserveHost] = "false"
	}
	if r.TenantAffinity {
		up := a.CRMUpstream
		out[AnnotationStripPath] = strconv.FormatBool(up.StripPath)
		out[AnnotationPreserveHost] = strconv.FormatBool(up.PreserveHost && !a.InMesh)
		out[AnnotationProtocols] = strings.Join(up.Protocols, ",")
		out[AnnotationMethods] = strings.Join(up.Methods, ",")
	}
	return out
}

// ServiceAnnotations are the annotations each routed business service's
// own Kubernetes Service needs, by service name. Those Services belong to
// the services' charts, so the annotations reach them through GitOps (the
// service Applications' Helm values, service.annotations).
//
// In the mesh, Kong calls the Service address (service-upstream) with the
// Service's DNS name as Host, so its sidecar recognises the destination,
// applies the DestinationRule and speaks mTLS; calling pod IPs, Kong's
// default, bypasses both. A tenant-affinity service carries crmUpstream's
// timeouts, and outside the mesh the KongUpstreamPolicy that hashes on the
// tenant header.
func ServiceAnnotations(a Args) map[string]map[string]string {
	if !a.Enabled {
		return nil
	}
	byName := map[string]services.Service{}
	for _, s := range a.Services {
		byName[s.Name] = s
	}
	out := map[string]map[string]string{}
	for _, r := range a.Routes {
		svc, ok := byName[r.Service]
		if !ok {
			continue
		}
		ann := out[svc.Name]
		if ann == nil {
			ann = map[string]string{}
			out[svc.Name] = ann
		}
		if a.InMesh {
			ann[AnnotationServiceUpstream] = "true"
			ann[AnnotationHostHeader] = svc.Host()
		}
		if r.TenantAffinity {
			ms := strconv.Itoa(a.CRMUpstream.TimeoutMs)
			ann[AnnotationConnectTimeout], ann[AnnotationReadTimeout], ann[AnnotationWriteTimeout] = ms, ms, ms
			if !a.InMesh {
				ann[AnnotationUpstreamPolicy] = TenantAffinityName
			}
		}
	}
	return out
}

// tenantAffinity keeps each tenant on one pod of every tenant-affinity
// route's service. With service-upstream Kong's upstream has one target,
// the Service address (KIC 3.5.13 translate_upstreams.go getEndpoints), so
// hashing in Kong would choose nothing: in the mesh the caller's sidecar
// hashes (DestinationRule consistentHash.httpHeaderName, istio.io/api
// networking/v1 at 1.29.2). Outside the mesh Kong balances across pod IPs
// and a KongUpstreamPolicy (configuration.konghq.com/v1beta1) hashes.
func tenantAffinity(ctx *pulumi.Context, name string, a Args, byName map[string]services.Service, opts ...pulumi.ResourceOption) error {
	for _, r := range a.Routes {
		if !r.TenantAffinity {
			continue
		}
		svc := byName[r.Service]
		args := &apiextensions.CustomResourceArgs{Metadata: kube.Metadata(TenantAffinityName, svc.Namespace, nil)}
		if a.InMesh {
			args.ApiVersion, args.Kind = pulumi.String("networking.istio.io/v1"), pulumi.String("DestinationRule")
			args.OtherFields = kubernetes.UntypedArgs{"spec": map[string]any{
				"host": svc.Host(),
				"trafficPolicy": map[string]any{"loadBalancer": map[string]any{
					"consistentHash": map[string]any{"httpHeaderName": a.CRMUpstream.HashOnHeader}}},
			}}
		} else {
			args.ApiVersion, args.Kind = pulumi.String("configuration.konghq.com/v1beta1"), pulumi.String("KongUpstreamPolicy")
			args.OtherFields = kubernetes.UntypedArgs{"spec": map[string]any{
				"algorithm": "consistent-hashing",
				"hashOn":    map[string]any{"header": a.CRMUpstream.HashOnHeader},
			}}
		}
		if _, err := apiextensions.NewCustomResource(ctx, name+"-"+r.Service+"-"+TenantAffinityName, args, opts...); err != nil {
			return fmt.Errorf("%s tenant affinity: %w", r.Service, err)
		}
	}
	return nil
}
