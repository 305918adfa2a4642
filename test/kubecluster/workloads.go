package kubecluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Unavailable is a workload that did not become available, and why: its
// pods' states and the events of it and of what it owns.
type Unavailable struct {
	Workload string
	Status   string
	Why      []string
}

// WaitAvailable waits until every Deployment, StatefulSet and DaemonSet in
// the cluster is available as the kubernetes provider's await logic judges
// it (the controller observed the latest generation; every replica, or
// every scheduled daemon pod, updated and available), and returns those
// that are not when the timeout ends. A DaemonSet that schedules no pod at
// all counts as unavailable: every stack's DaemonSets are meant to run.
func (c *Cluster) WaitAvailable(ctx context.Context, timeout time.Duration) ([]Unavailable, error) {
	var pending []Unavailable
	err := wait.PollUntilContextTimeout(ctx, 2*time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Alive(); err != nil {
			return false, err
		}
		var err error
		pending, err = c.unavailable(ctx)
		return err == nil && len(pending) == 0, err
	})
	if err != nil && !wait.Interrupted(err) {
		return nil, err
	}
	for i := range pending {
		pending[i].Why = c.why(ctx, pending[i].Workload)
	}
	return pending, nil
}

func (c *Cluster) unavailable(ctx context.Context) ([]Unavailable, error) {
	apps := c.Clientset.AppsV1()
	var out []Unavailable
	deployments, err := apps.Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, d := range deployments.Items {
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s := d.Status
		if d.Generation > s.ObservedGeneration || s.UpdatedReplicas < want || s.AvailableReplicas < want {
			out = append(out, Unavailable{Workload: "Deployment/" + d.Namespace + "/" + d.Name,
				Status: fmt.Sprintf("%d of %d available", s.AvailableReplicas, want)})
		}
	}
	statefulSets, err := apps.StatefulSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, s := range statefulSets.Items {
		want := int32(1)
		if s.Spec.Replicas != nil {
			want = *s.Spec.Replicas
		}
		if s.Generation > s.Status.ObservedGeneration || s.Status.ReadyReplicas < want {
			out = append(out, Unavailable{Workload: "StatefulSet/" + s.Namespace + "/" + s.Name,
				Status: fmt.Sprintf("%d of %d ready", s.Status.ReadyReplicas, want)})
		}
	}
	daemonSets, err := apps.DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, d := range daemonSets.Items {
		if !daemonSetAvailable(d) {
			out = append(out, Unavailable{Workload: "DaemonSet/" + d.Namespace + "/" + d.Name,
				Status: fmt.Sprintf("%d of %d scheduled available", d.Status.NumberAvailable, d.Status.DesiredNumberScheduled)})
		}
	}
	return out, nil
}

func daemonSetAvailable(d appsv1.DaemonSet) bool {
	s := d.Status
	return d.Generation <= s.ObservedGeneration && s.DesiredNumberScheduled > 0 &&
		s.UpdatedNumberScheduled == s.DesiredNumberScheduled && s.NumberAvailable == s.DesiredNumberScheduled
}

// why gathers what the cluster says about a workload "Kind/namespace/name":
// warning events in its namespace (a ReplicaSet's FailedCreate says which
// admission check refused its pods) and every pod of it that is not Ready.
func (c *Cluster) why(ctx context.Context, workload string) []string {
	parts := strings.SplitN(workload, "/", 3)
	if len(parts) != 3 {
		return nil
	}
	ns, name := parts[1], parts[2]
	var out []string
	if events, err := c.Clientset.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, e := range events.Items {
			if e.Type == corev1.EventTypeWarning && strings.HasPrefix(e.InvolvedObject.Name, name) {
				out = append(out, fmt.Sprintf("event %s %s: %s", e.InvolvedObject.Kind, e.Reason, e.Message))
			}
		}
	}
	if pods, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			if !strings.HasPrefix(p.Name, name) || podReady(p) {
				continue
			}
			state := string(p.Status.Phase)
			for _, cond := range p.Status.Conditions {
				if cond.Status != corev1.ConditionTrue && cond.Message != "" {
					state += fmt.Sprintf("; %s: %s", cond.Type, cond.Message)
				}
			}
			out = append(out, fmt.Sprintf("pod %s on %q: %s", p.Name, p.Spec.NodeName, state))
		}
	}
	sort.Strings(out)
	return out
}

func podReady(p corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
