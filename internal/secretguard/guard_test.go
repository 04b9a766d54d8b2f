package secretguard_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
	"github.com/sopsfleet/sopsfleet/internal/secretguard/guardtest"
)

func TestLooksPrivate(t *testing.T) {
	for _, k := range guardtest.Keys(t) {
		for _, form := range []string{k.Text, "--identity=" + k.Text, "-i" + k.Text, "x " + k.Text + " y"} {
			if !secretguard.LooksPrivate(form) {
				t.Errorf("%s: LooksPrivate(%.40q…) = false", k.Name, form)
			}
		}
	}
	public := []string{
		"",
		"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
		"age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHPQ8VjO1sWPAdmXDMgfQ8YHO7Hy0dcJpgWkXFPX0bqQ web1",
		"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----",
		"-----BEGIN PGP PUBLIC KEY BLOCK-----",
		"/etc/ssh/ssh_host_ed25519_key",
		"secrets/prod.yaml",
		"secrets/storage-account.yaml",
		"------ | -----",
		"image-page-usage-",
		"age-plugin-yubikey was not found in $PATH",
		"85D77543B3D624B63CEA9E6DBC17301B491B3F21",
		"ENC[AES256_GCM,data:8kH3,iv:Zm9vYmFy,tag:YmFyYmF6,type:str]",
	}
	for _, s := range public {
		if secretguard.LooksPrivate(s) {
			t.Errorf("LooksPrivate(%q) = true for public text", s)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, k := range guardtest.Keys(t) {
		for _, msg := range []string{
			`bad flag syntax: ` + k.Text,
			`unknown command "` + k.Text + `" for "sopsfleet"`,
			`cannot read "` + k.Text + `": no such file or directory`,
			"open " + k.Text + ": not found",
		} {
			got := secretguard.Redact(msg)
			if leaks := guardtest.Leaks(got, []guardtest.Key{k}, nil); len(leaks) > 0 || secretguard.LooksPrivate(got) {
				t.Errorf("%s: Redact leaves %v in %q", k.Name, leaks, got)
			}
			if !strings.Contains(got, secretguard.Placeholder) {
				t.Errorf("%s: Redact(%.30q…) = %q, no placeholder", k.Name, msg, got)
			}
		}
	}
	// Text around a key is kept.
	id := guardtest.Keys(t)[len(guardtest.Keys(t))-2]
	got := secretguard.Redact(`cannot read "` + id.Text + `": no such file or directory`)
	if want := `cannot read "` + secretguard.Placeholder + `": no such file or directory`; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	if got := secretguard.Redact("nothing here"); got != "nothing here" {
		t.Errorf("Redact changed %q", got)
	}
}

func TestRedactError(t *testing.T) {
	if secretguard.RedactError(nil) != nil {
		t.Fatal("RedactError(nil) != nil")
	}
	plain := errors.New("plain")
	if secretguard.RedactError(plain) != plain {
		t.Error("RedactError changed an error with nothing private")
	}
	k := guardtest.Keys(t)[0]
	err := secretguard.RedactError(errors.New("x: " + k.Text))
	if leaks := guardtest.Leaks(err.Error(), []guardtest.Key{k}, nil); len(leaks) > 0 {
		t.Errorf("RedactError leaves %v", leaks)
	}
	if errors.Unwrap(err) != nil {
		t.Error("RedactError's result wraps the original")
	}
}

func TestScrubStoreError(t *testing.T) {
	v := guardtest.SecretValue(t)
	data := []byte("[db]\npassword = x\n" + v + "\n")
	cases := []struct{ in, want string }{
		{"sops cannot load the file: Could not unmarshal input data: key-value delimiter not found: " + v,
			"sops cannot load the file: Could not unmarshal input data: line 3: key-value delimiter not found"},
		{"invalid dotenv input line: " + v, "line 3: invalid dotenv input line"},
		{"unclosed section: [" + v, "unclosed section"},
		{"Error unmarshaling input YAML: yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `" + v[:7] + "...` into int",
			"Error unmarshaling input YAML: yaml: unmarshal errors:; line 4: cannot unmarshal !!str `…` into int"},
		{"cannot decode !!str `" + v + "` as a !!int", "cannot decode !!str `…` as a !!int"},
		{"Could not unmarshal input data: invalid character 'S' looking for beginning of value",
			"Could not unmarshal input data: invalid character '…' looking for beginning of value"},
		{`SOPS only supports JSON files with a top-level object (starting with '{'), not other JSON types. Got "` + v + `" of type string instead`,
			`SOPS only supports JSON files with a top-level object (starting with '{'), not other JSON types. got a value of type string instead`},
		{"Error encoding value " + v + ": bad", "Error encoding value"},
		{`Error while unflattening "` + v + `": Type mismatch`, `Error while unflattening "…": Type mismatch`},
		{`missing "sops_version" in metadata`, `missing "sops_version" in metadata`},
		{"yaml: line 2: mapping values are not allowed in this context", "yaml: line 2: mapping values are not allowed in this context"},
	}
	for _, c := range cases {
		got := secretguard.ScrubStoreError(errors.New(c.in), data)
		if got.Error() != c.want {
			t.Errorf("ScrubStoreError(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
		if leaks := guardtest.Leaks(got.Error(), nil, []string{v}); len(leaks) > 0 {
			t.Errorf("ScrubStoreError(%q) leaks %v", c.in, leaks)
		}
	}
	if secretguard.ScrubStoreError(nil, nil) != nil {
		t.Error("ScrubStoreError(nil) != nil")
	}
	// Without data, no line number is guessed.
	if got := secretguard.ScrubStoreError(errors.New("invalid dotenv input line: "+v), nil).Error(); got != "invalid dotenv input line" {
		t.Errorf("without data: %q", got)
	}
	// A private key in a store error is redacted too.
	k := guardtest.Keys(t)[0]
	if got := secretguard.ScrubStoreError(errors.New("Error encoding key: "+k.Text), nil).Error(); secretguard.LooksPrivate(got) {
		t.Errorf("private key kept: %q", got)
	}
}

func TestLines(t *testing.T) {
	for _, k := range guardtest.Keys(t) {
		var l secretguard.Lines
		var out strings.Builder
		text := "before\n" + k.Text + "\nafter\n"
		for _, line := range strings.SplitAfter(text, "\n") {
			out.WriteString(l.Line(line))
		}
		got := out.String()
		if leaks := guardtest.Leaks(got, []guardtest.Key{k}, nil); len(leaks) > 0 {
			t.Errorf("%s: Lines leaves %v in %q", k.Name, leaks, got)
		}
		if !strings.HasPrefix(got, "before\n") || !strings.HasSuffix(got, "after\n") {
			t.Errorf("%s: lines around the key lost: %q", k.Name, got)
		}
	}
}
