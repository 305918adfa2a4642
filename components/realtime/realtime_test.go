package realtime_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/realtime"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// configured is the default Args with the images every stack names.
func configured() realtime.Args {
	a := realtime.DefaultArgs()
	a.WebSocket.Image = kube.Image{Repository: "ghcr.io/bac-platform/websocket-server", Tag: "1.4.2"}
	a.GraphQL.Image = kube.Image{Repository: "ghcr.io/bac-platform/graphql-gateway", Tag: "1.4.2"}
	return a
}

func deploy(t *testing.T) *mockengine.Mocks {
	t.Helper()
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		args := configured()
		args.JWTSecret = pulumi.ToSecret(pulumi.String("jwt-s3cr3t")).(pulumi.StringOutput)
		args.Services = services.Default()
		_, err := realtime.NewRealtime(ctx, "realtime", args)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWebSocketServerIsTheSeeds(t *testing.T) {
	m := deploy(t)
	d, _ := m.Find("kubernetes:apps/v1:Deployment", "realtime-websocket-server")
	c := "spec.template.spec.containers[0]."
	for path, want := range map[string]any{
		"metadata.namespace": "api-gateway", "spec.replicas": 5.0,
		c + "ports[0].containerPort":                   8080.0,
		c + "env[0].name":                              "JWT_SECRET",
		c + "env[0].valueFrom.secretKeyRef.name":       "jwt-secret",
		c + "env[0].valueFrom.secretKeyRef.key":        "secret",
		c + "env[1]":                                   map[string]any{"name": "REDIS_URL", "value": "redis://dragonfly-cache.cache.svc.cluster.local:6379"},
		c + "resources.requests":                       map[string]any{"cpu": "500m", "memory": "512Mi"},
		c + "resources.limits":                         map[string]any{"cpu": "1000m", "memory": "1Gi"},
		c + "livenessProbe.httpGet.path":               "/health",
		c + "livenessProbe.initialDelaySeconds":        30.0,
		c + "livenessProbe.periodSeconds":              10.0,
		c + "readinessProbe.initialDelaySeconds":       5.0,
		c + "readinessProbe.periodSeconds":             5.0,
		c + "securityContext.runAsNonRoot":             true,
		c + "securityContext.readOnlyRootFilesystem":   true,
		c + "securityContext.allowPrivilegeEscalation": false,
	} {
		if got := d.Input(path); !reflect.DeepEqual(got, want) {
			t.Errorf("websocket %s = %#v, want %#v", path, got, want)
		}
	}
	if img := d.Input(c + "image").(string); strings.HasSuffix(img, ":latest") || !strings.Contains(img, ":") {
		t.Errorf("image %q is not pinned", img)
	}
	svc, _ := m.Find("kubernetes:core/v1:Service", "realtime-websocket-server")
	for path, want := range map[string]any{
		"spec.type": "ClusterIP", "spec.sessionAffinity": "ClientIP",
		"spec.sessionAffinityConfig.clientIP.timeoutSeconds": 3600.0, "spec.ports[0].port": 8080.0,
	} {
		if got := svc.Input(path); !reflect.DeepEqual(got, want) {
			t.Errorf("websocket service %s = %#v, want %#v", path, got, want)
		}
	}
	secret, _ := m.Find("kubernetes:core/v1:Secret", "realtime-jwt")
	if secret.Input("metadata.name") != "jwt-secret" || secret.Input("stringData.secret") != "[secret]" {
		t.Errorf("jwt secret = %v", mockengine.PlainMap(secret.Inputs))
	}
}

func TestGraphQLGatewayFederatesEveryService(t *testing.T) {
	m := deploy(t)
	d, _ := m.Find("kubernetes:apps/v1:Deployment", "realtime-graphql-gateway")
	env := map[string]string{}
	for _, e := range d.Input("spec.template.spec.containers[0].env").([]any) {
		kv := e.(map[string]any)
		env[kv["name"].(string)] = kv["value"].(string)
	}
	want := map[string]string{
		"NODE_ENV": "production", "PORT": "4000",
		"SUBGRAPH_CRM_URL":       "http://crm-service.crm.svc.cluster.local:8080/graphql",
		"SUBGRAPH_ERP_URL":       "http://erp-service.erp.svc.cluster.local:8080/graphql",
		"SUBGRAPH_ECOMMERCE_URL": "http://ecommerce-service.ecommerce.svc.cluster.local:8080/graphql",
		"SUBGRAPH_ANALYTICS_URL": "http://analytics-service.analytics.svc.cluster.local:8080/graphql",
		"SUBGRAPH_USERS_URL":     "http://user-service.users.svc.cluster.local:8080/graphql",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env = %v, want %v", env, want)
	}
	if d.Input("spec.template.spec.containers[0].ports[0].containerPort") != 4000.0 {
		t.Error("graphql gateway must listen on 4000")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *realtime.Args)
		want   string
	}{
		{"latest", func(a *realtime.Args) { a.WebSocket.Image.Tag = "latest" }, `bac:realtime.websocket.image.tag: "latest" is a moving tag`},
		{"dev tag", func(a *realtime.Args) { a.GraphQL.Image.Tag = "dev" }, `bac:realtime.graphql.image.tag: "dev" is a moving tag`},
		{"redis short name", func(a *realtime.Args) { a.WebSocket.RedisURL = "redis://dragonfly-cache:6379" },
			`bac:realtime.websocket.redisUrl: "redis://dragonfly-cache:6379" must name the cache by its full DNS name`},
		{"redis over http", func(a *realtime.Args) { a.WebSocket.RedisURL = "http://dragonfly-cache.cache.svc.cluster.local:6379" },
			`bac:realtime.websocket.redisUrl: "http://dragonfly-cache.cache.svc.cluster.local:6379" is not a redis:// or rediss:// URL`},
		{"subgraph path", func(a *realtime.Args) { a.GraphQL.SubgraphPath = "graphql" }, `bac:realtime.graphql.subgraphPath: "graphql" must be a URL path starting with /`},
		{"placeholder image", func(a *realtime.Args) { a.GraphQL.Image.Repository = "ghcr.io/your-company/graphql-gateway" },
			`bac:realtime.graphql.image.repository: "ghcr.io/your-company/graphql-gateway" is a placeholder`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := configured()
			tt.mutate(&a)
			ps := a.Validate("bac:realtime")
			if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want) {
				t.Fatalf("got %v, want %q", ps, tt.want)
			}
		})
	}
	// No default image: the team's builds are named by each stack.
	ps := realtime.DefaultArgs().Validate("bac:realtime")
	if !strings.Contains(ps.Error(), "bac:realtime.websocket.image.repository: is required") {
		t.Fatalf("defaults validate without images: %v", ps)
	}
}
