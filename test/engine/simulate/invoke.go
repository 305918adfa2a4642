package simulate

import (
	"context"
	"fmt"

	"github.com/bac-platform/infra/stacks/mockengine"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Invoke answers a data-source call with mockengine.Invoke, as the offline
// plan does, but only about what this provider holds: the realm keys of a
// realm that was never created are an error, as they are in Keycloak.
func (p *Provider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	if req.GetTok() == "keycloak:index/getRealmKeys:getRealmKeys" {
		realm := args["realmId"]
		if !realm.IsString() || !p.holds("keycloak:index/realm:Realm", realm.StringValue()) {
			return nil, fmt.Errorf("getRealmKeys: realm %v does not exist", realm)
		}
	}
	out, err := mockengine.Invoke(req.GetTok(), args)
	if err != nil {
		return nil, err
	}
	ret, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

// holds reports whether a resource of the type with the given ID exists.
func (p *Provider) holds(typ, id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.cloud.get(typ, id)
	return ok
}
