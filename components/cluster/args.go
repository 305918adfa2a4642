// Package cluster builds the regional EKS cluster on pulumi-eks: the control
// plane (private endpoint, restricted public endpoint, KMS envelope
// encryption, control-plane logs, access entries, IRSA), the four managed node
// pools of the architecture document (section 3.1) and the managed add-ons.
package cluster

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/validate"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures the cluster. Its JSON form is a stack config value.
type Args struct {
	// Name is the EKS cluster name, e.g. bac-prod-us-east-1.
	Name string `json:"name"`
	// Version is the Kubernetes minor version, e.g. "1.33".
	Version string `json:"version"`
	// PublicAccessCIDRs may reach the public API endpoint (seed: the office /32).
	// Empty turns the public endpoint off; the private endpoint is always on.
	PublicAccessCIDRs []string `json:"publicAccessCidrs"`
	// AdminRoleARNs are IAM roles granted cluster-admin through access entries.
	AdminRoleARNs []string `json:"adminRoleArns"`
	// DeployRoleARN is the role every `pulumi up` runs as (the deploy
	// workflow's), the first one included: it creates the cluster, and EKS
	// makes the creator cluster-admin itself, so it gets no access entry
	// from the stack (creator.go); an up as another principal is refused.
	DeployRoleARN string `json:"deployRoleArn"`
	// PreviewRoleARN is the role pull-request previews run as: read-only
	// (AmazonEKSViewPolicy).
	PreviewRoleARN string `json:"previewRoleArn"`
	// RunnerCIDRs are the deploying runners' egress addresses; they join
	// PublicAccessCIDRs on the public endpoint. Empty when the runners sit
	// in the VPC and use the private endpoint.
	RunnerCIDRs []string `json:"runnerCidrs"`
	// LogRetentionDays is how long control-plane logs are kept in CloudWatch.
	LogRetentionDays int `json:"logRetentionDays"`
	// NodePools are the managed node groups by pool key (general, compute, memory, gpu).
	NodePools map[string]NodePool `json:"nodePools"`
	// AddonVersions pins managed add-on versions by add-on name; an add-on not
	// listed gets the default version EKS pairs with the cluster's Kubernetes version.
	AddonVersions map[string]string `json:"addonVersions"`
	// NetworkPolicyEnforcement turns on the vpc-cni network policy agent:
	// without it EKS stores NetworkPolicies but enforces none.
	NetworkPolicyEnforcement bool `json:"networkPolicyEnforcement"`
	// Kubeconfig (a secret in the stack's config) targets an existing
	// cluster: the stack then skips the network and EKS layers and deploys
	// the platform onto it.
	Kubeconfig string `json:"kubeconfig"`

	// VpcID, PrivateSubnetIDs and PublicSubnetIDs come from the network. Set by the stack.
	VpcID            pulumi.StringInput      `json:"-"`
	PrivateSubnetIDs pulumi.StringArrayInput `json:"-"`
	PublicSubnetIDs  pulumi.StringArrayInput `json:"-"`
	// Tags are applied to every taggable resource. Set by the stack.
	Tags map[string]string `json:"-"`
}

// NodePool is one EKS managed node group.
type NodePool struct {
	// NodeGroupName is the node group's name in EKS (seed: general-purpose, ...).
	NodeGroupName string `json:"nodeGroupName"`
	// InstanceTypes are the EC2 instance types, first preferred.
	InstanceTypes []string `json:"instanceTypes"`
	// MinSize, DesiredSize and MaxSize bound the group's node count.
	MinSize     int `json:"minSize"`
	DesiredSize int `json:"desiredSize"`
	MaxSize     int `json:"maxSize"`
	// Autoscaled says a node autoscaler owns the group's desired size:
	// Pulumi then leaves DesiredSize alone after creating the group, and an
	// up never resets what the autoscaler chose.
	Autoscaled bool `json:"autoscaled"`
	// Labels are Kubernetes node labels.
	Labels map[string]string `json:"labels"`
	// Taints are Kubernetes node taints.
	Taints []Taint `json:"taints"`
	// DiskSizeGiB is the root volume size.
	DiskSizeGiB int `json:"diskSize"`
	// DiskType is the EBS volume type (gp3 in the seed).
	DiskType string `json:"diskType"`
	// DiskIOPS and DiskThroughputMiBps tune gp3 volumes; 0 keeps the gp3
	// baseline (3000 IOPS, 125 MiB/s).
	DiskIOPS            int `json:"diskIops"`
	DiskThroughputMiBps int `json:"diskThroughput"`
	// AMIType is the EKS AMI type (AL2023_x86_64_STANDARD, AL2023_x86_64_NVIDIA, ...).
	AMIType string `json:"amiType"`
}

// Taint is a Kubernetes node taint.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Effect string `json:"effect"`
}

// Defaults. Node pool values are the architecture document's (section 3.1).
const (
	// DefaultKubernetesVersion is in EKS standard support: 1.35 was released
	// on EKS on 2026-01-28 and is supported until 2027-03-27. The seed's 1.28
	// left standard support in November 2024.
	DefaultKubernetesVersion = "1.35"
	// MinKubernetesVersion is the oldest minor version accepted (1.34, in
	// standard support until 2026-12-02); older ones are past EKS standard
	// support and cost extended-support fees. Raise it as versions age out.
	MinKubernetesVersion = 34
	// DefaultLogRetentionDays keeps control-plane (audit) logs for a year.
	DefaultLogRetentionDays = 365
	// AMITypeStandard is Amazon Linux 2023 for x86_64.
	AMITypeStandard = "AL2023_x86_64_STANDARD"
	// AMITypeNvidia is Amazon Linux 2023 with the NVIDIA driver, for GPU pools.
	AMITypeNvidia = "AL2023_x86_64_NVIDIA"
)

// LogTypes are the control-plane log types shipped to CloudWatch: all five.
var LogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// Addons are the EKS managed add-ons every cluster runs. The EKS Pod
// Identity agent hands the platform add-ons' Pod Identity associations
// their credentials.
var Addons = []string{"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", PodIdentityAgent}

// PodIdentityAgent is the EKS Pod Identity agent add-on.
const PodIdentityAgent = "eks-pod-identity-agent"

// DefaultNodePools returns the seed's four pools.
func DefaultNodePools() map[string]NodePool {
	return map[string]NodePool{
		"general": {
			NodeGroupName: "general-purpose", InstanceTypes: []string{"m6i.2xlarge"},
			MinSize: 10, DesiredSize: 30, MaxSize: 100,
			Labels:      map[string]string{"role": "general"},
			Taints:      []Taint{},
			DiskSizeGiB: 200, DiskType: "gp3", DiskIOPS: 3000, DiskThroughputMiBps: 250,
			AMIType: AMITypeStandard,
		},
		"compute": {
			NodeGroupName: "compute-optimized", InstanceTypes: []string{"c6i.4xlarge"},
			MinSize: 5, DesiredSize: 10, MaxSize: 50,
			Labels:      map[string]string{"role": "compute"},
			Taints:      []Taint{{Key: "compute", Value: "true", Effect: "NoSchedule"}},
			DiskSizeGiB: 500, DiskType: "gp3",
			AMIType: AMITypeStandard,
		},
		"memory": {
			NodeGroupName: "memory-optimized", InstanceTypes: []string{"r6i.2xlarge"},
			MinSize: 5, DesiredSize: 10, MaxSize: 30,
			Labels:      map[string]string{"role": "memory"},
			Taints:      []Taint{{Key: "memory", Value: "true", Effect: "NoSchedule"}},
			DiskSizeGiB: 500, DiskType: "gp3",
			AMIType: AMITypeStandard,
		},
		"gpu": {
			NodeGroupName: "gpu-nodes", InstanceTypes: []string{"g5.4xlarge"},
			MinSize: 0, DesiredSize: 2, MaxSize: 20,
			Labels:      map[string]string{"role": "gpu", "nvidia.com/gpu": "true"},
			Taints:      []Taint{{Key: "nvidia.com/gpu", Value: "true", Effect: "NoSchedule"}},
			DiskSizeGiB: 1000, DiskType: "gp3",
			AMIType: AMITypeNvidia,
		},
	}
}

// DefaultArgs returns the seed's cluster for name.
func DefaultArgs(name string) Args {
	return Args{
		Name:              name,
		Version:           DefaultKubernetesVersion,
		PublicAccessCIDRs: []string{},
		AdminRoleARNs:     []string{},
		RunnerCIDRs:       []string{},
		LogRetentionDays:  DefaultLogRetentionDays,
		NodePools:         DefaultNodePools(),
		AddonVersions:     map[string]string{},
		// The seed's zero-trust NetworkPolicies only work when enforced.
		NetworkPolicyEnforcement: true,
	}
}

// PoolKeys returns the node pool keys in a stable order.
func (a Args) PoolKeys() []string {
	keys := make([]string, 0, len(a.NodePools))
	for k := range a.NodePools {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// taintEffects maps the Kubernetes taint effects to the EKS API's names.
var taintEffects = map[string]string{
	"NoSchedule":       "NO_SCHEDULE",
	"PreferNoSchedule": "PREFER_NO_SCHEDULE",
	"NoExecute":        "NO_EXECUTE",
}

var (
	clusterName = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$`)
	amiTypes    = []string{AMITypeStandard, AMITypeNvidia, "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NEURON", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA"}
)

// Validate returns every problem in the args, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !clusterName.MatchString(a.Name) {
		ps.Add(path+".name", "%q is not a valid EKS cluster name (1-100 letters, digits, - or _, starting with a letter or digit)", a.Name)
	}
	a.validateVersion(&ps, path+".version")
	for i, c := range a.PublicAccessCIDRs {
		validate.PublicCIDR(&ps, fmt.Sprintf("%s.publicAccessCidrs[%d]", path, i), c)
	}
	for i, c := range a.RunnerCIDRs {
		validate.PublicCIDR(&ps, fmt.Sprintf("%s.runnerCidrs[%d]", path, i), c)
	}
	for _, field := range []struct{ name, arn string }{{"deployRoleArn", a.DeployRoleARN}, {"previewRoleArn", a.PreviewRoleARN}} {
		if field.arn != "" {
			validateRoleARN(&ps, path+"."+field.name, field.arn)
		}
	}
	if a.DeployRoleARN != "" && a.DeployRoleARN == a.PreviewRoleARN {
		ps.Add(path+".previewRoleArn", "is the deploy role; previews need their own read-only role")
	}
	admins := map[string]int{}
	for i, arn := range a.AdminRoleARNs {
		p := fmt.Sprintf("%s.adminRoleArns[%d]", path, i)
		validateRoleARN(&ps, p, arn)
		if first, dup := admins[arn]; dup {
			ps.Add(p, "%q is also adminRoleArns[%d]; EKS refuses a second access entry for one principal", arn, first)
		} else if arn == a.DeployRoleARN {
			ps.Add(p, "%q is the deploy role, the cluster's creator, which EKS already makes cluster-admin; EKS refuses a second access entry (ResourceInUseException)", arn)
		} else if arn == a.PreviewRoleARN && arn != "" {
			ps.Add(p, "%q already has an access entry as the preview role; EKS refuses a second one", arn)
		}
		admins[arn] = i
	}
	validate.Retention(&ps, path+".logRetentionDays", a.LogRetentionDays)
	for _, name := range slices.Sorted(maps.Keys(a.AddonVersions)) {
		if !slices.Contains(Addons, name) {
			ps.Add(path+".addonVersions."+name, "unknown add-on; the cluster runs %s", strings.Join(Addons, ", "))
			continue
		}
		validateAddonVersion(&ps, path+".addonVersions."+name, a.AddonVersions[name])
	}
	if v, pinned := a.AddonVersions["vpc-cni"]; pinned && a.NetworkPolicyEnforcement && !vpcCNIWithNetworkPolicy(v) {
		ps.Add(path+".addonVersions.vpc-cni", "%q predates network policy enforcement (vpc-cni v1.14.0); pin v1.14 or newer or turn networkPolicyEnforcement off", v)
	}
	switch n := len(a.NodePools); {
	case n == 0:
		ps.Add(path+".nodePools", "at least one node pool is required")
	case n > MaxNodeGroups:
		ps.Add(path+".nodePools", "%d pools exceed EKS's %d managed node groups per cluster", n, MaxNodeGroups)
	}
	groupNames := map[string]string{}
	for _, key := range a.PoolKeys() {
		pool := a.NodePools[key]
		poolPath := path + ".nodePools." + key
		kube.ValidateLabelKey(&ps, poolPath, key)
		ps.Extend(pool.Validate(poolPath))
		if other, dup := groupNames[pool.NodeGroupName]; dup && pool.NodeGroupName != "" {
			ps.Add(poolPath+".nodeGroupName", "%q is also used by pool %q", pool.NodeGroupName, other)
		}
		groupNames[pool.NodeGroupName] = key
	}
	return ps
}

// Validate returns every problem in the pool; path is its config path.
func (p NodePool) Validate(path string) validate.Problems {
	var ps validate.Problems
	if p.NodeGroupName == "" {
		ps.Add(path+".nodeGroupName", "is required")
	} else if !nodeGroupName.MatchString(p.NodeGroupName) {
		ps.Add(path+".nodeGroupName", "%q is not an EKS node group name prefix (1-%d letters, digits, - or _, starting with a letter or digit)", p.NodeGroupName, maxNodeGroupPrefix)
	}
	if len(p.InstanceTypes) == 0 {
		ps.Add(path+".instanceTypes", "at least one instance type is required")
	}
	seen := map[string]bool{}
	for i, t := range p.InstanceTypes {
		if seen[t] {
			ps.Add(fmt.Sprintf("%s.instanceTypes[%d]", path, i), "%q is listed twice", t)
		}
		seen[t] = true
	}
	p.validateInstanceTypes(&ps, path)
	if p.MinSize < 0 {
		ps.Add(path, "minSize %d < 0", p.MinSize)
	}
	if p.MaxSize < 1 {
		ps.Add(path, "maxSize %d < 1 (EKS requires at least 1)", p.MaxSize)
	}
	if p.MaxSize > MaxNodesPerGroup {
		ps.Add(path, "maxSize %d > %d, the nodes EKS allows in one managed node group; split the pool", p.MaxSize, MaxNodesPerGroup)
	}
	if p.MinSize > p.MaxSize {
		ps.Add(path, "minSize %d > maxSize %d", p.MinSize, p.MaxSize)
	}
	if p.DesiredSize < p.MinSize {
		ps.Add(path, "desiredSize %d < minSize %d", p.DesiredSize, p.MinSize)
	}
	if p.DesiredSize > p.MaxSize {
		ps.Add(path, "desiredSize %d > maxSize %d", p.DesiredSize, p.MaxSize)
	}
	kube.ValidateLabels(&ps, path+".labels", p.Labels)
	if len(p.Taints) > MaxTaints {
		ps.Add(path+".taints", "%d taints exceed EKS's %d per node group", len(p.Taints), MaxTaints)
	}
	taints := map[string]int{}
	for i, t := range p.Taints {
		tPath := fmt.Sprintf("%s.taints[%d]", path, i)
		if t.Key == "" {
			ps.Add(tPath+".key", "is required")
		} else {
			kube.ValidateLabelKey(&ps, tPath+".key", t.Key)
		}
		if t.Value != "" {
			kube.ValidateLabelValue(&ps, tPath+".value", t.Value)
		}
		if _, ok := taintEffects[t.Effect]; !ok {
			ps.Add(tPath+".effect", "%q is not a Kubernetes taint effect (NoSchedule, PreferNoSchedule, NoExecute)", t.Effect)
		}
		if first, dup := taints[t.Key+":"+t.Effect]; dup {
			ps.Add(tPath, "key %q with effect %s is also taints[%d]; Kubernetes allows one taint per key and effect", t.Key, t.Effect, first)
		}
		taints[t.Key+":"+t.Effect] = i
	}
	p.validateVolume(&ps, path)
	if !slices.Contains(amiTypes, p.AMIType) {
		ps.Add(path+".amiType", "%q is not one of %s", p.AMIType, strings.Join(amiTypes, ", "))
	}
	return ps
}

// maxNodeGroupPrefix is the longest nodeGroupName: EKS node group names
// are at most 63 characters, and the group is named by prefix (the name,
// "-" and the provider's 26-character unique suffix).
const maxNodeGroupPrefix = 36

var nodeGroupName = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]{0,35}$`)

// vpcCNIWithNetworkPolicy reports whether a vpc-cni add-on version
// (v1.19.2-eksbuild.1) has the network policy agent: v1.14.0 and later
// (amazon-vpc-cni-k8s v1.14.0 added enableNetworkPolicy).
func vpcCNIWithNetworkPolicy(version string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(version, "v%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 1 || (major == 1 && minor >= 14)
}

// EndpointCIDRs are the addresses the public API endpoint admits: the
// operators' and the deploying runners'.
func (a Args) EndpointCIDRs() []string {
	var out []string
	for _, c := range append(slices.Clone(a.PublicAccessCIDRs), a.RunnerCIDRs...) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
