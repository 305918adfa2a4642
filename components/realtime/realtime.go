// Package realtime deploys the real-time workloads of the architecture
// document: the WebSocket server (section 1.3) and the GraphQL federation
// gateway (section 1.2).
package realtime

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/components/validate"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures both workloads. Its JSON form is a stack config value.
type Args struct {
	Enabled   bool      `json:"enabled"`
	Namespace string    `json:"namespace"`
	WebSocket WebSocket `json:"websocket"`
	GraphQL   GraphQL   `json:"graphql"`

	// Set by the stack, never from the JSON form:

	// Services are the business services the GraphQL gateway federates.
	Services []services.Service `json:"-"`
	// JWTSecret verifies client tokens.
	JWTSecret pulumi.StringInput `json:"-"`
}

// WebSocket is the WebSocket server.
type WebSocket struct {
	Image          kube.Image     `json:"image"`
	Replicas       int            `json:"replicas"`
	Port           int            `json:"port"`
	RedisURL       string         `json:"redisUrl"`
	Resources      kube.Resources `json:"resources"`
	LivenessProbe  kube.Probe     `json:"livenessProbe"`
	ReadinessProbe kube.Probe     `json:"readinessProbe"`
	// SessionAffinitySeconds keeps a client on one pod (ClientIP affinity).
	SessionAffinitySeconds int `json:"sessionAffinitySeconds"`
}

// GraphQL is the Apollo federation gateway.
type GraphQL struct {
	Image     kube.Image     `json:"image"`
	Replicas  int            `json:"replicas"`
	Port      int            `json:"port"`
	Resources kube.Resources `json:"resources"`
	Probe     kube.Probe     `json:"probe"`
	// SubgraphPath is appended to each business service's URL.
	SubgraphPath string `json:"subgraphPath"`
}

// Names of the workloads and the JWT Secret (as in the seed).
const (
	WebSocketName = "websocket-server"
	GraphQLName   = "graphql-gateway"
	JWTSecretName = "jwt-secret"
	// GraphQLServiceAccount is the GraphQL gateway's identity in the mesh,
	// which the services admit on the subgraph path.
	GraphQLServiceAccount = GraphQLName
)

// DefaultArgs returns the architecture document's workloads. The images are
// the team's own builds and have no default: each stack names them, pinned
// to a release (the seed used latest).
func DefaultArgs() Args {
	return Args{
		Enabled:   true,
		Namespace: "api-gateway",
		WebSocket: WebSocket{
			Replicas: 5,
			Port:     8080,
			// The seed's redis://dragonfly-cache:6379 only resolves inside
			// the cache namespace; the full name works from api-gateway.
			RedisURL: "redis://dragonfly-cache.cache.svc.cluster.local:6379",
			Resources: kube.Resources{Requests: kube.Quantities{CPU: "500m", Memory: "512Mi"},
				Limits: kube.Quantities{CPU: "1000m", Memory: "1Gi"}},
			LivenessProbe:          kube.Probe{Path: "/health", Port: 8080, InitialDelaySeconds: 30, PeriodSeconds: 10},
			ReadinessProbe:         kube.Probe{Path: "/health", Port: 8080, InitialDelaySeconds: 5, PeriodSeconds: 5},
			SessionAffinitySeconds: 3600,
		},
		GraphQL: GraphQL{
			Replicas: 3,
			Port:     4000,
			Resources: kube.Resources{Requests: kube.Quantities{CPU: "500m", Memory: "512Mi"},
				Limits: kube.Quantities{CPU: "1000m", Memory: "1Gi"}},
			// Apollo Server's health check endpoint.
			Probe:        kube.Probe{Path: "/.well-known/apollo/server-health", Port: 4000, InitialDelaySeconds: 10, PeriodSeconds: 10},
			SubgraphPath: "/graphql",
		},
	}
}

// Validate returns every problem, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !a.Enabled {
		return ps
	}
	kube.ValidateNamespace(&ps, path+".namespace", a.Namespace)
	ws, gql := path+".websocket", path+".graphql"
	ps.Extend(a.WebSocket.Image.Validate(ws + ".image"))
	ps.Extend(a.WebSocket.Resources.Validate(ws + ".resources"))
	ps.Extend(a.WebSocket.LivenessProbe.Validate(ws + ".livenessProbe"))
	ps.Extend(a.WebSocket.ReadinessProbe.Validate(ws + ".readinessProbe"))
	ps.Extend(a.GraphQL.Image.Validate(gql + ".image"))
	ps.Extend(a.GraphQL.Resources.Validate(gql + ".resources"))
	ps.Extend(a.GraphQL.Probe.Validate(gql + ".probe"))
	if a.WebSocket.Replicas < 1 {
		ps.Add(ws+".replicas", "%d must be at least 1", a.WebSocket.Replicas)
	}
	if a.GraphQL.Replicas < 1 {
		ps.Add(gql+".replicas", "%d must be at least 1", a.GraphQL.Replicas)
	}
	if u, err := url.Parse(a.WebSocket.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		ps.Add(ws+".redisUrl", "%q is not a redis:// or rediss:// URL", a.WebSocket.RedisURL)
	} else if !strings.Contains(u.Hostname(), ".") {
		ps.Add(ws+".redisUrl", "%q must name the cache by its full DNS name (a short name resolves only in the cache's own namespace)", a.WebSocket.RedisURL)
	}
	if u, err := url.Parse(a.GraphQL.SubgraphPath); err != nil || !strings.HasPrefix(a.GraphQL.SubgraphPath, "/") || u.Path != a.GraphQL.SubgraphPath {
		ps.Add(gql+".subgraphPath", "%q must be a URL path starting with /", a.GraphQL.SubgraphPath)
	}
	if s := a.WebSocket.SessionAffinitySeconds; s < 1 || s > 86400 {
		ps.Add(ws+".sessionAffinitySeconds", "%d must be 1-86400", s)
	}
	return ps
}

// Realtime is the two workloads.
type Realtime struct {
	pulumi.ResourceState
}

// NewRealtime deploys both workloads; the GraphQL gateway federates
// args.Services. The kubernetes provider comes from opts.
func NewRealtime(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Realtime, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	if args.JWTSecret == nil {
		return nil, errors.New("args.JWTSecret is required")
	}
	r := &Realtime{}
	if err := ctx.RegisterComponentResource("bac:realtime:Realtime", name, r, opts...); err != nil {
		return nil, err
	}
	parent := kube.ChildOf(r, opts)
	secret, err := corev1.NewSecret(ctx, name+"-jwt", &corev1.SecretArgs{
		Metadata:   kube.Metadata(JWTSecretName, args.Namespace, nil),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{"secret": pulumi.ToSecret(args.JWTSecret).(pulumi.StringOutput)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	ws := args.WebSocket
	if _, err := kube.NewWorkload(ctx, name, kube.WorkloadArgs{
		App: WebSocketName, Container: "server", Namespace: args.Namespace, Image: ws.Image, Replicas: ws.Replicas,
		Env: corev1.EnvVarArray{
			kube.EnvFromSecret("JWT_SECRET", JWTSecretName, "secret"),
			kube.EnvValue("REDIS_URL", ws.RedisURL),
			kube.EnvValue("PORT", fmt.Sprint(ws.Port)),
		},
		Ports:     []kube.Port{{Name: "http", Port: ws.Port}},
		Resources: ws.Resources, Liveness: ws.LivenessProbe, Readiness: ws.ReadinessProbe,
		RunAsUser: nodeUser, FSGroup: nodeUser, WritableDirs: map[string]string{"tmp": "/tmp"},
		SessionAffinitySeconds: ws.SessionAffinitySeconds,
	}, parent, pulumi.DependsOn([]pulumi.Resource{secret})); err != nil {
		return nil, err
	}
	gql := args.GraphQL
	env := corev1.EnvVarArray{
		// Production mode: no schema introspection, internal errors masked.
		kube.EnvValue("NODE_ENV", "production"),
		kube.EnvValue("PORT", fmt.Sprint(gql.Port)),
	}
	for _, s := range args.Services {
		env = append(env, kube.EnvValue(fmt.Sprintf("SUBGRAPH_%s_URL", upper(s.Name)),
			fmt.Sprintf("http://%s:%d%s", s.Host(), s.Port, gql.SubgraphPath)))
	}
	// Its own service account: the services admit the gateway by identity,
	// and "default" would admit every workload of the namespace.
	sa, err := corev1.NewServiceAccount(ctx, name+"-"+GraphQLServiceAccount, &corev1.ServiceAccountArgs{
		Metadata:                     kube.Metadata(GraphQLServiceAccount, args.Namespace, nil),
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("graphql service account: %w", err)
	}
	if _, err := kube.NewWorkload(ctx, name, kube.WorkloadArgs{
		ServiceAccount: GraphQLServiceAccount,
		App:            GraphQLName, Container: "server", Namespace: args.Namespace, Image: gql.Image, Replicas: gql.Replicas,
		Env: env, Ports: []kube.Port{{Name: "http", Port: gql.Port}},
		Resources: gql.Resources, Liveness: gql.Probe, Readiness: gql.Probe,
		RunAsUser: nodeUser, FSGroup: nodeUser, WritableDirs: map[string]string{"tmp": "/tmp"},
	}, parent, pulumi.DependsOn([]pulumi.Resource{sa})); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{}); err != nil {
		return nil, err
	}
	return r, nil
}

// nodeUser is the unprivileged user the Node.js workloads run as.
const nodeUser = 10001

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		} else if c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}
