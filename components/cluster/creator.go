package cluster

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The cluster's creator and its access.
//
// pulumi-eks v3.9.1 creates the EKS cluster with
// accessConfig.bootstrapClusterCreatorAdminPermissions = true, hard-coded
// (nodejs/eks/cluster/cluster.ts at v3.9.1): EKS itself gives the principal that
// creates the cluster an access entry with AmazonEKSClusterAdminPolicy.
// A second access entry for that principal fails the create with
// ResourceInUseException. So the deploy role is, by contract, the cluster's
// creator: the stack never creates an access entry for it, and every `up`
// runs as it (the first one included). Which principal a run really uses is
// only known at run time (the credentials the AWS provider finds), so the
// contract is checked then: an `up` as another principal would either
// create the cluster with the wrong admin or, where that principal is one of
// the configured entries, fail on the duplicate entry.

// Principal is the AWS identity a run uses.
type Principal struct {
	// ARN is the principal as EKS names it in access entries: for an
	// assumed role the role's ARN (with its path), otherwise the caller's
	// own ARN.
	ARN string
	// Account and Partition are the caller's account ID and ARN partition
	// (aws, aws-cn, aws-us-gov).
	Account, Partition string
}

// ClusterARN is the ARN of the EKS cluster name in region, in the caller's
// account.
func (p Principal) ClusterARN(region, name string) string {
	return fmt.Sprintf("arn:%s:eks:%s:%s:cluster/%s", p.Partition, region, p.Account, name)
}

// Caller returns the principal this run uses (its AWS provider's
// credentials, through opts).
func Caller(ctx *pulumi.Context, opts ...pulumi.InvokeOption) (Principal, error) {
	id, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{}, opts...)
	if err != nil {
		return Principal{}, fmt.Errorf("caller identity: %w", err)
	}
	parts := strings.SplitN(id.Arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || id.AccountId == "" {
		return Principal{}, fmt.Errorf("caller identity: %q is not an ARN with an account", id.Arn)
	}
	// getSessionContext turns arn:aws:sts::<acct>:assumed-role/<role>/<session>
	// into the role's IAM ARN and returns any other ARN unchanged.
	session, err := iam.GetSessionContext(ctx, &iam.GetSessionContextArgs{Arn: id.Arn}, opts...)
	if err != nil {
		return Principal{}, fmt.Errorf("session context of %s: %w", id.Arn, err)
	}
	return Principal{ARN: session.IssuerArn, Account: id.AccountId, Partition: parts[1]}, nil
}

// CheckCaller refuses an `up` by a principal that breaks the creator
// contract above; previews (dryRun) are read-only and any principal may run
// them. path is the cluster's config path.
func (a Args) CheckCaller(path, caller string, dryRun bool) error {
	if dryRun || caller == "" {
		return nil
	}
	if a.DeployRoleARN != "" {
		if caller != a.DeployRoleARN {
			return fmt.Errorf("%s.deployRoleArn: this up runs as %s, not the deploy role %s; EKS makes the principal that creates the cluster its admin (pulumi-eks bootstraps the creator), so the stack gives the deploy role no access entry of its own and every up must run as it (assume the role, e.g. an AWS profile with role_arn)",
				path, caller, a.DeployRoleARN)
		}
		return nil
	}
	if slices.Contains(a.AdminRoleARNs, caller) || caller == a.PreviewRoleARN {
		return fmt.Errorf("%s.deployRoleArn: is empty and this up runs as %s, which has an access entry of its own; EKS already makes the cluster's creator its admin and refuses a second entry (ResourceInUseException): set deployRoleArn to %s and remove it from the other lists",
			path, caller, caller)
	}
	return nil
}

// accessEntryPrincipals are the principals the stack creates access entries
// for, with the access policy each gets: never the deploy role (the
// creator, see above).
func (a Args) accessEntryPrincipals() map[string]accessGrant {
	grants := map[string]accessGrant{}
	for i, arn := range a.AdminRoleARNs {
		grants[fmt.Sprintf("admin-%d", i)] = accessGrant{arn, "AmazonEKSClusterAdminPolicy"}
	}
	if a.PreviewRoleARN != "" {
		grants["preview"] = accessGrant{a.PreviewRoleARN, "AmazonEKSViewPolicy"}
	}
	return grants
}

// accessGrant is one access entry: the principal and its cluster-wide policy.
type accessGrant struct{ principal, policy string }
