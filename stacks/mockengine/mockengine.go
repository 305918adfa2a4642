// Package mockengine is the Pulumi mock engine of the offline plan (cmd/bacplan),
// which the unit and stack tests share. It answers every resource registration with the
// outputs the real provider would compute (IDs, ARNs, endpoints, a
// kubeconfig), deterministically, and records every registration so callers
// can inspect what the program asked for.
package mockengine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AccountID is the AWS account the mocks pretend to deploy into.
const AccountID = "123456789012"

// Resource is one registration the program made.
type Resource struct {
	URN      string
	Type     string
	Name     string
	Custom   bool
	Parent   string
	Provider string
	Protect  bool
	// RetainOnDelete mirrors the resource option of the same name.
	RetainOnDelete bool
	// DependsOn are the URNs of explicit dependencies.
	DependsOn []string
	// Inputs are the resource's inputs as the engine sees them (secrets stay
	// wrapped as secrets).
	Inputs resource.PropertyMap
	// Outputs are what the mock returned as the resource's state.
	Outputs resource.PropertyMap
	// ID is the physical ID the mock assigned (empty for components).
	ID string
}

// Mocks implements pulumi.MockResourceMonitor and records registrations in order.
type Mocks struct {
	project, stack, region string
	// preview answers as the first preview of a new stack (PreviewStack).
	preview bool

	mu        sync.Mutex
	resources []Resource
	urns      map[string]bool
}

// New returns mocks for one stack of project in an AWS region.
func New(project, stack, region string) *Mocks {
	return &Mocks{project: project, stack: stack, region: region}
}

// RunOption wires the mocks into pulumi.RunErr together with the stack's
// config (values by full key, e.g. "bac:cluster") and its secret keys.
func (m *Mocks) RunOption(config map[string]string, secretKeys []string) pulumi.RunOption {
	return func(info *pulumi.RunInfo) {
		pulumi.WithMocks(m.project, m.stack, m)(info)
		info.Config = config
		info.ConfigSecretKeys = secretKeys
	}
}

// Resources returns the recorded registrations in registration order.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Resource(nil), m.resources...)
}

// ByType returns the recorded resources of one type token.
func (m *Mocks) ByType(typ string) []Resource {
	var out []Resource
	for _, r := range m.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the resource of type typ and logical name name.
func (m *Mocks) Find(typ, name string) (Resource, bool) {
	for _, r := range m.Resources() {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// NewResource answers a registration with realistic outputs and records it.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	id, computed := Outputs(m.region, args.TypeToken, args.Name, args.Inputs, args.Custom)
	var state resource.PropertyMap
	if m.preview {
		// Nothing exists yet: no ID, and what only the provider knows is unknown.
		id, state = "", PreviewState(args.Inputs, computed)
	} else {
		state = args.Inputs.Copy()
		for k, v := range computed {
			state[k] = v
		}
	}
	r := Resource{
		URN:     m.URN(parentOf(args), args.TypeToken, args.Name),
		Type:    args.TypeToken,
		Name:    args.Name,
		Custom:  args.Custom,
		Inputs:  args.Inputs,
		Outputs: state,
		ID:      id,
	}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Provider = rpc.GetProvider()
		r.Protect = rpc.GetProtect()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
		r.DependsOn = rpc.GetDependencies()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.urns[r.URN] {
		// The engine refuses a second registration of one URN (step
		// generation); its message, from the SDK's diagnostics.
		return "", nil, fmt.Errorf(diag.GetDuplicateResourceURNError(resource.URN(r.URN)).Message, r.URN)
	}
	if m.urns == nil {
		m.urns = map[string]bool{}
	}
	m.urns[r.URN] = true
	m.resources = append(m.resources, r)
	return id, state, nil
}

// Call answers provider function invocations (data sources) through Invoke.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return Invoke(args.Token, args.Args)
}

// URN builds the URN the engine gives a resource, as the Pulumi mock monitor does.
func (m *Mocks) URN(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

func parentOf(args pulumi.MockResourceArgs) string {
	if args.RegisterRPC == nil {
		return ""
	}
	return args.RegisterRPC.GetParent()
}

// hexID is a stable pseudo-random hex string for a resource.
func hexID(typ, name string, n int) string {
	sum := sha256.Sum256([]byte(typ + "::" + name))
	return hex.EncodeToString(sum[:])[:n]
}

// physicalName is the auto-name Pulumi gives a resource without an explicit name.
func physicalName(name, typ string) string { return name + "-" + hexID(typ, name, 7) }

func str(v string) resource.PropertyValue { return resource.NewProperty(v) }

// inputString returns a string input, or "" when absent or not a known string.
func inputString(inputs resource.PropertyMap, key string) string {
	v, ok := inputs[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// Outputs returns the physical ID and the outputs a provider computes for a
// resource of type typ in region: the generator the mock engine and the
// simulated providers of the engine tests share, so both agree.
func Outputs(region, typ, name string, inputs resource.PropertyMap, custom bool) (string, resource.PropertyMap) {
	out := resource.PropertyMap{}
	arn := func(service, resourcePart string) resource.PropertyValue {
		return str(fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, AccountID, resourcePart))
	}
	prefixed := func(prefix string) string { return prefix + "-" + hexID(typ, name, 17) }

	switch {
	case strings.HasPrefix(typ, "pulumi:providers:"):
		return hexID(typ, name, 8) + "-" + hexID(name, typ, 4) + "-provider", out
	case typ == "aws:ec2/vpc:Vpc":
		id := prefixed("vpc")
		out["arn"] = arn("ec2", "vpc/"+id)
		out["defaultSecurityGroupId"] = str(prefixed("sg"))
		out["mainRouteTableId"] = str(prefixed("rtb"))
		return id, out
	case typ == "aws:ec2/subnet:Subnet":
		id := prefixed("subnet")
		out["arn"] = arn("ec2", "subnet/"+id)
		return id, out
	case typ == "aws:ec2/internetGateway:InternetGateway":
		return prefixed("igw"), out
	case typ == "aws:ec2/eip:Eip":
		sum := sha256.Sum256([]byte(name))
		out["publicIp"] = str(fmt.Sprintf("54.%d.%d.%d", sum[0], sum[1], sum[2]|1))
		return prefixed("eipalloc"), out
	case typ == "aws:ec2/natGateway:NatGateway":
		return prefixed("nat"), out
	case typ == "aws:ec2/routeTable:RouteTable":
		return prefixed("rtb"), out
	case typ == "aws:ec2/routeTableAssociation:RouteTableAssociation":
		return prefixed("rtbassoc"), out
	case typ == "aws:ec2/securityGroup:SecurityGroup":
		id := prefixed("sg")
		out["arn"] = arn("ec2", "security-group/"+id)
		return id, out
	case typ == "aws:ec2/securityGroupRule:SecurityGroupRule":
		return prefixed("sgrule"), out
	case typ == "aws:ec2/launchTemplate:LaunchTemplate":
		id := prefixed("lt")
		out["arn"] = arn("ec2", "launch-template/"+id)
		out["latestVersion"] = resource.NewProperty(1.0)
		return id, out
	case typ == "aws:ec2/flowLog:FlowLog":
		return prefixed("fl"), out
	case typ == "aws:cloudwatch/logGroup:LogGroup":
		n := inputString(inputs, "name")
		if n == "" {
			n = physicalName(name, typ)
		}
		out["name"] = str(n)
		out["arn"] = arn("logs", "log-group:"+n)
		return n, out
	case typ == "aws:iam/role:Role":
		n := physicalName(name, typ)
		out["name"] = str(n)
		out["arn"] = str(fmt.Sprintf("arn:aws:iam::%s:role/%s", AccountID, n))
		out["uniqueId"] = str("AROA" + strings.ToUpper(hexID(typ, name, 17)))
		return n, out
	case typ == "aws:iam/rolePolicy:RolePolicy", typ == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		return physicalName(name, typ), out
	case typ == "aws:kms/key:Key":
		h := hexID(typ, name, 32)
		id := fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
		out["keyId"] = str(id)
		out["arn"] = arn("kms", "key/"+id)
		return id, out
	case typ == "aws:kms/alias:Alias":
		n := inputString(inputs, "name")
		out["arn"] = arn("kms", n)
		return n, out
	case typ == "aws:eks/addon:Addon":
		cluster, addon := inputString(inputs, "clusterName"), inputString(inputs, "addonName")
		out["arn"] = arn("eks", fmt.Sprintf("addon/%s/%s/%s", cluster, addon, hexID(typ, name, 8)))
		if inputString(inputs, "addonVersion") == "" {
			out["addonVersion"] = str("v1.0.0-eksbuild.1")
		}
		return cluster + ":" + addon, out
	case typ == "aws:eks/podIdentityAssociation:PodIdentityAssociation":
		cluster := inputString(inputs, "clusterName")
		id := "a-" + hexID(typ, name, 17)
		out["associationId"] = str(id)
		out["associationArn"] = arn("eks", fmt.Sprintf("podidentityassociation/%s/%s", cluster, id))
		return cluster + "," + id, out
	case typ == "aws:route53/zone:Zone":
		id := "Z" + strings.ToUpper(hexID(typ, name, 20))
		out["zoneId"] = str(id)
		out["arn"] = str("arn:aws:route53:::hostedzone/" + id)
		sum := sha256.Sum256([]byte(name))
		servers := []resource.PropertyValue{}
		for i, tld := range []string{"com", "net", "org", "co.uk"} {
			servers = append(servers, str(fmt.Sprintf("ns-%d.awsdns-%02d.%s", int(sum[i])*4+i, sum[i+4]%64, tld)))
		}
		out["nameServers"] = resource.NewArrayProperty(servers)
		out["primaryNameServer"] = servers[0]
		return id, out
	case typ == "aws:s3/bucketV2:BucketV2":
		n := inputString(inputs, "bucket")
		if n == "" {
			n = physicalName(name, typ)
		}
		out["bucket"] = str(n)
		out["arn"] = str("arn:aws:s3:::" + n)
		out["bucketDomainName"] = str(n + ".s3.amazonaws.com")
		out["bucketRegionalDomainName"] = str(fmt.Sprintf("%s.s3.%s.amazonaws.com", n, region))
		out["region"] = str(region)
		return n, out
	case strings.HasPrefix(typ, "aws:s3/"):
		// The bucket's configuration resources are named by their bucket.
		if b := inputString(inputs, "bucket"); b != "" {
			return b, out
		}
		return physicalName(name, typ), out
	case typ == "eks:index:Cluster":
		return "", eksClusterOutputs(region, name, inputs)
	case typ == "keycloak:index/realm:Realm":
		// The keycloak provider's realm ID is the realm's name
		// (terraform-provider-keycloak resource_keycloak_realm: SetId(realm.Realm)),
		// which is what realm-scoped functions such as getRealmKeys take.
		return inputString(inputs, "realm"), out
	}
	if strings.HasPrefix(typ, "kubernetes:") && custom {
		return kubernetesOutputs(typ, name, inputs, out)
	}
	if !custom {
		return "", out
	}
	return name + "-" + hexID(typ, name, 8), out
}

// eksClusterOutputs are the outputs of the pulumi-eks Cluster component (a
// remote component: the mock sees it and its inputs, not its children).
func eksClusterOutputs(region, name string, inputs resource.PropertyMap) resource.PropertyMap {
	clusterName := inputString(inputs, "name")
	if clusterName == "" {
		clusterName = physicalName(name, "eks")
	}
	oidcID := strings.ToUpper(hexID("oidc", clusterName, 32))
	issuer := fmt.Sprintf("oidc.eks.%s.amazonaws.com/id/%s", region, oidcID)
	endpoint := fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", oidcID, region)
	kubeconfig := Kubeconfig(clusterName, endpoint, region)
	return resource.PropertyMap{
		"kubeconfig":             resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{"clusters": []any{map[string]any{"name": clusterName, "cluster": map[string]any{"server": endpoint}}}})),
		"kubeconfigJson":         resource.MakeSecret(str(kubeconfig)),
		"oidcProviderArn":        str(fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", AccountID, issuer)),
		"oidcProviderUrl":        str("https://" + issuer),
		"oidcIssuer":             str(issuer),
		"clusterSecurityGroupId": str("sg-" + hexID("cluster-sg", clusterName, 17)),
		"nodeSecurityGroupId":    str("sg-" + hexID("node-sg", clusterName, 17)),
	}
}

// Kubeconfig renders the kubeconfig pulumi-eks produces for a cluster
// (exec-based authentication through the AWS CLI).
func Kubeconfig(clusterName, endpoint, region string) string {
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"Config","clusters":[{"name":"%[1]s","cluster":{"server":"%[2]s",`+
		`"certificate-authority-data":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"}}],"contexts":[{"name":"aws","context":`+
		`{"cluster":"%[1]s","user":"aws"}}],"current-context":"aws","users":[{"name":"aws","user":{"exec":`+
		`{"apiVersion":"client.authentication.k8s.io/v1beta1","command":"aws","args":["eks","get-token",`+
		`"--cluster-name","%[1]s","--region","%[3]s","--output","json"]}}}]}`, clusterName, endpoint, region)
}

// kubernetesOutputs give Kubernetes objects the name the provider would:
// metadata.name as given, or the auto-name.
func kubernetesOutputs(typ, name string, inputs resource.PropertyMap, out resource.PropertyMap) (string, resource.PropertyMap) {
	meta := resource.PropertyMap{}
	if v, ok := inputs["metadata"]; ok && v.IsObject() {
		meta = v.ObjectValue().Copy()
	}
	objName := inputString(meta, "name")
	if objName == "" {
		objName = physicalName(name, typ)
		meta["name"] = str(objName)
	}
	meta["uid"] = str(hexID(typ, name, 8) + "-" + hexID(name, typ, 4) + "-4" + hexID(typ, typ+name, 3) + "-8" + hexID(name, name, 3) + "-" + hexID(typ, name+name, 12))
	out["metadata"] = resource.NewObjectProperty(meta)
	id := objName
	if ns := inputString(meta, "namespace"); ns != "" {
		id = ns + "/" + objName
	}
	return id, out
}
