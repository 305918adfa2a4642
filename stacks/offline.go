package stacks

import (
	"github.com/bac-platform/infra/components/validate"
	"github.com/bac-platform/infra/stacks/stackfile"
)

// OfflineStack is a stack file prepared for the offline plan: the offline
// plan has no decryption key, so every secret the stack needs and its file
// does not set stands in as stackfile.SecretPlaceholder.
type OfflineStack struct {
	// File is the stack file with the placeholders filled in.
	File stackfile.File
	// Config is the stack's parsed configuration.
	Config Config
	// Placeholders are the config paths of the secrets filled in: each must
	// be set with `pulumi config set --secret` before `pulumi up`.
	Placeholders []string
}

// PrepareOffline parses a stack file once and fills in its missing secrets.
// The problems are Parse's and CheckStackIdentity's, except that missing
// secrets are placeholders.
func PrepareOffline(sf stackfile.File) (OfflineStack, validate.Problems) {
	cfg, ps := Decode(sf.Values)
	ps.Extend(CheckStackIdentity(sf.Stack, cfg))
	if len(ps) > 0 {
		return OfflineStack{File: sf, Config: cfg}, ps
	}
	filled, placeholders := WithPlaceholders(sf, cfg)
	return OfflineStack{File: filled, Config: cfg, Placeholders: placeholders}, CheckSecrets(cfg, filled.Values, filled.SecretKeys)
}
