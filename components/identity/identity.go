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
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Credentials are the identity layer's secrets, set by the stack.
type Credentials struct {
	// AdminPassword bootstraps Keycloak's admin user.
	AdminPassword pulumi.StringInput
	// DBPassword is Keycloak's database password.
	DBPassword pulumi.StringInput
	// ClientSecret is the API client's secret, the same one the gateway's
	// oidc plugin presents.
	ClientSecret pulumi.StringInput
	// LDAPBindCredential is the directory bind password (LDAP enabled only).
	LDAPBindCredential pulumi.StringInput
}

// missing names the credentials args needs that are not set.
func (c Credentials) missing(a Args) []string {
	var names []string
	for _, cred := range []struct {
		name   string
		value  pulumi.StringInput
		needed bool
	}{
		{"AdminPassword", c.AdminPassword, true}, {"DBPassword", c.DBPassword, true},
		{"ClientSecret", c.ClientSecret, true}, {"LDAPBindCredential", c.LDAPBindCredential, a.LDAP.Enabled},
	} {
		if cred.needed && cred.value == nil {
			names = append(names, "args.Credentials."+cred.name)
		}
	}
	return names
}

// Identity is Keycloak and the bac realm.
type Identity struct {
	pulumi.ResourceState

	// Realm is the bac realm (protected).
	Realm *keycloak.Realm
}

// NewIdentity deploys Keycloak and configures the realm. opts must carry the
// cluster's kubernetes provider and the keycloak provider (pulumi.Providers).
func NewIdentity(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Identity, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	secrets := args.Credentials
	if missing := secrets.missing(args); len(missing) > 0 {
		return nil, fmt.Errorf("%s: required", strings.Join(missing, ", "))
	}
	id := &Identity{}
	if err := ctx.RegisterComponentResource("bac:identity:Identity", name, id, opts...); err != nil {
		return nil, err
	}
	parent := kube.ChildOf(id, opts)
	deployment, err := workload(ctx, name, args, parent)
	if err != nil {
		return nil, err
	}
	ready := []pulumi.Resource{deployment}
	if args.IngressClass != "" {
		route, err := route(ctx, name, args, parent)
		if err != nil {
			return nil, err
		}
		ready = append(ready, route)
	}
	// The realm is configured through Keycloak's admin API once Keycloak is
	// ready (the provider waits for the Deployment's rollout) and routed.
	afterKeycloak := pulumi.DependsOn(ready)

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

// ServerArgs are the Keycloak server's arguments, all constants.
var ServerArgs = []string{"start", "--optimized", "--http-enabled=true", "--proxy-headers=xforwarded"}

// workload is the seed's Keycloak Deployment and Service, with the option
// names of the pinned release: --proxy-headers replaces the removed --proxy,
// the hostname (KC_HOSTNAME) takes the full URL, and the bootstrap admin
// variables replace KEYCLOAK_ADMIN.
//
// Keycloak bakes its build-time options (db, features, health, metrics) into
// /opt/keycloak/lib/quarkus. A plain `start` with options that differ from
// the image's build re-augments into that directory at every start, which a
// read-only root filesystem refuses; `start --optimized` on a server never
// built for them refuses to start (Keycloak 26 server guide, "Optimize the
// startup"). So an init container runs `kc.sh build` with exactly the
// build-time options into an emptyDir mounted at lib/quarkus, and the server
// starts --optimized from it. An image already built for these options
// (Args.Image.Prebuilt) skips the init container.
func workload(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*appsv1.Deployment, error) {
	dbSecret, err := corev1.NewSecret(ctx, name+"-db", &corev1.SecretArgs{
		Metadata: kube.Metadata(DBSecretName, a.Namespace, nil),
		StringData: pulumi.StringMap{"username": pulumi.String("keycloak"),
			"password": pulumi.ToSecret(a.Credentials.DBPassword).(pulumi.StringOutput)},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("keycloak db secret: %w", err)
	}
	adminSecret, err := corev1.NewSecret(ctx, name+"-admin", &corev1.SecretArgs{
		Metadata:   kube.Metadata(AdminSecretName, a.Namespace, nil),
		StringData: pulumi.StringMap{"password": pulumi.ToSecret(a.Credentials.AdminPassword).(pulumi.StringOutput)},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("keycloak admin secret: %w", err)
	}
	buildOptions := BuildOptions(a.Features)
	workload := kube.WorkloadArgs{
		App: AppName, Namespace: a.Namespace, Image: a.Image, Replicas: a.Replicas,
		// Constants only: kc.sh runs its arguments through eval, so no
		// configuration value may become one. The hostname is an
		// environment variable, which Keycloak reads without a shell.
		Args: ServerArgs,
		Env: append(corev1.EnvVarArray{
			kube.EnvValue("KC_HOSTNAME", "https://"+a.Hostname),
			kube.EnvValue("KC_DB_URL", a.DatabaseURL),
			kube.EnvFromSecret("KC_DB_USERNAME", DBSecretName, "username"),
			kube.EnvFromSecret("KC_DB_PASSWORD", DBSecretName, "password"),
			kube.EnvValue("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
			kube.EnvFromSecret("KC_BOOTSTRAP_ADMIN_PASSWORD", AdminSecretName, "password"),
		}, buildOptions...),
		Ports:     []kube.Port{{Name: "http", Port: 8080}, {Name: "metrics", Port: 9000}},
		Resources: a.Resources, Liveness: a.LivenessProbe, Readiness: a.ReadinessProbe,
		RunAsUser: keycloakUser, FSGroup: keycloakUser,
		WritableDirs: map[string]string{"data": "/opt/keycloak/data", "tmp": "/tmp"},
	}
	if !a.Prebuilt {
		workload.WritableDirs["quarkus"] = "/opt/keycloak/lib/quarkus"
		workload.Init = &kube.InitContainer{Name: "build", Command: []string{"/opt/keycloak/bin/kc.sh"}, Args: []string{"build"}, Env: buildOptions}
	}
	w, err := kube.NewWorkload(ctx, name, workload, append(opts, pulumi.DependsOn([]pulumi.Resource{dbSecret, adminSecret}))...)
	if err != nil {
		return nil, err
	}
	return w.Deployment, nil
}

// route is the Ingress that serves https://<Hostname> from Keycloak through
// the gateway: users sign in there, and the deploying runner reaches the
// admin API there to configure the realm.
func route(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*networkingv1.Ingress, error) {
	meta := kube.Metadata(AppName, a.Namespace, map[string]string{"app": AppName})
	meta.Annotations = pulumi.StringMap{"konghq.com/protocols": pulumi.String("https"),
		"konghq.com/https-redirect-status-code": pulumi.String("308"),
		"konghq.com/plugins":                    pulumi.String(strings.Join(a.RoutePlugins, ","))}
	var tls networkingv1.IngressTLSArray
	if a.TLSSecret != "" {
		tls = networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
			Hosts: pulumi.ToStringArray([]string{a.Hostname}), SecretName: pulumi.String(a.TLSSecret)}}
	}
	ing, err := networkingv1.NewIngress(ctx, name+"-route", &networkingv1.IngressArgs{
		Metadata: meta,
		Spec: networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(a.IngressClass),
			Tls:              tls,
			Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
				Host: pulumi.String(a.Hostname),
				Http: networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{networkingv1.HTTPIngressPathArgs{
					Path: pulumi.String("/"), PathType: pulumi.String("Prefix"),
					Backend: networkingv1.IngressBackendArgs{Service: networkingv1.IngressServiceBackendArgs{
						Name: pulumi.String(AppName), Port: networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(8080)},
					}},
				}}},
			}},
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("keycloak route: %w", err)
	}
	return ing, nil
}

// BuildOptions are Keycloak's build-time options as environment variables:
// the server is built with them and starts --optimized with the same values.
func BuildOptions(features []string) corev1.EnvVarArray {
	return corev1.EnvVarArray{
		kube.EnvValue("KC_DB", "postgres"),
		kube.EnvValue("KC_FEATURES", strings.Join(features, ",")),
		kube.EnvValue("KC_HEALTH_ENABLED", "true"),
		kube.EnvValue("KC_METRICS_ENABLED", "true"),
	}
}

// keycloakUser is the image's unprivileged user.
const keycloakUser = 1000
