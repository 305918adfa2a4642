package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

const (
	keycloakRealm  = "keycloak:index/realm:Realm"
	keycloakClient = "keycloak:openid/client:Client"
)

var passwordLength = regexp.MustCompile(`length\((\d+)\)`)

// realmRule builds a rule over Keycloak realms.
func realmRule(name, description, remediation string, controls Controls, check func(Resource) []string) *Rule {
	return &Rule{
		Name: name, Description: description, Enforcement: mandatory, Controls: controls, Remediation: remediation,
		Check: func(r Resource) (bool, []string) {
			if r.Type != keycloakRealm {
				return false, nil
			}
			return true, check(r)
		},
	}
}

func identityRules() []*Rule {
	return []*Rule{
		realmRule("identity-password-length", "Realm passwords are at least 12 characters",
			"add length(12) or more to the realm's passwordPolicy", authentication,
			func(r Resource) []string {
				m := passwordLength.FindStringSubmatch(str(r.Props, "passwordPolicy"))
				if n, _ := strconv.Atoi(safeIndex(m, 1)); n < 12 {
					return []string{fmt.Sprintf("passwordPolicy %q does not require length(12)", str(r.Props, "passwordPolicy"))}
				}
				return nil
			}),
		realmRule("identity-brute-force", "Realms lock out brute-force login attempts with at least the seed's settings",
			"configure securityDefenses.bruteForceDetection: maxLoginFailures 30 or fewer, and permanentLockout or waits of at least 60 s per failure, 900 s at most and a 43200 s failure reset", authentication,
			func(r Resource) []string {
				bf, ok := Lookup(r.Props, "securityDefenses.bruteForceDetection").(map[string]any)
				if !ok {
					return []string{"brute-force detection is off"}
				}
				return bruteForceProblems(bf)
			}),
		realmRule("identity-token-lifetime", "Access tokens live 5 minutes or less",
			"set accessTokenLifespan to 5m or less", authentication,
			func(r Resource) []string {
				v := str(r.Props, "accessTokenLifespan")
				d, err := time.ParseDuration(v)
				if v == "" || err != nil || d > 5*time.Minute {
					return []string{fmt.Sprintf("accessTokenLifespan %q exceeds 5m (Keycloak's default is 5m only when unset by import)", v)}
				}
				return nil
			}),
		realmRule("identity-otp", "Realms offer TOTP/HOTP second factors with at least 6 digits",
			"set otpPolicy type totp, digits 6 or 8", authentication,
			func(r Resource) []string {
				t := str(r.Props, "otpPolicy.type")
				d, _ := number(r.Props, "otpPolicy.digits")
				if (t != "totp" && t != "hotp") || d < 6 {
					return []string{fmt.Sprintf("otpPolicy type %q digits %v", t, d)}
				}
				return nil
			}),
		{
			Name:        "identity-no-implicit-or-password-grant",
			Description: "OpenID clients disable the implicit and direct-access-grant (password) flows",
			Enforcement: mandatory,
			Controls:    authentication,
			Remediation: "set implicitFlowEnabled and directAccessGrantsEnabled to false",
			Check: func(r Resource) (bool, []string) {
				if r.Type != keycloakClient {
					return false, nil
				}
				var problems []string
				if isTrue(r.Props, "implicitFlowEnabled") {
					problems = append(problems, fmt.Sprintf("client %s enables the implicit flow", str(r.Props, "clientId")))
				}
				if isTrue(r.Props, "directAccessGrantsEnabled") {
					problems = append(problems, fmt.Sprintf("client %s enables direct access grants (passwords through the client)", str(r.Props, "clientId")))
				}
				return true, problems
			},
		},
	}
}

func safeIndex(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// bruteForceProblems checks brute-force detection against the seed's
// settings (section 2.2): at most 30 failures before a lockout, a quick
// login wait of at least 60 s, and unless the lockout is permanent, waits
// that grow by at least 60 s up to at least 900 s and a failure count kept
// for at least 12 hours (43200 s). Each must be set explicitly.
func bruteForceProblems(bf map[string]any) []string {
	var problems []string
	atLeast := func(key string, least float64) {
		if n, ok := number(bf, key); !ok || n < least {
			problems = append(problems, fmt.Sprintf("bruteForceDetection.%s is %v, want at least %v", key, Lookup(bf, key), least))
		}
	}
	if n, ok := number(bf, "maxLoginFailures"); !ok || n < 1 || n > 30 {
		problems = append(problems, fmt.Sprintf("bruteForceDetection.maxLoginFailures is %v, want 1-30", Lookup(bf, "maxLoginFailures")))
	}
	atLeast("minimumQuickLoginWaitSeconds", 60)
	if !isTrue(bf, "permanentLockout") {
		atLeast("waitIncrementSeconds", 60)
		atLeast("maxFailureWaitSeconds", 900)
		atLeast("failureResetTimeSeconds", 43200)
	}
	return problems
}
