package kubecluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bac-platform/infra/test/kubecluster"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// scheduleTimeout is how long the scheduler may take to decide on every pod
// of a stack (it decides in well under a second each; the margin is for a
// loaded machine).
const scheduleTimeout = 3 * time.Minute

// TestTheSchedulerPlacesEveryWorkload lets the real kube-scheduler place the
// pods of every stack's workloads on nodes that mirror its node pools:
// every pod must land: each replica fits a node it tolerates, and the
// DaemonSet's pod fits and tolerates every node (the tainted compute, memory
// and GPU pools included).
func TestTheSchedulerPlacesEveryWorkload(t *testing.T) {
	all := plans(t)
	c := kubecluster.Start(t)
	c.StartScheduler(t)
	ctx := context.Background()
	for _, p := range all {
		t.Run(p.name, func(t *testing.T) {
			nodes, err := kubecluster.Nodes(p.config)
			if err != nil {
				t.Fatal(err)
			}
			pods, err := kubecluster.Pods(p.objects, nodes)
			if err != nil {
				t.Fatal(err)
			}
			if len(pods) == 0 {
				t.Fatal("the plan has no workload pods")
			}
			placements := place(ctx, t, c, p, nodes, pods)
			perWorkload := map[string]int{}
			for _, pl := range placements {
				w := pl.Pod.Annotations[kubecluster.WorkloadAnnotation]
				if pl.Node == "" {
					t.Errorf("%s: pod %s/%s pending: %s", w, pl.Pod.Namespace, pl.Pod.Name, pl.Reason)
					continue
				}
				perWorkload[w]++
			}
			t.Logf("%d pods of %d workloads placed on %d nodes", len(pods), len(perWorkload), len(nodes))
		})
	}
}

// TestTheSchedulerLeavesWhatCannotRunPending is the check's own proof: on the
// production node pools, a pod larger than any node and a GPU pod that
// does not tolerate the GPU pool's taint stay pending with the scheduler's
// reason, while the same GPU pod with the toleration lands on a GPU node.
func TestTheSchedulerLeavesWhatCannotRunPending(t *testing.T) {
	prod := planOf(t, plans(t), "prod-us-east-1")
	c := kubecluster.Start(t)
	c.StartScheduler(t)
	ctx := context.Background()
	nodes, err := kubecluster.Nodes(prod.config)
	if err != nil {
		t.Fatal(err)
	}
	gpuTaint := corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	cases := []struct {
		name       string
		requests   corev1.ResourceList
		toleration []corev1.Toleration
		// wantNodePrefix is the node group the pod must land in; empty
		// means it must stay pending with wantReason.
		wantNodePrefix, wantReason string
	}{
		{"larger than any node", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64")}, nil, "", "Insufficient cpu"},
		{"gpu without the toleration", corev1.ResourceList{kubecluster.GPUResource: resource.MustParse("1")}, nil, "", "untolerated taint"},
		{"gpu with the toleration", corev1.ResourceList{kubecluster.GPUResource: resource.MustParse("1")}, []corev1.Toleration{gpuTaint}, "gpu-nodes-", ""},
	}
	var pods []*corev1.Pod
	for i, tc := range cases {
		pods = append(pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "probe-" + string(rune('a'+i)), Namespace: metav1.NamespaceDefault},
			Spec: corev1.PodSpec{
				Containers:  []corev1.Container{{Name: "probe", Image: "registry.k8s.io/pause:3.10", Resources: corev1.ResourceRequirements{Requests: tc.requests, Limits: tc.requests}}},
				Tolerations: tc.toleration,
			},
		})
	}
	placements := place(ctx, t, c, prod, nodes, pods)
	for i, tc := range cases {
		got := placements[i]
		switch {
		case tc.wantNodePrefix != "" && !strings.HasPrefix(got.Node, tc.wantNodePrefix):
			t.Errorf("%s: placed on %q (%s), want a %s* node", tc.name, got.Node, got.Reason, tc.wantNodePrefix)
		case tc.wantNodePrefix == "" && got.Node != "":
			t.Errorf("%s: placed on %s, want it pending", tc.name, got.Node)
		case tc.wantNodePrefix == "" && !strings.Contains(got.Reason, tc.wantReason):
			t.Errorf("%s: pending because %q, want %q", tc.name, got.Reason, tc.wantReason)
		}
	}
}

// place adds a stack's nodes and namespaces, lets the scheduler decide on
// pods, and removes nodes and pods again so the next stack starts from an
// empty cluster.
func place(ctx context.Context, t *testing.T, c *kubecluster.Cluster, p stackPlan, nodes []*corev1.Node, pods []*corev1.Pod) []kubecluster.Placement {
	t.Helper()
	createNamespaces(ctx, t, c, p.objects)
	t.Cleanup(func() {
		if err := c.Reset(context.Background()); err != nil {
			t.Errorf("resetting the cluster: %v", err)
		}
	})
	if err := c.AddNodes(ctx, nodes); err != nil {
		t.Fatal(err)
	}
	placements, err := c.Schedule(ctx, pods, scheduleTimeout)
	if err != nil {
		t.Fatal(err)
	}
	return placements
}
