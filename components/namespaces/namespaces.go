// Package namespaces creates the namespaces the platform owns, labelled
// name=<namespace> (the NetworkPolicies select namespaces by that label) and,
// for business services, for Istio sidecar injection.
package namespaces

import (
	"fmt"
	"slices"
	"sort"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/validate"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TierLabel marks a namespace "platform" or "service" (business service).
const TierLabel = "bac-platform.io/tier"

// Platform are the namespaces of the platform's own workloads.
var Platform = []string{"api-gateway", "auth", "istio-system", "argocd", "security", "monitoring"}

// Args lists the namespaces to create.
type Args struct {
	// Platform namespaces hold platform workloads (no sidecar injection for istio-system).
	Platform []string
	// Services are the business services' namespaces, labelled for Istio injection.
	Services []string
	// MeshInjection labels the service namespaces (and api-gateway) istio-injection=enabled.
	MeshInjection bool
}

// Namespaces are the created namespaces by name.
type Namespaces struct {
	pulumi.ResourceState

	// ByName maps a namespace name to its resource, for DependsOn.
	ByName map[string]*corev1.Namespace
}

// Validate checks the names.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	for i, n := range append(append([]string{}, a.Platform...), a.Services...) {
		kube.ValidateName(&ps, fmt.Sprintf("%s[%d]", path, i), n)
	}
	return ps
}

// NewNamespaces creates the namespaces; the kubernetes provider comes from opts.
func NewNamespaces(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Namespaces, error) {
	if err := args.Validate("namespaces").Err(); err != nil {
		return nil, err
	}
	n := &Namespaces{ByName: map[string]*corev1.Namespace{}}
	if err := ctx.RegisterComponentResource("bac:namespaces:Namespaces", name, n, opts...); err != nil {
		return nil, err
	}
	inject := map[string]bool{}
	if args.MeshInjection {
		inject["api-gateway"] = true
		for _, s := range args.Services {
			inject[s] = true
		}
	}
	all := append(append([]string{}, args.Platform...), args.Services...)
	sort.Strings(all)
	for _, ns := range all {
		if _, done := n.ByName[ns]; done {
			continue
		}
		// The compliance gate finds business namespaces by their tier.
		labels := map[string]string{"name": ns, TierLabel: "platform"}
		if slices.Contains(args.Services, ns) {
			labels[TierLabel] = "service"
		}
		if inject[ns] {
			labels["istio-injection"] = "enabled"
		}
		meta := kube.Metadata(ns, "", labels)
		meta.Namespace = nil
		res, err := corev1.NewNamespace(ctx, ns, &corev1.NamespaceArgs{Metadata: meta}, pulumi.Parent(n))
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", ns, err)
		}
		n.ByName[ns] = res
	}
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{}); err != nil {
		return nil, err
	}
	return n, nil
}

// All returns every namespace resource, for DependsOn.
func (n *Namespaces) All() []pulumi.Resource {
	names := make([]string, 0, len(n.ByName))
	for k := range n.ByName {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]pulumi.Resource, len(names))
	for i, k := range names {
		out[i] = n.ByName[k]
	}
	return out
}
