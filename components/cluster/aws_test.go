package cluster

import (
	"fmt"
	"strings"
	"testing"
)

// pool returns a mutation of one pool of the default args.
func pool(key string, change func(p *NodePool)) func(a *Args) {
	return func(a *Args) {
		p := a.NodePools[key]
		change(&p)
		a.NodePools[key] = p
	}
}

// TestAWSMeaning: values of the right shape that AWS or EKS would refuse,
// or accept and then fail with, each at its path.
func TestAWSMeaning(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *Args)
		want   []string
	}{
		{"instance type that does not exist", pool("general", func(p *NodePool) { p.InstanceTypes = []string{"m6i.3xlarge"} }),
			[]string{`bac:cluster.nodePools.general.instanceTypes[0]: "m6i.3xlarge" is not an EC2 instance type`}},
		{"misspelt family", pool("general", func(p *NodePool) { p.InstanceTypes = []string{"m9z.large"} }),
			[]string{`bac:cluster.nodePools.general.instanceTypes[0]: "m9z.large" is not an EC2 instance type`}},
		{"newer family than the pulumi-aws enum", pool("general", func(p *NodePool) {
			p.InstanceTypes, p.AMIType = []string{"m8g.2xlarge"}, "AL2023_ARM_64_STANDARD"
		}), nil},
		{"graviton on an x86 AMI", pool("general", func(p *NodePool) { p.InstanceTypes = []string{"m7g.2xlarge"} }),
			[]string{`bac:cluster.nodePools.general.instanceTypes[0]: "m7g.2xlarge" is arm64 but amiType AL2023_x86_64_STANDARD is built for x86_64`}},
		{"x86 on an ARM AMI", pool("compute", func(p *NodePool) { p.AMIType = "BOTTLEROCKET_ARM_64" }),
			[]string{`bac:cluster.nodePools.compute.instanceTypes[0]: "c6i.4xlarge" is x86_64 but amiType BOTTLEROCKET_ARM_64 is built for arm64`}},
		{"mixed architectures", pool("memory", func(p *NodePool) { p.InstanceTypes = []string{"r6i.2xlarge", "r6g.2xlarge"} }),
			[]string{`bac:cluster.nodePools.memory.instanceTypes[1]: "r6g.2xlarge" is arm64`}},
		{"NVIDIA AMI without a GPU", pool("gpu", func(p *NodePool) { p.InstanceTypes = []string{"c6i.4xlarge"} }),
			[]string{`bac:cluster.nodePools.gpu.instanceTypes[0]: "c6i.4xlarge" has no NVIDIA GPU but amiType AL2023_x86_64_NVIDIA is the NVIDIA AMI`}},
		{"AMD GPU on the NVIDIA AMI", pool("gpu", func(p *NodePool) { p.InstanceTypes = []string{"g4ad.4xlarge"} }),
			[]string{`bac:cluster.nodePools.gpu.instanceTypes[0]: "g4ad.4xlarge" has no NVIDIA GPU`}},
		{"GPU instance on the standard AMI", pool("general", func(p *NodePool) { p.InstanceTypes = []string{"g5.4xlarge"} }),
			[]string{`bac:cluster.nodePools.general.instanceTypes[0]: "g5.4xlarge" carries an NVIDIA GPU but amiType AL2023_x86_64_STANDARD has no driver for it`}},
		{"GPU label on the standard AMI", pool("gpu", func(p *NodePool) { p.InstanceTypes, p.AMIType = []string{"m6i.large"}, AMITypeStandard }),
			[]string{`bac:cluster.nodePools.gpu.amiType: "AL2023_x86_64_STANDARD" has no NVIDIA driver, but the pool is labelled or tainted nvidia.com/gpu`}},
		{"Neuron AMI on a GPU", pool("gpu", func(p *NodePool) { p.AMIType = "AL2023_x86_64_NEURON" }), []string{
			`bac:cluster.nodePools.gpu.instanceTypes[0]: "g5.4xlarge" has no AWS Neuron chip`,
			`bac:cluster.nodePools.gpu.amiType: "AL2023_x86_64_NEURON" has no NVIDIA driver`}},
		{"Neuron AMI on Inferentia", pool("general", func(p *NodePool) { p.InstanceTypes, p.AMIType = []string{"inf2.xlarge"}, "AL2023_x86_64_NEURON" }), nil},
		{"Mac instance", pool("general", func(p *NodePool) { p.InstanceTypes = []string{"mac2.metal"} }),
			[]string{`bac:cluster.nodePools.general.instanceTypes[0]: "mac2.metal" is a Mac instance`}},
		{"instance type twice", pool("general", func(p *NodePool) { p.InstanceTypes = []string{"m6i.2xlarge", "m6i.2xlarge"} }),
			[]string{`bac:cluster.nodePools.general.instanceTypes[1]: "m6i.2xlarge" is listed twice`}},

		{"gp3 above 500 IOPS per GiB", pool("general", func(p *NodePool) { p.DiskSizeGiB, p.DiskIOPS, p.DiskThroughputMiBps = 20, 12000, 0 }),
			[]string{"bac:cluster.nodePools.general.diskIops: 12000 exceeds gp3's 500 IOPS per GiB for 20 GiB (at most 10000)"}},
		{"gp3 throughput above its IOPS", pool("general", func(p *NodePool) { p.DiskThroughputMiBps = 1000 }),
			[]string{"bac:cluster.nodePools.general.diskThroughput: 1000 MiB/s needs at least 4000 IOPS (gp3 allows 0.25 MiB/s per IOPS; diskIops is 3000)"}},
		{"gp3 throughput on the baseline IOPS", pool("compute", func(p *NodePool) { p.DiskThroughputMiBps = 800 }),
			[]string{"bac:cluster.nodePools.compute.diskThroughput: 800 MiB/s needs at least 3200 IOPS"}},
		{"gp3 too large", pool("gpu", func(p *NodePool) { p.DiskSizeGiB = 70000 }),
			[]string{"bac:cluster.nodePools.gpu.diskSize: 70000 GiB is outside gp3's 1-65536 GiB"}},
		{"io2 without IOPS", pool("compute", func(p *NodePool) { p.DiskType = "io2" }),
			[]string{"bac:cluster.nodePools.compute.diskIops: is required for io2 volumes (100-256000)"}},
		{"io1 above 50 IOPS per GiB", pool("compute", func(p *NodePool) { p.DiskType, p.DiskIOPS = "io1", 30000 }),
			[]string{"bac:cluster.nodePools.compute.diskIops: 30000 exceeds io1's 50 IOPS per GiB for 500 GiB (at most 25000)"}},
		{"io1 too small", pool("compute", func(p *NodePool) { p.DiskType, p.DiskIOPS, p.DiskSizeGiB = "io1", 100, 2 }),
			[]string{"bac:cluster.nodePools.compute.diskSize: 2 GiB is outside io1's 4-16384 GiB"}},
		{"gp2 with IOPS", pool("compute", func(p *NodePool) { p.DiskType, p.DiskIOPS = "gp2", 3000 }),
			[]string{"bac:cluster.nodePools.compute.diskIops: gp2 volumes take no IOPS setting"}},

		{"more nodes than a node group holds", pool("general", func(p *NodePool) { p.MaxSize = 500 }),
			[]string{"bac:cluster.nodePools.general: maxSize 500 > 450, the nodes EKS allows in one managed node group"}},
		{"too many taints", pool("compute", func(p *NodePool) {
			p.Taints = nil
			for i := range 51 {
				p.Taints = append(p.Taints, Taint{Key: fmt.Sprintf("t%d", i), Value: "x", Effect: "NoSchedule"})
			}
		}), []string{"bac:cluster.nodePools.compute.taints: 51 taints exceed EKS's 50 per node group"}},
		{"node group name too long", pool("compute", func(p *NodePool) { p.NodeGroupName = strings.Repeat("c", 37) }),
			[]string{`bac:cluster.nodePools.compute.nodeGroupName: "` + strings.Repeat("c", 37) + `" is not an EKS node group name prefix (1-36`}},
		{"label key with a space", pool("general", func(p *NodePool) { p.Labels = map[string]string{"node role": "general"} }),
			[]string{`bac:cluster.nodePools.general.labels.node role: key "node role" is not a Kubernetes label key`}},
		{"label value too long", pool("general", func(p *NodePool) { p.Labels = map[string]string{"role": strings.Repeat("g", 64)} }),
			[]string{`bac:cluster.nodePools.general.labels.role: value "` + strings.Repeat("g", 64) + `" is not a Kubernetes label value`}},
		{"taint key not a label key", pool("compute", func(p *NodePool) {
			p.Taints = []Taint{{Key: "compute/nodes/only", Value: "true", Effect: "NoSchedule"}}
		}),
			[]string{`bac:cluster.nodePools.compute.taints[0].key: key "compute/nodes/only" is not a Kubernetes label key`}},
		{"taint value with a space", pool("compute", func(p *NodePool) { p.Taints = []Taint{{Key: "compute", Value: "yes please", Effect: "NoSchedule"}} }),
			[]string{`bac:cluster.nodePools.compute.taints[0].value: value "yes please" is not a Kubernetes label value`}},
		{"taint twice", pool("compute", func(p *NodePool) { p.Taints = append(p.Taints, p.Taints[0]) }),
			[]string{`bac:cluster.nodePools.compute.taints[1]: key "compute" with effect NoSchedule is also taints[0]`}},

		{"newest version", func(a *Args) { a.Version = "1.36" }, nil},
		{"version past the window", func(a *Args) { a.Version = "1.37" },
			[]string{"bac:cluster.version: 1.37 is newer than 1.36, the newest version this program is built and tested against"}},
		{"version with a leading zero", func(a *Args) { a.Version = "1.035" },
			[]string{`bac:cluster.version: "1.035" is not a Kubernetes minor version`}},
		{"add-on latest", func(a *Args) { a.AddonVersions = map[string]string{"coredns": "latest"} },
			[]string{`bac:cluster.addonVersions.coredns: "latest" is not an EKS add-on version like v1.19.2-eksbuild.1`}},
		{"add-on without its build", func(a *Args) { a.AddonVersions = map[string]string{"kube-proxy": "v1.35.0"} },
			[]string{`bac:cluster.addonVersions.kube-proxy: "v1.35.0" is not an EKS add-on version`}},
		{"add-on without v", func(a *Args) { a.AddonVersions = map[string]string{"coredns": "1.12.4-eksbuild.1"} },
			[]string{`bac:cluster.addonVersions.coredns: "1.12.4-eksbuild.1" is not an EKS add-on version`}},
		{"add-on pinned", func(a *Args) { a.AddonVersions = map[string]string{"vpc-cni": "v1.20.4-eksbuild.2"} }, nil},

		{"wildcard admin role", func(a *Args) { a.AdminRoleARNs = []string{"arn:aws:iam::123456789012:role/*"} },
			[]string{`bac:cluster.adminRoleArns[0]: "arn:aws:iam::123456789012:role/*" contains a wildcard`}},
		{"wildcard in a role path", func(a *Args) { a.DeployRoleARN = "arn:aws:iam::123456789012:role/ci-*" },
			[]string{`bac:cluster.deployRoleArn: "arn:aws:iam::123456789012:role/ci-*" contains a wildcard`}},
		{"short account", func(a *Args) { a.PreviewRoleARN = "arn:aws:iam::12345:role/preview" },
			[]string{`bac:cluster.previewRoleArn: "arn:aws:iam::12345:role/preview": account "12345" is not a 12-digit AWS account ID`}},
		{"unknown partition", func(a *Args) { a.AdminRoleARNs = []string{"arn:aws-moon:iam::123456789012:role/admin"} },
			[]string{`bac:cluster.adminRoleArns[0]: "arn:aws-moon:iam::123456789012:role/admin": partition "aws-moon"`}},
		{"role with a path", func(a *Args) { a.AdminRoleARNs = []string{"arn:aws:iam::123456789012:role/platform/admin"} }, nil},
		{"admin role twice", func(a *Args) {
			a.AdminRoleARNs = []string{"arn:aws:iam::123456789012:role/admin", "arn:aws:iam::123456789012:role/admin"}
		}, []string{`bac:cluster.adminRoleArns[1]: "arn:aws:iam::123456789012:role/admin" is also adminRoleArns[0]`}},
		{"private runner addresses", func(a *Args) { a.RunnerCIDRs = []string{"10.0.0.0/16"} },
			[]string{`bac:cluster.runnerCidrs[0]: "10.0.0.0/16" is private (RFC 1918): the public endpoint only ever sees public source addresses`}},
		{"loopback office", func(a *Args) { a.PublicAccessCIDRs = []string{"127.0.0.1/32"} },
			[]string{`bac:cluster.publicAccessCidrs[0]: "127.0.0.1/32" is loopback`}},
		{"deploy role as admin", func(a *Args) {
			a.DeployRoleARN, a.AdminRoleARNs = "arn:aws:iam::123456789012:role/ci", []string{"arn:aws:iam::123456789012:role/ci"}
		}, []string{`bac:cluster.adminRoleArns[0]: "arn:aws:iam::123456789012:role/ci" is the deploy role, the cluster's creator`}},
		{"preview role as admin", func(a *Args) {
			a.PreviewRoleARN, a.AdminRoleARNs = "arn:aws:iam::123456789012:role/ro", []string{"arn:aws:iam::123456789012:role/ro"}
		}, []string{`bac:cluster.adminRoleArns[0]: "arn:aws:iam::123456789012:role/ro" already has an access entry as the preview role`}},
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

// TestInstanceFamilies pins how instance type names are read: AWS's naming
// convention (series, generation, attributes; "g" is Graviton).
func TestInstanceFamilies(t *testing.T) {
	for _, tt := range []struct{ typ, arch, accel string }{
		{"m6i.2xlarge", archX86, accelNone}, {"c7gn.2xlarge", archARM, accelNone}, {"a1.large", archARM, accelNone},
		{"is4gen.xlarge", archARM, accelNone}, {"c7i-flex.large", archX86, accelNone}, {"u-6tb1.metal", archX86, accelNone},
		{"g5g.xlarge", archARM, accelNvidia}, {"p5.48xlarge", archX86, accelNvidia}, {"gr6.4xlarge", archX86, accelNvidia},
		{"g4ad.xlarge", archX86, accelAMD}, {"trn1.2xlarge", archX86, accelNeuron}, {"inf2.xlarge", archX86, accelNeuron},
	} {
		if !instanceTypes[tt.typ] {
			t.Errorf("%s is not in the SDK's list", tt.typ)
		}
		if arch, accel := instanceArch(tt.typ), instanceAccelerator(tt.typ); arch != tt.arch || accel != tt.accel {
			t.Errorf("%s: arch %s, accelerator %q; want %s, %q", tt.typ, arch, accel, tt.arch, tt.accel)
		}
	}
}
