// Package stacks is the typed configuration of a region stack and the
// assembly of the platform's components for it. main.go and the offline plan
// both run Program.
package stacks

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/cluster"
	"github.com/bac-platform/infra/components/network"
	"github.com/bac-platform/infra/components/validate"
)

// Namespace is the config namespace of every project setting (bac:cluster, ...).
const Namespace = "bac"

// Config keys the program reads, without the namespace.
const (
	KeyEnvironment = "environment"
	KeyRegion      = "region"
	KeyNetwork     = "network"
	KeyCluster     = "cluster"
	KeyTags        = "tags"
)

// Keys lists every key the program reads; others in the namespace are mistakes.
var Keys = []string{KeyEnvironment, KeyRegion, KeyNetwork, KeyCluster, KeyTags}

// Environments.
const (
	Production = "production"
	Staging    = "staging"
)

// environmentShort is the environment's part of default resource names.
var environmentShort = map[string]string{Production: "prod", Staging: "staging"}

// Tags every taggable resource carries, set by the program.
const (
	TagEnvironment = "Environment"
	TagCluster     = "Cluster"
	TagManagedBy   = "ManagedBy"
	TagProject     = "Project"
)

// Config is one stack's typed configuration.
type Config struct {
	// Environment is production or staging.
	Environment string
	// Region is the AWS region the stack deploys into.
	Region string
	// Network is bac:network.
	Network network.Args
	// Cluster is bac:cluster.
	Cluster cluster.Args
	// Tags (bac:tags) are extra tags for every taggable resource.
	Tags map[string]string
}

// Defaults returns the configuration a stack gets when its file names only
// the environment and region. Component defaults come from the components.
func Defaults(environment, region string) Config {
	name := fmt.Sprintf("bac-%s-%s", environmentShort[environment], region)
	net := network.DefaultArgs(region)
	if environment != Production {
		net.NATGateways = network.NATSingle
	}
	return Config{
		Environment: environment,
		Region:      region,
		Network:     net,
		Cluster:     cluster.DefaultArgs(name),
		Tags:        map[string]string{},
	}
}

// Parse builds a stack's Config from its config values, keyed by full key
// ("bac:cluster") with structured values as JSON, as Pulumi passes them to
// programs. It returns every problem found, each naming its config path.
func Parse(values map[string]string) (Config, validate.Problems) {
	var ps validate.Problems
	key := func(k string) string { return Namespace + ":" + k }
	for k := range values {
		ns, name, _ := strings.Cut(k, ":")
		if ns == Namespace && !slices.Contains(Keys, name) {
			ps.Add(k, "unknown setting; known settings are %s:%s", Namespace, strings.Join(Keys, ", "+Namespace+":"))
		}
	}
	env, region := values[key(KeyEnvironment)], values[key(KeyRegion)]
	if _, ok := environmentShort[env]; !ok {
		ps.Add(key(KeyEnvironment), "%q is not one of %s, %s", env, Production, Staging)
	}
	if !slices.Contains(Regions, region) {
		ps.Add(key(KeyRegion), "%q is not a known AWS region", region)
	}
	cfg := Defaults(env, region)
	for _, part := range []struct {
		key string
		dst any
	}{{KeyNetwork, &cfg.Network}, {KeyCluster, &cfg.Cluster}, {KeyTags, &cfg.Tags}} {
		if raw, ok := values[key(part.key)]; ok {
			ps.Extend(overlay(key(part.key), raw, part.dst))
		}
	}
	if len(ps) > 0 {
		return cfg, ps
	}
	ps.Extend(cfg.Validate())
	return cfg, ps
}

// Validate returns every problem in the configuration, including the
// components' own checks.
func (c Config) Validate() validate.Problems {
	var ps validate.Problems
	ps.Extend(c.Network.Validate(Namespace + ":" + KeyNetwork))
	ps.Extend(c.Cluster.Validate(Namespace + ":" + KeyCluster))
	for i, zone := range c.Network.AvailabilityZones {
		if !strings.HasPrefix(zone, c.Region) {
			ps.Add(fmt.Sprintf("%s:%s.availabilityZones[%d]", Namespace, KeyNetwork, i), "zone %q is not in region %s", zone, c.Region)
		}
	}
	if c.Environment == Production {
		for i, cidr := range c.Cluster.PublicAccessCIDRs {
			if p, err := netip.ParsePrefix(cidr); err == nil && p.Bits() == 0 {
				ps.Add(fmt.Sprintf("%s:%s.publicAccessCidrs[%d]", Namespace, KeyCluster, i),
					"%s opens the production API endpoint to the whole internet; list the office or VPN egress CIDRs", cidr)
			}
		}
	}
	for _, reserved := range []string{TagEnvironment, TagCluster, TagManagedBy, TagProject} {
		if _, ok := c.Tags[reserved]; ok {
			ps.Add(Namespace+":"+KeyTags+"."+reserved, "is set by the program and cannot be overridden")
		}
	}
	return ps
}

// ResourceTags are the tags every taggable resource of the stack carries.
func (c Config) ResourceTags() map[string]string {
	tags := maps.Clone(c.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[TagEnvironment] = c.Environment
	tags[TagCluster] = c.Cluster.Name
	tags[TagManagedBy] = "pulumi"
	tags[TagProject] = "bac-platform"
	return tags
}

// CheckOverlaps reports network CIDRs that overlap between stacks (keyed by
// stack name): regions must be peerable and routable to one another.
func CheckOverlaps(configs map[string]Config) validate.Problems {
	var ps validate.Problems
	names := make([]string, 0, len(configs))
	for n := range configs {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, a := range names {
		pa, errA := netip.ParsePrefix(configs[a].Network.CIDR)
		for _, b := range names[i+1:] {
			pb, errB := netip.ParsePrefix(configs[b].Network.CIDR)
			if errA == nil && errB == nil && pa.Overlaps(pb) {
				ps.Add(fmt.Sprintf("%s: %s:%s.cidr", a, Namespace, KeyNetwork), "%s overlaps stack %s's %s", pa, b, pb)
			}
		}
	}
	return ps
}
