package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/bac-platform/infra/components/validate"
	"github.com/blang/semver"
)

// This file checks what the cluster's settings mean to AWS: instance types
// that exist, AMIs that fit them, EBS volume limits, EKS quotas and version
// windows, IAM role ARNs.

// instanceTypes are the EC2 instance types the AWS SDK for Go v2 knows
// (service/ec2 v1.297.1: 1,212 distinct types). The pulumi-aws v6.83.4 enum stops at
// the 2023 families (no m8g, c8g, g6e) and exports no list, so the SDK's
// own list is the source.
var instanceTypes = func() map[string]bool {
	known := map[string]bool{}
	for _, t := range ec2types.InstanceType("").Values() {
		known[string(t)] = true
	}
	return known
}()

// instanceFamily splits an instance type (c7gn.2xlarge, u-6tb1.metal,
// c7i-flex.large) into its family's series letters, generation and
// attribute letters (c, 7, gn).
func instanceFamily(instanceType string) (series string, generation int, attributes string) {
	family, _, _ := strings.Cut(instanceType, ".")
	family, _, _ = strings.Cut(family, "-")
	i := strings.IndexAny(family, "0123456789")
	if i < 0 {
		return family, 0, ""
	}
	j := i
	for j < len(family) && family[j] >= '0' && family[j] <= '9' {
		j++
	}
	generation, _ = strconv.Atoi(family[i:j])
	return family[:i], generation, family[j:]
}

// Architectures of instance types and AMIs.
const (
	archX86 = "x86_64"
	archARM = "arm64"
)

// instanceArch is an instance type's processor architecture: AWS names
// Graviton families with the "g" attribute (m7g, c6gn, x2gd, is4gen) and
// the first Graviton family a1; the rest are x86_64.
func instanceArch(instanceType string) string {
	series, _, attributes := instanceFamily(instanceType)
	if series == "a" || strings.Contains(attributes, "g") {
		return archARM
	}
	return archX86
}

// Accelerators an instance type carries.
const (
	accelNone   = ""
	accelNvidia = "NVIDIA GPU"
	accelAMD    = "AMD GPU"
	accelNeuron = "AWS Neuron"
)

// instanceAccelerator is what accelerates an instance type: the p and g
// series carry NVIDIA GPUs except g4ad (AMD Radeon); inf and trn carry AWS
// Inferentia/Trainium (Neuron) chips.
func instanceAccelerator(instanceType string) string {
	series, generation, attributes := instanceFamily(instanceType)
	switch {
	case series == "g" && generation == 4 && strings.HasPrefix(attributes, "a"):
		return accelAMD
	case series == "p" || series == "g" || series == "gr":
		return accelNvidia
	case series == "inf" || series == "trn":
		return accelNeuron
	}
	return accelNone
}

// amiArch is the architecture an EKS AMI type is built for.
func amiArch(amiType string) string {
	if strings.Contains(amiType, "ARM_64") {
		return archARM
	}
	return archX86
}

// amiAccelerator is the accelerator an EKS AMI type carries drivers for.
func amiAccelerator(amiType string) string {
	switch {
	case strings.Contains(amiType, "NVIDIA"):
		return accelNvidia
	case strings.Contains(amiType, "NEURON"):
		return accelNeuron
	}
	return accelNone
}

// GPULabel is the extended resource and label key of NVIDIA GPUs; a pool
// labelled or tainted with it is a GPU pool.
const GPULabel = "nvidia.com/gpu"

// EBS limits of the root volume (AWS SDK for Go v2 service/ec2 v1.297.1,
// CreateVolume: gp2 1-16,384 GiB; gp3 1-65,536 GiB, 3,000-80,000 IOPS,
// 125-2,000 MiB/s; io1 4-16,384 GiB, 100-64,000 IOPS; io2 4-65,536 GiB,
// 100-256,000 IOPS). The per-GiB and per-IOPS ratios are the EBS User
// Guide's.
var volumeLimits = map[string]struct {
	minGiB, maxGiB, minIOPS, maxIOPS, iopsPerGiB int
}{
	"gp2": {1, 16384, 0, 0, 0},
	"gp3": {1, 65536, 3000, 80000, 500},
	"io1": {4, 16384, 100, 64000, 50},
	"io2": {4, 65536, 100, 256000, 1000},
}

// gp3 throughput bounds and its ratio to IOPS (0.25 MiB/s per IOPS).
const (
	gp3MinThroughput = 125
	gp3MaxThroughput = 2000
	gp3BaselineIOPS  = 3000
)

// EKS quotas (Amazon EKS service quotas).
const (
	// MaxNodesPerGroup is the nodes one managed node group may hold.
	MaxNodesPerGroup = 450
	// MaxNodeGroups is the managed node groups one cluster may have.
	MaxNodeGroups = 30
	// MaxTaints is the taints one managed node group may carry.
	MaxTaints = 50
)

// validateInstanceTypes checks that every instance type exists and fits the
// pool's AMI type: the same architecture, and the accelerator the AMI has
// drivers for.
func (p NodePool) validateInstanceTypes(ps *validate.Problems, path string) {
	amiArchitecture, amiAccel := amiArch(p.AMIType), amiAccelerator(p.AMIType)
	for i, t := range p.InstanceTypes {
		tPath := fmt.Sprintf("%s.instanceTypes[%d]", path, i)
		if !instanceTypes[t] {
			ps.Add(tPath, "%q is not an EC2 instance type (the AWS SDK's list of %d types); e.g. m6i.2xlarge", t, len(instanceTypes))
			continue
		}
		if series, _, _ := instanceFamily(t); series == "mac" {
			ps.Add(tPath, "%q is a Mac instance (dedicated hosts only); EKS node groups cannot use it", t)
			continue
		}
		if !slices.Contains(amiTypes, p.AMIType) {
			continue
		}
		if arch := instanceArch(t); arch != amiArchitecture {
			ps.Add(tPath, "%q is %s but amiType %s is built for %s", t, arch, p.AMIType, amiArchitecture)
		}
		switch accel := instanceAccelerator(t); {
		case amiAccel == accelNvidia && accel != accelNvidia:
			ps.Add(tPath, "%q has no NVIDIA GPU but amiType %s is the NVIDIA AMI", t, p.AMIType)
		case amiAccel == accelNeuron && accel != accelNeuron:
			ps.Add(tPath, "%q has no AWS Neuron chip but amiType %s is the Neuron AMI", t, p.AMIType)
		case amiAccel == accelNone && accel != accelNone:
			ps.Add(tPath, "%q carries an %s but amiType %s has no driver for it; use the matching accelerated AMI type", t, accel, p.AMIType)
		}
	}
	_, labelled := p.Labels[GPULabel]
	tainted := slices.ContainsFunc(p.Taints, func(t Taint) bool { return t.Key == GPULabel })
	if (labelled || tainted) && slices.Contains(amiTypes, p.AMIType) && amiAccelerator(p.AMIType) != accelNvidia {
		ps.Add(path+".amiType", "%q has no NVIDIA driver, but the pool is labelled or tainted %s: GPU pods would schedule onto nodes that cannot run them", p.AMIType, GPULabel)
	}
}

// validateVolume checks the root volume against EBS's limits for its type.
func (p NodePool) validateVolume(ps *validate.Problems, path string) {
	limits, ok := volumeLimits[p.DiskType]
	if !ok {
		ps.Add(path+".diskType", "%q is not one of gp2, gp3, io1, io2", p.DiskType)
		return
	}
	if p.DiskSizeGiB < limits.minGiB || p.DiskSizeGiB > limits.maxGiB {
		ps.Add(path+".diskSize", "%d GiB is outside %s's %d-%d GiB", p.DiskSizeGiB, p.DiskType, limits.minGiB, limits.maxGiB)
	}
	iops, iopsOK := p.DiskIOPS, false
	switch {
	case limits.maxIOPS == 0 && iops != 0:
		ps.Add(path+".diskIops", "%s volumes take no IOPS setting (their IOPS follow the size); use gp3 to provision IOPS", p.DiskType)
	case p.DiskType != "gp3" && limits.maxIOPS > 0 && iops == 0:
		ps.Add(path+".diskIops", "is required for %s volumes (%d-%d)", p.DiskType, limits.minIOPS, limits.maxIOPS)
	case iops != 0 && (iops < limits.minIOPS || iops > limits.maxIOPS):
		ps.Add(path+".diskIops", "%d is outside %s's %d-%d", iops, p.DiskType, limits.minIOPS, limits.maxIOPS)
	case iops != 0 && p.DiskSizeGiB > 0 && iops > limits.iopsPerGiB*p.DiskSizeGiB:
		ps.Add(path+".diskIops", "%d exceeds %s's %d IOPS per GiB for %d GiB (at most %d)", iops, p.DiskType, limits.iopsPerGiB, p.DiskSizeGiB, limits.iopsPerGiB*p.DiskSizeGiB)
	default:
		iopsOK = true
	}
	throughput := p.DiskThroughputMiBps
	if throughput == 0 {
		return
	}
	if p.DiskType != "gp3" {
		ps.Add(path+".diskThroughput", "only gp3 volumes take a throughput setting")
		return
	}
	if throughput < gp3MinThroughput || throughput > gp3MaxThroughput {
		ps.Add(path+".diskThroughput", "%d MiB/s is outside gp3's %d-%d", throughput, gp3MinThroughput, gp3MaxThroughput)
		return
	}
	if iops == 0 {
		iops = gp3BaselineIOPS
	}
	if iopsOK && throughput*4 > iops {
		ps.Add(path+".diskThroughput", "%d MiB/s needs at least %d IOPS (gp3 allows 0.25 MiB/s per IOPS; diskIops is %d)", throughput, throughput*4, iops)
	}
}

// Kubernetes versions accepted.
const (
	// MaxKubernetesVersion is the newest minor accepted: the Kubernetes
	// client libraries this program is built and tested with
	// (k8s.io/apimachinery v0.36) know 1.36; a newer control plane may
	// serve APIs the plan never saw. Raise it with those libraries.
	MaxKubernetesVersion = 36
)

// validateVersion checks the Kubernetes minor version against the window.
func (a Args) validateVersion(ps *validate.Problems, path string) {
	major, minorText, found := strings.Cut(a.Version, ".")
	minor, err := strconv.Atoi(minorText)
	if !found || major != "1" || err != nil || strconv.Itoa(minor) != minorText {
		ps.Add(path, "%q is not a Kubernetes minor version like %q", a.Version, DefaultKubernetesVersion)
		return
	}
	switch {
	case minor < MinKubernetesVersion:
		ps.Add(path, "%s is past EKS standard support; use 1.%d to 1.%d (default %s)", a.Version, MinKubernetesVersion, MaxKubernetesVersion, DefaultKubernetesVersion)
	case minor > MaxKubernetesVersion:
		ps.Add(path, "%s is newer than 1.%d, the newest version this program is built and tested against (default %s)", a.Version, MaxKubernetesVersion, DefaultKubernetesVersion)
	}
}

// validateAddonVersion checks an EKS add-on version: vMAJOR.MINOR.PATCH-eksbuild.N,
// the form every EKS managed add-on version takes (never latest).
func validateAddonVersion(ps *validate.Problems, path, version string) {
	v, err := semver.Parse(strings.TrimPrefix(version, "v"))
	if err != nil || !strings.HasPrefix(version, "v") || len(v.Pre) != 2 || v.Pre[0].VersionStr != "eksbuild" || !v.Pre[1].IsNum {
		ps.Add(path, "%q is not an EKS add-on version like v1.19.2-eksbuild.1", version)
	}
}

// validateRoleARN checks an IAM role ARN where a principal is expected: an
// iam ARN of a 12-digit account, a role path, and no wildcard (a principal
// names one role; IAM treats * in a principal as everyone).
func validateRoleARN(ps *validate.Problems, path, value string) {
	a, err := arn.Parse(value)
	switch {
	case err != nil || a.Service != "iam" || a.Region != "" || !strings.HasPrefix(a.Resource, "role/"):
		ps.Add(path, "%q is not an IAM role ARN like arn:aws:iam::123456789012:role/platform-admin", value)
	case len(a.AccountID) != 12 || strings.Trim(a.AccountID, "0123456789") != "":
		ps.Add(path, "%q: account %q is not a 12-digit AWS account ID", value, a.AccountID)
	case !slices.Contains([]string{"aws", "aws-cn", "aws-us-gov"}, a.Partition):
		ps.Add(path, "%q: partition %q is not aws, aws-cn or aws-us-gov", value, a.Partition)
	case strings.ContainsAny(value, "*?"):
		ps.Add(path, "%q contains a wildcard; a principal names exactly one role", value)
	case strings.TrimPrefix(a.Resource, "role/") == "" || strings.HasSuffix(a.Resource, "/"):
		ps.Add(path, "%q names no role", value)
	}
}
