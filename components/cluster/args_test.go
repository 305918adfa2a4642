package cluster

import (
	"reflect"
	"strings"
	"testing"
)

// TestDefaultNodePoolsAreTheSeeds pins the four pools of the architecture
// document, section 3.1 (min/desired/max, instance type, disk, labels, taints).
func TestDefaultNodePoolsAreTheSeeds(t *testing.T) {
	want := map[string]NodePool{
		"general": {"general-purpose", []string{"m6i.2xlarge"}, 10, 30, 100, false, map[string]string{"role": "general"},
			[]Taint{}, 200, "gp3", 3000, 250, "AL2023_x86_64_STANDARD"},
		"compute": {"compute-optimized", []string{"c6i.4xlarge"}, 5, 10, 50, false, map[string]string{"role": "compute"},
			[]Taint{{"compute", "true", "NoSchedule"}}, 500, "gp3", 0, 0, "AL2023_x86_64_STANDARD"},
		"memory": {"memory-optimized", []string{"r6i.2xlarge"}, 5, 10, 30, false, map[string]string{"role": "memory"},
			[]Taint{{"memory", "true", "NoSchedule"}}, 500, "gp3", 0, 0, "AL2023_x86_64_STANDARD"},
		"gpu": {"gpu-nodes", []string{"g5.4xlarge"}, 0, 2, 20, false, map[string]string{"role": "gpu", "nvidia.com/gpu": "true"},
			[]Taint{{"nvidia.com/gpu", "true", "NoSchedule"}}, 1000, "gp3", 0, 0, "AL2023_x86_64_NVIDIA"},
	}
	if got := DefaultNodePools(); !reflect.DeepEqual(got, want) {
		t.Fatalf("DefaultNodePools() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDefaultArgsAreValidAndCurrent(t *testing.T) {
	a := DefaultArgs("bac-prod-us-east-1")
	if ps := a.Validate("bac:cluster"); len(ps) != 0 {
		t.Fatalf("defaults invalid: %v", ps)
	}
	if a.Version == "1.28" {
		t.Fatal("the seed's 1.28 is past EKS standard support and must not be the default")
	}
	if !reflect.DeepEqual(LogTypes, []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}) {
		t.Fatalf("log types = %v", LogTypes)
	}
}

func TestValidateNamesEveryProblemWithItsPath(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *Args)
		want   []string
	}{
		{"min greater than max", func(a *Args) { p := a.NodePools["compute"]; p.MinSize, p.MaxSize = 60, 50; a.NodePools["compute"] = p },
			[]string{"bac:cluster.nodePools.compute: minSize 60 > maxSize 50", "bac:cluster.nodePools.compute: desiredSize 10 < minSize 60"}},
		{"desired above max", func(a *Args) { p := a.NodePools["gpu"]; p.DesiredSize = 21; a.NodePools["gpu"] = p },
			[]string{"bac:cluster.nodePools.gpu: desiredSize 21 > maxSize 20"}},
		{"desired below min", func(a *Args) { p := a.NodePools["general"]; p.DesiredSize = 9; a.NodePools["general"] = p },
			[]string{"bac:cluster.nodePools.general: desiredSize 9 < minSize 10"}},
		{"negative min", func(a *Args) { p := a.NodePools["gpu"]; p.MinSize = -1; a.NodePools["gpu"] = p },
			[]string{"bac:cluster.nodePools.gpu: minSize -1 < 0"}},
		{"zero max", func(a *Args) { p := a.NodePools["gpu"]; p.MaxSize, p.DesiredSize = 0, 0; a.NodePools["gpu"] = p },
			[]string{"bac:cluster.nodePools.gpu: maxSize 0 < 1 (EKS requires at least 1)"}},
		{"no instance types", func(a *Args) { p := a.NodePools["memory"]; p.InstanceTypes = nil; a.NodePools["memory"] = p },
			[]string{"bac:cluster.nodePools.memory.instanceTypes: at least one instance type is required"}},
		{"bad instance type", func(a *Args) { p := a.NodePools["memory"]; p.InstanceTypes = []string{""}; a.NodePools["memory"] = p },
			[]string{`bac:cluster.nodePools.memory.instanceTypes[0]: "" is not an EC2 instance type (the AWS SDK's list of 1212 types); e.g. m6i.2xlarge`}},
		{"bad taint effect", func(a *Args) {
			p := a.NodePools["compute"]
			p.Taints = []Taint{{Key: "compute", Value: "true", Effect: "NO_SCHEDULE"}}
			a.NodePools["compute"] = p
		}, []string{`bac:cluster.nodePools.compute.taints[0].effect: "NO_SCHEDULE" is not a Kubernetes taint effect (NoSchedule, PreferNoSchedule, NoExecute)`}},
		{"taint without key", func(a *Args) {
			p := a.NodePools["compute"]
			p.Taints = []Taint{{Effect: "NoExecute"}}
			a.NodePools["compute"] = p
		}, []string{"bac:cluster.nodePools.compute.taints[0].key: is required"}},
		{"zero disk", func(a *Args) { p := a.NodePools["general"]; p.DiskSizeGiB = 0; a.NodePools["general"] = p },
			[]string{"bac:cluster.nodePools.general.diskSize: 0 GiB is outside gp3's 1-65536 GiB"}},
		{"unknown disk type", func(a *Args) { p := a.NodePools["compute"]; p.DiskType = "ssd"; a.NodePools["compute"] = p },
			[]string{`bac:cluster.nodePools.compute.diskType: "ssd" is not one of gp2, gp3, io1, io2`}},
		{"gp3 iops out of range", func(a *Args) { p := a.NodePools["general"]; p.DiskIOPS = 100; a.NodePools["general"] = p },
			[]string{"bac:cluster.nodePools.general.diskIops: 100 is outside gp3's 3000-80000"}},
		{"gp3 throughput out of range", func(a *Args) { p := a.NodePools["general"]; p.DiskThroughputMiBps = 2500; a.NodePools["general"] = p },
			[]string{"bac:cluster.nodePools.general.diskThroughput: 2500 MiB/s is outside gp3's 125-2000"}},
		{"unknown AMI type", func(a *Args) { p := a.NodePools["gpu"]; p.AMIType = "AL2_x86_64_GPU"; a.NodePools["gpu"] = p },
			[]string{`bac:cluster.nodePools.gpu.amiType: "AL2_x86_64_GPU" is not one of`}},
		{"duplicate node group name", func(a *Args) {
			p := a.NodePools["memory"]
			p.NodeGroupName = "compute-optimized"
			a.NodePools["memory"] = p
		},
			[]string{`bac:cluster.nodePools.memory.nodeGroupName: "compute-optimized" is also used by pool "compute"`}},
		{"no pools", func(a *Args) { a.NodePools = nil }, []string{"bac:cluster.nodePools: at least one node pool is required"}},
		{"seed version", func(a *Args) { a.Version = "1.28" },
			[]string{"bac:cluster.version: 1.28 is past EKS standard support; use 1.34 to 1.36 (default 1.35)"}},
		{"malformed version", func(a *Args) { a.Version = "v1.35.2" },
			[]string{`bac:cluster.version: "v1.35.2" is not a Kubernetes minor version like "1.35"`}},
		{"bad cluster name", func(a *Args) { a.Name = "bac prod" },
			[]string{`bac:cluster.name: "bac prod" is not a valid EKS cluster name`}},
		{"bad public CIDR", func(a *Args) { a.PublicAccessCIDRs = []string{"YOUR_OFFICE_IP/32"} },
			[]string{`bac:cluster.publicAccessCidrs[0]: "YOUR_OFFICE_IP/32" is not a CIDR block`}},
		{"bad admin role", func(a *Args) { a.AdminRoleARNs = []string{"arn:aws:iam::123:user/bob"} },
			[]string{`bac:cluster.adminRoleArns[0]: "arn:aws:iam::123:user/bob" is not an IAM role ARN`}},
		{"bad log retention", func(a *Args) { a.LogRetentionDays = 10 },
			[]string{"bac:cluster.logRetentionDays: 10 is not a CloudWatch Logs retention period"}},
		{"unknown add-on", func(a *Args) { a.AddonVersions = map[string]string{"cilium": "1.0"} },
			[]string{"bac:cluster.addonVersions.cilium: unknown add-on; the cluster runs vpc-cni, kube-proxy, coredns, aws-ebs-csi-driver"}},
		{"bad runner CIDR", func(a *Args) { a.RunnerCIDRs = []string{"10.0.0.1/16"} },
			[]string{`bac:cluster.runnerCidrs[0]: "10.0.0.1/16" has host bits set`}},
		{"one role for deploy and preview", func(a *Args) {
			a.DeployRoleARN, a.PreviewRoleARN = "arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:role/ci"
		}, []string{"bac:cluster.previewRoleArn: is the deploy role; previews need their own read-only role"}},
		{"deploy role not a role", func(a *Args) { a.DeployRoleARN = "arn:aws:iam::123456789012:user/ci" },
			[]string{`bac:cluster.deployRoleArn: "arn:aws:iam::123456789012:user/ci" is not an IAM role ARN`}},
		{"vpc-cni without network policies", func(a *Args) { a.AddonVersions = map[string]string{"vpc-cni": "v1.13.4-eksbuild.1"} },
			[]string{`bac:cluster.addonVersions.vpc-cni: "v1.13.4-eksbuild.1" predates network policy enforcement (vpc-cni v1.14.0)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := DefaultArgs("bac-prod-us-east-1")
			tt.mutate(&a)
			ps := a.Validate("bac:cluster")
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems %v, want %d: %v", len(ps), ps, len(tt.want), tt.want)
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(ps[i].String(), want) {
					t.Errorf("problem %d = %q, want prefix %q", i, ps[i], want)
				}
			}
		})
	}
}

func TestValidateCollectsProblemsAcrossPools(t *testing.T) {
	a := DefaultArgs("bac-prod-us-east-1")
	for _, k := range []string{"compute", "memory"} {
		p := a.NodePools[k]
		p.DiskSizeGiB = -1
		a.NodePools[k] = p
	}
	a.Version = "1.20"
	if ps := a.Validate("bac:cluster"); len(ps) != 3 {
		t.Fatalf("want all 3 problems at once, got %v", ps)
	}
}

func TestThroughputOnlyForGP3(t *testing.T) {
	a := DefaultArgs("bac-prod-us-east-1")
	p := a.NodePools["general"]
	p.DiskType = "io2"
	a.NodePools["general"] = p
	ps := a.Validate("bac:cluster")
	if len(ps) != 1 || ps[0].String() != "bac:cluster.nodePools.general.diskThroughput: only gp3 volumes take a throughput setting" {
		t.Fatalf("got %v", ps)
	}
}
