// Package simulate serves providers that speak the Pulumi provider gRPC
// protocol honestly but keep resources in memory instead of a cloud: the
// real engine (pulumi up, preview, refresh, destroy) drives them through
// PULUMI_DEBUG_PROVIDERS. Outputs come from the same generator as the unit
// test mocks (mockengine.Outputs), so both describe the same resources.
package simulate

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumiprovider "github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Versions the simulated packages report (the SDK versions the program pins).
var Versions = map[string]string{
	"aws": "6.83.4", "eks": "3.9.1", "kubernetes": "4.32.0", "vault": "7.11.0", "keycloak": "5.2.1",
}

// Provider is one simulated provider package.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	pkg, region string

	mu         sync.Mutex
	state      map[string]record // by URN: the "cloud" copy
	engineConn *grpc.ClientConn
}

// Set is the simulated providers of every package the program uses.
type Set struct {
	Providers map[string]*Provider
	servers   []*grpc.Server
	ports     map[string]int
}

// Start serves a provider per package on loopback ports.
func Start(region string) (*Set, error) {
	s := &Set{Providers: map[string]*Provider{}, ports: map[string]int{}}
	for pkg := range Versions {
		p := &Provider{pkg: pkg, region: region, state: map[string]record{}}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.Stop()
			return nil, err
		}
		srv := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
		pulumirpc.RegisterResourceProviderServer(srv, p)
		go func() { _ = srv.Serve(lis) }()
		s.Providers[pkg], s.ports[pkg] = p, lis.Addr().(*net.TCPAddr).Port
		s.servers = append(s.servers, srv)
	}
	return s, nil
}

// DebugProviders is the PULUMI_DEBUG_PROVIDERS value attaching the engine.
func (s *Set) DebugProviders() string {
	var parts []string
	for pkg, port := range s.ports {
		parts = append(parts, fmt.Sprintf("%s:%d", pkg, port))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Stop shuts every provider down.
func (s *Set) Stop() {
	for _, srv := range s.servers {
		srv.Stop()
	}
}

// Drift changes a stored output of the resource at urn behind the engine's
// back, as an operator clicking in a console would; refresh must notice.
func (s *Set) Drift(urn, key string, value resource.PropertyValue) error {
	for _, p := range s.Providers {
		p.mu.Lock()
		rec, ok := p.state[urn]
		if ok {
			rec.outputs[resource.PropertyKey(key)] = value
			if _, isInput := rec.inputs[resource.PropertyKey(key)]; isInput {
				rec.inputs[resource.PropertyKey(key)] = value
			}
		}
		p.mu.Unlock()
		if ok {
			return nil
		}
	}
	return fmt.Errorf("no simulated resource %s", urn)
}

// Count returns how many resources the providers hold.
func (s *Set) Count() int {
	n := 0
	for _, p := range s.Providers {
		p.mu.Lock()
		n += len(p.state)
		p.mu.Unlock()
	}
	return n
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, opts)
}
func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

// Handshake records the engine's address for Construct's logging.
func (p *Provider) Handshake(_ context.Context, req *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	if addr := req.GetEngineAddress(); addr != "" {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.engineConn = conn
		p.mu.Unlock()
	}
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true, AcceptOutputs: true}, nil
}

// Attach is how the engine connects to a provider it did not start
// (PULUMI_DEBUG_PROVIDERS): it passes its own address.
func (p *Provider) Attach(_ context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	conn, err := grpc.NewClient(req.GetAddress(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.engineConn = conn
	p.mu.Unlock()
	return &emptypb.Empty{}, nil
}

// GetPluginInfo reports the package version.
func (p *Provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Versions[p.pkg]}, nil
}

// GetSchema returns a minimal schema: the engine needs none for Go programs.
func (p *Provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, p.pkg, Versions[p.pkg])}, nil
}

// CheckConfig accepts the provider configuration as given.
func (p *Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// DiffConfig reports no provider configuration change that needs a replace.
func (p *Provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Configure accepts secrets, resource references and previews.
func (p *Provider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, AcceptResources: true, SupportsPreview: true, AcceptOutputs: true}, nil
}

// Check returns the inputs, or a check failure per missing required input.
func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	for _, key := range Required[req.GetType()] {
		if v, ok := news[resource.PropertyKey(key)]; !ok || v.IsNull() {
			failures = append(failures, &pulumirpc.CheckFailure{Property: key,
				Reason: fmt.Sprintf("missing required property %q", key)})
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

// Diff compares old and new inputs; keys the real provider cannot change in
// place are replacements.
func (p *Provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	changed, replaces := DiffInputs(req.GetType(), olds, news)
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, Diffs: changed, Replaces: replaces}
	if len(changed) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return resp, nil
}

// Create assigns a stable ID and the generator's outputs, and stores them.
func (p *Provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	id, props, err := p.apply(req.GetUrn(), req.GetProperties(), req.GetPreview())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Update recomputes the outputs for the new inputs; the ID is stable.
func (p *Provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	_, props, err := p.apply(req.GetUrn(), req.GetNews(), req.GetPreview())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

// apply computes a resource's outputs for its inputs and, unless previewing,
// stores both as the simulated cloud's copy.
func (p *Provider) apply(urnText string, properties *structpb.Struct, preview bool) (string, *structpb.Struct, error) {
	inputs, err := unmarshal(properties)
	if err != nil {
		return "", nil, err
	}
	id, outs := p.outputs(resource.URN(urnText), inputs)
	if !preview {
		p.mu.Lock()
		p.state[urnText] = record{inputs: inputs.Copy(), outputs: outs.Copy()}
		p.mu.Unlock()
	}
	props, err := marshal(outs)
	return id, props, err
}

// Read returns what the "cloud" holds, including drift; nothing when gone.
func (p *Provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	p.mu.Lock()
	rec, ok := p.state[req.GetUrn()]
	p.mu.Unlock()
	if !ok {
		return &pulumirpc.ReadResponse{}, nil
	}
	props, err := marshal(rec.outputs)
	if err != nil {
		return nil, err
	}
	// Like the real providers, report the inputs as the cloud has them now,
	// so a value changed behind the engine's back diffs against the program.
	inputs, err := marshal(rec.inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props, Inputs: inputs}, nil
}

// Delete forgets the resource.
func (p *Provider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	p.mu.Lock()
	delete(p.state, req.GetUrn())
	p.mu.Unlock()
	return &emptypb.Empty{}, nil
}

// Cancel has nothing in flight to stop.
func (p *Provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// outputs merges the inputs with the generator's computed outputs.
func (p *Provider) outputs(urn resource.URN, inputs resource.PropertyMap) (string, resource.PropertyMap) {
	id, computed := mockengine.Outputs(p.region, string(urn.Type()), urn.Name(), inputs, true)
	outs := inputs.Copy()
	for k, v := range computed {
		outs[k] = v
	}
	return id, outs
}

// Construct builds the pulumi-eks components: the component with the
// outputs the program consumes, and the AWS children the real eks provider
// creates, so their diffs (and the policies' view of them) are real.
func (p *Provider) Construct(ctx context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	inputs, err := unmarshal(req.GetInputs())
	if err != nil {
		return nil, err
	}
	plain := goMap(inputs)
	p.mu.Lock()
	engine := p.engineConn
	p.mu.Unlock()
	return pulumiprovider.Construct(ctx, req, engine, func(pctx *pulumi.Context, typ, name string,
		_ pulumiprovider.ConstructInputs, options pulumi.ResourceOption,
	) (*pulumiprovider.ConstructResult, error) {
		comp := &component{}
		if err := pctx.RegisterComponentResource(typ, name, comp, options); err != nil {
			return nil, err
		}
		state := pulumi.Map{}
		switch typ {
		case "eks:index:Cluster":
			_, outs := mockengine.Outputs(p.region, typ, name, inputs, false)
			for k, v := range outs {
				if v.IsSecret() {
					state[string(k)] = pulumi.ToSecret(pulumi.Any(goValue(v)))
				} else {
					state[string(k)] = pulumi.Any(goValue(v))
				}
			}
			if err := clusterChildren(pctx, name, plain, comp); err != nil {
				return nil, err
			}
		case "eks:index:ManagedNodeGroup":
			if err := nodeGroupChild(pctx, name, plain, comp); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("simulated %s provider cannot construct %s", p.pkg, typ)
		}
		if err := pctx.RegisterResourceOutputs(comp, state); err != nil {
			return nil, err
		}
		return &pulumiprovider.ConstructResult{URN: comp.URN(), State: state}, nil
	})
}

type component struct{ pulumi.ResourceState }

// record is a simulated cloud resource: the inputs it was configured with
// and the outputs it reports, both subject to drift.
type record struct {
	inputs, outputs resource.PropertyMap
}

type child struct{ pulumi.CustomResourceState }
