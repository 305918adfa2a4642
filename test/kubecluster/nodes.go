package kubecluster

import (
	"context"
	"fmt"
	"slices"

	"github.com/bac-platform/infra/components/cluster"
	"github.com/bac-platform/infra/stacks"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// GPUResource is the extended resource the NVIDIA device plugin advertises.
const GPUResource corev1.ResourceName = "nvidia.com/gpu"

// instance is what a node of an EC2 instance type offers to pods.
type instance struct {
	vCPU, memoryGiB int
	// maxPods is the VPC CNI's limit without prefix delegation
	// (ENIs × (IPv4 addresses per ENI − 1) + 2).
	maxPods int
	gpus    int
}

// instances are the EC2 types the stacks' node pools use (vCPU, memory and
// GPUs from the EC2 instance type pages; max pods from the VPC CNI's
// eni-max-pods table). A pool of any other type fails the tests until it is
// added here.
var instances = map[string]instance{
	"m6i.2xlarge": {vCPU: 8, memoryGiB: 32, maxPods: 58},
	"c6i.4xlarge": {vCPU: 16, memoryGiB: 32, maxPods: 234},
	"r6i.2xlarge": {vCPU: 8, memoryGiB: 64, maxPods: 58},
	"g5.4xlarge":  {vCPU: 16, memoryGiB: 64, maxPods: 234, gpus: 1},
}

// localNode is the single node of the local stack's laptop cluster (kind or
// minikube with their defaults on a 4-core, 8 GiB laptop).
var localNode = instance{vCPU: 4, memoryGiB: 8, maxPods: 110}

// Nodes returns Node objects mirroring the stack's cluster: for an AWS
// stack, DesiredSize nodes per pool with the pool's labels, taints and the
// first instance type's allocatable resources (GPUs included), spread over
// the stack's zones with the labels EKS sets; for an existing cluster one
// untainted node.
func Nodes(cfg stacks.Config) ([]*corev1.Node, error) {
	if cfg.ExistingCluster() {
		return []*corev1.Node{node("local-0", localNode, map[string]string{"kubernetes.io/hostname": "local-0"}, nil)}, nil
	}
	zones := cfg.Network.AvailabilityZones
	if len(zones) == 0 {
		return nil, fmt.Errorf("stack %s has no availability zones", cfg.Cluster.Name)
	}
	var nodes []*corev1.Node
	for _, key := range cfg.Cluster.PoolKeys() {
		pool := cfg.Cluster.NodePools[key]
		if len(pool.InstanceTypes) == 0 {
			return nil, fmt.Errorf("node pool %s has no instance type", key)
		}
		it, ok := instances[pool.InstanceTypes[0]]
		if !ok {
			return nil, fmt.Errorf("node pool %s: instance type %s is not in kubecluster's table", key, pool.InstanceTypes[0])
		}
		for i := range pool.DesiredSize {
			name := fmt.Sprintf("%s-%d", pool.NodeGroupName, i)
			labels := map[string]string{
				"kubernetes.io/hostname":           name,
				"eks.amazonaws.com/nodegroup":      pool.NodeGroupName,
				"node.kubernetes.io/instance-type": pool.InstanceTypes[0],
				"topology.kubernetes.io/region":    cfg.Region,
				"topology.kubernetes.io/zone":      zones[i%len(zones)],
			}
			for k, v := range pool.Labels {
				labels[k] = v
			}
			nodes = append(nodes, node(name, it, labels, pool.Taints))
		}
	}
	return nodes, nil
}

// node builds a Ready node. Allocatable is capacity less what the EKS
// AMIs reserve for the kubelet and system (kube-reserved CPU by the
// per-core percentages, 255 MiB + 11 MiB per pod of memory) and the
// 100 MiB hard eviction threshold.
func node(name string, it instance, labels map[string]string, taints []cluster.Taint) *corev1.Node {
	labels["kubernetes.io/os"] = "linux"
	labels["kubernetes.io/arch"] = "amd64"
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(it.vCPU), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(it.memoryGiB)<<30, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(int64(it.maxPods), resource.DecimalSI),
	}
	reservedMiB := int64(255 + 11*it.maxPods + 100)
	allocatable := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(it.vCPU)*1000-reservedCPU(it.vCPU), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(it.memoryGiB)<<30-reservedMiB<<20, resource.BinarySI),
		corev1.ResourcePods:   capacity[corev1.ResourcePods],
	}
	if it.gpus > 0 {
		gpus := *resource.NewQuantity(int64(it.gpus), resource.DecimalSI)
		capacity[GPUResource], allocatable[GPUResource] = gpus, gpus
	}
	var ts []corev1.Taint
	for _, t := range taints {
		ts = append(ts, corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)})
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{KWOKNodeAnnotation: "fake"}},
		Spec:       corev1.NodeSpec{Taints: ts},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: allocatable,
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
		},
	}
}

// reservedCPU is the kube-reserved CPU in millicores the EKS AMIs set: 6%
// of the first core, 1% of the second, 0.5% of the third and fourth, 0.25%
// of every further core.
func reservedCPU(cores int) int64 {
	var m float64
	for c := 1; c <= cores; c++ {
		switch {
		case c == 1:
			m += 60
		case c == 2:
			m += 10
		case c <= 4:
			m += 5
		default:
			m += 2.5
		}
	}
	return int64(m)
}

// notReadyTaint is the taint the API server's TaintNodesByCondition
// admission plugin puts on every new Node (plugin/pkg/admission/nodetaint
// at v1.35.4); the node lifecycle controller lifts it once the kubelet
// reports Ready. No controller manager runs here, so AddNodes lifts it.
const notReadyTaint = "node.kubernetes.io/not-ready"

// AddNodes creates nodes with their status, as a kubelet would register
// them, and lifts the not-ready taint as the node lifecycle controller would.
func (c *Cluster) AddNodes(ctx context.Context, nodes []*corev1.Node) error {
	api := c.Clientset.CoreV1().Nodes()
	for _, n := range nodes {
		created, err := api.Create(ctx, n, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		// KWOK (and the node lifecycle controller) update the node too:
		// each write starts from the node as it is now and is retried
		// when another writer got there first ("the object has been
		// modified").
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			current, err := api.Get(ctx, created.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			current.Spec.Taints = slices.DeleteFunc(current.Spec.Taints, func(t corev1.Taint) bool { return t.Key == notReadyTaint })
			_, err = api.Update(ctx, current, metav1.UpdateOptions{})
			return err
		}); err != nil {
			return fmt.Errorf("node %s: lifting %s: %w", n.Name, notReadyTaint, err)
		}
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			current, err := api.Get(ctx, created.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			current.Status = n.Status
			_, err = api.UpdateStatus(ctx, current, metav1.UpdateOptions{})
			return err
		}); err != nil {
			return fmt.Errorf("node %s status: %w", n.Name, err)
		}
	}
	return nil
}
