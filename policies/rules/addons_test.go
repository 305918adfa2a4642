package rules

import (
	"strings"
	"testing"
)

// TestAddonStackRules: each add-on rule passes a compliant stack and fails
// a non-compliant one with the expected message.
func TestAddonStackRules(t *testing.T) {
	gpuGroup := res("eks:index:ManagedNodeGroup", `{"amiType":"AL2023_x86_64_NVIDIA","taints":[{"key":"nvidia.com/gpu","value":"true","effect":"NO_SCHEDULE"}]}`)
	gpuChild := res("aws:eks/nodeGroup:NodeGroup", `{"amiType":"AL2023_x86_64_STANDARD","taints":[{"key":"nvidia.com/gpu","value":"true","effect":"NO_SCHEDULE"}]}`)
	cpuGroup := res("eks:index:ManagedNodeGroup", `{"amiType":"AL2023_x86_64_STANDARD","taints":[{"key":"compute","value":"true","effect":"NO_SCHEDULE"}]}`)
	plugin := func(tolerations string) Resource {
		return res(helmRelease, `{"name":"nvidia-device-plugin","chart":"nvidia-device-plugin","values":{"tolerations":`+tolerations+`}}`)
	}
	tolerates := plugin(`[{"key":"nvidia.com/gpu","operator":"Equal","value":"true","effect":"NoSchedule"}]`)
	exists := plugin(`[{"key":"nvidia.com/gpu","operator":"Exists"}]`)
	wrongValue := plugin(`[{"key":"nvidia.com/gpu","operator":"Equal","value":"present","effect":"NoSchedule"}]`)

	bucket := res(s3Bucket, `{"bucket":"bac-backups"}`)
	bucket.Parent, bucket.Name = "urn:addons", "addons-backups"
	cfg := func(typ, props string) Resource {
		r := res(typ, props)
		r.Parent, r.Name = "urn:addons", "addons-backups"
		return r
	}
	kms := cfg(s3Encryption, `{"bucket":"bac-backups","rules":[{"applyServerSideEncryptionByDefault":{"sseAlgorithm":"aws:kms","kmsMasterKeyId":"arn:aws:kms:us-east-1:1:key/k"}}]}`)
	aes := cfg(s3Encryption, `{"bucket":"bac-backups","rules":[{"applyServerSideEncryptionByDefault":{"sseAlgorithm":"AES256"}}]}`)
	otherBucketKMS := cfg(s3Encryption, `{"bucket":"someone-else","rules":[{"applyServerSideEncryptionByDefault":{"sseAlgorithm":"aws:kms","kmsMasterKeyId":"k"}}]}`)
	unknownNameKMS := cfg(s3Encryption, `{"rules":[{"applyServerSideEncryptionByDefault":{"sseAlgorithm":"aws:kms","kmsMasterKeyId":"k"}}]}`)
	versioned := cfg(s3Versioning, `{"bucket":"bac-backups","versioningConfiguration":{"status":"Enabled"}}`)
	suspended := cfg(s3Versioning, `{"bucket":"bac-backups","versioningConfiguration":{"status":"Suspended"}}`)
	lifecycle := cfg(s3Lifecycle, `{"bucket":"bac-backups","rules":[{"id":"x","status":"Enabled","expiration":{"days":90}}]}`)
	disabledLifecycle := cfg(s3Lifecycle, `{"bucket":"bac-backups","rules":[{"id":"x","status":"Disabled","expiration":{"days":90}}]}`)
	blocked := cfg(s3PublicAccess, `{"bucket":"bac-backups","blockPublicAcls":true,"blockPublicPolicy":true,"ignorePublicAcls":true,"restrictPublicBuckets":true}`)
	halfBlocked := cfg(s3PublicAccess, `{"bucket":"bac-backups","blockPublicAcls":true,"blockPublicPolicy":false,"ignorePublicAcls":true,"restrictPublicBuckets":true}`)

	tests := []struct {
		name, rule string
		good, bad  []Resource
		want       string
	}{
		{"no plugin", "gpu-device-plugin", []Resource{gpuGroup, cpuGroup, tolerates}, []Resource{gpuGroup, cpuGroup},
			"GPU node pool r has no NVIDIA device plugin"},
		{"plugin not tolerating the taint", "gpu-device-plugin", []Resource{gpuChild, exists}, []Resource{gpuChild, wrongValue},
			"does not tolerate taint nvidia.com/gpu=true"},
		{"kms", "storage-bucket-kms-encrypted", []Resource{bucket, kms}, []Resource{bucket, aes}, "bucket bac-backups has no default encryption with a KMS key"},
		{"kms of another bucket", "storage-bucket-kms-encrypted", []Resource{bucket, unknownNameKMS}, []Resource{bucket, otherBucketKMS}, "has no default encryption"},
		{"versioning", "storage-bucket-versioned-with-lifecycle", []Resource{bucket, versioned, lifecycle}, []Resource{bucket, suspended, lifecycle}, "bucket bac-backups is not versioned"},
		{"lifecycle", "storage-bucket-versioned-with-lifecycle", []Resource{bucket, versioned, lifecycle}, []Resource{bucket, versioned, disabledLifecycle},
			"has no enabled lifecycle expiration"},
		{"public access", "storage-bucket-public-access-blocked", []Resource{bucket, blocked}, []Resource{bucket, halfBlocked}, "does not block all public access"},
	}
	for _, tt := range tests {
		t.Run(tt.rule+"/"+tt.name, func(t *testing.T) {
			r := rule(t, tt.rule)
			evidence, violations := r.CheckStack(tt.good)
			if len(evidence) == 0 || len(violations) != 0 {
				t.Fatalf("compliant stack: evidence %v, violations %v", evidence, violations)
			}
			covered.pass(r.Name)
			_, violations = r.CheckStack(tt.bad)
			if len(violations) != 1 || !strings.Contains(violations[0].Message, tt.want) {
				t.Fatalf("non-compliant stack: %v, want one containing %q", violations, tt.want)
			}
			covered.refuse(r.Name)
		})
	}
}

// TestNoGPUPoolNeedsNoPlugin: a stack without GPUs is not evidence of the
// GPU rule and does not fail it.
func TestNoGPUPoolNeedsNoPlugin(t *testing.T) {
	evidence, violations := rule(t, "gpu-device-plugin").CheckStack([]Resource{
		res("eks:index:ManagedNodeGroup", `{"amiType":"AL2023_x86_64_STANDARD"}`),
	})
	if len(evidence) != 0 || len(violations) != 0 {
		t.Fatalf("evidence %v, violations %v", evidence, violations)
	}
}
