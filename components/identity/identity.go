package identity

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/policies/rules"
	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak"
	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak/ldap"
	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak/openid"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
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
		routed, err := routes(ctx, name, args, parent)
		if err != nil {
			return nil, err
		}
		ready = append(ready, routed...)
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
// startup"). So the build runs in init containers into an emptyDir that
// the server then mounts at lib/quarkus, and the server starts --optimized
// from it. The build itself needs what the image has in lib/quarkus:
// kc.sh starts every command through Quarkus' QuarkusEntryPoint, which
// first opens lib/quarkus/quarkus-application.dat, and the re-augmentation
// then reads lib/quarkus/build-system.properties before rewriting the
// directory (quarkus independent-projects/bootstrap/runner
// QuarkusEntryPoint.java and core/deployment mutability/ReaugmentTask.java,
// Quarkus 3.27 as Keycloak 26.4 uses; keycloak issues #21616, #44632 show
// the failure on an empty or read-only lib/quarkus). So a first step
// copies the image's lib/quarkus into the empty volume (mounted elsewhere,
// so the image's copy stays visible; the image's coreutils-single provides
// cp), and only then `kc.sh build` runs with the volume over lib/quarkus.
// The build's only other write, /opt/keycloak/quarkus-artifact.properties,
// is allowed to fail (Quarkus AugmentActionImpl logs it at debug). An image
// already built for these options (Args.Image.Prebuilt) skips both steps.
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
		workload.WritableDirs["quarkus"] = QuarkusDir
		workload.Init = BuildSteps(buildOptions)
	}
	w, err := kube.NewWorkload(ctx, name, workload, append(opts, pulumi.DependsOn([]pulumi.Resource{dbSecret, adminSecret}))...)
	if err != nil {
		return nil, err
	}
	return w.Deployment, nil
}

// PublicPaths are the Keycloak paths every client needs, which the public
// route serves: the realms' endpoints (OIDC, login pages, account
// console), their static resources, and the well-known metadata.
// Keycloak's reverse-proxy guide (26.4, "Exposed path recommendations")
// lists exactly these as exposed and / and /admin/ as not (nor /metrics
// and /health, on the management port, which no route reaches). The gate
// holds the same list (exposure-internal-apis).
var PublicPaths = rules.IdentityPublicPaths

// AdminPath is the admin console and admin REST API, routed only for the
// allowed sources (AdminAllowPlugin).
const AdminPath = "/admin/"

// AdminAllowPlugin is the gateway plugin that admits only the admin
// sources (Kong's ip-restriction, judging the client address Kong reads
// from the load balancer's PROXY protocol header).
const AdminAllowPlugin = rules.AdminAllowPlugin

// routes are the Ingresses that serve https://<Hostname> from Keycloak
// through the gateway: the public paths for users and clients, and the
// admin path for the administrators' networks and the deploying runners
// (the keycloak provider configures the realm through the admin API).
func routes(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	allow, err := apiextensions.NewCustomResource(ctx, name+"-admin-allow", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("configuration.konghq.com/v1"),
		Kind:       pulumi.String("KongClusterPlugin"),
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(AdminAllowPlugin),
			Annotations: pulumi.StringMap{"kubernetes.io/ingress.class": pulumi.String(a.IngressClass)}},
		OtherFields: kubernetes.UntypedArgs{
			"plugin": "ip-restriction",
			"config": pulumi.Map{"allow": adminSources(a), "status": pulumi.Int(403), "message": pulumi.String("Forbidden")},
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("keycloak admin allow list: %w", err)
	}
	public, err := ingress(ctx, name+"-route", AppName, a, PublicPaths, a.RoutePlugins, opts...)
	if err != nil {
		return nil, fmt.Errorf("keycloak route: %w", err)
	}
	admin, err := ingress(ctx, name+"-admin-route", AppName+"-admin", a, []string{AdminPath},
		append(slices.Clone(a.RoutePlugins), AdminAllowPlugin), append(opts, pulumi.DependsOn([]pulumi.Resource{allow}))...)
	if err != nil {
		return nil, fmt.Errorf("keycloak admin route: %w", err)
	}
	return []pulumi.Resource{allow, public, admin}, nil
}

// adminSources are the admin path's allowed addresses: the configured
// networks and the stack's sources, each as a CIDR.
func adminSources(a Args) pulumi.StringArrayOutput {
	configured := pulumi.ToStringArray(a.AdminCIDRs).ToStringArrayOutput()
	if a.AdminSources == nil {
		return configured
	}
	return pulumi.All(configured, a.AdminSources.ToStringArrayOutput()).ApplyT(func(v []any) []string {
		out := slices.Clone(v[0].([]string))
		for _, ip := range v[1].([]string) {
			if !strings.Contains(ip, "/") {
				ip += "/32"
			}
			out = append(out, ip)
		}
		return out
	}).(pulumi.StringArrayOutput)
}

// ingress is one Ingress for Keycloak's host with Prefix paths.
func ingress(ctx *pulumi.Context, name, objectName string, a Args, paths, plugins []string, opts ...pulumi.ResourceOption) (*networkingv1.Ingress, error) {
	meta := kube.Metadata(objectName, a.Namespace, map[string]string{"app": AppName})
	meta.Annotations = pulumi.StringMap{"konghq.com/protocols": pulumi.String("https"),
		"konghq.com/https-redirect-status-code": pulumi.String("308"),
		"konghq.com/plugins":                    pulumi.String(strings.Join(plugins, ","))}
	var tls networkingv1.IngressTLSArray
	if a.TLSSecret != "" {
		tls = networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
			Hosts: pulumi.ToStringArray([]string{a.Hostname}), SecretName: pulumi.String(a.TLSSecret)}}
	}
	var httpPaths networkingv1.HTTPIngressPathArray
	for _, p := range paths {
		httpPaths = append(httpPaths, networkingv1.HTTPIngressPathArgs{
			Path: pulumi.String(p), PathType: pulumi.String("Prefix"),
			Backend: networkingv1.IngressBackendArgs{Service: networkingv1.IngressServiceBackendArgs{
				Name: pulumi.String(AppName), Port: networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(8080)},
			}},
		})
	}
	return networkingv1.NewIngress(ctx, name, &networkingv1.IngressArgs{
		Metadata: meta,
		Spec: networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(a.IngressClass),
			Tls:              tls,
			Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
				Host: pulumi.String(a.Hostname),
				Http: networkingv1.HTTPIngressRuleValueArgs{Paths: httpPaths},
			}},
		},
	}, opts...)
}

// QuarkusDir is where Keycloak keeps its build output (the Quarkus
// mutable-jar's generated files).
const QuarkusDir = "/opt/keycloak/lib/quarkus"

// quarkusSeed is where the copy step mounts the build volume.
const quarkusSeed = "/quarkus-seed"

// BuildSteps are the init containers that build Keycloak for the options
// on a read-only root: copy the image's lib/quarkus into the build volume,
// then `kc.sh build` into it.
func BuildSteps(options corev1.EnvVarArray) []kube.InitContainer {
	return []kube.InitContainer{
		{Name: "seed", Command: []string{"cp", "-R", QuarkusDir + "/.", quarkusSeed + "/"},
			Mounts: map[string]string{"quarkus": quarkusSeed}},
		{Name: "build", Command: []string{"/opt/keycloak/bin/kc.sh"}, Args: []string{"build"}, Env: options},
	}
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
