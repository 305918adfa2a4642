package stacks

import (
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/validate"
	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Secrets are the stack's secret settings, read once by the program. A field
// is set when its setting is needed by the stack's configuration (see
// secretSettings) and nil otherwise.
type Secrets struct {
	// OIDCClientSecret is the API client's secret: Keycloak's client and the
	// gateway's oidc plugin share it.
	OIDCClientSecret pulumi.StringInput
	// KongDBPassword is the gateway's external database password.
	KongDBPassword pulumi.StringInput
	// JWTSecret verifies the realtime workloads' client tokens.
	JWTSecret pulumi.StringInput
	// KeycloakURL is where the deploying runner reaches Keycloak's admin API.
	KeycloakURL pulumi.StringInput
	// KeycloakAdminPassword bootstraps and logs in Keycloak's admin user.
	KeycloakAdminPassword pulumi.StringInput
	// KeycloakDBPassword is Keycloak's database password.
	KeycloakDBPassword pulumi.StringInput
	// LDAPBindCredential is the directory bind password.
	LDAPBindCredential pulumi.StringInput
	// VaultAddress and VaultToken reach and authenticate to Vault.
	VaultAddress pulumi.StringInput
	VaultToken   pulumi.StringInput
	// YugabyteVaultPassword is the password of Vault's database user.
	YugabyteVaultPassword pulumi.StringInput
}

// secretSetting is one row of the secrets table: a config setting that
// must be encrypted, when the configuration needs it, and the Secrets field
// that carries it (nil for a secret nested in a structured value, which
// reaches its component through the parsed config).
type secretSetting struct {
	// path is the setting below the namespace: a top-level key
	// ("jwtSecret") or a nested path ("cluster.kubeconfig").
	path       string
	neededWhen func(Config) bool
	field      func(*Secrets) *pulumi.StringInput
	// howToSet replaces the `pulumi config set --secret` hint when the
	// value comes from elsewhere.
	howToSet string
}

// secretSettings is the secrets table: adding a secret is one row here and
// one field in Secrets. It drives the secret-key list, the required-secret
// checks, the offline plan's placeholders and ReadSecrets.
func secretSettings() []secretSetting {
	return []secretSetting{
		{path: KeyCluster + ".kubeconfig", neededWhen: func(c Config) bool { return c.Environment == Local },
			howToSet: `pulumi config set --secret --path bac:cluster.kubeconfig "$(kind get kubeconfig)"`},
		// The gateway's oidc plugin and Keycloak's API client present it.
		{path: KeyOIDCClientSecret, neededWhen: func(c Config) bool { return (c.Gateway.Enabled && c.Gateway.OIDC.Enabled) || c.Identity.Enabled },
			field: func(s *Secrets) *pulumi.StringInput { return &s.OIDCClientSecret }},
		{path: KeyKongDBPassword, neededWhen: func(c Config) bool { return c.Gateway.Enabled && c.Gateway.Postgres.ExternalHost != "" },
			field: func(s *Secrets) *pulumi.StringInput { return &s.KongDBPassword }},
		{path: KeyJWTSecret, neededWhen: func(c Config) bool { return c.Realtime.Enabled },
			field: func(s *Secrets) *pulumi.StringInput { return &s.JWTSecret }},
		{path: KeyKeycloakURL, neededWhen: func(c Config) bool { return c.Identity.Enabled },
			field: func(s *Secrets) *pulumi.StringInput { return &s.KeycloakURL }},
		{path: KeyKeycloakAdminPassword, neededWhen: func(c Config) bool { return c.Identity.Enabled },
			field: func(s *Secrets) *pulumi.StringInput { return &s.KeycloakAdminPassword }},
		{path: KeyKeycloakDBPassword, neededWhen: func(c Config) bool { return c.Identity.Enabled },
			field: func(s *Secrets) *pulumi.StringInput { return &s.KeycloakDBPassword }},
		{path: KeyLDAPBindCredential, neededWhen: func(c Config) bool { return c.Identity.Enabled && c.Identity.LDAP.Enabled },
			field: func(s *Secrets) *pulumi.StringInput { return &s.LDAPBindCredential }},
		{path: KeyVaultAddress, neededWhen: func(c Config) bool { return c.Vault.Enabled },
			field: func(s *Secrets) *pulumi.StringInput { return &s.VaultAddress }},
		{path: KeyVaultToken, neededWhen: func(c Config) bool { return c.Vault.Enabled },
			field: func(s *Secrets) *pulumi.StringInput { return &s.VaultToken }},
		{path: KeyYugabyteVaultPassword, neededWhen: func(c Config) bool { return c.Vault.Enabled },
			field: func(s *Secrets) *pulumi.StringInput { return &s.YugabyteVaultPassword }},
	}
}

// SecretKeys are the top-level settings that must hold encrypted values.
func SecretKeys() []string {
	var keys []string
	for _, s := range secretSettings() {
		if !strings.Contains(s.path, ".") {
			keys = append(keys, s.path)
		}
	}
	return keys
}

// RequiredSecrets are the full config paths of the secrets cfg needs.
func (c Config) RequiredSecrets() []string {
	var paths []string
	for _, s := range secretSettings() {
		if s.neededWhen(c) {
			paths = append(paths, Namespace+":"+s.path)
		}
	}
	return paths
}

// CheckSecrets reports the secrets cfg needs that values (keyed by full
// key, as Parse takes them) lacks, and secret settings that are set in
// plain text.
func CheckSecrets(cfg Config, values map[string]string, secretKeys []string) validate.Problems {
	var ps validate.Problems
	for _, s := range secretSettings() {
		path := Namespace + ":" + s.path
		topKey, _, nested := strings.Cut(path, ".")
		set := values[topKey] != ""
		if nested {
			set = nestedString(values[topKey], strings.TrimPrefix(path, topKey+".")) != ""
		}
		hint := s.howToSet
		if hint == "" {
			hint = "pulumi config set --secret " + path + " <value>"
		}
		switch {
		case !set && s.neededWhen(cfg):
			ps.Add(path, "is required for this stack's configuration; set it with: %s", hint)
		case set && !slices.Contains(secretKeys, topKey):
			ps.Add(path, "must be encrypted; set it with: %s", hint)
		}
	}
	return ps
}

// nestedString is the string at key in the JSON object raw ("" when absent).
func nestedString(raw, key string) string {
	obj := map[string]any{}
	if raw == "" || json.Unmarshal([]byte(raw), &obj) != nil {
		return ""
	}
	v, _ := obj[key].(string)
	return v
}

// ReadSecrets reads every secret cfg needs from the stack's config, once.
func ReadSecrets(ctx *pulumi.Context, cfg Config) Secrets {
	var out Secrets
	for _, s := range secretSettings() {
		if s.field != nil && s.neededWhen(cfg) {
			*s.field(&out) = config.RequireSecret(ctx, Namespace+":"+s.path)
		}
	}
	return out
}

// WithPlaceholders returns the stack file with every secret cfg needs that
// the file does not set filled with stackfile.SecretPlaceholder, for the
// offline plan, and the paths it filled. `pulumi up` needs the real values.
func WithPlaceholders(sf stackfile.File, cfg Config) (stackfile.File, []string) {
	out := stackfile.File{Stack: sf.Stack, Path: sf.Path, Values: maps.Clone(sf.Values), SecretKeys: slices.Clone(sf.SecretKeys)}
	var filled []string
	for _, path := range cfg.RequiredSecrets() {
		topKey, field, nested := strings.Cut(path, ".")
		if nested {
			if nestedString(out.Values[topKey], field) != "" {
				continue
			}
			obj := map[string]any{}
			if raw := out.Values[topKey]; raw != "" && json.Unmarshal([]byte(raw), &obj) != nil {
				continue // Parse reports it
			}
			obj[field] = stackfile.SecretPlaceholder
			raw, err := json.Marshal(obj)
			if err != nil {
				continue
			}
			out.Values[topKey] = string(raw)
		} else {
			if out.Values[path] != "" {
				continue
			}
			out.Values[path] = stackfile.SecretPlaceholder
		}
		if !slices.Contains(out.SecretKeys, topKey) {
			out.SecretKeys = append(out.SecretKeys, topKey)
		}
		filled = append(filled, path)
	}
	sort.Strings(out.SecretKeys)
	return out, filled
}
