package identity

import (
	"fmt"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak"
	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak/ldap"
	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak/openid"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Secrets are the identity layer's credentials, all from config secrets.
type Secrets struct {
	// AdminPassword bootstraps Keycloak's admin user (bac:keycloakAdminPassword).
	AdminPassword pulumi.StringInput
	// DBPassword is Keycloak's database password (bac:keycloakDbPassword).
	DBPassword pulumi.StringInput
	// ClientSecret is the bac-api client secret (bac:oidcClientSecret), the
	// same one Kong's oidc plugin presents.
	ClientSecret pulumi.StringInput
	// LDAPBindCredential is the directory bind password (bac:ldapBindCredential).
	LDAPBindCredential pulumi.StringInput
}

// Identity is Keycloak and the bac realm.
type Identity struct {
	pulumi.ResourceState

	// Realm is the bac realm (protected).
	Realm *keycloak.Realm
}

// NewIdentity deploys Keycloak and configures the realm. opts must carry the
// cluster's kubernetes provider and the keycloak provider (pulumi.Providers).
func NewIdentity(ctx *pulumi.Context, name string, args Args, secrets Secrets, opts ...pulumi.ResourceOption) (*Identity, error) {
	if err := args.Validate("bac:identity").Err(); err != nil {
		return nil, err
	}
	if secrets.AdminPassword == nil || secrets.DBPassword == nil || secrets.ClientSecret == nil || (args.LDAP.Enabled && secrets.LDAPBindCredential == nil) {
		return nil, fmt.Errorf("identity: the admin, database, client and LDAP bind secrets are required")
	}
	id := &Identity{}
	if err := ctx.RegisterComponentResource("bac:identity:Identity", name, id, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(id)
	deployment, err := workload(ctx, name, args, secrets, parent)
	if err != nil {
		return nil, err
	}
	afterKeycloak := pulumi.DependsOn([]pulumi.Resource{deployment})

	r := args.Realm
	realm, err := keycloak.NewRealm(ctx, name+"-realm", &keycloak.RealmArgs{
		Realm:                 pulumi.String(r.Name),
		Enabled:               pulumi.Bool(true),
		DisplayName:           pulumi.String(r.DisplayName),
		AccessTokenLifespan:   pulumi.String(r.AccessTokenLifespan),
		SsoSessionIdleTimeout: pulumi.String(r.SSOSessionIdleTimeout),
		SsoSessionMaxLifespan: pulumi.String(r.SSOSessionMaxLifespan),
		PasswordPolicy:        pulumi.String(r.PasswordPolicy),
		// The seed puts refresh_token_max_reuse on the client; Keycloak
		// enforces it per realm, and only when refresh tokens are revoked.
		RevokeRefreshToken:   pulumi.Bool(true),
		RefreshTokenMaxReuse: pulumi.Int(r.RefreshTokenMaxReuse),
		OtpPolicy: keycloak.RealmOtpPolicyArgs{
			Type: pulumi.String(r.OTP.Type), Algorithm: pulumi.String(r.OTP.Algorithm),
			Digits: pulumi.Int(r.OTP.Digits), Period: pulumi.Int(r.OTP.Period),
		},
		SecurityDefenses: keycloak.RealmSecurityDefensesArgs{BruteForceDetection: keycloak.RealmSecurityDefensesBruteForceDetectionArgs{
			PermanentLockout:             pulumi.Bool(r.BruteForce.PermanentLockout),
			MaxLoginFailures:             pulumi.Int(r.BruteForce.MaxLoginFailures),
			WaitIncrementSeconds:         pulumi.Int(r.BruteForce.WaitIncrementSeconds),
			QuickLoginCheckMilliSeconds:  pulumi.Int(r.BruteForce.QuickLoginCheckMilliSeconds),
			MinimumQuickLoginWaitSeconds: pulumi.Int(r.BruteForce.MinimumQuickLoginWaitSeconds),
			MaxFailureWaitSeconds:        pulumi.Int(r.BruteForce.MaxFailureWaitSeconds),
			FailureResetTimeSeconds:      pulumi.Int(r.BruteForce.FailureResetTimeSeconds),
		}},
	}, parent, afterKeycloak, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("realm: %w", err)
	}
	id.Realm = realm

	c := args.Client
	client, err := openid.NewClient(ctx, name+"-"+c.ClientID, &openid.ClientArgs{
		RealmId:                   realm.ID(),
		ClientId:                  pulumi.String(c.ClientID),
		Name:                      pulumi.String(c.Name),
		Enabled:                   pulumi.Bool(true),
		AccessType:                pulumi.String("CONFIDENTIAL"),
		ClientSecret:              pulumi.ToSecret(secrets.ClientSecret).(pulumi.StringOutput),
		ValidRedirectUris:         pulumi.ToStringArray(c.RedirectURIs),
		WebOrigins:                pulumi.ToStringArray(c.WebOrigins),
		StandardFlowEnabled:       pulumi.Bool(c.StandardFlowEnabled),
		ImplicitFlowEnabled:       pulumi.Bool(c.ImplicitFlowEnabled),
		DirectAccessGrantsEnabled: pulumi.Bool(c.DirectAccessGrantsEnabled),
		ServiceAccountsEnabled:    pulumi.Bool(c.ServiceAccountsEnabled),
		UseRefreshTokens:          pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("client %s: %w", c.ClientID, err)
	}
	descriptions := map[string]string{"admin": "Administrator role with full access", "user": "Standard user role", "api-access": "API access role"}
	for _, role := range r.Roles {
		if _, err := keycloak.NewRole(ctx, name+"-role-"+role, &keycloak.RoleArgs{
			RealmId: realm.ID(), Name: pulumi.String(role), Description: pulumi.String(descriptions[role]),
		}, parent); err != nil {
			return nil, fmt.Errorf("realm role %s: %w", role, err)
		}
	}
	for _, role := range c.Roles {
		if _, err := keycloak.NewRole(ctx, name+"-client-role-"+role, &keycloak.RoleArgs{
			RealmId: realm.ID(), ClientId: client.ID(), Name: pulumi.String(role), Description: pulumi.String(descriptions[role]),
		}, parent); err != nil {
			return nil, fmt.Errorf("client role %s: %w", role, err)
		}
	}
	if l := args.LDAP; l.Enabled {
		if _, err := ldap.NewUserFederation(ctx, name+"-"+l.Name, &ldap.UserFederationArgs{
			Name:                  pulumi.String(l.Name),
			RealmId:               realm.ID(),
			Enabled:               pulumi.Bool(true),
			ConnectionUrl:         pulumi.String(l.ConnectionURL),
			UsersDn:               pulumi.String(l.UsersDN),
			BindDn:                pulumi.String(l.BindDN),
			BindCredential:        pulumi.ToSecret(secrets.LDAPBindCredential).(pulumi.StringOutput),
			UsernameLdapAttribute: pulumi.String(l.UsernameLDAPAttribute),
			RdnLdapAttribute:      pulumi.String(l.RDNLDAPAttribute),
			UuidLdapAttribute:     pulumi.String(l.UUIDLDAPAttribute),
			UserObjectClasses:     pulumi.ToStringArray(l.UserObjectClasses),
			SearchScope:           pulumi.String(l.SearchScope),
			BatchSizeForSync:      pulumi.Int(l.BatchSizeForSync),
			FullSyncPeriod:        pulumi.Int(l.FullSyncPeriod),
			ChangedSyncPeriod:     pulumi.Int(l.ChangedSyncPeriod),
			Cache:                 ldap.UserFederationCacheArgs{Policy: pulumi.String(l.CachePolicy)},
		}, parent); err != nil {
			return nil, fmt.Errorf("ldap federation: %w", err)
		}
	}
	if err := ctx.RegisterResourceOutputs(id, pulumi.Map{"realm": realm.Realm}); err != nil {
		return nil, err
	}
	return id, nil
}

// workload is the seed's Keycloak Deployment and Service, with the option
// names of the pinned release: --proxy-headers replaces the removed --proxy,
// --hostname takes the full URL, and the bootstrap admin variables replace
// KEYCLOAK_ADMIN. The stock image is not pre-built, so no --optimized.
func workload(ctx *pulumi.Context, name string, a Args, s Secrets, opts ...pulumi.ResourceOption) (*appsv1.Deployment, error) {
	dbSecret, err := corev1.NewSecret(ctx, name+"-db", &corev1.SecretArgs{
		Metadata: kube.Metadata(DBSecretName, a.Namespace, nil),
		StringData: pulumi.StringMap{"username": pulumi.String("keycloak"),
			"password": pulumi.ToSecret(s.DBPassword).(pulumi.StringOutput)},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("keycloak db secret: %w", err)
	}
	adminSecret, err := corev1.NewSecret(ctx, name+"-admin", &corev1.SecretArgs{
		Metadata:   kube.Metadata(AdminSecretName, a.Namespace, nil),
		StringData: pulumi.StringMap{"password": pulumi.ToSecret(s.AdminPassword).(pulumi.StringOutput)},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("keycloak admin secret: %w", err)
	}
	fromSecret := func(env, secret, key string) corev1.EnvVarArgs {
		return corev1.EnvVarArgs{Name: pulumi.String(env), ValueFrom: corev1.EnvVarSourceArgs{
			SecretKeyRef: corev1.SecretKeySelectorArgs{Name: pulumi.String(secret), Key: pulumi.String(key)}}}
	}
	value := func(env, v string) corev1.EnvVarArgs {
		return corev1.EnvVarArgs{Name: pulumi.String(env), Value: pulumi.String(v)}
	}
	labels := pulumi.StringMap{"app": pulumi.String(AppName)}
	emptyDir := func(n string) corev1.VolumeArgs {
		return corev1.VolumeArgs{Name: pulumi.String(n), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}}
	}
	deployment, err := appsv1.NewDeployment(ctx, name+"-keycloak", &appsv1.DeploymentArgs{
		Metadata: kube.Metadata(AppName, a.Namespace, map[string]string{"app": AppName}),
		Spec: appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(a.Replicas),
			Selector: metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: labels},
				Spec: corev1.PodSpecArgs{
					SecurityContext: corev1.PodSecurityContextArgs{RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(1000),
						SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")}},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("keycloak"),
						Image: pulumi.String(a.Image.String()),
						Args: pulumi.ToStringArray([]string{"start", "--hostname=https://" + a.Hostname,
							"--http-enabled=true", "--proxy-headers=xforwarded"}),
						Env: corev1.EnvVarArray{
							value("KC_DB", "postgres"),
							value("KC_DB_URL", a.DatabaseURL),
							fromSecret("KC_DB_USERNAME", DBSecretName, "username"),
							fromSecret("KC_DB_PASSWORD", DBSecretName, "password"),
							value("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
							fromSecret("KC_BOOTSTRAP_ADMIN_PASSWORD", AdminSecretName, "password"),
							value("KC_FEATURES", strings.Join(a.Features, ",")),
							value("KC_HEALTH_ENABLED", "true"),
							value("KC_METRICS_ENABLED", "true"),
						},
						Ports: corev1.ContainerPortArray{
							corev1.ContainerPortArgs{ContainerPort: pulumi.Int(8080), Name: pulumi.String("http")},
							corev1.ContainerPortArgs{ContainerPort: pulumi.Int(9000), Name: pulumi.String("metrics")},
						},
						Resources:       a.Resources.Args(),
						ReadinessProbe:  a.ReadinessProbe.Args(),
						LivenessProbe:   a.LivenessProbe.Args(),
						SecurityContext: kube.Restricted(),
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/opt/keycloak/data")},
							corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
						},
					}},
					Volumes: corev1.VolumeArray{emptyDir("data"), emptyDir("tmp")},
				},
			},
		},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{dbSecret, adminSecret}))...)
	if err != nil {
		return nil, fmt.Errorf("keycloak deployment: %w", err)
	}
	if _, err := corev1.NewService(ctx, name+"-keycloak", &corev1.ServiceArgs{
		Metadata: kube.Metadata(AppName, a.Namespace, map[string]string{"app": AppName}),
		Spec: corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: labels,
			Ports: corev1.ServicePortArray{
				corev1.ServicePortArgs{Name: pulumi.String("http"), Port: pulumi.Int(8080), TargetPort: pulumi.Int(8080)},
				corev1.ServicePortArgs{Name: pulumi.String("metrics"), Port: pulumi.Int(9000), TargetPort: pulumi.Int(9000)},
			},
		},
	}, opts...); err != nil {
		return nil, fmt.Errorf("keycloak service: %w", err)
	}
	return deployment, nil
}
