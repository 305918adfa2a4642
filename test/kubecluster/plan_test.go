package kubecluster_test

import (
	"context"
	"testing"

	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/bac-platform/infra/test/kubecluster"
)

// repoRoot is where Pulumi.yaml and the stack files live.
const repoRoot = "../.."

// stackPlan is one stack file run through the real program with the mock
// engine, and the Kubernetes objects it declares.
type stackPlan struct {
	name    string
	config  stacks.Config
	objects []kubecluster.Object
}

// plans runs every stack file in the repository.
func plans(t *testing.T) []stackPlan {
	t.Helper()
	project, err := stackfile.ProjectName(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	names, err := stackfile.Names(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no stack files")
	}
	var out []stackPlan
	for _, name := range names {
		sf, err := stackfile.Read(repoRoot, project, name)
		if err != nil {
			t.Fatal(err)
		}
		offline, ps := stacks.PrepareOffline(sf)
		if len(ps) != 0 {
			t.Fatalf("stack %s: %v", name, ps)
		}
		m, err := mockengine.RunStack(stacks.Program, project, offline.Config.Region, offline.File)
		if err != nil {
			t.Fatalf("stack %s: %v", name, err)
		}
		objects, err := kubecluster.Objects(m.Resources())
		if err != nil {
			t.Fatalf("stack %s: %v", name, err)
		}
		out = append(out, stackPlan{name: name, config: offline.Config, objects: objects})
	}
	return out
}

// planOf returns the plan of one stack.
func planOf(t *testing.T, all []stackPlan, name string) stackPlan {
	t.Helper()
	for _, p := range all {
		if p.name == name {
			return p
		}
	}
	t.Fatalf("no stack %s", name)
	return stackPlan{}
}

// createNamespaces creates, for real, the namespaces a plan declares: the
// objects in them are refused without them, dry run or not.
func createNamespaces(ctx context.Context, t *testing.T, c *kubecluster.Cluster, objects []kubecluster.Object) {
	t.Helper()
	for _, o := range objects {
		if o.GetKind() != "Namespace" {
			continue
		}
		if _, err := c.Apply(ctx, o.Unstructured, kubecluster.ApplyOptions{}); err != nil {
			t.Fatalf("namespace %s: %v", o.GetName(), err)
		}
	}
}
