// Package simulate serves providers that speak the Pulumi provider gRPC
// protocol honestly but keep resources in memory instead of a cloud: the
// real engine (pulumi up, preview, refresh, destroy) drives them through
// PULUMI_DEBUG_PROVIDERS. Outputs come from the same generator as the unit
// test mocks (mockengine.Outputs), so both describe the same resources.
//
// Where it matters to the engine, the providers behave as the real ones do:
//   - previews: Create(preview=true) reports what only the cloud assigns
//     (IDs, ARNs, generated names, endpoints) as unknown, and Update(preview)
//     reports outputs that depend on a changed input as unknown
//     (mockengine.PreviewState, the offline plan's fresh-stack rule);
//   - the simulated cloud keeps resources by ID and refuses a second live
//     resource with the physical name of another (store.go), so a
//     create-before-delete replacement of a named resource fails as it does
//     against AWS, Kubernetes, Vault or Keycloak;
//   - Diff asks for delete-before-replace where the real provider does
//     (diff.go);
//   - the pulumi-eks components render the children the real component
//     creates (children.go).
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
	cloud      *store // the simulated cloud's copy, by ID
	engineConn *grpc.ClientConn
	// previewKnown are outputs reported as known on Create(preview=true),
	// by type (see Set.PreviewOutput).
	previewKnown map[string]resource.PropertyMap
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
		p := &Provider{pkg: pkg, region: region, cloud: newStore()}
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
		rec, ok := p.cloud.byURN(resource.URN(urn))
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

// PreviewOutput makes the providers report value for the output key of a
// resource of type typ when they preview its creation, where they would
// report an unknown: a test's stand-in for a provider that knows the value
// at preview (a known-empty ARN, which the rules must judge).
func (s *Set) PreviewOutput(typ, key string, value resource.PropertyValue) {
	for _, p := range s.Providers {
		p.mu.Lock()
		if p.previewKnown == nil {
			p.previewKnown = map[string]resource.PropertyMap{}
		}
		if p.previewKnown[typ] == nil {
			p.previewKnown[typ] = resource.PropertyMap{}
		}
		p.previewKnown[typ][resource.PropertyKey(key)] = value
		p.mu.Unlock()
	}
}

// Count returns how many resources the providers hold.
func (s *Set) Count() int {
	n := 0
	for _, p := range s.Providers {
		p.mu.Lock()
		n += len(p.cloud.byID)
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
	oldOutputs, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	changed, replaces := DiffInputs(req.GetType(), olds, news)
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, Diffs: changed, Replaces: replaces,
		DeleteBeforeReplace: DeleteBeforeReplace(req.GetType(), oldOutputs, news, replaces)}
	if len(changed) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return resp, nil
}

// Create creates the resource in the simulated cloud: a fresh ID and the
// generator's outputs. A preview creates nothing and reports what only the
// cloud assigns as unknown (mockengine.PreviewState), as the real providers
// do: the bridged providers (aws, vault, keycloak) answer a preview with
// Terraform's planned state, in which the attributes the provider computes
// are unknown (pulumi-terraform-bridge pkg/tfbridge provider.go Create; the
// bridge is not in this machine's module cache, so this is read from its
// public source), and pulumi-kubernetes returns the inputs without the
// server's fields when it cannot dry-run (provider/v4
// pkg/provider/provider.go Create, "cannot preview Create", in the module
// cache).
func (p *Provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	urn := resource.URN(req.GetUrn())
	typ := string(urn.Type())
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", urn, err)
	}
	if req.GetPreview() {
		_, computed := mockengine.Outputs(p.region, typ, urn.Name(), inputs, true)
		state := mockengine.PreviewState(inputs, computed)
		p.mu.Lock()
		for k, v := range p.previewKnown[typ] {
			state[k] = v
		}
		p.mu.Unlock()
		props, err := marshal(state)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", urn, err)
		}
		return &pulumirpc.CreateResponse{Properties: props}, nil
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	// The first resource of a URN gets the generator's outputs (the offline
	// plan's); a replacement gets its own, as the cloud hands a new
	// resource a new ID and ARN. A physical name given as input stays.
	seed := urn.Name()
	if n := p.cloud.creates[urn]; n > 0 {
		seed = fmt.Sprintf("%s-r%d", seed, n)
	}
	id, outs := p.outputs(typ, seed, inputs)
	physical, _ := PhysicalName(typ, inputs)
	rec := &record{urn: urn, key: idKey{typ, id}, seed: seed, physical: physical, inputs: inputs.Copy(), outputs: outs.Copy()}
	if err := p.cloud.put(rec); err != nil {
		return nil, fmt.Errorf("creating %s: %w", urn, err)
	}
	props, err := marshal(outs)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", urn, err)
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Update recomputes the outputs for the new inputs; the ID is stable. A
// preview changes nothing and reports the outputs that depend on a changed
// input as unknown.
func (p *Provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	urn := resource.URN(req.GetUrn())
	typ := string(urn.Type())
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", urn, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, ok := p.cloud.get(typ, req.GetId())
	if !ok {
		return nil, fmt.Errorf("update %s: %s %q does not exist", urn, typeLabel(typ), req.GetId())
	}
	_, computed := mockengine.Outputs(p.region, typ, rec.seed, news, true)
	var outs resource.PropertyMap
	if req.GetPreview() {
		outs = mockengine.UpdatePreviewState(news, computed, rec.outputs)
	} else {
		outs = news.Copy()
		for k, v := range computed {
			outs[k] = v
		}
		rec.inputs, rec.outputs = news.Copy(), outs.Copy()
	}
	props, err := marshal(outs)
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", urn, err)
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

// Read returns what the "cloud" holds under the ID, including drift;
// nothing when it is gone.
func (p *Provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	typ := string(resource.URN(req.GetUrn()).Type())
	p.mu.Lock()
	rec, ok := p.cloud.get(typ, req.GetId())
	var outputs, inputs resource.PropertyMap
	if ok {
		outputs, inputs = rec.outputs.Copy(), rec.inputs.Copy()
	}
	p.mu.Unlock()
	if !ok {
		return &pulumirpc.ReadResponse{}, nil
	}
	props, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	// Like the real providers, report the inputs as the cloud has them now,
	// so a value changed behind the engine's back diffs against the program.
	ins, err := marshal(inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props, Inputs: ins}, nil
}

// Delete removes the resource with the ID (a replacement's old resource
// shares its URN with the new one).
func (p *Provider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	typ := string(resource.URN(req.GetUrn()).Type())
	p.mu.Lock()
	p.cloud.remove(typ, req.GetId())
	p.mu.Unlock()
	return &emptypb.Empty{}, nil
}

// Cancel has nothing in flight to stop.
func (p *Provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// outputs merges the inputs with the generator's computed outputs.
func (p *Provider) outputs(typ, seed string, inputs resource.PropertyMap) (string, resource.PropertyMap) {
	id, computed := mockengine.Outputs(p.region, typ, seed, inputs, true)
	outs := inputs.Copy()
	for k, v := range computed {
		outs[k] = v
	}
	return id, outs
}

// Construct builds the pulumi-eks components as the real eks provider does:
// the children it creates (children.go), whose diffs and rule verdicts are
// then the engine's, and the component's outputs, which derive from its
// cluster, so they are unknown until the cluster exists.
func (p *Provider) Construct(ctx context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	inputs, err := unmarshal(req.GetInputs())
	if err != nil {
		return nil, fmt.Errorf("construct %s %s: %w", req.GetType(), req.GetName(), err)
	}
	p.mu.Lock()
	engine := p.engineConn
	p.mu.Unlock()
	return pulumiprovider.Construct(ctx, req, engine, func(pctx *pulumi.Context, typ, name string,
		args pulumiprovider.ConstructInputs, options pulumi.ResourceOption,
	) (*pulumiprovider.ConstructResult, error) {
		in, err := args.Map()
		if err != nil {
			return nil, fmt.Errorf("construct %s %s: %w", typ, name, err)
		}
		comp := &component{}
		if err := pctx.RegisterComponentResource(typ, name, comp, options); err != nil {
			return nil, err
		}
		state := pulumi.Map{}
		switch typ {
		case "eks:index:Cluster":
			skipSG, _ := goValue(inputs["skipDefaultSecurityGroups"]).(bool)
			cluster, err := clusterChildren(pctx, name, in, skipSG, comp)
			if err != nil {
				return nil, fmt.Errorf("construct %s %s: %w", typ, name, err)
			}
			// The real component computes these from its cluster's and OIDC
			// provider's outputs: known once the cluster exists.
			_, outs := mockengine.Outputs(p.region, typ, name, inputs, false)
			for k, v := range outs {
				value := goValue(v)
				var out pulumi.Output = cluster.ID().ApplyT(func(pulumi.ID) any { return value })
				if v.IsSecret() {
					out = pulumi.ToSecret(out)
				}
				state[string(k)] = out
			}
		case "eks:index:ManagedNodeGroup":
			ignoreScaling, _ := goValue(inputs["ignoreScalingChanges"]).(bool)
			if err := nodeGroupChild(pctx, name, in, ignoreScaling, comp); err != nil {
				return nil, fmt.Errorf("construct %s %s: %w", typ, name, err)
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
