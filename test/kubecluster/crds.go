package kubecluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// CRDSource is a Go module that ships the CustomResourceDefinitions of a
// chart the platform installs, and where in the module they are.
type CRDSource struct {
	Module, Version string
	// Path is a file or directory inside the module.
	Path string
	// For names the chart (and its pinned version) the CRDs belong to.
	For string
}

// CRDSources are read from the Go module cache (downloaded through the
// module proxy when absent), so no upstream file is copied into the
// repository. Versions match the charts and images the components pin.
var CRDSources = []CRDSource{
	// istio.io/api is tagged with Istio's releases; the istiod chart 1.29.2
	// installs the CRDs generated here.
	{Module: "istio.io/api", Version: "v1.29.2", Path: "kubernetes/customresourcedefinitions.gen.yaml", For: "istiod 1.29.2"},
	// The Kong Ingress Controller 3.5 reads its configuration CRDs from
	// kubernetes-configuration v1.5 (v1.5.0 and v1.5.1 are not served here,
	// v1.5.2 fails its checksum lookup; v1.5.3 is the patch release).
	{Module: "github.com/kong/kubernetes-configuration", Version: "v1.5.3", Path: "config/crd/ingress-controller", For: "kong 3.2.0 (KIC 3.5)"},
	// The argo-cd chart 8.5.0 deploys Argo CD v3.1.5.
	{Module: "github.com/argoproj/argo-cd/v3", Version: "v3.1.5", Path: "manifests/crds", For: "argo-cd 8.5.0"},
}

// CRDPaths resolves every CRDSource to a path in the module cache.
func CRDPaths(ctx context.Context) ([]string, error) {
	paths := make([]string, 0, len(CRDSources))
	for _, s := range CRDSources {
		dir, err := moduleDir(ctx, s.Module, s.Version)
		if err != nil {
			return nil, fmt.Errorf("CRDs of %s: %w", s.For, err)
		}
		p := filepath.Join(dir, filepath.FromSlash(s.Path))
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("CRDs of %s: %w", s.For, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// moduleDir returns the module cache directory of module@version,
// downloading it when absent. It runs outside any module so the
// repository's go.mod and go.sum are left alone.
func moduleDir(ctx context.Context, module, version string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil && runErr == nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	switch {
	case info.Error != "":
		return "", fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
	case runErr != nil:
		return "", fmt.Errorf("go mod download %s@%s: %w: %s", module, version, runErr, stderr.String())
	case info.Dir == "":
		return "", fmt.Errorf("go mod download %s@%s: no directory", module, version)
	}
	return info.Dir, nil
}
