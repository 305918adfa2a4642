// Package kongtls knows what Kong 3.9.1 serves to clients for its TLS
// settings (kong.conf names: ssl_cipher_suite, ssl_protocols, ssl_ciphers
// and the nginx_*_ssl_* directives), so the gateway's validation and the
// compliance gate judge the same thing: what a client can negotiate, not
// what a setting's name suggests.
//
// The facts come from Kong 3.9.1:
//   - kong.conf.default: ssl_cipher_suite is modern, intermediate, old,
//     fips or custom; ssl_protocols, ssl_ciphers and
//     ssl_prefer_server_ciphers are ignored unless the suite is custom.
//   - kong/templates/kong_defaults.lua: the defaults, ssl_cipher_suite
//     intermediate, ssl_protocols "TLSv1.2 TLSv1.3", ssl_ciphers unset.
//   - kong/conf_loader/constants.lua CIPHER_SUITES: the protocols and
//     OpenSSL cipher string of each named suite.
//   - kong/conf_loader/parse.lua: a named suite overwrites ssl_ciphers and
//     the nginx_http/stream_ssl_protocols directives; an unknown one stops
//     Kong ("Undefined cipher suite").
//   - kong/conf_loader/init.lua: with the custom suite, ssl_protocols fills
//     nginx_http_ssl_protocols and nginx_stream_ssl_protocols only where
//     those are not set themselves.
//   - kong/templates/nginx_kong.lua: ssl_ciphers becomes nginx's
//     ssl_ciphers directive; without it nginx keeps its own default
//     (HIGH:!aNULL:!MD5, which includes CBC ciphers).
package kongtls

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Kong's TLS setting names (kong.conf) and its defaults.
const (
	// Custom is the suite under which Kong applies ssl_protocols and
	// ssl_ciphers.
	Custom = "custom"
	// DefaultSuite is ssl_cipher_suite when unset.
	DefaultSuite = "intermediate"
	// DefaultProtocols is ssl_protocols when unset.
	DefaultProtocols = "TLSv1.2 TLSv1.3"
	// TLS13 is the only protocol the platform's gateway serves.
	TLS13 = "TLSv1.3"
	// nginxDefaultCiphers is nginx's ssl_ciphers when Kong sets none.
	nginxDefaultCiphers = "HIGH:!aNULL:!MD5"
)

// Suite is one of Kong's named cipher suites.
type Suite struct {
	// Protocols are the TLS versions the suite serves.
	Protocols []string
	// Ciphers is the OpenSSL cipher string the suite sets for TLS 1.2 and
	// older; empty for modern (TLS 1.3 only, whose suites are all AEAD).
	Ciphers string
}

// CipherSuite returns Kong's named suite (not custom) and whether there is
// one by that name. The returned value is a copy.
func CipherSuite(name string) (Suite, bool) {
	const aead12 = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" +
		"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" +
		"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
	switch name {
	case "modern":
		return Suite{Protocols: []string{"TLSv1.3"}}, true
	case "intermediate":
		return Suite{Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: aead12}, true
	case "old":
		return Suite{Protocols: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"},
			Ciphers: aead12 + ":ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:" +
				"ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:" +
				"DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:" +
				"AES256-SHA256:AES128-SHA:AES256-SHA:DES-CBC3-SHA"}, true
	case "fips":
		return Suite{Protocols: []string{"TLSv1.2"}, Ciphers: "TLSv1.2+FIPS:kRSA+FIPS:!eNULL:!aNULL"}, true
	}
	return Suite{}, false
}

// SuiteNames are the values ssl_cipher_suite accepts.
func SuiteNames() []string { return []string{"modern", "intermediate", "old", "fips", Custom} }

// Keys are the kong.conf settings that decide what Kong serves to
// clients, the ones Config.Problems reads.
func Keys() []string {
	return []string{"ssl_cipher_suite", "ssl_protocols", "ssl_ciphers", "nginx_http_ssl_protocols", "nginx_stream_ssl_protocols",
		"nginx_http_ssl_conf_command", "nginx_stream_ssl_conf_command"}
}

// Config is Kong's configuration by kong.conf name (lower case, as the
// chart's env values name it); a missing key is Kong's default.
type Config map[string]string

// Suite is the configured ssl_cipher_suite, or Kong's default.
func (c Config) Suite() string {
	if s := strings.TrimSpace(c["ssl_cipher_suite"]); s != "" {
		return s
	}
	return DefaultSuite
}

// Served is what Kong serves to clients with a configuration.
type Served struct {
	// Protocols are the TLS versions per listener kind ("http", "stream");
	// both are the same unless the nginx_*_ssl_protocols directives differ.
	Protocols map[string][]string
	// Ciphers is the OpenSSL cipher string for TLS 1.2 and older.
	Ciphers string
}

// Serve returns what Kong serves with c, or an error when Kong refuses
// to start with it (an unknown suite).
func (c Config) Serve() (Served, error) {
	suite := c.Suite()
	if suite != Custom {
		s, ok := CipherSuite(suite)
		if !ok {
			return Served{}, fmt.Errorf("ssl_cipher_suite %q is not one of Kong's suites (%s): Kong does not start", suite, strings.Join(SuiteNames(), ", "))
		}
		return Served{Protocols: map[string][]string{"http": s.Protocols, "stream": s.Protocols}, Ciphers: s.Ciphers}, nil
	}
	base := DefaultProtocols
	if p := strings.TrimSpace(c["ssl_protocols"]); p != "" {
		base = p
	}
	served := Served{Protocols: map[string][]string{}, Ciphers: nginxDefaultCiphers}
	for _, kind := range []string{"http", "stream"} {
		p := base
		if own := strings.TrimSpace(c["nginx_"+kind+"_ssl_protocols"]); own != "" {
			p = own
		}
		served.Protocols[kind] = strings.Fields(p)
	}
	if ciphers := strings.TrimSpace(c["ssl_ciphers"]); ciphers != "" {
		served.Ciphers = ciphers
	}
	return served, nil
}

// ServedProtocols is what Kong serves for a suite and an ssl_protocols
// setting (http listeners): the suite's own protocols unless it is custom;
// "" for an unknown suite.
func ServedProtocols(suite, protocols string) string {
	s, err := Config{"ssl_cipher_suite": suite, "ssl_protocols": protocols}.Serve()
	if err != nil {
		return ""
	}
	return strings.Join(s.Protocols["http"], " ")
}

// aeadCipher is an explicit OpenSSL name of a TLS 1.2 cipher with forward
// secrecy (ECDHE or DHE) and authenticated encryption (GCM, CCM with a
// full tag, or ChaCha20-Poly1305).
var aeadCipher = regexp.MustCompile(`^(ECDHE-ECDSA|ECDHE-RSA|DHE-RSA)-(AES(128|256)-GCM-SHA(256|384)|AES(128|256)-CCM|CHACHA20-POLY1305)$`)

// fullTagTLS13Suite reports whether s is a TLS 1.3 cipher suite with a
// full-length AEAD tag (RFC 8446 B.4 without TLS_AES_128_CCM_8_SHA256,
// whose 8-byte tag is weaker, and without the integrity-only suites of
// RFC 9150).
func fullTagTLS13Suite(s string) bool {
	switch s {
	case "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256":
		return true
	}
	return false
}

// WeakCiphers returns the entries of an OpenSSL cipher string that may
// select a cipher without forward secrecy or authenticated encryption:
// every name that is not an explicit ECDHE/DHE AEAD cipher, keywords
// (HIGH, DEFAULT, kRSA+FIPS) included, since they expand to CBC ciphers,
// and any @SECLEVEL below 2. Exclusions (!X, -X) and reordering (+X) add
// nothing and are not weak.
func WeakCiphers(ciphers string) []string {
	var weak []string
	for _, e := range strings.FieldsFunc(ciphers, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		switch {
		case strings.HasPrefix(e, "!") || strings.HasPrefix(e, "-") || strings.HasPrefix(e, "+"):
		case strings.HasPrefix(e, "@SECLEVEL="):
			if level := strings.TrimPrefix(e, "@SECLEVEL="); level < "2" {
				weak = append(weak, e)
			}
		case strings.HasPrefix(e, "@"):
		case !aeadCipher.MatchString(e):
			weak = append(weak, e)
		}
	}
	return weak
}

// Problems explains every way in which Kong with c would serve clients
// anything but TLS 1.3 with AEAD ciphers; nil when it serves only that.
func (c Config) Problems() []string {
	served, err := c.Serve()
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	var below []string
	for _, kind := range []string{"http", "stream"} {
		for _, p := range served.Protocols[kind] {
			if p != TLS13 && !slices.Contains(below, p) {
				below = append(below, p)
			}
		}
	}
	sort.Strings(below)
	suite := c.Suite()
	if len(below) > 0 {
		problems = append(problems, fmt.Sprintf("Kong serves %s (ssl_cipher_suite %q%s): the gateway serves TLS 1.3 only",
			strings.Join(below, ", "), suite, protocolSource(c, suite)))
		if weak := WeakCiphers(served.Ciphers); len(weak) > 0 {
			problems = append(problems, fmt.Sprintf("Kong offers ciphers without forward secrecy or AEAD over %s: %s",
				strings.Join(below, ", "), strings.Join(weak, ", ")))
		}
	}
	// A cipher list Kong ignores (a named suite) or that TLS 1.3 leaves
	// unused still states what the gateway would serve: it names AEAD
	// ciphers only, or it is refused.
	if own := strings.TrimSpace(c["ssl_ciphers"]); own != "" {
		if weak := WeakCiphers(own); len(weak) > 0 {
			problems = append(problems, fmt.Sprintf("ssl_ciphers names ciphers without forward secrecy or AEAD: %s", strings.Join(weak, ", ")))
		}
	}
	// The server-side ssl_conf_command directives pass OpenSSL settings
	// straight through (nginx ssl_conf_command), around Kong's own.
	for _, key := range []string{"nginx_http_ssl_conf_command", "nginx_stream_ssl_conf_command"} {
		cmd := strings.Fields(c[key])
		if len(cmd) == 0 {
			continue
		}
		switch name, value := cmd[0], strings.Join(cmd[1:], " "); name {
		case "Ciphersuites":
			var weak []string
			for _, s := range strings.Split(value, ":") {
				if !fullTagTLS13Suite(s) {
					weak = append(weak, s)
				}
			}
			if len(weak) > 0 {
				problems = append(problems, fmt.Sprintf("%s offers TLS 1.3 suites without a full AEAD tag: %s", key, strings.Join(weak, ", ")))
			}
		case "MinProtocol":
			if value != TLS13 {
				problems = append(problems, fmt.Sprintf("%s sets MinProtocol %s: the gateway serves TLS 1.3 only", key, value))
			}
		case "Protocol", "CipherString", "Options", "MaxProtocol":
			problems = append(problems, fmt.Sprintf("%s %q overrides Kong's protocol and cipher settings; set them with ssl_cipher_suite", key, c[key]))
		}
	}
	return problems
}

// protocolSource says where a custom suite's protocols come from.
func protocolSource(c Config, suite string) string {
	if suite != Custom {
		return ", which sets the protocols itself"
	}
	var from []string
	for _, key := range []string{"ssl_protocols", "nginx_http_ssl_protocols", "nginx_stream_ssl_protocols"} {
		if v := strings.TrimSpace(c[key]); v != "" {
			from = append(from, fmt.Sprintf("%s %q", key, v))
		}
	}
	if len(from) == 0 {
		return ", ssl_protocols unset: " + DefaultProtocols
	}
	return ", " + strings.Join(from, ", ")
}
