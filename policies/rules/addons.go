package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Resource types of the add-on rules.
const (
	helmRelease        = "kubernetes:helm.sh/v3:Release"
	s3Bucket           = "aws:s3/bucketV2:BucketV2"
	s3Encryption       = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	s3Versioning       = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	s3PublicAccess     = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	s3Lifecycle        = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	gpuResourceTaint   = "nvidia.com/gpu"
	backupRestoreISO   = "A.8.13"
	backupRestoreHIPAA = "164.308(a)(7)(ii)(A)"
)

// DevicePluginCharts are the charts that advertise nvidia.com/gpu to the
// scheduler: the device plugin itself, or the GPU operator that runs it.
var DevicePluginCharts = []string{"nvidia-device-plugin", "gpu-operator"}

// backups are the controls of data that must survive its loss: backups
// kept, versioned and restorable.
var backups = Controls{
	SOC2: []string{"A1.2", "CC7.5"}, ISO27001: []string{backupRestoreISO},
	GDPR: []string{"Art. 32(1)(c)"}, HIPAA: []string{backupRestoreHIPAA, "164.308(a)(7)(ii)(B)"},
}

func addonRules() []*Rule {
	return []*Rule{
		{
			Name:        "gpu-device-plugin",
			Description: "Every GPU node pool runs the NVIDIA device plugin, tolerating the pool's taints",
			Enforcement: mandatory,
			Controls:    availability,
			Remediation: "keep bac:addons.gpu.enabled (the nvidia-device-plugin release with the GPU pool's tolerations), or remove the GPU pool: without the plugin no node advertises nvidia.com/gpu and the pool's nodes sit idle",
			CheckStack: func(rs []Resource) ([]string, []Violation) {
				var plugins []Resource
				for _, r := range rs {
					if r.Type == helmRelease && slices.Contains(DevicePluginCharts, str(r.Props, "chart")) {
						plugins = append(plugins, r)
					}
				}
				var evidence []string
				var violations []Violation
				for _, r := range rs {
					taints, gpu := gpuPool(r)
					if !gpu {
						continue
					}
					evidence = append(evidence, r.URN)
					if len(plugins) == 0 {
						violations = append(violations, Violation{URN: r.URN, Message: fmt.Sprintf("GPU node pool %s has no NVIDIA device plugin: its GPUs are never advertised as nvidia.com/gpu", r.Name)})
						continue
					}
					for _, p := range plugins {
						evidence = append(evidence, p.URN)
						if missing := untolerated(taints, list(p.Props, "values.tolerations")); len(missing) > 0 {
							violations = append(violations, Violation{URN: r.URN, Message: fmt.Sprintf("GPU node pool %s: the device plugin release %s does not tolerate taint %s, so it never runs there",
								r.Name, str(p.Props, "name"), strings.Join(missing, ", "))})
						}
					}
				}
				sort.Strings(evidence)
				return slices.Compact(evidence), violations
			},
		},
		{
			Name:        "storage-bucket-kms-encrypted",
			Description: "Every S3 bucket encrypts objects by default with a KMS key",
			Enforcement: mandatory,
			Controls:    encryptionAtRest,
			Remediation: "add a BucketServerSideEncryptionConfigurationV2 with sseAlgorithm aws:kms and a kmsMasterKeyId (components/addons does for the backup bucket)",
			CheckStack: bucketCheck(func(cfg map[string][]Resource) string {
				for _, c := range cfg[s3Encryption] {
					for _, rule := range list(c.Props, "rules") {
						if str(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") == "aws:kms" && str(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId") != "" {
							return ""
						}
					}
				}
				return "has no default encryption with a KMS key"
			}),
		},
		{
			Name:        "storage-bucket-versioned-with-lifecycle",
			Description: "Every S3 bucket is versioned and has a lifecycle that expires old objects",
			Enforcement: mandatory,
			Controls:    backups,
			Remediation: "add a BucketVersioningV2 with status Enabled and a BucketLifecycleConfigurationV2 with an enabled expiration rule (bac:addons.backups.expireDays, noncurrentDays)",
			CheckStack: bucketCheck(func(cfg map[string][]Resource) string {
				var missing []string
				versioned := slices.ContainsFunc(cfg[s3Versioning], func(c Resource) bool {
					return str(c.Props, "versioningConfiguration.status") == "Enabled"
				})
				if !versioned {
					missing = append(missing, "is not versioned")
				}
				expires := slices.ContainsFunc(cfg[s3Lifecycle], func(c Resource) bool {
					return slices.ContainsFunc(list(c.Props, "rules"), func(rule any) bool {
						_, days := number(rule, "expiration.days")
						_, noncurrent := number(rule, "noncurrentVersionExpiration.noncurrentDays")
						return str(rule, "status") == "Enabled" && (days || noncurrent)
					})
				})
				if !expires {
					missing = append(missing, "has no enabled lifecycle expiration")
				}
				return strings.Join(missing, " and ")
			}),
		},
		{
			Name:        "storage-bucket-public-access-blocked",
			Description: "Every S3 bucket blocks every kind of public access",
			Enforcement: mandatory,
			Controls:    networkSegregation,
			Remediation: "add a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true",
			CheckStack: bucketCheck(func(cfg map[string][]Resource) string {
				for _, c := range cfg[s3PublicAccess] {
					if isTrue(c.Props, "blockPublicAcls") && isTrue(c.Props, "blockPublicPolicy") && isTrue(c.Props, "ignorePublicAcls") && isTrue(c.Props, "restrictPublicBuckets") {
						return ""
					}
				}
				return "does not block all public access"
			}),
		},
	}
}

// gpuPool reports whether r is a node pool with GPUs (an NVIDIA AMI or the
// nvidia.com/gpu taint) and its taints as key=value.
func gpuPool(r Resource) ([]string, bool) {
	if r.Type != "eks:index:ManagedNodeGroup" && r.Type != "aws:eks/nodeGroup:NodeGroup" {
		return nil, false
	}
	var taints []string
	gpu := strings.Contains(str(r.Props, "amiType"), "NVIDIA")
	for _, t := range list(r.Props, "taints") {
		taints = append(taints, str(t, "key")+"="+str(t, "value"))
		gpu = gpu || str(t, "key") == gpuResourceTaint
	}
	return taints, gpu
}

// untolerated returns the taints (key=value) no toleration matches.
func untolerated(taints []string, tolerations []any) []string {
	var missing []string
	for _, t := range taints {
		key, value, _ := strings.Cut(t, "=")
		ok := slices.ContainsFunc(tolerations, func(tol any) bool {
			if k := str(tol, "key"); k != "" && k != key {
				return false
			}
			return str(tol, "operator") == "Exists" || str(tol, "value") == value
		})
		if !ok {
			missing = append(missing, t)
		}
	}
	return missing
}

// bucketCheck runs check over each S3 bucket with its configuration
// resources by type: those naming the bucket, or, when the name is not
// known yet, those of the same parent and logical name.
func bucketCheck(check func(cfg map[string][]Resource) string) func([]Resource) ([]string, []Violation) {
	return func(rs []Resource) ([]string, []Violation) {
		var evidence []string
		var violations []Violation
		for _, b := range rs {
			if b.Type != s3Bucket {
				continue
			}
			evidence = append(evidence, b.URN)
			name := str(b.Props, "bucket")
			cfg := map[string][]Resource{}
			for _, c := range rs {
				if !strings.HasPrefix(c.Type, "aws:s3/") || c.Type == s3Bucket {
					continue
				}
				target := str(c.Props, "bucket")
				if (target != "" && target == name) || (target == "" && c.Parent == b.Parent && c.Name == b.Name) {
					cfg[c.Type] = append(cfg[c.Type], c)
				}
			}
			if problem := check(cfg); problem != "" {
				label := name
				if label == "" {
					label = b.Name
				}
				violations = append(violations, Violation{URN: b.URN, Message: fmt.Sprintf("bucket %s %s", label, problem)})
			}
		}
		return evidence, violations
	}
}
