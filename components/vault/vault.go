// Package vault configures Vault (architecture document 2.3): the transit
// engine with the database-encryption and pii-encryption keys, and the
// database secrets engine issuing short-lived YugabyteDB credentials.
package vault

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/bac-platform/infra/components/validate"
	vaultsdk "github.com/pulumi/pulumi-vault/sdk/v7/go/vault"
	"github.com/pulumi/pulumi-vault/sdk/v7/go/vault/database"
	"github.com/pulumi/pulumi-vault/sdk/v7/go/vault/transit"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures Vault. Its JSON form is a stack config value.
type Args struct {
	Enabled bool `json:"enabled"`
	// TransitPath and DatabasePath are the engines' mount paths. Two stacks
	// that share one Vault need their own: the stack defaults them to
	// <cluster name>/transit and <cluster name>/database.
	TransitPath string `json:"transitPath"`
	// Keys are the transit keys; all share the settings below.
	Keys []string `json:"keys"`
	// KeyType is the transit key type (AES-256-GCM per section 2.3).
	KeyType string `json:"keyType"`
	// AutoRotateSeconds rotates every key (30 days).
	AutoRotateSeconds int        `json:"autoRotateSeconds"`
	DatabasePath      string     `json:"databasePath"`
	Connection        Connection `json:"connection"`
	Roles             []Role     `json:"roles"`

	// DatabasePassword is the connection user's database password; set by
	// the stack, never from the JSON form.
	DatabasePassword pulumi.StringInput `json:"-"`
}

// Connection is the database secrets engine's connection to YugabyteDB
// (PostgreSQL-compatible, so the postgresql plugin).
type Connection struct {
	Name string `json:"name"`
	// ConnectionURL names the database by its full DNS name: Vault resolves
	// it, and a short name only resolves inside the database's namespace.
	ConnectionURL string `json:"connectionUrl"`
	Username      string `json:"username"`
	// VerifyConnection makes Vault connect when the connection is
	// configured (the provider's default). Off by default while the
	// database is deployed outside this program: the first up must not
	// depend on it being reachable; Vault connects on the first lease.
	VerifyConnection bool `json:"verifyConnection"`
}

// Role is a database role Vault issues credentials for.
type Role struct {
	Name                 string   `json:"name"`
	CreationStatements   []string `json:"creationStatements"`
	RevocationStatements []string `json:"revocationStatements"`
	DefaultTTLSeconds    int      `json:"defaultTtl"`
	MaxTTLSeconds        int      `json:"maxTtl"`
}

// revoke drops a dynamic user's grants and login; shared by every role.
var revoke = []string{
	`REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{{name}}";`,
	`DROP ROLE IF EXISTS "{{name}}";`,
}

// DefaultArgs returns the architecture document's Vault configuration. The
// seed defines only readwrite; readonly and admin are what its connection's
// allowed roles imply, granted through the database's group roles of the
// same names, like readwrite.
func DefaultArgs() Args {
	create := func(group string) []string {
		return []string{
			`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
			fmt.Sprintf(`GRANT %s TO "{{name}}";`, group),
		}
	}
	return Args{
		Enabled:           true,
		Keys:              []string{"database-encryption", "pii-encryption"},
		KeyType:           "aes256-gcm96",
		AutoRotateSeconds: 2592000,
		Connection: Connection{
			Name:          "yugabytedb",
			ConnectionURL: "postgresql://{{username}}:{{password}}@yugabytedb.database.svc.cluster.local:5433/bac",
			Username:      "vault",
		},
		Roles: []Role{
			{Name: "readonly", CreationStatements: create("readonly"), RevocationStatements: revoke, DefaultTTLSeconds: 3600, MaxTTLSeconds: 86400},
			{Name: "readwrite", CreationStatements: create("readwrite"), RevocationStatements: revoke, DefaultTTLSeconds: 3600, MaxTTLSeconds: 86400},
			// Administrative access is rarer and shorter-lived.
			{Name: "admin", CreationStatements: create("admin"), RevocationStatements: revoke, DefaultTTLSeconds: 900, MaxTTLSeconds: 3600},
		},
	}
}

// privilegedAttributes are the PostgreSQL (and YugabyteDB) role attributes
// and built-in roles that reach beyond a database's tables: superuser, role
// and database creation, row-level-security bypass, replication, server
// files and programs.
var privilegedAttributes = []string{
	"SUPERUSER", "CREATEROLE", "CREATEDB", "BYPASSRLS", "REPLICATION",
	"PG_READ_SERVER_FILES", "PG_WRITE_SERVER_FILES", "PG_EXECUTE_SERVER_PROGRAM",
	"YB_SUPERUSER", "YB_DB_ADMIN", "YB_EXTENSION",
}

// privilegedGrant names what a creation statement grants beyond tables:
// a privileged attribute or built-in role, or the ADMIN/GRANT OPTION that
// lets the user hand its roles on. Empty when it grants none. The statement
// is read as SQL words, so case, quoting and line breaks do not hide one.
func privilegedGrant(statement string) string {
	words := strings.FieldsFunc(strings.ToUpper(statement), func(r rune) bool {
		return !(r == '_' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	for i, w := range words {
		if slices.Contains(privilegedAttributes, w) {
			return w
		}
		if (w == "ADMIN" || w == "GRANT") && i+1 < len(words) && words[i+1] == "OPTION" {
			return w + " OPTION"
		}
	}
	return ""
}

// mountPath is a Vault mount path: segments of letters, digits, - and _.
var mountPath = regexp.MustCompile(`^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$`)

// MaxRotationSeconds is the longest rotation period accepted (30 days).
const MaxRotationSeconds = 2592000

// Validate returns every problem, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !a.Enabled {
		return ps
	}
	if len(a.Keys) == 0 {
		ps.Add(path+".keys", "at least one transit key is required")
	}
	if !slices.Contains([]string{"aes256-gcm96", "chacha20-poly1305", "aes128-gcm96"}, a.KeyType) {
		ps.Add(path+".keyType", "%q is not a symmetric transit key type", a.KeyType)
	}
	if a.AutoRotateSeconds < 3600 || a.AutoRotateSeconds > MaxRotationSeconds {
		ps.Add(path+".autoRotateSeconds", "%d must be between 3600 (1 hour) and %d (30 days)", a.AutoRotateSeconds, MaxRotationSeconds)
	}
	for field, mount := range map[string]string{"transitPath": a.TransitPath, "databasePath": a.DatabasePath} {
		if !mountPath.MatchString(mount) {
			ps.Add(path+"."+field, "%q is not a Vault mount path (letters, digits, -, _ and / between segments)", mount)
		}
	}
	if a.TransitPath == a.DatabasePath {
		ps.Add(path+".databasePath", "%q is also the transit mount", a.DatabasePath)
	}
	if !strings.Contains(a.Connection.ConnectionURL, "{{username}}") || !strings.Contains(a.Connection.ConnectionURL, "{{password}}") {
		ps.Add(path+".connection.connectionUrl", "must template {{username}} and {{password}} so Vault can rotate its own credential")
	}
	if u, err := url.Parse(strings.NewReplacer("{{username}}", "u", "{{password}}", "p").Replace(a.Connection.ConnectionURL)); err != nil || u.Scheme != "postgresql" {
		ps.Add(path+".connection.connectionUrl", "is not a postgresql:// URL")
	} else if !strings.Contains(u.Hostname(), ".") {
		ps.Add(path+".connection.connectionUrl", "host %q is a short name; give the database's full DNS name (<service>.<namespace>.svc.cluster.local or its external name)", u.Hostname())
	}
	keys := map[string]int{}
	for i, k := range a.Keys {
		p := fmt.Sprintf("%s.keys[%d]", path, i)
		if !mountPath.MatchString(k) || strings.Contains(k, "/") {
			ps.Add(p, "%q is not a transit key name (letters, digits, - and _)", k)
		}
		if first, dup := keys[k]; dup {
			ps.Add(p, "%q is also keys[%d]; every key needs its own name", k, first)
		}
		keys[k] = i
	}
	roles := map[string]int{}
	for i, r := range a.Roles {
		p := fmt.Sprintf("%s.roles[%d]", path, i)
		if r.Name == "" || len(r.CreationStatements) == 0 {
			ps.Add(p, "needs a name and creation statements")
		}
		if first, dup := roles[r.Name]; dup && r.Name != "" {
			ps.Add(p+".name", "%q is also roles[%d]'s name", r.Name, first)
		}
		roles[r.Name] = i
		for j, st := range r.CreationStatements {
			if grant := privilegedGrant(st); grant != "" {
				ps.Add(fmt.Sprintf("%s.creationStatements[%d]", p, j), "grants %s: Vault would issue credentials that can take over the database; grant a group role with the table privileges the role needs", grant)
			}
		}
		if !slices.ContainsFunc(r.CreationStatements, func(st string) bool { return strings.Contains(st, "{{name}}") }) && len(r.CreationStatements) > 0 {
			ps.Add(p+".creationStatements", "never names {{name}}: every lease must create its own user")
		}
		if r.DefaultTTLSeconds < 1 || r.MaxTTLSeconds < r.DefaultTTLSeconds {
			ps.Add(p, "defaultTtl %d must be positive and at most maxTtl %d", r.DefaultTTLSeconds, r.MaxTTLSeconds)
		}
	}
	return ps
}

// Vault is the Vault configuration: engines, keys and roles.
type Vault struct {
	pulumi.ResourceState
}

// NewVault configures Vault; the vault provider comes from opts.
func NewVault(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Vault, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	if args.DatabasePassword == nil {
		return nil, errors.New("args.DatabasePassword is required")
	}
	s := &Vault{}
	if err := ctx.RegisterComponentResource("bac:vault:Vault", name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)
	transitMount, err := vaultsdk.NewMount(ctx, name+"-transit", &vaultsdk.MountArgs{
		Path: pulumi.String(args.TransitPath), Type: pulumi.String("transit"),
		Description: pulumi.String("Transit encryption engine for application-level encryption"),
	}, parent, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("transit mount: %w", err)
	}
	for _, key := range args.Keys {
		if _, err := transit.NewSecretBackendKey(ctx, name+"-"+key, &transit.SecretBackendKeyArgs{
			Backend:              transitMount.Path,
			Name:                 pulumi.String(key),
			Type:                 pulumi.String(args.KeyType),
			DeletionAllowed:      pulumi.Bool(false),
			Exportable:           pulumi.Bool(false),
			AllowPlaintextBackup: pulumi.Bool(false),
			AutoRotatePeriod:     pulumi.Int(args.AutoRotateSeconds),
		}, parent, pulumi.Protect(true), pulumi.RetainOnDelete(true)); err != nil {
			return nil, fmt.Errorf("transit key %s: %w", key, err)
		}
	}
	dbMount, err := vaultsdk.NewMount(ctx, name+"-database", &vaultsdk.MountArgs{
		Path: pulumi.String(args.DatabasePath), Type: pulumi.String("database"),
		Description: pulumi.String("Dynamic YugabyteDB credentials"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("database mount: %w", err)
	}
	roleNames := make([]string, len(args.Roles))
	for i, r := range args.Roles {
		roleNames[i] = r.Name
	}
	conn, err := database.NewSecretBackendConnection(ctx, name+"-"+args.Connection.Name, &database.SecretBackendConnectionArgs{
		Backend:    dbMount.Path,
		Name:       pulumi.String(args.Connection.Name),
		PluginName: pulumi.String("postgresql-database-plugin"),
		// The provider verifies by default (verify_connection, default true
		// in terraform-provider-vault v5.10.1, which pulumi-vault 7.11.0 wraps).
		VerifyConnection: pulumi.Bool(args.Connection.VerifyConnection),
		AllowedRoles:     pulumi.ToStringArray(roleNames),
		Postgresql: database.SecretBackendConnectionPostgresqlArgs{
			ConnectionUrl: pulumi.String(args.Connection.ConnectionURL),
			Username:      pulumi.String(args.Connection.Username),
			Password:      pulumi.ToSecret(args.DatabasePassword).(pulumi.StringOutput),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("database connection: %w", err)
	}
	for _, r := range args.Roles {
		if _, err := database.NewSecretBackendRole(ctx, name+"-role-"+r.Name, &database.SecretBackendRoleArgs{
			Backend:              dbMount.Path,
			Name:                 pulumi.String(r.Name),
			DbName:               conn.Name,
			CreationStatements:   pulumi.ToStringArray(r.CreationStatements),
			RevocationStatements: pulumi.ToStringArray(r.RevocationStatements),
			DefaultTtl:           pulumi.Int(r.DefaultTTLSeconds),
			MaxTtl:               pulumi.Int(r.MaxTTLSeconds),
		}, parent); err != nil {
			return nil, fmt.Errorf("database role %s: %w", r.Name, err)
		}
	}
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{}); err != nil {
		return nil, err
	}
	return s, nil
}
