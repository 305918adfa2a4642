package kubecluster_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bac-platform/infra/components/security"
	"github.com/bac-platform/infra/policies/rules"
	"github.com/bac-platform/infra/test/kubecluster"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// policyTimeout bounds how long the API server takes to start enforcing a
// created or changed ValidatingAdmissionPolicy (its informers pick it up
// within about a second).
const policyTimeout = time.Minute

// TestAdmissionPoliciesJudgePods installs the production stack's
// ValidatingAdmissionPolicies and bindings in the real API server and sends
// it pods (server-side dry run): the server itself compiles and type-checks
// the CEL against the Pod schema and evaluates it. Every pod of the
// platform's own workloads is admitted; each broken pod is refused with the
// gate rule's name; the documented exceptions are admitted. Then the
// staging stack's bindings (warn and audit) replace production's: the same
// broken pod is admitted with the rule as a warning.
func TestAdmissionPoliciesJudgePods(t *testing.T) {
	all := plans(t)
	prod := planOf(t, all, "prod-us-east-1")
	c := kubecluster.Start(t)
	ctx := context.Background()
	createNamespaces(ctx, t, c, prod.objects)
	if n := applyKinds(ctx, t, c, prod.objects, "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"); n == 0 {
		t.Fatal("the production plan has no admission policy")
	}
	ns := businessNamespace(t, prod.objects)
	// One probe per policy: each binding takes effect on its own.
	privileged := compliantPodSpec()
	makePrivileged(&privileged.Containers[0])
	hostNetwork, latest, noLimits := compliantPodSpec(), compliantPodSpec(), compliantPodSpec()
	hostNetwork.HostNetwork = true
	latest.Containers[0].Image = "registry.example.com/app:latest"
	noLimits.Containers[0].Resources.Limits = nil
	for rule, spec := range map[string]corev1.PodSpec{
		"privilege-no-root-or-privileged": privileged, "privilege-no-host-namespaces": hostNetwork,
		"supply-chain-pinned-images": latest, "operability-requests-and-limits": noLimits,
	} {
		waitEnforced(ctx, t, c.Clientset, pod("probe", ns, spec), rule)
	}

	t.Run("the platform's own pods are admitted", func(t *testing.T) {
		nodes, err := kubecluster.Nodes(prod.config)
		if err != nil {
			t.Fatal(err)
		}
		pods, err := kubecluster.Pods(prod.objects, nodes)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods {
			if err := dryRunPod(ctx, c.Clientset, p); err != nil {
				t.Errorf("%s: %v", p.Annotations[kubecluster.WorkloadAnnotation], err)
			}
		}
		t.Logf("%d pods of the production plan admitted", len(pods))
	})

	platformNS := ""
	for _, o := range prod.objects {
		if o.GetKind() == "Namespace" && o.GetLabels()[rules.ServiceTierLabel] != "service" {
			platformNS = o.GetName()
			break
		}
	}
	// The one identity that may claim the privileged exception: the Wazuh
	// agent's service account in its namespace.
	agentNS := ""
	for _, o := range prod.objects {
		if o.GetKind() == "DaemonSet" && o.GetName() == security.AgentName {
			agentNS = o.GetNamespace()
		}
	}
	if agentNS != "" {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: security.AgentName, Namespace: agentNS}}
		if _, err := c.Clientset.CoreV1().ServiceAccounts(agentNS).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatalf("the agent's service account: %v", err)
		}
	}
	cases := []struct {
		name   string
		ns     string
		mutate func(p *corev1.Pod)
		// refusedBy is the rule the server must name; empty: admitted.
		refusedBy string
	}{
		{"compliant", ns, func(*corev1.Pod) {}, ""},
		{"privileged container", ns, func(p *corev1.Pod) {
			makePrivileged(&p.Spec.Containers[0])
		}, "privilege-no-root-or-privileged"},
		{"allowPrivilegeEscalation unset (defaults to true)", ns, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
		}, "privilege-no-root-or-privileged"},
		{"container running as root", ns, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.RunAsUser = ptrTo(int64(0))
		}, "privilege-no-root-or-privileged"},
		{"privileged init container", ns, func(p *corev1.Pod) {
			init := *p.Spec.Containers[0].DeepCopy()
			init.Name = "init"
			makePrivileged(&init)
			p.Spec.InitContainers = []corev1.Container{init}
		}, "privilege-no-root-or-privileged"},
		{"host network", ns, func(p *corev1.Pod) { p.Spec.HostNetwork = true }, "privilege-no-host-namespaces"},
		{"host IPC", ns, func(p *corev1.Pod) { p.Spec.HostIPC = true }, "privilege-no-host-namespaces"},
		{"latest image", ns, func(p *corev1.Pod) {
			p.Spec.Containers[0].Image = "registry.example.com/app:latest"
		}, "supply-chain-pinned-images"},
		{"image without a tag", ns, func(p *corev1.Pod) {
			p.Spec.Containers[0].Image = "registry.example.com/app"
		}, "supply-chain-pinned-images"},
		{"no limits in a business namespace", ns, func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits = nil
		}, "operability-requests-and-limits"},
		{"no limits in a platform namespace (business services only)", platformNS, func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits = nil
		}, ""},
		{"privileged with the exception, as the Wazuh agent's identity", agentNS, func(p *corev1.Pod) {
			makePrivileged(&p.Spec.Containers[0])
			p.Spec.HostNetwork = true
			p.Spec.ServiceAccountName = security.AgentName
			p.Annotations = map[string]string{rules.PrivilegedExceptionAnnotation: "host intrusion detection reads the host"}
		}, ""},
		// The exception belongs to an identity, not to whoever writes the
		// annotation: anywhere else the annotated pod is judged like any.
		{"privileged with the exception's annotation in a business namespace", ns, func(p *corev1.Pod) {
			makePrivileged(&p.Spec.Containers[0])
			p.Annotations = map[string]string{rules.PrivilegedExceptionAnnotation: "host intrusion detection reads the host"}
		}, "privilege-no-root-or-privileged"},
		{"host network with the exception's annotation as another account of the agent's namespace", agentNS, func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Annotations = map[string]string{rules.PrivilegedExceptionAnnotation: "host intrusion detection reads the host"}
		}, "privilege-no-host-namespaces"},
		{"privileged with an empty exception", ns, func(p *corev1.Pod) {
			makePrivileged(&p.Spec.Containers[0])
			p.Annotations = map[string]string{rules.PrivilegedExceptionAnnotation: " "}
		}, "privilege-no-root-or-privileged"},
		{"privileged in an exempt namespace", metav1.NamespaceSystem, func(p *corev1.Pod) {
			makePrivileged(&p.Spec.Containers[0])
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ns == "" {
				t.Fatal("the plan has no such namespace")
			}
			p := pod("case", tc.ns, compliantPodSpec())
			tc.mutate(p)
			err := dryRunPod(ctx, c.Clientset, p)
			switch {
			case tc.refusedBy == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refusedBy != "" && err == nil:
				t.Errorf("admitted, want it refused by %s", tc.refusedBy)
			case tc.refusedBy != "" && !strings.Contains(err.Error(), tc.refusedBy+": "):
				t.Errorf("refused with %q, want the rule %s named", err, tc.refusedBy)
			}
		})
	}

	t.Run("staging warns and admits", func(t *testing.T) {
		staging := planOf(t, all, "staging-us-east-1")
		applyKinds(ctx, t, c, staging.objects, "ValidatingAdmissionPolicyBinding")
		warnings := &warningLog{}
		cfg := rest.CopyConfig(c.Config)
		cfg.WarningHandler = warnings
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		waitEnforced(ctx, t, client, pod("probe", ns, privileged), "")
		if !warnings.has("privilege-no-root-or-privileged") {
			t.Errorf("the privileged pod was admitted without the rule's warning; warnings: %v", warnings.all())
		}
	})
}

// applyKinds creates the plan's objects of the given kinds for real and
// returns how many.
func applyKinds(ctx context.Context, t *testing.T, c *kubecluster.Cluster, objects []kubecluster.Object, kinds ...string) int {
	t.Helper()
	n := 0
	for _, o := range objects {
		for _, k := range kinds {
			if o.GetKind() != k {
				continue
			}
			if _, err := c.Apply(ctx, o.Unstructured, kubecluster.ApplyOptions{}); err != nil {
				t.Fatalf("%s %s: %v", k, o.GetName(), err)
			}
			n++
		}
	}
	return n
}

// waitEnforced waits until the API server refuses p naming rule, or, with
// rule empty, admits it: policies and bindings take effect shortly after
// they change.
func waitEnforced(ctx context.Context, t *testing.T, client kubernetes.Interface, p *corev1.Pod, rule string) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, policyTimeout, true, func(ctx context.Context) (bool, error) {
		last = dryRunPod(ctx, client, p)
		if rule == "" {
			return last == nil, nil
		}
		return last != nil && strings.Contains(last.Error(), rule+": "), nil
	})
	if err != nil {
		t.Fatalf("the policies did not take effect within %s (want %q; last answer: %v)", policyTimeout, rule, last)
	}
}

// makePrivileged makes a container privileged. Pod validation refuses a
// privileged container that also sets allowPrivilegeEscalation: false
// (pkg/apis/core/validation at v1.35.4), so it allows escalation too.
func makePrivileged(c *corev1.Container) {
	c.SecurityContext.Privileged, c.SecurityContext.AllowPrivilegeEscalation = ptrTo(true), ptrTo(true)
}

func pod(name, ns string, spec corev1.PodSpec) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
}

func dryRunPod(ctx context.Context, client kubernetes.Interface, p *corev1.Pod) error {
	_, err := client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}

// warningLog keeps the warnings the API server sends (the Warning headers
// a Warn binding produces).
type warningLog struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningLog) HandleWarningHeader(_ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warningLog) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func (w *warningLog) has(s string) bool {
	for _, m := range w.all() {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
