package recipients

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
)

// SSHHost is where ssh would connect for a host name, as ~/.ssh/config
// says: what [ResolveSSHHost] returns.
type SSHHost struct {
	// Name is the name as given ("web1", "web1:2222").
	Name string
	// HostName and Port are where ssh connects (ssh -G: hostname, port).
	HostName string
	Port     string
	// ProxyJump is set when ssh reaches the host only through another
	// host (ProxyJump, or a ProxyCommand): a direct keyscan would reach
	// the wrong machine or nothing at all.
	ProxyJump string
	// FromSSHConfig is true when ssh -G was asked; false when ssh is not
	// installed and the name is used as it is.
	FromSSHConfig bool
}

// Target returns the HOST:PORT to hand to [Keyscan].
func (h SSHHost) Target() string { return net.JoinHostPort(h.HostName, h.Port) }

// ErrProxyJump reports a host that ssh reaches only through a jump host.
var ErrProxyJump = errors.New("reached through a jump host")

// ProxyJumpError is [ErrProxyJump] with the host and its jump.
type ProxyJumpError struct {
	Name string // the name as given
	Via  string // the ProxyJump (or "ProxyCommand …")
}

// Error says which jump host and that a direct scan is not possible.
func (e *ProxyJumpError) Error() string {
	return fmt.Sprintf("%s: ~/.ssh/config reaches it only through %s: it cannot be scanned directly", e.Name, e.Via)
}

// Unwrap returns [ErrProxyJump].
func (e *ProxyJumpError) Unwrap() error { return ErrProxyJump }

// SSHResolver says how [ResolveSSHHost] asks ssh. The zero value runs
// "ssh -G" from PATH with the user's own configuration.
type SSHResolver struct {
	// SSH is the ssh program; "" looks up "ssh" in PATH. When there is no
	// ssh, names are used as they are.
	SSH string
	// ConfigFile, when set, is passed as "ssh -F FILE" (tests, or a
	// repository's own ssh config).
	ConfigFile string
	// NoSSH skips ssh altogether: every name is used as it is.
	NoSSH bool
}

// ResolveSSHHost turns a host name (HOST or HOST:PORT, as for [Keyscan])
// into where ssh would connect to: with ssh installed, "ssh -G HOST" gives
// HostName and Port from ~/.ssh/config (an explicit :PORT wins, as with
// ssh -p). A host reached through ProxyJump or ProxyCommand is a
// [*ProxyJumpError]: scanning it directly would ask another machine.
// Without ssh the name is used as it is, port 22 unless given.
func ResolveSSHHost(ctx context.Context, name string, r *SSHResolver) (SSHHost, error) {
	addr, err := KeyscanAddress(name)
	if err != nil {
		return SSHHost{}, err
	}
	host, port, _ := net.SplitHostPort(addr)
	_, _, splitErr := net.SplitHostPort(name)
	explicitPort := splitErr == nil
	out := SSHHost{Name: name, HostName: host, Port: port}
	if r == nil {
		r = &SSHResolver{}
	}
	if r.NoSSH || strings.HasPrefix(host, "-") {
		return out, nil
	}
	prog := r.SSH
	if prog == "" {
		p, err := exec.LookPath("ssh")
		if err != nil {
			return out, nil // no ssh: nothing else reads ~/.ssh/config
		}
		prog = p
	}
	args := []string{"-G"}
	if r.ConfigFile != "" {
		args = append(args, "-F", r.ConfigFile)
	}
	if explicitPort {
		args = append(args, "-p", port)
	}
	args = append(args, host)
	cmd := exec.CommandContext(ctx, prog, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	data, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg != "" {
			return SSHHost{}, fmt.Errorf("%s: ssh -G failed: %s", name, msg)
		}
		return SSHHost{}, fmt.Errorf("%s: ssh -G failed: %w", name, err)
	}
	g := ParseSSHConfigDump(data)
	out.FromSSHConfig = true
	if h := g["hostname"]; h != "" {
		out.HostName = h
	}
	if p := g["port"]; p != "" && !explicitPort {
		out.Port = p
	}
	if j := g["proxyjump"]; j != "" && j != "none" {
		out.ProxyJump = j
		return out, &ProxyJumpError{Name: name, Via: "ProxyJump " + j}
	}
	if pc := g["proxycommand"]; pc != "" && pc != "none" {
		out.ProxyJump = "ProxyCommand " + pc
		return out, &ProxyJumpError{Name: name, Via: "ProxyCommand " + firstWord(pc)}
	}
	if _, err := KeyscanAddress(out.Target()); err != nil {
		return SSHHost{}, fmt.Errorf("%s: ~/.ssh/config gives %w", name, err)
	}
	return out, nil
}

// ParseSSHConfigDump reads the output of "ssh -G": one "keyword value" per
// line, keywords lowercase. Only the first value of a keyword is kept.
func ParseSSHConfigDump(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		k = strings.ToLower(k)
		if _, seen := out[k]; !seen {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0] + "…"
	}
	return s
}
