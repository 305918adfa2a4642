package addons

import (
	"encoding/json"
	"fmt"
)

// The IAM policies of the add-ons' Pod Identity roles: least privilege for
// what each controller does here, scoped to the region, the cluster, the
// hosted zone, the bucket and its key wherever the action supports a
// resource or condition. Each cites the upstream policy it is derived from.

// statement is one IAM policy statement.
type statement = map[string]any

// document renders the statements as an IAM policy document.
func document(statements ...statement) string {
	out, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		// Only maps of strings and string lists reach here.
		panic(fmt.Sprintf("iam policy: %v", err))
	}
	return string(out)
}

// autoscalerPolicy is derived from the "Full Cluster Autoscaler Features
// Policy" of cluster-autoscaler/cloudprovider/aws/README.md at
// cluster-autoscaler-1.35.0. The two write actions are limited to the auto
// scaling groups EKS tags k8s.io/cluster-autoscaler/<cluster>=owned (every
// managed node group's group), and DescribeNodegroup (labels and taints of
// a group at zero nodes) to the cluster's node groups. The describe
// actions support no resource scoping.
func autoscalerPolicy(region, cluster string) string {
	return document(
		statement{"Effect": "Allow", "Resource": "*", "Action": []string{
			"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
			"autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
			"ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
			"ec2:GetInstanceTypesFromInstanceRequirements",
		}},
		statement{"Effect": "Allow", "Action": []string{"eks:DescribeNodegroup"},
			"Resource": fmt.Sprintf("arn:aws:eks:%s:*:nodegroup/%s/*/*", region, cluster)},
		statement{"Effect": "Allow", "Resource": "*",
			"Action":    []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/k8s.io/cluster-autoscaler/" + cluster: "owned"}}},
	)
}

// loadBalancerPolicy is derived from docs/install/iam_policy.json of
// aws-load-balancer-controller v2.17.1, for NLBs and ALBs only: the
// Cognito, WAF, WAFv2 and Shield statements are left out (the chart's
// enableWaf, enableWafv2 and enableShield are false, so the controller
// never calls them), resources are limited to the region, and every
// mutation keeps upstream's elbv2.k8s.aws/cluster tag conditions (only
// what the controller created and tagged).
func loadBalancerPolicy(region string) string {
	ec2 := func(kind string) string { return fmt.Sprintf("arn:aws:ec2:%s:*:%s/*", region, kind) }
	elb := func(kinds ...string) []string {
		out := make([]string, len(kinds))
		for i, k := range kinds {
			out[i] = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:*:%s", region, k)
		}
		return out
	}
	createdByController := map[string]any{"Null": map[string]any{"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}
	return document(
		statement{"Effect": "Allow", "Action": []string{"iam:CreateServiceLinkedRole"}, "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}},
		statement{"Effect": "Allow", "Resource": "*", "Action": []string{
			"ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
			"ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
			"ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
			"ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools",
			"ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeRouteTables",
			"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
			"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates",
			"elasticloadbalancing:DescribeSSLPolicies", "elasticloadbalancing:DescribeRules",
			"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
			"elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTags",
			"elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeListenerAttributes",
			"elasticloadbalancing:DescribeCapacityReservation",
			"acm:ListCertificates", "acm:DescribeCertificate",
		}},
		statement{"Effect": "Allow", "Action": []string{"ec2:CreateSecurityGroup"}, "Resource": []string{ec2("security-group"), ec2("vpc")}},
		statement{"Effect": "Allow", "Action": []string{"ec2:CreateTags"}, "Resource": ec2("security-group"),
			"Condition": map[string]any{"StringEquals": map[string]any{"ec2:CreateAction": "CreateSecurityGroup"},
				"Null": map[string]any{"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}},
		statement{"Effect": "Allow", "Action": []string{"ec2:CreateTags", "ec2:DeleteTags"}, "Resource": ec2("security-group"),
			"Condition": map[string]any{"Null": map[string]any{"aws:RequestTag/elbv2.k8s.aws/cluster": "true", "aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}},
		// Upstream allows ingress changes on any group (the node groups'
		// rules for the targets); the region limit is added.
		statement{"Effect": "Allow", "Action": []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"}, "Resource": ec2("security-group")},
		statement{"Effect": "Allow", "Action": []string{"ec2:DeleteSecurityGroup"}, "Resource": ec2("security-group"), "Condition": createdByController},
		statement{"Effect": "Allow", "Action": []string{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"}, "Resource": "*",
			"Condition": map[string]any{"Null": map[string]any{"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}},
		statement{"Effect": "Allow", "Resource": elb("loadbalancer/net/*/*", "loadbalancer/app/*/*", "listener/net/*/*/*", "listener/app/*/*/*", "listener-rule/net/*/*/*", "listener-rule/app/*/*/*"),
			"Action": []string{"elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule"}},
		statement{"Effect": "Allow", "Action": []string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
			"Resource":  elb("targetgroup/*/*", "loadbalancer/net/*/*", "loadbalancer/app/*/*"),
			"Condition": map[string]any{"Null": map[string]any{"aws:RequestTag/elbv2.k8s.aws/cluster": "true", "aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}},
		statement{"Effect": "Allow", "Action": []string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
			"Resource": elb("listener/net/*/*/*", "listener/app/*/*/*", "listener-rule/net/*/*/*", "listener-rule/app/*/*/*")},
		statement{"Effect": "Allow", "Resource": "*", "Condition": createdByController, "Action": []string{
			"elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
			"elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
			"elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
			"elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
			"elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:ModifyCapacityReservation",
			"elasticloadbalancing:ModifyIpPools",
		}},
		statement{"Effect": "Allow", "Action": []string{"elasticloadbalancing:AddTags"},
			"Resource": elb("targetgroup/*/*", "loadbalancer/net/*/*", "loadbalancer/app/*/*"),
			"Condition": map[string]any{"StringEquals": map[string]any{"elasticloadbalancing:CreateAction": []string{"CreateTargetGroup", "CreateLoadBalancer"}},
				"Null": map[string]any{"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}},
		statement{"Effect": "Allow", "Action": []string{"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"},
			"Resource": elb("targetgroup/*/*")},
		statement{"Effect": "Allow", "Resource": "*", "Action": []string{
			"elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddListenerCertificates",
			"elasticloadbalancing:RemoveListenerCertificates", "elasticloadbalancing:ModifyRule",
			"elasticloadbalancing:SetRulePriorities",
		}},
	)
}

// certManagerPolicy is derived from cert-manager's Route 53 DNS-01 guide
// (cert-manager.io docs, configuration/acme/dns01/route53): GetChange on
// changes; record changes only in the platform's zone, only TXT records,
// only _acme-challenge names. With hostedZoneID set on the solver,
// cert-manager never lists zones, so ListHostedZonesByName is left out.
func certManagerPolicy(zoneID, domain string) string {
	return document(
		statement{"Effect": "Allow", "Action": []string{"route53:GetChange"}, "Resource": "arn:aws:route53:::change/*"},
		statement{"Effect": "Allow", "Action": []string{"route53:ListResourceRecordSets"}, "Resource": "arn:aws:route53:::hostedzone/" + zoneID},
		statement{"Effect": "Allow", "Action": []string{"route53:ChangeResourceRecordSets"}, "Resource": "arn:aws:route53:::hostedzone/" + zoneID,
			"Condition": map[string]any{"ForAllValues:StringEquals": map[string]any{"route53:ChangeResourceRecordSetsRecordTypes": []string{"TXT"}},
				"ForAllValues:StringLike": map[string]any{"route53:ChangeResourceRecordSetsNormalizedRecordNames": []string{"_acme-challenge." + domain, "_acme-challenge.*." + domain}}}},
	)
}

// externalDNSPolicy is derived from external-dns docs/tutorials/aws.md
// ("IAM Permissions with ABAC") at external-dns-helm-chart-1.21.1: record
// changes only in the platform's zone, only names in the domain and only
// the record types external-dns writes (A and AAAA aliases, CNAME, and the
// TXT ownership records). ListHostedZones supports no resource scoping.
func externalDNSPolicy(zoneID, domain string) string {
	return document(
		statement{"Effect": "Allow", "Action": []string{"route53:ListResourceRecordSets", "route53:ListTagsForResources"}, "Resource": "arn:aws:route53:::hostedzone/" + zoneID},
		statement{"Effect": "Allow", "Action": []string{"route53:ChangeResourceRecordSets"}, "Resource": "arn:aws:route53:::hostedzone/" + zoneID,
			"Condition": map[string]any{"ForAllValues:StringLike": map[string]any{
				"route53:ChangeResourceRecordSetsNormalizedRecordNames": []string{domain, "*." + domain},
				"route53:ChangeResourceRecordSetsRecordTypes":           []string{"A", "AAAA", "CNAME", "TXT"},
			}}},
		statement{"Effect": "Allow", "Action": []string{"route53:ListHostedZones"}, "Resource": "*"},
	)
}

// veleroPolicy is derived from the policy in velero-plugin-for-aws's
// README: objects in the backup bucket only, the bucket's KMS key for its
// SSE-KMS writes and reads, and (with snapshots) EBS snapshots in the
// region. Describe calls support no resource scoping.
func veleroPolicy(region, bucket, keyArn string, snapshots bool) string {
	statements := []statement{
		{"Effect": "Allow", "Resource": "arn:aws:s3:::" + bucket + "/*", "Action": []string{
			"s3:GetObject", "s3:DeleteObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}},
		{"Effect": "Allow", "Action": []string{"s3:ListBucket"}, "Resource": "arn:aws:s3:::" + bucket},
		{"Effect": "Allow", "Action": []string{"kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"}, "Resource": keyArn},
	}
	if snapshots {
		statements = append(statements,
			statement{"Effect": "Allow", "Action": []string{"ec2:DescribeVolumes", "ec2:DescribeSnapshots"}, "Resource": "*"},
			statement{"Effect": "Allow", "Action": []string{"ec2:CreateSnapshot", "ec2:CreateVolume", "ec2:CreateTags"},
				"Resource": []string{fmt.Sprintf("arn:aws:ec2:%s:*:volume/*", region), fmt.Sprintf("arn:aws:ec2:%s::snapshot/*", region)}},
			statement{"Effect": "Allow", "Action": []string{"ec2:DeleteSnapshot"}, "Resource": fmt.Sprintf("arn:aws:ec2:%s::snapshot/*", region)},
		)
	}
	return document(statements...)
}
