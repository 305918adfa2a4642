package mockengine

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// PreviewStack runs program for one stack file as the first preview of a
// new stack: nothing exists yet, so no resource has an ID and every output
// a provider computes (an ARN, a kubeconfig) is unknown; only what the
// program itself sets is known. The returned mocks hold every registration
// with its inputs as the engine would see them, unknowns included.
//
// The SDK's own mock monitor cannot run this: it unmarshals inputs without
// unknowns (an unknown input vanishes, so a rule would read it as missing)
// and refuses a secret whose value is unknown ("malformed RPC secret",
// sdk/go/pulumi/mocks.go RegisterResource and
// sdk/go/common/resource/plugin/rpc.go, v3.274.1). PreviewStack serves
// the resource monitor and engine protocols on a loopback port instead, as
// the CLI does for a program, with PULUMI_DRY_RUN semantics.
func PreviewStack(program pulumi.RunFunc, project, region string, sf stackfile.File) (*Mocks, error) {
	m := New(project, sf.Stack, region)
	m.preview = true
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("preview monitor: %w", err)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
	pulumirpc.RegisterResourceMonitorServer(srv, &previewMonitor{mocks: m})
	pulumirpc.RegisterEngineServer(srv, &previewEngine{})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	addr := lis.Addr().String()
	err = pulumi.RunErr(program, func(info *pulumi.RunInfo) {
		info.Project, info.Stack = project, sf.Stack
		info.Config, info.ConfigSecretKeys = sf.Values, sf.SecretKeys
		info.MonitorAddr, info.EngineAddr = addr, addr
		info.DryRun = true
	})
	return m, err
}

// marshalOptions keep what a preview carries: unknowns, secrets, references.
var marshalOptions = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true}

// previewMonitor is the resource monitor of a first preview.
type previewMonitor struct {
	pulumirpc.UnimplementedResourceMonitorServer
	mocks *Mocks
}

// GetDeploymentInfo names the features the monitor supports: no output
// values (inputs arrive as plain values or unknowns) and no transforms.
func (p *previewMonitor) GetDeploymentInfo(context.Context, *emptypb.Empty) (*pulumirpc.DeploymentInfo, error) {
	return &pulumirpc.DeploymentInfo{
		Project: p.mocks.project, Stack: p.mocks.stack,
		SupportedFeatures: []pulumirpc.ResourceMonitorFeature{
			pulumirpc.ResourceMonitorFeature_RESOURCE_MONITOR_FEATURE_SECRETS,
			pulumirpc.ResourceMonitorFeature_RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
			pulumirpc.ResourceMonitorFeature_RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
			pulumirpc.ResourceMonitorFeature_RESOURCE_MONITOR_FEATURE_DELETED_WITH,
		},
	}, nil
}

// SupportsFeature answers the legacy feature query like GetDeploymentInfo.
func (p *previewMonitor) SupportsFeature(_ context.Context, req *pulumirpc.SupportsFeatureRequest) (*pulumirpc.SupportsFeatureResponse, error) {
	switch req.GetId() {
	case "secrets", "resourceReferences", "aliasSpecs", "deletedWith":
		return &pulumirpc.SupportsFeatureResponse{HasSupport: true}, nil
	}
	return &pulumirpc.SupportsFeatureResponse{}, nil
}

// RegisterResource records the registration with its unknown inputs and
// answers as a preview of a create does: no ID, the known inputs echoed,
// every other output unknown (the SDK reads a missing output as unknown
// during a dry run, sdk/go/pulumi/context.go resolve, v3.274.1).
func (p *previewMonitor) RegisterResource(_ context.Context, req *pulumirpc.RegisterResourceRequest) (*pulumirpc.RegisterResourceResponse, error) {
	if req.GetType() == string(resource.RootStackType) && req.GetParent() == "" {
		return &pulumirpc.RegisterResourceResponse{Urn: p.mocks.URN("", req.GetType(), req.GetName())}, nil
	}
	inputs, err := plugin.UnmarshalProperties(req.GetObject(), marshalOptions)
	if err != nil {
		return nil, fmt.Errorf("register %s %s: %w", req.GetType(), req.GetName(), err)
	}
	id, state, err := p.mocks.NewResource(pulumi.MockResourceArgs{
		TypeToken: req.GetType(), Name: req.GetName(), Inputs: inputs, Provider: req.GetProvider(),
		Custom: req.GetCustom(), RegisterRPC: req,
	})
	if err != nil {
		return nil, err
	}
	object, err := plugin.MarshalProperties(state, marshalOptions)
	if err != nil {
		return nil, fmt.Errorf("register %s %s: %w", req.GetType(), req.GetName(), err)
	}
	return &pulumirpc.RegisterResourceResponse{Urn: p.mocks.URN(req.GetParent(), req.GetType(), req.GetName()), Id: id, Object: object}, nil
}

// RegisterResourceOutputs accepts a component's outputs.
func (p *previewMonitor) RegisterResourceOutputs(context.Context, *pulumirpc.RegisterResourceOutputsRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// Invoke answers data-source calls as the offline plan does (Mocks.Call).
func (p *previewMonitor) Invoke(_ context.Context, req *pulumirpc.ResourceInvokeRequest) (*pulumirpc.ResourceInvokeResponse, error) {
	args, err := plugin.UnmarshalProperties(req.GetArgs(), marshalOptions)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", req.GetTok(), err)
	}
	result, err := p.mocks.Call(pulumi.MockCallArgs{Token: req.GetTok(), Args: args, Provider: req.GetProvider()})
	if err != nil {
		return nil, err
	}
	ret, err := plugin.MarshalProperties(result, marshalOptions)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", req.GetTok(), err)
	}
	return &pulumirpc.ResourceInvokeResponse{Return: ret}, nil
}

// SignalAndWaitForShutdown has no resource hooks to wait for.
func (p *previewMonitor) SignalAndWaitForShutdown(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// previewEngine is the engine service a program logs to.
type previewEngine struct {
	pulumirpc.UnimplementedEngineServer
	mu   sync.Mutex
	root string
}

// Log drops the program's log lines: errors reach the caller from RunErr.
func (e *previewEngine) Log(context.Context, *pulumirpc.LogRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// GetRootResource returns the stack resource's URN.
func (e *previewEngine) GetRootResource(context.Context, *pulumirpc.GetRootResourceRequest) (*pulumirpc.GetRootResourceResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return &pulumirpc.GetRootResourceResponse{Urn: e.root}, nil
}

// SetRootResource records the stack resource's URN.
func (e *previewEngine) SetRootResource(_ context.Context, req *pulumirpc.SetRootResourceRequest) (*pulumirpc.SetRootResourceResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.root = req.GetUrn()
	return &pulumirpc.SetRootResourceResponse{}, nil
}

// RequirePulumiVersion accepts any version requirement.
func (e *previewEngine) RequirePulumiVersion(context.Context, *pulumirpc.RequirePulumiVersionRequest) (*pulumirpc.RequirePulumiVersionResponse, error) {
	return &pulumirpc.RequirePulumiVersionResponse{}, nil
}
