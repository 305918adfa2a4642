package kubecluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Pods returns the pods the workload controllers would create for the
// plan's objects on nodes, without a controller manager: Deployment and
// StatefulSet replicas, one pod of each CronJob and Job, and for a
// DaemonSet one pod per node with the node affinity the DaemonSet
// controller gives it (pkg/controller/daemon/util at v1.35.4), so the
// scheduler decides whether the pod tolerates and fits that node.
func Pods(objects []Object, nodes []*corev1.Node) ([]*corev1.Pod, error) {
	var pods []*corev1.Pod
	for _, o := range objects {
		var templatePath []string
		replicas := int64(1)
		switch o.GroupVersionKind().GroupKind().String() {
		case "Deployment.apps", "StatefulSet.apps":
			templatePath = []string{"spec", "template"}
			if r, found, err := unstructured.NestedFieldNoCopy(o.Object, "spec", "replicas"); err == nil && found {
				n, ok := r.(float64)
				if !ok {
					return nil, fmt.Errorf("%s: spec.replicas is %T", o.URN, r)
				}
				replicas = int64(n)
			}
		case "Job.batch":
			templatePath = []string{"spec", "template"}
		case "CronJob.batch":
			templatePath = []string{"spec", "jobTemplate", "spec", "template"}
		case "DaemonSet.apps":
			templatePath = []string{"spec", "template"}
			replicas = int64(len(nodes))
		default:
			continue
		}
		raw, found, err := unstructured.NestedMap(o.Object, templatePath...)
		if err != nil || !found {
			return nil, fmt.Errorf("%s: no pod template (%v)", o.URN, err)
		}
		var tmpl corev1.PodTemplateSpec
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(raw, &tmpl, true); err != nil {
			return nil, fmt.Errorf("%s: pod template: %w", o.URN, err)
		}
		for i := range replicas {
			pod := &corev1.Pod{ObjectMeta: *tmpl.ObjectMeta.DeepCopy(), Spec: *tmpl.Spec.DeepCopy()}
			pod.Name = fmt.Sprintf("%s-%d", o.GetName(), i)
			pod.Namespace = o.GetNamespace()
			pod.Annotations = mergeMaps(pod.Annotations, map[string]string{WorkloadAnnotation: o.GetKind() + "/" + o.GetName()})
			if o.GetKind() == "DaemonSet" {
				pinToNode(pod, nodes[i].Name)
			}
			pods = append(pods, pod)
		}
	}
	return pods, nil
}

// WorkloadAnnotation names, on a pod Pods made, the workload it stands for.
const WorkloadAnnotation = "test.bac.dev/workload"

// pinToNode requires the pod on one node by name, as the DaemonSet
// controller does (a required node affinity on the metadata.name field).
func pinToNode(pod *corev1.Pod, node string) {
	term := corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{
		Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node},
	}}}
	if pod.Spec.Affinity == nil {
		pod.Spec.Affinity = &corev1.Affinity{}
	}
	pod.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{term}},
	}
}

func mergeMaps(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// Placement is where the scheduler put a pod, or why it did not.
type Placement struct {
	Pod *corev1.Pod
	// Node is the node the pod is bound to; empty when it is pending.
	Node string
	// Reason is the scheduler's message for a pending pod.
	Reason string
}

// Schedule creates the pods and waits until the scheduler has decided on
// each: bound to a node, or marked unschedulable. It returns the placements
// in the order of pods.
func (c *Cluster) Schedule(ctx context.Context, pods []*corev1.Pod, timeout time.Duration) ([]Placement, error) {
	for _, p := range pods {
		if _, err := c.Clientset.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	placements := make([]Placement, len(pods))
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Alive(); err != nil {
			return false, err
		}
		list, err := c.Clientset.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		current := make(map[string]*corev1.Pod, len(list.Items))
		for i := range list.Items {
			current[list.Items[i].Namespace+"/"+list.Items[i].Name] = &list.Items[i]
		}
		decided := true
		for i, p := range pods {
			got, ok := current[p.Namespace+"/"+p.Name]
			if !ok {
				return false, fmt.Errorf("pod %s/%s is gone", p.Namespace, p.Name)
			}
			placements[i] = Placement{Pod: got, Node: got.Spec.NodeName}
			if got.Spec.NodeName != "" {
				continue
			}
			if cond := scheduledCondition(got); cond != nil && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
				placements[i].Reason = cond.Message
				continue
			}
			decided = false
		}
		return decided, nil
	})
	if err != nil {
		return placements, fmt.Errorf("waiting for the scheduler: %w", err)
	}
	return placements, nil
}

func scheduledCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// Reset removes every pod and node, so a test can place another stack's
// pods on another stack's nodes. Pods go at once (grace period 0): no
// kubelet would confirm their end.
func (c *Cluster) Reset(ctx context.Context) error {
	namespaces, err := c.Clientset.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	now := metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}
	for _, ns := range namespaces.Items {
		if err := c.Clientset.CoreV1().Pods(ns.Name).DeleteCollection(ctx, now, metav1.ListOptions{}); err != nil {
			return fmt.Errorf("pods in %s: %w", ns.Name, err)
		}
	}
	if err := c.Clientset.CoreV1().Nodes().DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		return fmt.Errorf("nodes: %w", err)
	}
	return nil
}
