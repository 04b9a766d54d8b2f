package recipients

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/plugin"
	"golang.org/x/crypto/ssh"
)

func TestParseRecipientEveryKind(t *testing.T) {
	x, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sshLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
	pluginRcpt := plugin.EncodeRecipient("yubikey", []byte("some plugin data"))
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := ssh.NewPublicKey(&rk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(rp)))
	cases := []struct {
		in      string
		o       ParseOptions
		kind    Kind
		keyType KeyType
		id      string
		value   string
	}{
		{in: x.Recipient().String(), kind: KindAge, keyType: TypeAge, id: x.Recipient().String()},
		{in: pq.Recipient().String(), kind: KindAgePQ, keyType: TypeAge, id: pq.Recipient().String()},
		{in: pluginRcpt, kind: KindAgePlugin, keyType: TypeAge, id: pluginRcpt},
		{in: sshLine + " alice@laptop", kind: KindSSH, keyType: TypeAge, id: sshLine},
		{in: rsaLine + " carol@desk", kind: KindSSH, keyType: TypeAge, id: rsaLine},
		{in: "85D7 7543 B3D6 24B6 3CEA 9E6D BC17 301B 491B 3F21", kind: KindPGP, keyType: TypePGP, id: "85D77543B3D624B63CEA9E6DBC17301B491B3F21"},
		{in: "85d77543b3d624b63cea9e6dbc17301b491b3f21", kind: KindPGP, keyType: TypePGP, id: "85D77543B3D624B63CEA9E6DBC17301B491B3F21"},
		{in: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", kind: KindKMS, keyType: TypeKMS, id: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
		{in: "arn:aws:kms:eu-west-1:111122223333:alias/sops", o: ParseOptions{KMSRole: "arn:aws:iam::111122223333:role/sops", KMSContext: map[string]string{"b": "2", "a": "1"}, AWSProfile: "prod"},
			kind: KindKMS, keyType: TypeKMS, id: "arn:aws:kms:eu-west-1:111122223333:alias/sops+arn:aws:iam::111122223333:role/sops|a:1,b:2|prod"},
		{in: "arn:aws:kms:eu-west-1:111122223333:alias/sops", o: ParseOptions{AWSProfile: "prod"}, kind: KindKMS, keyType: TypeKMS, id: "arn:aws:kms:eu-west-1:111122223333:alias/sops||prod"},
		{in: "projects/p/locations/global/keyRings/r/cryptoKeys/k", kind: KindGCPKMS, keyType: TypeGCPKMS, id: "projects/p/locations/global/keyRings/r/cryptoKeys/k"},
		{in: "https://v.vault.azure.net/keys/sops/0123456789abcdef", kind: KindAzureKV, keyType: TypeAzureKV, id: "https://v.vault.azure.net/keys/sops/0123456789abcdef"},
		{in: "https://vault.example.com:8200/v1/transit/keys/sops", kind: KindVault, keyType: TypeVault, id: "https://vault.example.com:8200/v1/transit/keys/sops"},
		{in: "cn-north-4:0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", kind: KindHCKMS, keyType: TypeHCKMS, id: "cn-north-4:0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"},
		{in: "tenant:key", o: ParseOptions{Kind: KindHCKMS}, kind: KindHCKMS, keyType: TypeHCKMS, id: "tenant:key"},
	}
	for _, c := range cases {
		r, err := ParseRecipient(c.in, c.o)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if r.Kind != c.kind || r.Key.Type != c.keyType || r.Key.ID != c.id {
			t.Errorf("%q: got %s %s %q, want %s %s %q", c.in, r.Kind, r.Key.Type, r.Key.ID, c.kind, c.keyType, c.id)
		}
		if KindOf(r.Key) != c.kind {
			t.Errorf("%q: KindOf = %s, want %s", c.in, KindOf(r.Key), c.kind)
		}
		if c.kind.KeyType() != c.keyType {
			t.Errorf("%s.KeyType() = %s", c.kind, c.kind.KeyType())
		}
	}
	if r, _ := ParseRecipient(sshLine+" alice@laptop", ParseOptions{}); r.Comment != "alice@laptop" || r.LooksLikeHostKey() {
		t.Errorf("ssh comment: %q host=%v", r.Comment, r.LooksLikeHostKey())
	}
	if r, _ := ParseRecipient(sshLine+" root@web1", ParseOptions{}); !r.LooksLikeHostKey() {
		t.Errorf("root@web1 is a host key")
	}
	if PluginName(Key{Type: TypeAge, ID: pluginRcpt}) != "yubikey" {
		t.Errorf("PluginName(%q) = %q", pluginRcpt, PluginName(Key{Type: TypeAge, ID: pluginRcpt}))
	}
}

func TestParseRecipientRejects(t *testing.T) {
	pluginRcpt := plugin.EncodeRecipient("yubikey", []byte("some plugin data"))
	badSum := pluginRcpt[:len(pluginRcpt)-1] + map[bool]string{true: "q", false: "p"}[pluginRcpt[len(pluginRcpt)-1] != 'q']
	id, _ := age.GenerateX25519Identity()
	cases := []struct {
		in   string
		o    ParseOptions
		want string
	}{
		{in: badSum, want: "age plugin recipient"},
		{in: "age1pq1qqqq", want: "post-quantum"},
		{in: "ssh-ed25519 AAAAnotbase64", want: "ssh public key"},
		{in: "0123456789ABCDEF", o: ParseOptions{Kind: KindPGP}, want: "40 hex digits"},
		{in: "arn:aws:kms:eu-west-1:1111:key/x", want: "want arn:aws:kms:REGION:ACCOUNT"},
		{in: "arn:aws:kms:eu-west-1:111122223333:key/x", o: ParseOptions{KMSRole: "admin"}, want: "--kms-role"},
		{in: "projects/p/cryptoKeys/k", want: "gcp kms resource id"},
		{in: "https://v.vault.azure.net/keys/sops", want: "give the key version"},
		{in: "https://vault.example.com:8200/transit/keys/sops", want: "vault transit URI"},
		{in: "nocolon", o: ParseOptions{Kind: KindHCKMS}, want: "region:key-uuid"},
		{in: "hello", want: "unknown recipient form"},
		{in: id.Recipient().String(), o: ParseOptions{AWSProfile: "x"}, want: "are for AWS KMS keys"},
	}
	for _, c := range cases {
		_, err := ParseRecipient(c.in, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.in, err, c.want)
		}
	}
	_, err := ParseRecipient(id.String(), ParseOptions{})
	if err == nil || strings.Contains(err.Error(), id.String()) {
		t.Errorf("secret key: got %v (must fail without quoting it)", err)
	}
	if _, err := ParseKind("nope"); err == nil {
		t.Error("ParseKind(nope) succeeded")
	}
	for _, k := range Kinds {
		if got, err := ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%s) = %s, %v", k, got, err)
		}
	}
}
