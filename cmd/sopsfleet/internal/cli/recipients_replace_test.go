package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// replaceFleet is a repository with an admin and host web2 (own rule and a
// shared rule), encrypted with the real sops to web2's old key; web2 now
// runs an SSH server on 127.0.0.1 with its new key, and known_hosts has the
// old one.
type replaceFleet struct {
	dir, config, home, adminKeys string
	addr                         string
	old, new                     hostKey
	files                        []string
}

func newReplaceFleet(t *testing.T) *replaceFleet {
	t.Helper()
	if _, err := testsops.Bin(); err != nil {
		t.Skipf("the real sops is not available: %v", err)
	}
	admin, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	f := &replaceFleet{dir: t.TempDir(), home: t.TempDir(), old: newHostKey(t), new: newHostKey(t)}
	f.addr = sshServer(t, f.new.priv)
	f.config = filepath.Join(f.dir, ".sops.yaml")
	f.adminKeys = filepath.Join(f.dir, "admin.txt")
	text := "keys:\n" +
		"  - &admin " + admin.Recipient().String() + "\n" +
		"  - &web2 " + f.old.age + " # reinstalled in december\n" +
		"creation_rules:\n" +
		"  - path_regex: hosts/web2/[^/]+$\n    age: [*admin, *web2]\n" +
		"  - path_regex: shared/\n    key_groups:\n      - age:\n          - *admin\n          - *web2\n" +
		"  - age: [*admin]\n"
	must(t, os.WriteFile(f.config, []byte(text), 0o644))
	must(t, os.WriteFile(f.adminKeys, []byte(admin.String()+"\n"), 0o600))
	for name, plain := range map[string]string{
		"hosts/web2/app.yaml": "db:\n    password: hunter2\n",
		"shared/common.yaml":  "token: t0ken\n",
		"other.yaml":          "only: admin\n",
	} {
		p := filepath.Join(f.dir, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(plain), 0o600))
		out, err := testsops.Run(f.dir, nil, "encrypt", name)
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(p, out, 0o600))
		f.files = append(f.files, name)
	}
	writeKnownHosts(t, f.home, "["+strings.Split(f.addr, ":")[0]+"]:"+strings.Split(f.addr, ":")[1]+" "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(f.old.pub))))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// keyFile writes the age identity of a host key and returns its path.
func (f *replaceFleet) keyFile(t *testing.T, hk hostKey, name string) string {
	t.Helper()
	id, err := recipients.Ed25519PrivateKeyToAge(hk.priv)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(f.dir, name)
	must(t, os.WriteFile(p, []byte(id.String()+"\n"), 0o600))
	return p
}

func (f *replaceFleet) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := keyscanIO(f.home)
	code := Run(ios, append([]string{"--config", f.config}, args...))
	return code, out.String(), errOut.String()
}

// TestRecipientsReplaceFromVerify: the replace command that verify prints
// for a reinstalled host works as printed; afterwards the real sops
// decrypts web2's files with the new key and not with the old one, and
// 'sops updatekeys -y' finds every file up to date.
func TestRecipientsReplaceFromVerify(t *testing.T) {
	f := newReplaceFleet(t)
	code, out, errOut := f.run(t, "recipients", "verify", "web2", "--keyscan", "--timeout", "5s", "--host", "web2="+f.addr)
	if code != ExitFailure {
		t.Fatalf("verify: exit %d: %s%s", code, out, errOut)
	}
	m := regexp.MustCompile(`sopsfleet (recipients replace .*)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("verify printed no replace command:\n%s", out)
	}
	cmd := strings.Fields(m[1])
	oldConfig, _ := os.ReadFile(f.config)

	// Without --fingerprint a key that differs from known_hosts is
	// refused, and so is one known_hosts does not have; nothing changed.
	noFP := func() []string { return append([]string{}, cmd[:len(cmd)-2]...) }
	code, _, errOut = f.run(t, append(noFP(), "-i", f.adminKeys)...)
	if code != ExitFailure || !strings.Contains(errOut, "HOST KEY MISMATCH") || !strings.Contains(errOut, "man in the middle") || !strings.Contains(errOut, "--fingerprint "+ssh.FingerprintSHA256(f.new.pub)) {
		t.Fatalf("without --fingerprint: exit %d: %s", code, errOut)
	}
	code, _, errOut = f.run(t, append(noFP(), "-i", f.adminKeys, "--known-hosts", filepath.Join(f.dir, "none"))...)
	if code != ExitFailure || !strings.Contains(errOut, "cannot be trusted: nothing was changed") {
		t.Fatalf("not in known_hosts: exit %d: %s", code, errOut)
	}
	// A wrong fingerprint is refused.
	bad := append(noFP(), "--fingerprint", ssh.FingerprintSHA256(f.old.pub), "-i", f.adminKeys)
	code, _, errOut = f.run(t, bad...)
	if code != ExitFailure || !strings.Contains(errOut, "HOST KEY MISMATCH") {
		t.Fatalf("wrong --fingerprint: exit %d: %s", code, errOut)
	}
	if now, _ := os.ReadFile(f.config); !bytes.Equal(now, oldConfig) {
		t.Fatal(".sops.yaml changed by a refused replace")
	}

	// The command as printed, with the admin's identity.
	code, out, errOut = f.run(t, append(cmd, "-i", f.adminKeys)...)
	if code != ExitOK {
		t.Fatalf("%s: exit %d: %s%s", strings.Join(cmd, " "), code, out, errOut)
	}
	if !strings.Contains(errOut, "known_hosts is stale") {
		t.Errorf("no stale known_hosts warning:\n%s", errOut)
	}
	if !strings.Contains(errOut, "can still decrypt every earlier copy") {
		t.Errorf("no exposure warning:\n%s", errOut)
	}
	if want := strings.ReplaceAll(string(oldConfig), f.old.age, f.new.age); mustRead(t, f.config) != want {
		t.Fatalf(".sops.yaml:\n%s\nwant:\n%s", mustRead(t, f.config), want)
	}
	newKeys := f.keyFile(t, f.new, "new.txt")
	oldKeys := f.keyFile(t, f.old, "old.txt")
	for _, name := range []string{"hosts/web2/app.yaml", "shared/common.yaml"} {
		if _, err := testsops.Run(f.dir, []string{"SOPS_AGE_KEY_FILE=" + newKeys}, "decrypt", name); err != nil {
			t.Errorf("%s: the new key cannot decrypt: %v", name, err)
		}
		if _, err := testsops.Run(f.dir, []string{"SOPS_AGE_KEY_FILE=" + oldKeys}, "decrypt", name); err == nil {
			t.Errorf("%s: the old key still decrypts", name)
		}
	}
	for _, name := range f.files {
		cmd, err := testsops.Command(f.dir, []string{"SOPS_AGE_KEY_FILE=" + f.adminKeys}, "updatekeys", "-y", name)
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("sops updatekeys %s: %v: %s", name, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "already up to date") {
			t.Errorf("sops updatekeys %s: %s", name, stderr.String())
		}
	}

	// The same command again: the key is already the new one.
	code, out, errOut = f.run(t, append(cmd, "-i", f.adminKeys)...)
	if code != ExitOK || strings.Count(errOut, "already has this key") != 1 {
		t.Fatalf("again: exit %d: %s%s", code, out, errOut)
	}
}

// TestRecipientsReplaceNoRotate: --no-rotate with the new key given keeps
// the data key: the single-group file keeps its values and mac, only web2's
// entry changed, and the new key decrypts it.
func TestRecipientsReplaceNoRotate(t *testing.T) {
	f := newReplaceFleet(t)
	name := "hosts/web2/app.yaml"
	before := mustRead(t, filepath.Join(f.dir, name))
	code, out, errOut := f.run(t, "recipients", "replace", "web2", f.new.age, "--no-rotate", "-i", f.adminKeys)
	if code != ExitOK {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	after := mustRead(t, filepath.Join(f.dir, name))
	macOf := func(s string) string { return regexp.MustCompile(`mac: .*`).FindString(s) }
	dataOf := func(s string) string { return regexp.MustCompile(`password: .*`).FindString(s) }
	if macOf(before) != macOf(after) || dataOf(before) != dataOf(after) || macOf(after) == "" {
		t.Errorf("the data key changed:\n%s\n%s", before, after)
	}
	if strings.Contains(after, f.old.age) || !strings.Contains(after, f.new.age) {
		t.Errorf("entries not swapped:\n%s", after)
	}
	if !strings.Contains(errOut, "without rotation, web2 still holds the data keys of 2 files") {
		t.Errorf("no rotation warning:\n%s", errOut)
	}
	if _, err := testsops.Run(f.dir, []string{"SOPS_AGE_KEY_FILE=" + f.keyFile(t, f.new, "new.txt")}, "decrypt", name); err != nil {
		t.Errorf("the new key cannot decrypt: %v", err)
	}
	if other := mustRead(t, filepath.Join(f.dir, "other.yaml")); strings.Contains(other, f.new.age) {
		t.Errorf("other.yaml got the new key")
	}
}

// TestRecipientsReplaceNeedsIdentity: without an identity that opens the
// files nothing changes, and the error says why.
func TestRecipientsReplaceNeedsIdentity(t *testing.T) {
	f := newReplaceFleet(t)
	before := mustRead(t, f.config)
	code, _, errOut := f.run(t, "recipients", "replace", "web2", f.new.age)
	if code != ExitFailure || !strings.Contains(errOut, "so nothing was changed") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if mustRead(t, f.config) != before {
		t.Fatal(".sops.yaml changed")
	}
}

// TestRecipientsReplaceProxyJump: a host that ~/.ssh/config reaches only
// through a jump host is refused with the hint to give --host.
func TestRecipientsReplaceProxyJump(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("ssh is not installed: ~/.ssh/config is not read")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ssh_config")
	must(t, os.WriteFile(cfg, []byte("Host web2\n  ProxyJump bastion\n"), 0o644))
	conf := filepath.Join(dir, ".sops.yaml")
	hk := newHostKey(t)
	must(t, os.WriteFile(conf, []byte("creation_rules:\n  - age: "+hk.age+" # web2\n"), 0o644))
	ios, _, errOut := keyscanIO(dir)
	o := &recipientsReplaceOptions{g: &globalOptions{IO: ios, Config: conf}, Name: "web2", Keyscan: "web2", Timeout: 5e9,
		resolver: &recipients.SSHResolver{ConfigFile: cfg}}
	err := runRecipientsReplace(o)
	if err == nil || !strings.Contains(err.Error(), "ProxyJump bastion") || !strings.Contains(strings.Join(hintsOf(err), "\n"), "--host ADDRESS") {
		t.Fatalf("err %v (%s)", err, errOut)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRecipientsReplaceHostKnown: with --host the address is dialed as it
// is while known_hosts is checked under the name; a key known_hosts has
// under that name is accepted without --fingerprint.
func TestRecipientsReplaceHostKnown(t *testing.T) {
	f := newReplaceFleet(t)
	writeKnownHosts(t, f.home, "web2 "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(f.new.pub))))
	code, out, errOut := f.run(t, "recipients", "replace", "web2", "--keyscan", "web2", "--host", f.addr, "-i", f.adminKeys, "--no-rotate")
	if code != ExitOK {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "web2: host key "+ssh.FingerprintSHA256(f.new.pub)+" matches ") || strings.Contains(errOut, "stale") {
		t.Errorf("known_hosts not used:\n%s", errOut)
	}
	if !strings.Contains(mustRead(t, f.config), "&web2 "+f.new.age) {
		t.Errorf(".sops.yaml not changed:\n%s", mustRead(t, f.config))
	}
}
