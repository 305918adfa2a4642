// Package namespaces creates the namespaces the platform relies on, each
// labelled name=<namespace> (the NetworkPolicies select namespaces by that
// label) and with its tier; those whose workloads join the mesh are labelled
// for Istio sidecar injection.
package namespaces

import (
	"fmt"
	"sort"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/validate"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TierLabel holds a namespace's tier; the compliance gate finds the
// business services' namespaces by it.
const TierLabel = "bac-platform.io/tier"

// Tiers of namespaces.
const (
	// TierPlatform holds the platform's own workloads.
	TierPlatform = "platform"
	// TierService holds one business service.
	TierService = "service"
	// TierPeer holds workloads the platform does not deploy but whose
	// namespace its policies name (data services, AI services).
	TierPeer = "peer"
)

// Namespace is one namespace to create.
type Namespace struct {
	Name string
	// Tier is TierPlatform, TierService or TierPeer.
	Tier string
	// MeshInjection labels the namespace istio-injection=enabled.
	MeshInjection bool
}

// Args lists the namespaces to create. The stack derives them from the
// enabled components.
type Args struct {
	Namespaces []Namespace
}

// Namespaces are the created namespaces by name.
type Namespaces struct {
	pulumi.ResourceState

	// ByName maps a namespace name to its resource, for DependsOn.
	ByName map[string]*corev1.Namespace
}

// Validate checks the names and tiers and that no namespace is listed twice.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	seen := map[string]bool{}
	for i, n := range a.Namespaces {
		p := fmt.Sprintf("%s[%d]", path, i)
		kube.ValidateName(&ps, p+".name", n.Name)
		if n.Tier != TierPlatform && n.Tier != TierService && n.Tier != TierPeer {
			ps.Add(p+".tier", "%q is not one of %s, %s, %s", n.Tier, TierPlatform, TierService, TierPeer)
		}
		if seen[n.Name] {
			ps.Add(p+".name", "%q is listed twice", n.Name)
		}
		seen[n.Name] = true
	}
	return ps
}

// NewNamespaces creates the namespaces; the kubernetes provider comes from opts.
func NewNamespaces(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Namespaces, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	n := &Namespaces{ByName: map[string]*corev1.Namespace{}}
	if err := ctx.RegisterComponentResource("bac:namespaces:Namespaces", name, n, opts...); err != nil {
		return nil, err
	}
	for _, ns := range args.Namespaces {
		labels := map[string]string{"name": ns.Name, TierLabel: ns.Tier}
		if ns.MeshInjection {
			labels["istio-injection"] = "enabled"
		}
		meta := kube.Metadata(ns.Name, "", labels)
		meta.Namespace = nil
		res, err := corev1.NewNamespace(ctx, ns.Name, &corev1.NamespaceArgs{Metadata: meta}, pulumi.Parent(n))
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", ns.Name, err)
		}
		n.ByName[ns.Name] = res
	}
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{}); err != nil {
		return nil, err
	}
	return n, nil
}

// All returns every namespace resource sorted by name, for DependsOn.
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
