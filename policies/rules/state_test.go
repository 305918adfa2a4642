package rules

import (
	"strings"
	"testing"
)

// TestFromStackExport reads a `pulumi stack export`: encrypted and shown
// secrets are masked, the provider's JSON-string default tags reach the
// resource, pending deletes and input-less remote components are skipped.
func TestFromStackExport(t *testing.T) {
	export := `{"version":3,"deployment":{"manifest":{},"resources":[
	 {"urn":"urn:pulumi:s::bac::pulumi:providers:aws::aws","custom":true,"id":"p1","type":"pulumi:providers:aws",
	  "inputs":{"region":"us-east-1","defaultTags":"{\"tags\":{\"Environment\":\"production\",\"Cluster\":\"c\",\"ManagedBy\":\"pulumi\"}}"}},
	 {"urn":"urn:pulumi:s::bac::aws:kms/key:Key::k","custom":true,"id":"k","type":"aws:kms/key:Key","provider":"urn:pulumi:s::bac::pulumi:providers:aws::aws::p1",
	  "inputs":{"enableKeyRotation":true,"policy":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"v1:x"},
	   "description":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","plaintext":"\"shown\""}}},
	 {"urn":"urn:pulumi:s::bac::aws:kms/key:Key::old","custom":true,"id":"o","type":"aws:kms/key:Key","delete":true,"inputs":{"enableKeyRotation":false}},
	 {"urn":"urn:pulumi:s::bac::eks:index:Cluster::c","custom":false,"type":"eks:index:Cluster","outputs":{"kubeconfig":"x"}}
	]}}`
	rs, err := FromStackExport([]byte(export))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("resources = %d, want the provider and the live key", len(rs))
	}
	key := rs[1]
	if key.Name != "k" || key.Get("policy") != "[secret]" || key.Get("description") != "[secret]" || key.Get("enableKeyRotation") != true {
		t.Fatalf("key = %+v", key)
	}
	res := Evaluate(rs, nil)
	if len(res.Mandatory()) != 0 {
		t.Fatalf("violations: %v", res.Mandatory())
	}
	if _, err := FromStackExport([]byte(`{"version":2,"deployment":{}}`)); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("err = %v", err)
	}
}
