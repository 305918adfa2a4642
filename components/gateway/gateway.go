package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/services"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Gateway is the Kong deployment and its routing configuration.
type Gateway struct {
	pulumi.ResourceState

	// Release is the Kong Helm release.
	Release *helmv3.Release
}

// ServiceAccount is the Kong pods' service account, whose mesh identity the
// services' AuthorizationPolicies allow.
const ServiceAccount = "kong"

// OIDCSecretName is the Secret holding the oidc plugin's client secret.
const OIDCSecretName = "kong-oidc-client"

// IngressClass is the ingress class Kong's controller serves.
const IngressClass = "kong"

// DBSecretName is the Secret holding the external database's password.
const DBSecretName = "kong-db"

// NewGateway deploys Kong for args.Services. The kubernetes provider comes
// from opts; the namespaces must exist (DependsOn in opts).
func NewGateway(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Gateway, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	if args.OIDCClientSecret == nil && args.OIDC.Enabled {
		return nil, errors.New("args.OIDCClientSecret is required with the oidc plugin")
	}
	if args.DatabasePassword == nil && args.Postgres.ExternalHost != "" {
		return nil, errors.New("args.DatabasePassword is required with an external database")
	}
	byName := map[string]services.Service{}
	for _, s := range args.Services {
		byName[s.Name] = s
	}
	g := &Gateway{}
	if err := ctx.RegisterComponentResource("bac:gateway:Gateway", name, g, opts...); err != nil {
		return nil, err
	}
	parent := kube.ChildOf(g, opts)

	var beforeKong []pulumi.Resource
	if args.Postgres.ExternalHost != "" {
		db, err := corev1.NewSecret(ctx, name+"-db", &corev1.SecretArgs{
			Metadata:   kube.Metadata(DBSecretName, args.Namespace, nil),
			Type:       pulumi.String("Opaque"),
			StringData: pulumi.StringMap{"password": pulumi.ToSecret(args.DatabasePassword).(pulumi.StringOutput)},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("database secret: %w", err)
		}
		beforeKong = append(beforeKong, db)
	}
	release, err := kube.HelmRelease(ctx, name+"-kong", ReleaseName, args.Namespace, args.Chart, helmValues(args), parent, pulumi.DependsOn(beforeKong))
	if err != nil {
		return nil, fmt.Errorf("kong release: %w", err)
	}
	g.Release = release
	// Plugins and routes are Kong CRDs the release installs.
	afterKong := pulumi.DependsOn([]pulumi.Resource{release})

	var pluginDeps []pulumi.Resource
	if args.OIDC.Enabled {
		secret, err := corev1.NewSecret(ctx, name+"-oidc-client", &corev1.SecretArgs{
			Metadata:   kube.Metadata(OIDCSecretName, args.Namespace, nil),
			Type:       pulumi.String("Opaque"),
			StringData: pulumi.StringMap{"client_secret": pulumi.ToSecret(args.OIDCClientSecret).(pulumi.StringOutput)},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("oidc client secret: %w", err)
		}
		pluginDeps = append(pluginDeps, secret)
	}
	for _, p := range plugins(args) {
		if p.name == PluginOIDC && !args.OIDC.Enabled {
			continue
		}
		if _, err := apiextensions.NewCustomResource(ctx, name+"-"+p.name, &apiextensions.CustomResourceArgs{
			// Cluster-scoped: the Ingresses live in each service's namespace,
			// and a namespaced KongPlugin (as in the seed) only serves its own.
			ApiVersion: pulumi.String("configuration.konghq.com/v1"),
			Kind:       pulumi.String("KongClusterPlugin"),
			Metadata: metav1.ObjectMetaArgs{
				Name:        pulumi.String(p.name),
				Annotations: pulumi.StringMap{"kubernetes.io/ingress.class": pulumi.String("kong")},
				Labels:      pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("bac-platform")},
			},
			OtherFields: p.fields,
		}, parent, afterKong, pulumi.DependsOn(pluginDeps)); err != nil {
			return nil, fmt.Errorf("plugin %s: %w", p.name, err)
		}
	}

	if err := tenantAffinity(ctx, name, args, byName, parent, afterKong); err != nil {
		return nil, err
	}
	for _, r := range args.Routes {
		svc := byName[r.Service]
		meta := kube.Metadata(strings.TrimSuffix(svc.ServiceName, "-service")+"-api-ingress", svc.Namespace, nil)
		meta.Annotations = pulumi.ToStringMap(IngressAnnotations(args, r))
		var tls networkingv1.IngressTLSArray
		if args.TLSSecret != "" && (args.TLSNamespace == "" || args.TLSNamespace == svc.Namespace) {
			tls = networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
				Hosts: pulumi.ToStringArray([]string{args.Host}), SecretName: pulumi.String(args.TLSSecret)}}
		}
		if _, err := networkingv1.NewIngress(ctx, name+"-"+r.Service, &networkingv1.IngressArgs{
			Metadata: meta,
			Spec: networkingv1.IngressSpecArgs{
				IngressClassName: pulumi.String(IngressClass),
				Tls:              tls,
				Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
					Host: pulumi.String(args.Host),
					Http: networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{
						networkingv1.HTTPIngressPathArgs{
							Path: pulumi.String(r.Path), PathType: pulumi.String("Prefix"),
							Backend: networkingv1.IngressBackendArgs{Service: networkingv1.IngressServiceBackendArgs{
								Name: pulumi.String(svc.ServiceName),
								Port: networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(svc.Port)},
							}},
						},
					}},
				}},
			},
		}, parent, afterKong); err != nil {
			return nil, fmt.Errorf("ingress %s: %w", r.Service, err)
		}
	}
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{"release": release.Status.Name()}); err != nil {
		return nil, err
	}
	return g, nil
}

type plugin struct {
	name   string
	fields kubernetes.UntypedArgs
}

// plugins are the seed's six KongPlugins with their configuration.
func plugins(a Args) []plugin {
	rt := a.RequestTransformer
	transformer := map[string]any{"add": map[string]any{"headers": rt.AddHeaders}, "remove": map[string]any{"headers": rt.RemoveHeaders}}
	if len(rt.ReplaceHeaders) > 0 {
		transformer["replace"] = map[string]any{"headers": rt.ReplaceHeaders}
	}
	o := a.OIDC
	redirect := o.RedirectURI
	if redirect == "" {
		redirect = "https://" + a.Host + "/auth/callback"
	}
	return []plugin{
		{PluginRateLimitGlobal, kubernetes.UntypedArgs{"plugin": "rate-limiting", "config": a.RateLimitGlobal.Config()}},
		{PluginJWT, kubernetes.UntypedArgs{"plugin": "jwt", "config": map[string]any{
			"key_claim_name": a.JWT.KeyClaimName, "secret_is_base64": a.JWT.SecretIsBase64,
			"claims_to_verify": a.JWT.ClaimsToVerify, "maximum_expiration": a.JWT.MaximumExpirationSeconds,
			"run_on_preflight": a.JWT.RunOnPreflight}}},
		{PluginCORS, kubernetes.UntypedArgs{"plugin": "cors", "config": map[string]any{
			"origins": a.CORS.Origins, "methods": a.CORS.Methods, "headers": a.CORS.Headers,
			"exposed_headers": a.CORS.ExposedHeaders, "credentials": a.CORS.Credentials, "max_age": a.CORS.MaxAge}}},
		{PluginRequestTransformer, kubernetes.UntypedArgs{"plugin": "request-transformer", "config": transformer}},
		{PluginOIDC, kubernetes.UntypedArgs{
			"plugin": "oidc",
			"config": map[string]any{
				"discovery": strings.TrimSuffix(o.Issuer, "/") + "/.well-known/openid-configuration",
				"client_id": o.ClientID, "ssl_verify": fmt.Sprint(o.SSLVerify), "token_endpoint_auth_method": o.TokenEndpointAuthMethod,
				"introspection_endpoint": o.introspectionEndpoint(), "bearer_only": fmt.Sprint(o.BearerOnly), "realm": o.Realm,
				"redirect_uri": redirect, "logout_path": o.LogoutPath, "scope": o.Scope,
			},
			// The client secret never appears in the plugin object: Kong's
			// controller reads it from the Secret at sync time.
			"configPatches": []map[string]any{{"path": "/client_secret", "valueFrom": map[string]any{"secretKeyRef": map[string]any{
				"name": OIDCSecretName, "key": "client_secret", "namespace": a.Namespace}}}},
		}},
		{PluginRateLimitAnalytics, kubernetes.UntypedArgs{"plugin": "rate-limiting", "config": a.RateLimitAnalytics.Config()}},
	}
}

// proxyValues are the chart's proxy Service and listens. Behind a load
// balancer that sends the PROXY protocol (ProxyProtocolFrom), both
// listens take the proxy_protocol parameter: the chart renders
// KONG_PROXY_LISTEN from proxy.{http,tls}.parameters (kong.listen in
// templates/_helpers.tpl at kong-3.2.0), and its default tls parameters
// are [http2], which a list value replaces, so http2 is kept explicitly.
func proxyValues(a Args, annotations map[string]any) map[string]any {
	http := map[string]any{"enabled": true, "servicePort": 80, "containerPort": 8000}
	tls := map[string]any{"enabled": true, "servicePort": 443, "containerPort": 8443}
	if len(a.ProxyProtocolFrom) > 0 {
		http["parameters"] = []any{"proxy_protocol"}
		tls["parameters"] = []any{"http2", "proxy_protocol"}
	}
	return map[string]any{"enabled": true, "type": "LoadBalancer", "annotations": annotations, "http": http, "tls": tls}
}

// helmValues are the kong/kong chart values for the seed's deployment.
func helmValues(a Args) map[string]any {
	kongPlugins := "bundled"
	if a.OIDC.Enabled {
		kongPlugins += ",oidc"
	}
	env := map[string]any{
		// DB-less unless an external database is configured (see Postgres).
		"database":                        "off",
		"nginx_worker_processes":          a.WorkerProcesses,
		"nginx_events_worker_connections": fmt.Sprint(a.WorkerConnections), // the seed's nginx_worker_connections
		"ssl_protocols":                   a.SSLProtocols,
		"ssl_cipher_suite":                a.SSLCipherSuite,
		"plugins":                         kongPlugins,
	}
	if len(a.ProxyProtocolFrom) > 0 {
		// Kong 3.9 kong.conf: the client address is the PROXY protocol
		// header's, trusted only from the load balancer's ranges (an empty
		// trusted_ips, the default, trusts no header at all).
		env["real_ip_header"] = "proxy_protocol"
		env["trusted_ips"] = strings.Join(a.ProxyProtocolFrom, ",")
	}
	if pg := a.Postgres; pg.ExternalHost != "" {
		env["database"] = "postgres"
		env["pg_host"], env["pg_port"], env["pg_database"], env["pg_user"] = pg.ExternalHost, fmt.Sprint(pg.Port), pg.Database, pg.User
		// A map value renders as the env entry's body (kong.renderEnv in
		// templates/_helpers.tpl at kong-3.2.0), so valueFrom reaches the pod.
		env["pg_password"] = map[string]any{"valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": DBSecretName, "key": "password"}}}
	}
	probe := func(p kube.Probe) map[string]any {
		return map[string]any{"httpGet": map[string]any{"path": p.Path, "port": p.Port, "scheme": "HTTP"},
			"initialDelaySeconds": p.InitialDelaySeconds, "periodSeconds": p.PeriodSeconds}
	}
	proxyAnnotations := map[string]any{}
	switch {
	case len(a.ProxyAnnotations) > 0:
		for k, v := range a.ProxyAnnotations {
			proxyAnnotations[k] = v
		}
	case a.AWSLoadBalancer:
		proxyAnnotations["service.beta.kubernetes.io/aws-load-balancer-type"] = "nlb"
		proxyAnnotations["service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"] = "true"
	}
	ingressController := map[string]any{
		"enabled":      true,
		"image":        map[string]any{"repository": a.ControllerImage.Repository, "tag": a.ControllerImage.Tag},
		"ingressClass": "kong",
		"resources":    a.ControllerResources.Values(),
	}
	if len(a.PublishStatusAddresses) > 0 {
		// The chart turns each env key into CONTROLLER_<KEY>
		// (templates/_helpers.tpl, kong.ingressController.env).
		ingressController["env"] = map[string]any{"publish_status_address": strings.Join(a.PublishStatusAddresses, ",")}
	}
	as := a.Autoscaling
	metric := func(resource string, pct int) map[string]any {
		return map[string]any{"type": "Resource", "resource": map[string]any{"name": resource,
			"target": map[string]any{"type": "Utilization", "averageUtilization": pct}}}
	}
	return map[string]any{
		"image":        map[string]any{"repository": a.Image.Repository, "tag": a.Image.Tag},
		"replicaCount": a.Replicas,
		// The mesh admits callers by identity: cluster.local/ns/<ns>/sa/kong.
		"deployment": map[string]any{"serviceAccount": map[string]any{"create": true, "name": ServiceAccount}},
		"autoscaling": map[string]any{
			"enabled": true, "minReplicas": as.MinReplicas, "maxReplicas": as.MaxReplicas,
			"metrics": []any{metric("cpu", as.TargetCPUUtilizationPercentage), metric("memory", as.TargetMemoryUtilizationPercentage)},
		},
		// Kong joins the mesh for its calls to the services (the STRICT
		// policies admit its identity), but its sidecar must not intercept
		// the proxy's inbound ports: the NLB speaks plain TCP/TLS, not mesh
		// mTLS. An empty include list captures no inbound port (istio 1.29.6
		// tools/istio-iptables: "If InboundPortsInclude is not set, no
		// inbound ports will be intercepted"); it is the Kong chart's default
		// (values.yaml at kong-3.2.0) and pinned here so no values change
		// can drop it.
		"podAnnotations": map[string]any{"traffic.sidecar.istio.io/includeInboundPorts": ""},
		"resources":      a.Resources.Values(),
		"env":            env,
		"readinessProbe": probe(a.ReadinessProbe),
		"livenessProbe":  probe(a.LivenessProbe),
		// The chart's bundled PostgreSQL stays off (see Postgres).
		"postgresql":        map[string]any{"enabled": false},
		"ingressController": ingressController,
		"proxy":             proxyValues(a, proxyAnnotations),
		"admin": map[string]any{
			"enabled": true, "type": "ClusterIP",
			"http": map[string]any{"enabled": false},
			"tls":  map[string]any{"enabled": true, "servicePort": 8444, "containerPort": 8444},
		},
		// Kong Manager is on and a NodePort Service by default (kong-3.2.0
		// values.yaml `manager`): its GUI would listen on every node.
		"manager": map[string]any{"enabled": false},
		"status":  map[string]any{"http": map[string]any{"enabled": true, "containerPort": a.ReadinessProbe.Port}},
		// The proxy runs at least autoscaling.minReplicas pods: drains
		// take one at a time, and replicas spread over zones and nodes
		// (kong-3.2.0 values.yaml podDisruptionBudget and
		// topologySpreadConstraints; kong.selectorLabels in _helpers.tpl).
		"podDisruptionBudget":       map[string]any{"enabled": true, "maxUnavailable": 1},
		"topologySpreadConstraints": kongSpread(),
		"containerSecurityContext": map[string]any{
			"runAsNonRoot": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
			"capabilities": map[string]any{"drop": []any{"ALL"}}, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
		},
	}
}

// kongSpread spreads the proxy's pods (the chart's selector labels for
// release kong) across zones, then nodes, preferring balance.
func kongSpread() []any {
	labels := map[string]any{"app.kubernetes.io/name": "kong", "app.kubernetes.io/component": "app", "app.kubernetes.io/instance": "kong"}
	var out []any
	for _, key := range []string{kube.TopologyZone, kube.TopologyHost} {
		out = append(out, map[string]any{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
			"labelSelector": map[string]any{"matchLabels": labels}})
	}
	return out
}
