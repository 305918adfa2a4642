package vault_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/vault"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func deploy(t *testing.T) *mockengine.Mocks {
	t.Helper()
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		args := vault.DefaultArgs()
		args.TransitPath, args.DatabasePath = "transit", "database"
		args.DatabasePassword = pulumi.ToSecret(pulumi.String("vault-db-pw")).(pulumi.StringOutput)
		_, err := vault.NewVault(ctx, "vault", args)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTransitKeys(t *testing.T) {
	m := deploy(t)
	mount, _ := m.Find("vault:index/mount:Mount", "vault-transit")
	if mount.Input("path") != "transit" || mount.Input("type") != "transit" {
		t.Fatalf("transit mount = %v", mount.Inputs)
	}
	for _, name := range []string{"database-encryption", "pii-encryption"} {
		k, ok := m.Find("vault:transit/secretBackendKey:SecretBackendKey", "vault-"+name)
		if !ok {
			t.Fatalf("no key %s", name)
		}
		for path, want := range map[string]any{
			"name": name, "type": "aes256-gcm96", "deletionAllowed": false, "exportable": false,
			"allowPlaintextBackup": false, "autoRotatePeriod": 2592000.0, "backend": "transit",
		} {
			if got := k.Input(path); !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s = %#v, want %#v", name, path, got, want)
			}
		}
		if !k.Protect || !k.RetainOnDelete {
			t.Errorf("%s must be protected and retained", name)
		}
	}
}

func TestDatabaseEngine(t *testing.T) {
	m := deploy(t)
	mount, _ := m.Find("vault:index/mount:Mount", "vault-database")
	if mount.Input("type") != "database" {
		t.Fatal("database mount missing")
	}
	conn, _ := m.Find("vault:database/secretBackendConnection:SecretBackendConnection", "vault-yugabytedb")
	for path, want := range map[string]any{
		"name": "yugabytedb", "pluginName": "postgresql-database-plugin",
		"allowedRoles":             []any{"readonly", "readwrite", "admin"},
		"postgresql.connectionUrl": "postgresql://{{username}}:{{password}}@yugabytedb.database.svc.cluster.local:5433/bac",
		// terraform-provider-vault v5.10.1 verifies by default; the database is not this program's yet.
		"verifyConnection":    false,
		"postgresql.username": "vault",
		"postgresql.password": "[secret]",
	} {
		if got := conn.Input(path); !reflect.DeepEqual(got, want) {
			t.Errorf("connection %s = %#v, want %#v", path, got, want)
		}
	}
	roles := map[string]mockengine.Resource{}
	for _, r := range m.ByType("vault:database/secretBackendRole:SecretBackendRole") {
		roles[r.Input("name").(string)] = r
	}
	if len(roles) != 3 {
		t.Fatalf("roles = %v", roles)
	}
	rw := roles["readwrite"]
	if !reflect.DeepEqual(rw.Input("creationStatements"), []any{
		`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
		`GRANT readwrite TO "{{name}}";`,
	}) || rw.Input("defaultTtl") != 3600.0 || rw.Input("maxTtl") != 86400.0 || rw.Input("dbName") != "yugabytedb" {
		t.Errorf("readwrite = %v", mockengine.PlainMap(rw.Inputs))
	}
	for _, name := range []string{"readonly", "admin"} {
		stmts := roles[name].Input("creationStatements").([]any)
		if !strings.Contains(stmts[1].(string), "GRANT "+name) || roles[name].Input("revocationStatements") == nil {
			t.Errorf("%s statements = %v", name, stmts)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *vault.Args)
		want   string
	}{
		{"rotation", func(a *vault.Args) { a.AutoRotateSeconds = 7776000 },
			"bac:vault.autoRotateSeconds: 7776000 must be between 3600 (1 hour) and 2592000 (30 days)"},
		{"short host", func(a *vault.Args) {
			a.Connection.ConnectionURL = "postgresql://{{username}}:{{password}}@yugabytedb:5433/bac"
		}, `bac:vault.connection.connectionUrl: host "yugabytedb" is a short name`},
		{"not postgresql", func(a *vault.Args) {
			a.Connection.ConnectionURL = "mysql://{{username}}:{{password}}@db.example.com/bac"
		},
			"bac:vault.connection.connectionUrl: is not a postgresql:// URL"},
		{"no password template", func(a *vault.Args) { a.Connection.ConnectionURL = "postgresql://vault@db.example.com/bac" },
			"bac:vault.connection.connectionUrl: must template {{username}} and {{password}}"},
		{"bad mount", func(a *vault.Args) { a.TransitPath = "/transit/" }, `bac:vault.transitPath: "/transit/" is not a Vault mount path`},
		{"one mount for both", func(a *vault.Args) { a.DatabasePath = a.TransitPath }, `bac:vault.databasePath: "prod/transit" is also the transit mount`},
		{"superuser", func(a *vault.Args) {
			a.Roles[1].CreationStatements = []string{`CREATE ROLE "{{name}}" WITH LOGIN SUPERUSER PASSWORD '{{password}}';`}
		}, "bac:vault.roles[1].creationStatements[0]: grants SUPERUSER"},
		{"role creation in lower case", func(a *vault.Args) {
			a.Roles[0].CreationStatements = append(a.Roles[0].CreationStatements, `alter role "{{name}}" createrole;`)
		}, "bac:vault.roles[0].creationStatements[2]: grants CREATEROLE"},
		{"admin option", func(a *vault.Args) {
			a.Roles[2].CreationStatements[1] = `GRANT admin TO "{{name}}" WITH ADMIN OPTION;`
		}, "bac:vault.roles[2].creationStatements[1]: grants ADMIN OPTION"},
		{"server programs", func(a *vault.Args) {
			a.Roles[1].CreationStatements[1] = `GRANT pg_execute_server_program TO "{{name}}";`
		}, "bac:vault.roles[1].creationStatements[1]: grants PG_EXECUTE_SERVER_PROGRAM"},
		{"bypass rls on two lines", func(a *vault.Args) {
			a.Roles[1].CreationStatements[0] = "CREATE ROLE \"{{name}}\" WITH LOGIN\nBYPASSRLS PASSWORD '{{password}}';"
		}, "bac:vault.roles[1].creationStatements[0]: grants BYPASSRLS"},
		{"one shared user", func(a *vault.Args) { a.Roles[0].CreationStatements = []string{`GRANT readonly TO vault_reader;`} },
			"bac:vault.roles[0].creationStatements: never names {{name}}"},
		{"role twice", func(a *vault.Args) { a.Roles[2].Name = "readonly" }, `bac:vault.roles[2].name: "readonly" is also roles[0]'s name`},
		{"key twice", func(a *vault.Args) { a.Keys = append(a.Keys, "pii-encryption") }, `bac:vault.keys[2]: "pii-encryption" is also keys[1]`},
		{"key name with a slash", func(a *vault.Args) { a.Keys[0] = "db/encryption" }, `bac:vault.keys[0]: "db/encryption" is not a transit key name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := vault.DefaultArgs()
			a.TransitPath, a.DatabasePath = "prod/transit", "prod/database"
			tt.mutate(&a)
			ps := a.Validate("bac:vault")
			if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want) {
				t.Fatalf("problems = %v, want one starting %q", ps, tt.want)
			}
		})
	}
}
