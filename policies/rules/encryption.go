package rules

import (
	"slices"
	"strconv"
)

// EKS cluster types: the pulumi-eks component (inputs, offline) and the
// aws cluster it creates (real preview).
const (
	eksComponent = "eks:index:Cluster"
	eksCluster   = "aws:eks/cluster:Cluster"
)

func encryptionRules() []*Rule {
	return []*Rule{
		{
			Name:        "encryption-eks-secrets",
			Description: "EKS envelope-encrypts Kubernetes secrets with a KMS key",
			Enforcement: mandatory,
			Controls:    withCIS(encryptionAtRest, "5.3.1"),
			Remediation: "set encryptionConfigKeyArn on the cluster (components/cluster does, with a rotating key)",
			Check: func(r Resource) (bool, []string) {
				switch r.Type {
				case eksComponent:
					if str(r.Props, "encryptionConfigKeyArn") == "" {
						return true, []string{"no encryptionConfigKeyArn: secrets are stored in etcd unencrypted by a customer key"}
					}
					return true, nil
				case eksCluster:
					if str(r.Props, "encryptionConfig.provider.keyArn") == "" || !slices.Contains(stringsAt(r.Props, "encryptionConfig.resources"), "secrets") {
						return true, []string{"encryptionConfig does not cover secrets with a KMS key"}
					}
					return true, nil
				}
				return false, nil
			},
		},
		{
			Name:        "encryption-node-volumes",
			Description: "Node root volumes are encrypted EBS volumes",
			Enforcement: mandatory,
			Controls:    encryptionAtRest,
			Remediation: "give node groups a launch template whose block device mappings set encrypted: \"true\"",
			Check: func(r Resource) (bool, []string) {
				switch r.Type {
				case "aws:ec2/launchTemplate:LaunchTemplate":
					mappings := list(r.Props, "blockDeviceMappings")
					if len(mappings) == 0 {
						return true, []string{"no block device mappings: the root volume is whatever the AMI and the account default make it, unencrypted unless EBS encryption by default is on"}
					}
					var problems []string
					for i, m := range mappings {
						if Lookup(m, "ebs") != nil && !isTrue(m, "ebs.encrypted") { // instance-store mappings have no ebs
							problems = append(problems, "block device "+strconv.Itoa(i)+" ("+str(m, "deviceName")+") is not encrypted")
						}
					}
					return true, problems
				case "eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup":
					if Lookup(r.Props, "launchTemplate") == nil {
						return true, []string{"no launch template: the node volumes' encryption depends on the account default"}
					}
					return true, nil
				case "aws:ebs/volume:Volume":
					if !isTrue(r.Props, "encrypted") {
						return true, []string{"volume is not encrypted"}
					}
					return true, nil
				}
				return false, nil
			},
		},
		{
			Name:        "encryption-storage-classes",
			Description: "EBS storage classes provision encrypted volumes",
			Enforcement: mandatory,
			Controls:    encryptionAtRest,
			Remediation: "set parameters.encrypted: \"true\" on the StorageClass",
			Check: func(r Resource) (bool, []string) {
				if r.Type != "kubernetes:storage.k8s.io/v1:StorageClass" {
					return false, nil
				}
				p := str(r.Props, "provisioner")
				if p != "ebs.csi.aws.com" && p != "kubernetes.io/aws-ebs" {
					return false, nil
				}
				if !isTrue(r.Props, "parameters.encrypted") {
					return true, []string{"storage class " + str(r.Props, "metadata.name") + " provisions unencrypted volumes"}
				}
				return true, nil
			},
		},
		{
			Name:        "encryption-kms-rotation",
			Description: "Symmetric KMS keys rotate automatically",
			Enforcement: mandatory,
			Controls:    keyManagement,
			Remediation: "set enableKeyRotation: true on the key",
			Check: func(r Resource) (bool, []string) {
				if r.Type != "aws:kms/key:Key" {
					return false, nil
				}
				if spec := str(r.Props, "customerMasterKeySpec"); spec != "" && spec != "SYMMETRIC_DEFAULT" {
					return false, nil // asymmetric keys cannot rotate
				}
				if !isTrue(r.Props, "enableKeyRotation") {
					return true, []string{"key rotation is off"}
				}
				return true, nil
			},
		},
	}
}

// withCIS adds CIS EKS benchmark ids to a control set.
func withCIS(c Controls, ids ...string) Controls {
	c.CISEKS = append(append([]string{}, c.CISEKS...), ids...)
	return c
}
