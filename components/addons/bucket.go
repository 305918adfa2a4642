package addons

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// backupBucket is Velero's S3 bucket: encrypted with its own rotating KMS
// key (S3 bucket keys on, so Velero's many small objects cost few KMS
// calls), versioned, every kind of public access blocked, and a lifecycle
// that expires backups after expireDays and old versions after
// noncurrentDays. The key and the bucket hold the backups: both are
// protected and survive a stack destroy. Resource fields: pulumi-aws
// 6.83.4 s3.BucketV2, BucketServerSideEncryptionConfigurationV2,
// BucketVersioningV2, BucketPublicAccessBlock, BucketLifecycleConfigurationV2.
func (b *builder) backupBucket() (pulumi.StringOutput, pulumi.StringOutput, error) {
	bk := b.args.Backups
	keep := pulumi.Composite(pulumi.Protect(true), pulumi.RetainOnDelete(true))
	key, err := kms.NewKey(b.ctx, b.name+"-backups", &kms.KeyArgs{
		Description:          pulumi.Sprintf("Velero backups of %s", b.args.Cluster),
		EnableKeyRotation:    pulumi.Bool(true),
		RotationPeriodInDays: pulumi.Int(365),
		DeletionWindowInDays: pulumi.Int(30),
		KeyUsage:             pulumi.String("ENCRYPT_DECRYPT"),
		Tags:                 b.tags(),
	}, b.parent, keep)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, fmt.Errorf("backup kms key: %w", err)
	}
	if _, err := kms.NewAlias(b.ctx, b.name+"-backups", &kms.AliasArgs{
		Name:        pulumi.Sprintf("alias/%s-backups", b.args.Cluster),
		TargetKeyId: key.KeyId,
	}, b.parent); err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, fmt.Errorf("backup kms alias: %w", err)
	}
	bucket, err := s3.NewBucketV2(b.ctx, b.name+"-backups", &s3.BucketV2Args{
		Bucket: pulumi.String(b.args.Bucket()),
		Tags:   b.tags(),
	}, b.parent, keep)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, fmt.Errorf("backup bucket: %w", err)
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(b.ctx, b.name+"-backups", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.Bucket,
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm:   pulumi.String("aws:kms"),
				KmsMasterKeyId: key.Arn,
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, b.parent); err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, fmt.Errorf("backup bucket encryption: %w", err)
	}
	if _, err := s3.NewBucketVersioningV2(b.ctx, b.name+"-backups", &s3.BucketVersioningV2Args{
		Bucket:                  bucket.Bucket,
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, b.parent); err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, fmt.Errorf("backup bucket versioning: %w", err)
	}
	if _, err := s3.NewBucketPublicAccessBlock(b.ctx, b.name+"-backups", &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.Bucket,
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, b.parent); err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, fmt.Errorf("backup bucket public access block: %w", err)
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(b.ctx, b.name+"-backups", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.Bucket,
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("expire-backups"),
			Status: pulumi.String("Enabled"),
			Filter: s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{
				Days: pulumi.Int(bk.ExpireDays),
			},
			NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
				NoncurrentDays: pulumi.Int(bk.NoncurrentDays),
			},
			AbortIncompleteMultipartUpload: s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(7),
			},
		}},
	}, b.parent); err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, fmt.Errorf("backup bucket lifecycle: %w", err)
	}
	b.addons.BackupBucket = bucket.Bucket
	return bucket.Bucket, key.Arn, nil
}
