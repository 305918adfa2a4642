package kube

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/validate"
	"github.com/blang/semver"
	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// This file checks Kubernetes syntax by Kubernetes' own rules: the
// validators of k8s.io/apimachinery (the ones the API server runs) and the
// cron parser the CronJob controller uses (robfig/cron/v3).

// ReservedNamespaces belong to Kubernetes itself (and "default", which
// every unqualified kubectl command and every stray object lands in): no
// platform component or business service may deploy into them.
var ReservedNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// ValidateName checks a Kubernetes object or namespace name: an RFC 1123
// label (63 characters or fewer, lowercase alphanumerics and '-').
func ValidateName(ps *validate.Problems, path, name string) {
	for _, msg := range validation.IsDNS1123Label(name) {
		ps.Add(path, "%q is not a Kubernetes name: %s", name, msg)
	}
}

// ValidateNamespace checks a namespace the platform deploys into: a valid
// name and not one of ReservedNamespaces.
func ValidateNamespace(ps *validate.Problems, path, name string) {
	ValidateName(ps, path, name)
	if slices.Contains(ReservedNamespaces, name) {
		ps.Add(path, "%q is reserved for Kubernetes (%s); use a namespace of the platform's own", name, strings.Join(ReservedNamespaces, ", "))
	}
}

// ValidateLabels checks label keys (qualified names, optionally prefixed by a
// DNS subdomain) and values (63 characters or fewer), in key order.
func ValidateLabels(ps *validate.Problems, path string, labels map[string]string) {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ValidateLabelKey(ps, path+"."+k, k)
		ValidateLabelValue(ps, path+"."+k, labels[k])
	}
}

// ValidateLabelKey checks a label or taint key.
func ValidateLabelKey(ps *validate.Problems, path, key string) {
	for _, msg := range validation.IsQualifiedName(key) {
		ps.Add(path, "key %q is not a Kubernetes label key: %s", key, msg)
	}
}

// ValidateLabelValue checks a label or taint value.
func ValidateLabelValue(ps *validate.Problems, path, value string) {
	for _, msg := range validation.IsValidLabelValue(value) {
		ps.Add(path, "value %q is not a Kubernetes label value: %s", value, msg)
	}
}

// ValidateSchedule checks a CronJob schedule as the API server does: five
// fields or a descriptor (@daily) that the cron parser accepts, and no TZ=
// or CRON_TZ= prefix (Kubernetes refuses those; the time zone is its own
// field).
func ValidateSchedule(ps *validate.Problems, path, schedule string) {
	if strings.Contains(schedule, "TZ") {
		ps.Add(path, "%q: Kubernetes refuses TZ or CRON_TZ in a schedule", schedule)
		return
	}
	if _, err := cron.ParseStandard(schedule); err != nil {
		ps.Add(path, "%q is not a cron schedule: %v", schedule, err)
	}
}

// Moving tags name whatever was pushed last, so two nodes can run different
// code under one configuration.
var movingTags = []string{"latest", "main", "master", "dev", "develop", "edge", "nightly", "stable", "current", "lts", "head", "release"}

// ValidateImageTag checks that tag pins an image: a release version
// (major.minor.patch, optionally v-prefixed, with an optional pre-release
// or build suffix) or a sha256 digest.
func ValidateImageTag(ps *validate.Problems, path, tag string) {
	switch {
	case tag == "":
		ps.Add(path, "is required: pin a version, never rely on latest")
	case strings.HasPrefix(tag, "sha256:"):
		if raw, err := hex.DecodeString(strings.TrimPrefix(tag, "sha256:")); err != nil || len(raw) != 32 {
			ps.Add(path, "%q is not a sha256 digest (64 hexadecimal digits)", tag)
		}
	case slices.Contains(movingTags, strings.ToLower(tag)):
		ps.Add(path, "%q is a moving tag, not a pinned version; use a release version (1.2.3) or a digest", tag)
	default:
		if _, err := semver.Parse(strings.TrimPrefix(tag, "v")); err != nil {
			ps.Add(path, "%q is not a release version (major.minor.patch, e.g. 1.4.2) or a sha256 digest", tag)
		}
	}
}

// ValidateChartRepository checks a Helm chart repository URL: https or oci,
// with a host and no credentials.
func ValidateChartRepository(ps *validate.Problems, path, repo string) {
	u, err := url.Parse(repo)
	switch {
	case repo == "":
		ps.Add(path, "is required")
	case err != nil || (u.Scheme != "https" && u.Scheme != "oci") || u.Host == "":
		ps.Add(path, "%q is not an https:// or oci:// chart repository", repo)
	case u.User != nil:
		ps.Add(path, "%q carries credentials; give the repository's credentials to Helm, not the URL", repo)
	}
}

// ValidateQuantity parses a resource quantity with the API server's parser.
func ValidateQuantity(ps *validate.Problems, path, value string) (resource.Quantity, bool) {
	q, err := resource.ParseQuantity(value)
	if err != nil {
		ps.Add(path, "%q is not a Kubernetes quantity (every container needs requests and limits): %v", value, err)
		return q, false
	}
	if q.Sign() <= 0 {
		ps.Add(path, "%q must be positive", value)
		return q, false
	}
	return q, true
}

// minMemory is the least memory a container setting may name: a quantity
// below it is almost always a missing unit ("512" is 512 bytes).
var minMemory = resource.MustParse("4Mi")

// validateResources checks requests and limits as quantities, requests at
// most limits (the API server refuses a request above its limit), and
// memory amounts that have their unit.
func validateResources(ps *validate.Problems, path string, r Resources) {
	pairs := []struct {
		name, request, limit string
	}{{"cpu", r.Requests.CPU, r.Limits.CPU}, {"memory", r.Requests.Memory, r.Limits.Memory}}
	for _, p := range pairs {
		req, reqOK := ValidateQuantity(ps, path+".requests."+p.name, p.request)
		lim, limOK := ValidateQuantity(ps, path+".limits."+p.name, p.limit)
		if p.name == "memory" {
			for _, q := range []struct {
				field string
				q     resource.Quantity
				ok    bool
				text  string
			}{{"requests", req, reqOK, p.request}, {"limits", lim, limOK, p.limit}} {
				if q.ok && q.q.Cmp(minMemory) < 0 {
					ps.Add(fmt.Sprintf("%s.%s.memory", path, q.field), "%q is less than %s: memory without a unit is bytes (did you mean %sMi?)", q.text, minMemory.String(), q.text)
				}
			}
		}
		if reqOK && limOK && req.Cmp(lim) > 0 {
			ps.Add(path+".requests."+p.name, "%s is above the limit %s (Kubernetes requires requests <= limits)", p.request, p.limit)
		}
	}
}
