package kubecluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bac-platform/infra/policies/rules"
	"github.com/bac-platform/infra/test/kubecluster"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// availableTimeout bounds how long a stack's workloads may take to become
// available on KWOK nodes (seconds on an idle machine; the margin is for a
// loaded 2-core one).
const availableTimeout = 4 * time.Minute

// TestWorkloadsBecomeAvailable creates every object of a stack for real in
// a cluster with the real controller manager, scheduler and KWOK nodes that
// mirror the stack's node pools, and with the ServiceAccount admission
// plugin on: every Deployment, StatefulSet and DaemonSet must become
// available, so the controllers create their pods (service accounts exist,
// the stack's own admission policies admit them), the scheduler places them
// (tolerations, selectors, requests against the pools) and they turn Ready.
// Then workloads that cannot run must stay unavailable, with the cluster's
// reason: the check can fail.
func TestWorkloadsBecomeAvailable(t *testing.T) {
	all := plans(t)
	for _, name := range []string{"local", "prod-us-east-1"} {
		t.Run(name, func(t *testing.T) {
			p := planOf(t, all, name)
			ctx := context.Background()
			c := kubecluster.Start(t, kubecluster.WithServiceAccountAdmission())
			c.StartScheduler(t)
			c.StartWorkloadControllers(t)
			nodes, err := kubecluster.Nodes(p.config)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.AddNodes(ctx, nodes); err != nil {
				t.Fatal(err)
			}
			workloads := applyAll(ctx, t, c, p.objects)
			if workloads == 0 {
				t.Fatal("the plan has no Deployment, StatefulSet or DaemonSet")
			}
			start := time.Now()
			pending, err := c.WaitAvailable(ctx, availableTimeout)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range pending {
				t.Errorf("%s not available (%s):\n  %s", u.Workload, u.Status, strings.Join(u.Why, "\n  "))
			}
			t.Logf("%d workloads available on %d KWOK nodes in %s", workloads, len(nodes), time.Since(start).Round(time.Second))
			if name == "prod-us-east-1" && len(pending) == 0 {
				workloadsThatCannotRun(ctx, t, c, p)
			}
		})
	}
}

// applyAll creates the plan's objects for real (namespaces first; what
// cert-manager's chart would define is not judged, as in the dry run) and
// returns how many workloads it created.
func applyAll(ctx context.Context, t *testing.T, c *kubecluster.Cluster, objects []kubecluster.Object) int {
	t.Helper()
	createNamespaces(ctx, t, c, objects)
	workloads := 0
	for _, o := range objects {
		if strings.HasPrefix(o.GetAPIVersion(), "cert-manager.io/") || o.GetKind() == "Namespace" {
			continue
		}
		if _, err := c.Apply(ctx, o.Unstructured, kubecluster.ApplyOptions{}); err != nil {
			t.Errorf("%s (%s %s/%s): %v", o.URN, o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		switch o.GetKind() {
		case "Deployment", "StatefulSet", "DaemonSet":
			workloads++
		}
	}
	return workloads
}

// workloadsThatCannotRun adds, next to the production stack's workloads,
// Deployments that a real cluster would never make available, each for one
// reason, and checks each stays unavailable with the cluster's own words.
func workloadsThatCannotRun(ctx context.Context, t *testing.T, c *kubecluster.Cluster, p stackPlan) {
	t.Helper()
	ns := businessNamespace(t, p.objects)
	cases := []struct {
		name   string
		mutate func(*corev1.PodSpec)
		want   string
	}{
		{"mutable image tag, refused by the stack's admission policy", func(s *corev1.PodSpec) {
			s.Containers[0].Image = "registry.example.com/app:latest"
		}, "supply-chain-pinned-images"},
		{"service account that does not exist", func(s *corev1.PodSpec) {
			s.ServiceAccountName = "nobody"
		}, `serviceaccount "nobody" not found`},
		{"more memory than any node of the pools has", func(s *corev1.PodSpec) {
			q := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("512Gi")}
			s.Containers[0].Resources = corev1.ResourceRequirements{Requests: q, Limits: q}
		}, "Insufficient memory"},
	}
	names := make([]string, len(cases))
	for i, tc := range cases {
		names[i] = "cannot-run-" + string(rune('a'+i))
		spec := compliantPodSpec()
		tc.mutate(&spec)
		labels := map[string]string{"app": names[i]}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: names[i], Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
				Strategy: appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: ptrTo(intstr.FromInt32(0))}},
			},
		}
		if _, err := c.Clientset.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	pending, err := c.WaitAvailable(ctx, 45*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		var got *kubecluster.Unavailable
		for j := range pending {
			if pending[j].Workload == "Deployment/"+ns+"/"+names[i] {
				got = &pending[j]
			}
		}
		switch {
		case got == nil:
			t.Errorf("%s: became available", tc.name)
		case !strings.Contains(strings.Join(got.Why, "\n"), tc.want):
			t.Errorf("%s: unavailable, but the cluster does not say %q:\n  %s", tc.name, tc.want, strings.Join(got.Why, "\n  "))
		}
	}
	if len(pending) != len(cases) {
		t.Errorf("%d workloads unavailable, want only the %d broken ones: %v", len(pending), len(cases), pending)
	}
}

// compliantPodSpec is a pod that every admission policy of the stack admits.
func compliantPodSpec() corev1.PodSpec {
	q := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")}
	return corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptrTo(true), RunAsUser: ptrTo(int64(10001)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{
			Name: "app", Image: "registry.example.com/app:1.2.3",
			Resources: corev1.ResourceRequirements{Requests: q, Limits: q},
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptrTo(false), Privileged: ptrTo(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
		}},
	}
}

// businessNamespace is a namespace of the plan labelled as a business
// service tier, where every admission policy applies.
func businessNamespace(t *testing.T, objects []kubecluster.Object) string {
	t.Helper()
	for _, o := range objects {
		if o.GetKind() == "Namespace" && o.GetLabels()[rules.ServiceTierLabel] == "service" {
			return o.GetName()
		}
	}
	t.Fatal("the plan has no business-service namespace")
	return ""
}

func ptrTo[T any](v T) *T { return &v }
