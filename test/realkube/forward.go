// Package realkube runs the local stack through the real Pulumi engine, the
// real pulumi-kubernetes provider (ProviderPath, built by
// `make tools` from its module) and a real Kubernetes control plane
// (test/kubecluster: etcd, API server, controller manager, scheduler and
// KWOK nodes). Helm releases stay simulated: their charts cannot be fetched
// here, so a forwarding provider sends every kubernetes:helm.sh/v3:Release
// call to the engine simulator (test/engine/simulate) and every other call
// to the real provider. Keycloak and the other providers stay simulated too.
package realkube

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// ProviderPath is where `make tools` builds the real provider, relative to
// the repository: not in bin/, where the pulumi CLI would find it next to
// itself and prefer it to attached providers (with a warning).
const ProviderPath = "bin/build/k8sprovider/pulumi-resource-kubernetes"

// simulatedType is the one kubernetes type the simulator handles.
const simulatedType = "kubernetes:helm.sh/v3:Release"

// Forwarder is the kubernetes provider the engine attaches to: the real
// provider for everything but Helm releases, the simulator for those.
//
// The engine starts a provider process per run and ends it with the run
// (after a Cancel); an attached provider outlives runs instead. So the
// Forwarder starts a fresh real provider at each run's Attach and stops the
// previous one: every preview, up and destroy meets a provider as fresh as
// the engine would start it.
type Forwarder struct {
	pulumirpc.UnimplementedResourceProviderServer
	start func() (*RealProvider, error)
	sim   pulumirpc.ResourceProviderServer

	mu  sync.Mutex
	cur *RealProvider
	// releases are the simulated Helm releases' last created or updated
	// inputs, by release name (the chart's values among them), for the
	// controllers that stand in for the charts' workloads.
	releases map[string]resource.PropertyMap
}

// recordRelease keeps a simulated release's inputs by its name.
func (f *Forwarder) recordRelease(props *structpb.Struct) {
	m, err := plugin.UnmarshalProperties(props, plugin.MarshalOptions{KeepSecrets: true})
	if err != nil {
		return
	}
	name, ok := m["name"]
	if !ok || !name.IsString() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.releases == nil {
		f.releases = map[string]resource.PropertyMap{}
	}
	f.releases[name.StringValue()] = m
}

// Release is the last inputs of the simulated Helm release named name.
func (f *Forwarder) Release(name string) (resource.PropertyMap, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.releases[name]
	return m, ok
}

// RealProvider is a running pulumi-resource-kubernetes process.
type RealProvider struct {
	Client pulumirpc.ResourceProviderClient
	cmd    *exec.Cmd
	conn   *grpc.ClientConn
}

// StartRealProvider starts the provider binary in attach mode (no engine
// address argument: the provider waits for the engine's Attach, which the
// Forwarder passes on) with env added to the test's environment, reads the
// port it prints, and connects. Its log goes to log.
func StartRealProvider(path string, env []string, log io.Writer) (*RealProvider, error) {
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = log
	// Killed with the test binary, even by SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	ports := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		ports <- strings.TrimSpace(line)
		_, _ = io.Copy(log, r)
	}()
	var port string
	select {
	case port = <-ports:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s printed no port within a minute", path)
	}
	if _, err := strconv.Atoi(port); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s printed %q, not a port", path, port)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, err
	}
	return &RealProvider{Client: pulumirpc.NewResourceProviderClient(conn), cmd: cmd, conn: conn}, nil
}

// Stop ends the provider process.
func (p *RealProvider) Stop() {
	_ = p.conn.Close()
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// NewForwarder routes between real providers made by start and the
// simulator.
func NewForwarder(start func() (*RealProvider, error), sim pulumirpc.ResourceProviderServer) *Forwarder {
	return &Forwarder{start: start, sim: sim}
}

// Stop ends the current real provider.
func (f *Forwarder) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur != nil {
		f.cur.Stop()
		f.cur = nil
	}
}

// real is the current run's provider, started if there is none.
func (f *Forwarder) real() (pulumirpc.ResourceProviderClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil {
		p, err := f.start()
		if err != nil {
			return nil, err
		}
		f.cur = p
	}
	return f.cur.Client, nil
}

func simulated(urn string) bool {
	return string(resource.URN(urn).Type()) == simulatedType
}

// toReal sends a call to the current run's real provider.
func toReal[Req, Resp any](f *Forwarder, ctx context.Context, req Req,
	call func(pulumirpc.ResourceProviderClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
) (Resp, error) {
	real, err := f.real()
	if err != nil {
		var none Resp
		return none, err
	}
	return call(real, ctx, req)
}

// Attach starts the run: a fresh real provider, and both providers get
// the engine's address.
func (f *Forwarder) Attach(ctx context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	f.Stop()
	if _, err := f.sim.Attach(ctx, req); err != nil {
		return nil, err
	}
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Attach)
}

// Handshake is unimplemented, as in the pinned provider (its kubeProvider
// has no Handshake): the engine falls back to Attach.
func (f *Forwarder) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return nil, status.Error(codes.Unimplemented, "Handshake is not implemented")
}

// GetPluginInfo is the real provider's.
func (f *Forwarder) GetPluginInfo(ctx context.Context, req *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.GetPluginInfo)
}

// GetSchema is the real provider's.
func (f *Forwarder) GetSchema(ctx context.Context, req *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.GetSchema)
}

// CheckConfig is the real provider's.
func (f *Forwarder) CheckConfig(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.CheckConfig)
}

// DiffConfig is the real provider's.
func (f *Forwarder) DiffConfig(ctx context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.DiffConfig)
}

// Configure configures both; the engine gets the real provider's answer.
func (f *Forwarder) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	if _, err := f.sim.Configure(ctx, req); err != nil {
		return nil, err
	}
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Configure)
}

// Invoke is the real provider's.
func (f *Forwarder) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Invoke)
}

// Check goes by resource type.
func (f *Forwarder) Check(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if simulated(req.GetUrn()) {
		return f.sim.Check(ctx, req)
	}
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Check)
}

// Diff goes by resource type.
func (f *Forwarder) Diff(ctx context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if simulated(req.GetUrn()) {
		return f.sim.Diff(ctx, req)
	}
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Diff)
}

// Create goes by resource type.
func (f *Forwarder) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if simulated(req.GetUrn()) {
		if !req.GetPreview() {
			f.recordRelease(req.GetProperties())
		}
		return f.sim.Create(ctx, req)
	}
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Create)
}

// Read goes by resource type.
func (f *Forwarder) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if simulated(req.GetUrn()) {
		return f.sim.Read(ctx, req)
	}
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Read)
}

// Update goes by resource type.
func (f *Forwarder) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if simulated(req.GetUrn()) {
		if !req.GetPreview() {
			f.recordRelease(req.GetNews())
		}
		return f.sim.Update(ctx, req)
	}
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Update)
}

// Delete goes by resource type.
func (f *Forwarder) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if simulated(req.GetUrn()) {
		return f.sim.Delete(ctx, req)
	}
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Delete)
}

// Cancel cancels both.
func (f *Forwarder) Cancel(ctx context.Context, req *emptypb.Empty) (*emptypb.Empty, error) {
	_, _ = f.sim.Cancel(ctx, req)
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.Cancel)
}

// GetMapping is the real provider's.
func (f *Forwarder) GetMapping(ctx context.Context, req *pulumirpc.GetMappingRequest) (*pulumirpc.GetMappingResponse, error) {
	return toReal(f, ctx, req, pulumirpc.ResourceProviderClient.GetMapping)
}
