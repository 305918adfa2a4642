package rules

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	exactVersion = regexp.MustCompile(`^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$`)
	// releaseTag is a release version tag: major.minor.patch with an
	// optional suffix in the characters an image tag allows (1.2.3,
	// v3.1.5, 4.12.0-1, 1.2.3-alpine). A tag is a name the registry lets its
	// owner move; a release tag is one a publisher does not move by
	// convention, unlike main, stable, 3 or 3.5, which follow new releases.
	releaseTag = regexp.MustCompile(`^v?\d+\.\d+\.\d+([-._][0-9A-Za-z._-]+)?$`)
	digest     = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
)

// unpinned explains why an image reference is not pinned, or returns "".
//
// A digest always pins. Digests are not required, in production either:
// the stacks pin public images by release tag, and a digest is only as good
// as the registry lookup that produced it, which this offline gate cannot
// make; the admission policies and this rule refuse every moving tag.
func unpinned(image string) string {
	if digest.MatchString(image) {
		return ""
	}
	name := image[strings.LastIndex(image, "/")+1:]
	_, tag, hasTag := strings.Cut(name, ":")
	return unpinnedTag(tag, hasTag)
}

// unpinnedTag explains why a tag is not a release version, or returns "".
func unpinnedTag(tag string, hasTag bool) string {
	switch {
	case !hasTag || tag == "":
		return "has no tag"
	case tag == "latest":
		return "uses the moving latest tag"
	case !releaseTag.MatchString(tag):
		return fmt.Sprintf("uses the tag %q, which is not a release version (major.minor.patch)", tag)
	}
	return ""
}

// helmImagePaths are where the charts the platform installs take image tags.
var helmImagePaths = []string{"values.image", "values.global.image", "values.ingressController.image"}

func supplyChainRules() []*Rule {
	return []*Rule{
		{
			Name:        "supply-chain-pinned-images",
			Description: "Every container image is pinned to a release version tag or a digest",
			Enforcement: mandatory,
			Controls:    changeIntegrity,
			Remediation: "pin the image to a release tag or digest in the stack config",
			Check: func(r Resource) (bool, []string) {
				var problems []string
				if spec := podSpec(r); spec != nil {
					for _, c := range containers(spec) {
						image := str(c.spec, "image")
						if why := unpinned(image); why != "" {
							problems = append(problems, fmt.Sprintf("%s: container %s image %q %s", workloadName(r), str(c.spec, "name"), image, why))
						}
					}
					return true, problems
				}
				if !strings.HasPrefix(r.Type, "kubernetes:helm.sh/") {
					return false, nil
				}
				for _, p := range helmImagePaths {
					img, ok := Lookup(r.Props, p).(map[string]any)
					if !ok {
						continue
					}
					if why := unpinnedTag(str(img, "tag"), true); why != "" {
						problems = append(problems, fmt.Sprintf("release %s: %s.tag %s", str(r.Props, "name"), p, why))
					}
				}
				return true, problems
			},
		},
		{
			Name:        "supply-chain-pinned-charts",
			Description: "Helm charts are pinned to exact versions",
			Enforcement: mandatory,
			Controls:    changeIntegrity,
			Remediation: "set an exact chart version (1.2.3), not a range or latest",
			Check: func(r Resource) (bool, []string) {
				switch {
				case strings.HasPrefix(r.Type, "kubernetes:helm.sh/"):
					if v := str(r.Props, "version"); !exactVersion.MatchString(v) {
						return true, []string{fmt.Sprintf("chart %s version %q is not pinned", str(r.Props, "chart"), v)}
					}
					return true, nil
				case strings.HasSuffix(r.Type, "argoproj.io/v1alpha1:Application") && str(r.Props, "spec.source.chart") != "":
					if v := str(r.Props, "spec.source.targetRevision"); !exactVersion.MatchString(v) {
						return true, []string{fmt.Sprintf("application %s chart %s revision %q is not pinned",
							str(r.Props, "metadata.name"), str(r.Props, "spec.source.chart"), v)}
					}
					return true, nil
				}
				return false, nil
			},
		},
	}
}
