// Package realtime deploys the real-time workloads of the architecture
// document: the WebSocket server (section 1.3) and the GraphQL federation
// gateway (section 1.2).
package realtime

import (
	"fmt"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/components/validate"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures both workloads. Its JSON form is bac:realtime.
type Args struct {
	Enabled   bool      `json:"enabled"`
	Namespace string    `json:"namespace"`
	WebSocket WebSocket `json:"websocket"`
	GraphQL   GraphQL   `json:"graphql"`

	// JWTSecret verifies client tokens (config secret bac:jwtSecret). Set by the stack.
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
)

// DefaultArgs returns the architecture document's workloads. Images are the
// team's own builds, pinned to a release tag (the seed used latest).
func DefaultArgs() Args {
	return Args{
		Enabled:   true,
		Namespace: "api-gateway",
		WebSocket: WebSocket{
			Image:    kube.Image{Repository: "ghcr.io/your-company/bac-platform/websocket-server", Tag: "1.0.0"},
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
			Image:    kube.Image{Repository: "ghcr.io/your-company/bac-platform/graphql-gateway", Tag: "1.0.0"},
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

// Validate returns every problem; path is bac:realtime.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !a.Enabled {
		return ps
	}
	kube.ValidateName(&ps, path+".namespace", a.Namespace)
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
	if s := a.WebSocket.SessionAffinitySeconds; s < 1 || s > 86400 {
		ps.Add(ws+".sessionAffinitySeconds", "%d must be 1-86400", s)
	}
	return ps
}

// Realtime is the two workloads.
type Realtime struct {
	pulumi.ResourceState
}

// NewRealtime deploys both workloads; the GraphQL gateway federates svcs.
func NewRealtime(ctx *pulumi.Context, name string, args Args, svcs []services.Service, opts ...pulumi.ResourceOption) (*Realtime, error) {
	if err := args.Validate("bac:realtime").Err(); err != nil {
		return nil, err
	}
	if args.JWTSecret == nil {
		return nil, fmt.Errorf("realtime: the JWT secret (bac:jwtSecret) is required")
	}
	r := &Realtime{}
	if err := ctx.RegisterComponentResource("bac:realtime:Realtime", name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	secret, err := corev1.NewSecret(ctx, name+"-jwt", &corev1.SecretArgs{
		Metadata:   kube.Metadata(JWTSecretName, args.Namespace, nil),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{"secret": pulumi.ToSecret(args.JWTSecret).(pulumi.StringOutput)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	ws := args.WebSocket
	if err := workload(ctx, name, args.Namespace, WebSocketName, ws.Image, ws.Replicas, ws.Port, ws.Resources,
		ws.LivenessProbe, ws.ReadinessProbe, corev1.EnvVarArray{
			corev1.EnvVarArgs{Name: pulumi.String("JWT_SECRET"), ValueFrom: corev1.EnvVarSourceArgs{
				SecretKeyRef: corev1.SecretKeySelectorArgs{Name: pulumi.String(JWTSecretName), Key: pulumi.String("secret")}}},
			corev1.EnvVarArgs{Name: pulumi.String("REDIS_URL"), Value: pulumi.String(ws.RedisURL)},
			corev1.EnvVarArgs{Name: pulumi.String("PORT"), Value: pulumi.String(fmt.Sprint(ws.Port))},
		}, &corev1.SessionAffinityConfigArgs{ClientIP: corev1.ClientIPConfigArgs{TimeoutSeconds: pulumi.Int(ws.SessionAffinitySeconds)}},
		parent, pulumi.DependsOn([]pulumi.Resource{secret})); err != nil {
		return nil, err
	}
	gql := args.GraphQL
	env := corev1.EnvVarArray{
		// Production mode: no schema introspection, internal errors masked.
		corev1.EnvVarArgs{Name: pulumi.String("NODE_ENV"), Value: pulumi.String("production")},
		corev1.EnvVarArgs{Name: pulumi.String("PORT"), Value: pulumi.String(fmt.Sprint(gql.Port))},
	}
	for _, s := range svcs {
		env = append(env, corev1.EnvVarArgs{
			Name:  pulumi.Sprintf("SUBGRAPH_%s_URL", upper(s.Name)),
			Value: pulumi.Sprintf("http://%s:%d%s", s.Host(), s.Port, gql.SubgraphPath),
		})
	}
	if err := workload(ctx, name, args.Namespace, GraphQLName, gql.Image, gql.Replicas, gql.Port, gql.Resources,
		gql.Probe, gql.Probe, env, nil, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{}); err != nil {
		return nil, err
	}
	return r, nil
}

// workload is a Deployment of one restricted, non-root container and its
// ClusterIP Service (ClientIP affinity when given).
func workload(ctx *pulumi.Context, name, namespace, app string, image kube.Image, replicas, port int, res kube.Resources,
	liveness, readiness kube.Probe, env corev1.EnvVarArray, affinity *corev1.SessionAffinityConfigArgs, opts ...pulumi.ResourceOption,
) error {
	labels := pulumi.StringMap{"app": pulumi.String(app)}
	if _, err := appsv1.NewDeployment(ctx, name+"-"+app, &appsv1.DeploymentArgs{
		Metadata: kube.Metadata(app, namespace, map[string]string{"app": app}),
		Spec: appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(replicas),
			Selector: metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: labels},
				Spec: corev1.PodSpecArgs{
					AutomountServiceAccountToken: pulumi.Bool(false),
					SecurityContext: corev1.PodSecurityContextArgs{
						RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(10001), FsGroup: pulumi.Int(10001),
						SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String("server"),
						Image:           pulumi.String(image.String()),
						Ports:           corev1.ContainerPortArray{corev1.ContainerPortArgs{ContainerPort: pulumi.Int(port), Name: pulumi.String("http")}},
						Env:             env,
						Resources:       res.Args(),
						LivenessProbe:   liveness.Args(),
						ReadinessProbe:  readiness.Args(),
						SecurityContext: kube.Restricted(),
						// Node needs a writable /tmp; the root filesystem stays read-only.
						VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")}},
					}},
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}}},
				},
			},
		},
	}, opts...); err != nil {
		return fmt.Errorf("%s deployment: %w", app, err)
	}
	spec := corev1.ServiceSpecArgs{
		Type:     pulumi.String("ClusterIP"),
		Selector: labels,
		Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Port: pulumi.Int(port), TargetPort: pulumi.Int(port), Protocol: pulumi.String("TCP"), Name: pulumi.String("http")}},
	}
	if affinity != nil {
		spec.SessionAffinity = pulumi.String("ClientIP")
		spec.SessionAffinityConfig = affinity
	}
	if _, err := corev1.NewService(ctx, name+"-"+app, &corev1.ServiceArgs{
		Metadata: kube.Metadata(app, namespace, map[string]string{"app": app}),
		Spec:     spec,
	}, opts...); err != nil {
		return fmt.Errorf("%s service: %w", app, err)
	}
	return nil
}

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
