package kube_test

import (
	"reflect"
	"testing"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/stacks/mockengine"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TestRestrictedIsTheRestrictedBaseline pins the shared container security
// context where it is built: non-root, no escalation, every capability
// dropped and none added, the runtime's seccomp profile, a read-only root.
// The gate's privilege rules judge every pod spec that uses it.
func TestRestrictedIsTheRestrictedBaseline(t *testing.T) {
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		_, err := corev1.NewPod(ctx, "p", &corev1.PodArgs{Spec: corev1.PodSpecArgs{Containers: corev1.ContainerArray{
			corev1.ContainerArgs{Name: pulumi.String("c"), Image: pulumi.String("x:1.0.0"), SecurityContext: kube.Restricted()},
		}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pod, _ := m.Find("kubernetes:core/v1:Pod", "p")
	want := map[string]any{
		"runAsNonRoot": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "privileged": false,
		"capabilities":   map[string]any{"drop": []any{"ALL"}},
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
	if got := pod.Input("spec.containers[0].securityContext"); !reflect.DeepEqual(got, want) {
		t.Fatalf("Restricted() = %#v\nwant %#v", got, want)
	}
}
