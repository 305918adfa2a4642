package rules

import (
	"fmt"
	"regexp"
	"strings"
)

var exactVersion = regexp.MustCompile(`^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$`)

// unpinned explains why an image reference is not pinned, or returns "".
func unpinned(image string) string {
	if strings.Contains(image, "@sha256:") {
		return ""
	}
	name := image[strings.LastIndex(image, "/")+1:]
	_, tag, hasTag := strings.Cut(name, ":")
	switch {
	case !hasTag || tag == "":
		return "has no tag"
	case tag == "latest":
		return "uses the moving latest tag"
	}
	return ""
}

// helmImagePaths are where the charts the platform installs take image tags.
var helmImagePaths = []string{"values.image", "values.global.image", "values.ingressController.image"}

func supplyChainRules() []*Rule {
	return []*Rule{
		{
			Name:        "supply-chain-pinned-images",
			Description: "Every container image is pinned to a version tag or digest, never latest",
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
					if tag, _ := img["tag"].(string); tag == "" || tag == "latest" {
						problems = append(problems, fmt.Sprintf("release %s: %s.tag is %q", str(r.Props, "name"), p, tag))
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
