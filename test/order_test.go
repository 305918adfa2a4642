package test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/addons"
	"github.com/bac-platform/infra/stacks/mockengine"
)

// TestNothingKubernetesStartsBeforeTheNodes: on every AWS stack, every
// Kubernetes object goes through the cluster's kubernetes provider, and
// that provider waits for every node group and the add-ons that run on
// the nodes. So no chart's pods wait for nodes while its webhooks already
// intercept other objects, and every workload-bearing release starts on a
// cluster with nodes. Read off the plan's dependency graph.
func TestNothingKubernetesStartsBeforeTheNodes(t *testing.T) {
	for _, name := range awsStackNames(t) {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			m := run.mocks
			var k8s []mockengine.Resource
			for _, r := range m.ByType("pulumi:providers:kubernetes") {
				if r.Name == run.config.Cluster.Name {
					k8s = append(k8s, r)
				}
			}
			if len(k8s) != 1 {
				t.Fatalf("%d kubernetes providers named for the cluster, want 1", len(k8s))
			}
			provider := k8s[0]
			groups := m.ByType("eks:index:ManagedNodeGroup")
			if len(groups) == 0 {
				t.Fatal("no node groups")
			}
			for _, g := range groups {
				if !slices.Contains(provider.DependsOn, g.URN) {
					t.Errorf("the kubernetes provider does not wait for node group %s", g.Name)
				}
			}
			for _, a := range m.ByType("aws:eks/addon:Addon") {
				if name := a.Input("addonName"); (name == "coredns" || name == "eks-pod-identity-agent") && !slices.Contains(provider.DependsOn, a.URN) {
					t.Errorf("the kubernetes provider does not wait for the %s add-on", name)
				}
			}
			for _, r := range m.Resources() {
				if strings.HasPrefix(r.Type, "kubernetes:") && !strings.HasPrefix(r.Provider, provider.URN+"::") {
					t.Errorf("%s %s does not use the cluster's kubernetes provider (%s)", r.Type, r.Name, r.Provider)
				}
			}
		})
	}
}

// TestNoLoadBalancerWebhookInterceptsOtherObjects: the load balancer
// controller's chart is installed without its Service mutator and Ingress
// validator, the two webhooks that match other releases' objects with
// failurePolicy Fail (addons.loadBalancerValues says why); Kong's proxy
// Service stays the controller's by its annotations (TestAddonsOnEveryAWSStack).
func TestNoLoadBalancerWebhookInterceptsOtherObjects(t *testing.T) {
	for _, name := range awsStackNames(t) {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			lbc := find(t, run.mocks, "kubernetes:helm.sh/v3:Release", "addons-"+addons.ReleaseLoadBalancer)
			if got := lbc.Input("values.enableServiceMutatorWebhook"); got != false {
				t.Errorf("enableServiceMutatorWebhook = %v, want false", got)
			}
			if got := lbc.Input("values.webhookConfig.disableIngressValidation"); got != true {
				t.Errorf("webhookConfig.disableIngressValidation = %v, want true", got)
			}
		})
	}
}

// podKinds are the kinds whose objects create pods, directly or through a
// chart.
var podKinds = []string{"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:StatefulSet",
	"kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", "kubernetes:helm.sh/v3:Release"}

// TestEveryInjectedPodStartsAfterIstiod: on every stack with the mesh,
// every object that creates pods in a namespace labelled for sidecar
// injection waits for the istiod release (whose readiness is the injection
// webhook's), so no pod there starts without its sidecar. Pods created
// before the webhook exists are never injected (istio's injector is a
// pod-CREATE mutating webhook), which a STRICT mesh turns into refused
// connections or, for a pod outside the mesh policies, no mTLS at all.
func TestEveryInjectedPodStartsAfterIstiod(t *testing.T) {
	for _, name := range stackNames(t) {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			if !run.config.Mesh.Enabled {
				t.Skip("no mesh")
			}
			m := run.mocks
			istiod, ok := m.Find("kubernetes:helm.sh/v3:Release", "mesh-istiod")
			if !ok {
				t.Fatal("the mesh does not install istiod itself: Argo CD would race the workloads")
			}
			injected := map[string]bool{}
			for _, ns := range m.ByType("kubernetes:core/v1:Namespace") {
				if ns.Input("metadata.labels.istio-injection") == "enabled" {
					injected[planString(ns.Input("metadata.name"))] = true
				}
			}
			if len(injected) == 0 {
				t.Fatal("no namespace is labelled for injection")
			}
			checked := 0
			for _, kind := range podKinds {
				for _, r := range m.ByType(kind) {
					ns := planString(r.Input("metadata.namespace"))
					if kind == "kubernetes:helm.sh/v3:Release" {
						ns = planString(r.Input("namespace"))
					}
					if !injected[ns] {
						continue
					}
					checked++
					if !slices.Contains(r.DependsOn, istiod.URN) {
						t.Errorf("%s %s in injected namespace %s does not wait for istiod", kind, r.Name, ns)
					}
				}
			}
			if checked == 0 {
				t.Error("no pod-creating object in an injected namespace: the test checks nothing")
			}
		})
	}
}

// planString is a plan value as a string ("" when absent).
func planString(v any) string {
	s, _ := v.(string)
	return s
}
