package kube_test

import (
	"encoding/json"
	"testing"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func workload(replicas int) kube.WorkloadArgs {
	return kube.WorkloadArgs{
		App: "api", Namespace: "crm", Replicas: replicas,
		Image:     kube.Image{Repository: "ghcr.io/bac-platform/api", Tag: "1.0.0"},
		Ports:     []kube.Port{{Name: "http", Port: 8080}},
		Resources: kube.Resources{Requests: kube.Quantities{CPU: "100m", Memory: "128Mi"}, Limits: kube.Quantities{CPU: "1", Memory: "1Gi"}},
		Liveness:  kube.Probe{Path: "/health", Port: 8080, PeriodSeconds: 10},
		Readiness: kube.Probe{Path: "/ready", Port: 8080, PeriodSeconds: 10},
		RunAsUser: 1000, FSGroup: 1000,
	}
}

// TestReplicatedWorkloadsSurviveDisruption: more than one replica gets a
// PDB over the Deployment's pods and spreads across zones and nodes; a
// single replica gets neither (a PDB would block every drain).
func TestReplicatedWorkloadsSurviveDisruption(t *testing.T) {
	for _, tt := range []struct {
		replicas int
		want     bool
	}{{1, false}, {3, true}} {
		m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
			_, err := kube.NewWorkload(ctx, "w", workload(tt.replicas))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		pdbs := m.ByType("kubernetes:policy/v1:PodDisruptionBudget")
		deployment, _ := m.Find("kubernetes:apps/v1:Deployment", "w-api")
		spread := deployment.Input("spec.template.spec.topologySpreadConstraints")
		if !tt.want {
			if len(pdbs) != 0 || spread != nil {
				t.Errorf("1 replica: %d PDBs, spread %v", len(pdbs), spread)
			}
			continue
		}
		if len(pdbs) != 1 || pdbs[0].Input("spec.maxUnavailable") != 1.0 || pdbs[0].Input("metadata.namespace") != "crm" {
			t.Fatalf("PDBs = %v", pdbs)
		}
		selector, _ := json.Marshal(pdbs[0].Input("spec.selector"))
		podLabels, _ := json.Marshal(deployment.Input("spec.selector"))
		if string(selector) != string(podLabels) {
			t.Errorf("PDB selects %s, the Deployment's pods are %s", selector, podLabels)
		}
		got, _ := json.Marshal(spread)
		want := `[{"labelSelector":{"matchLabels":{"app":"api"}},"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway"},` +
			`{"labelSelector":{"matchLabels":{"app":"api"}},"maxSkew":1,"topologyKey":"kubernetes.io/hostname","whenUnsatisfiable":"ScheduleAnyway"}]`
		if string(got) != want {
			t.Errorf("spread = %s\nwant %s", got, want)
		}
	}
}
