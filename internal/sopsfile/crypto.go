package sopsfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/shamir"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// ErrNoIdentity reports that none of the loaded identities (and no key
// service) could decrypt the data key of a file.
var ErrNoIdentity = errors.New("no identity opens this file")

// NoIdentityError is [ErrNoIdentity] for one file, with the kinds of its
// recipients, so that a hint can name the key sources that matter (gpg
// keyring, age plugin, cloud credentials) and not only age key files.
type NoIdentityError struct {
	// Kinds are the kinds of the file's recipients, each once.
	Kinds  []recipients.Kind
	detail string
}

// Error is ErrNoIdentity's message with what was tried in each group.
func (e *NoIdentityError) Error() string { return ErrNoIdentity.Error() + e.detail }

// Unwrap returns [ErrNoIdentity].
func (e *NoIdentityError) Unwrap() error { return ErrNoIdentity }

func fileKinds(f *File) []recipients.Kind {
	var out []recipients.Kind
	seen := map[recipients.Kind]bool{}
	for _, g := range f.Groups {
		for _, s := range g {
			if k := recipients.KindOf(s.Key); !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// dataKeySize is the size of a sops data key (AES-256).
const dataKeySize = 32

// Opener decrypts the data keys of sops files. Age stanzas are opened
// directly with the identities it was given (loaded once per run, unlike
// sops' local key service, which reloads them for every key of every file);
// every other key type (PGP, AWS KMS, GCP KMS, Azure Key Vault, Vault, HC KMS)
// goes through sops' local key service, so it works wherever sops would.
//
// An Opener is safe for concurrent use.
type Opener struct {
	age []age.Identity
	// byRecipient maps the "age1…" recipient of every X25519 identity to it,
	// so the matching stanza is tried first (one scalar multiplication
	// instead of one per stanza and identity).
	byRecipient map[string]age.Identity
	services    []keyservice.KeyServiceClient
	// NoServices disables the key service for non-age stanzas (tests).
	NoServices bool
}

// NewOpener returns an Opener that uses ids for age stanzas.
func NewOpener(ids []age.Identity) *Opener {
	o := &Opener{age: ids, byRecipient: map[string]age.Identity{}}
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			o.byRecipient[x.Recipient().String()] = id
			if fast, err := newFastX25519Identity(x); err == nil {
				o.byRecipient[x.Recipient().String()] = fast
			}
		}
	}
	o.services = []keyservice.KeyServiceClient{keyservice.NewLocalClient()}
	return o
}

// HasAgeIdentities reports whether any age identity was loaded.
func (o *Opener) HasAgeIdentities() bool { return o != nil && len(o.age) > 0 }

// OpenDataKey returns the data key of f, whose text is data. With several
// key groups, one part is opened per group and the parts are combined with
// Shamir's scheme, as sops does, once the threshold is met.
func (o *Opener) OpenDataKey(f *File, data []byte) ([]byte, error) {
	if len(f.Groups) == 0 {
		return nil, errors.New("the file has no key groups")
	}
	var full *fullMetadata // sops' own view of the keys, loaded on demand
	var parts [][]byte
	var groupErrs []string
	for gi, group := range f.Groups {
		part, err := o.openGroup(f, data, gi, group, &full)
		if err != nil {
			groupErrs = append(groupErrs, err.Error())
			continue
		}
		parts = append(parts, part)
	}
	if len(f.Groups) == 1 {
		if len(parts) == 1 {
			return checkKeySize(parts[0])
		}
		return nil, &NoIdentityError{Kinds: fileKinds(f), detail: fmt.Sprintf(" (%s)", groupErrs[0])}
	}
	need := f.ShamirThreshold
	if need <= 0 {
		need = len(f.Groups)
	}
	if len(parts) < need {
		return nil, &NoIdentityError{Kinds: fileKinds(f), detail: fmt.Sprintf(": opened %d of the %d key groups needed (%s)",
			len(parts), need, strings.Join(groupErrs, "; "))}
	}
	key, err := shamir.Combine(parts)
	if err != nil {
		return nil, fmt.Errorf("combining the key group parts: %v", err)
	}
	return checkKeySize(key)
}

func checkKeySize(k []byte) ([]byte, error) {
	if len(k) != dataKeySize {
		return nil, fmt.Errorf("the decrypted data key has %d bytes, want %d", len(k), dataKeySize)
	}
	return k, nil
}

// openGroup opens one group's part: age stanzas first (fast, local), then
// the others through the key service.
func (o *Opener) openGroup(f *File, data []byte, gi int, group []Stanza, full **fullMetadata) ([]byte, error) {
	var ageStanzas, others []Stanza
	for _, s := range group {
		if s.Key.Type == recipients.TypeAge {
			ageStanzas = append(ageStanzas, s)
		} else {
			others = append(others, s)
		}
	}
	var tried []string
	if len(ageStanzas) > 0 {
		if len(o.age) == 0 {
			tried = append(tried, fmt.Sprintf("%d age: no age identity loaded", len(ageStanzas)))
		} else if part, ok := o.openAge(ageStanzas); ok {
			return part, nil
		} else {
			tried = append(tried, fmt.Sprintf("%d age: none of %d identities matches", len(ageStanzas), len(o.age)))
		}
	}
	if len(others) > 0 && !o.NoServices {
		if *full == nil {
			m, err := loadFullMetadata(f, data)
			if err != nil {
				return nil, err
			}
			*full = m
		}
		for _, s := range others {
			mk := (*full).find(gi, s.Key)
			if mk == nil {
				continue
			}
			part, err := o.serviceDecrypt(mk)
			if err == nil {
				return part, nil
			}
			tried = append(tried, fmt.Sprintf("%s %s: %s", s.Key.Type, shortKeyID(s.Key.ID), serviceReason(err)))
		}
	} else if len(others) > 0 {
		tried = append(tried, fmt.Sprintf("%d other keys: key service disabled", len(others)))
	}
	if len(tried) == 0 {
		tried = append(tried, "no keys")
	}
	if len(o.age) == 0 && len(others) == 0 {
		return nil, fmt.Errorf("no age identity loaded")
	}
	return nil, fmt.Errorf("group %d: %s", gi+1, strings.Join(tried, ", "))
}

// openAge tries the stanzas whose recipient matches a loaded X25519 identity
// first, then every stanza with the other identities (SSH, plugin, hybrid),
// and last the X25519 identities on stanzas no identity claimed.
func (o *Opener) openAge(stanzas []Stanza) ([]byte, bool) {
	var unclaimed []Stanza
	for _, s := range stanzas {
		if id, ok := o.byRecipient[s.Key.ID]; ok {
			if part, err := ageDecrypt(s.Enc, []age.Identity{id}); err == nil {
				return part, true
			}
		} else {
			unclaimed = append(unclaimed, s)
		}
	}
	var xs, rest []age.Identity
	for _, id := range o.age {
		if _, ok := id.(*age.X25519Identity); ok {
			xs = append(xs, id)
		} else {
			rest = append(rest, id)
		}
	}
	if len(rest) > 0 {
		for _, s := range stanzas {
			if part, err := ageDecrypt(s.Enc, rest); err == nil {
				return part, true
			}
		}
	}
	if len(xs) > 0 {
		for _, s := range unclaimed {
			if part, err := ageDecrypt(s.Enc, xs); err == nil {
				return part, true
			}
		}
	}
	return nil, false
}

// ageDecrypt opens one armored age file holding a data key (or a part).
func ageDecrypt(enc string, ids []age.Identity) ([]byte, error) {
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(enc)), ids...)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, 1024))
}

func (o *Opener) serviceDecrypt(mk keys.MasterKey) ([]byte, error) {
	svcKey := keyservice.KeyFromMasterKey(mk)
	var last error
	for _, svc := range o.services {
		rsp, err := svc.Decrypt(context.Background(), &keyservice.DecryptRequest{
			Ciphertext: mk.EncryptedDataKey(),
			Key:        &svcKey,
		})
		if err == nil {
			return rsp.Plaintext, nil
		}
		last = err
	}
	if last == nil {
		last = errors.New("no key service")
	}
	return nil, last
}

// serviceEncrypt encrypts part for mk through the key service and stores the
// result in mk, as sops' UpdateMasterKeysWithKeyServices does.
func (o *Opener) serviceEncrypt(mk keys.MasterKey, part []byte) error {
	svcKey := keyservice.KeyFromMasterKey(mk)
	var last error
	for _, svc := range o.services {
		rsp, err := svc.Encrypt(context.Background(), &keyservice.EncryptRequest{Key: &svcKey, Plaintext: part})
		if err == nil {
			mk.SetEncryptedDataKey(rsp.Ciphertext)
			return nil
		}
		last = err
	}
	if last == nil {
		last = errors.New("no key service")
	}
	return fmt.Errorf("encrypting the data key for %s %q: %v", mk.TypeToIdentifier(), mk.ToString(), last)
}

// fullMetadata is sops' own reading of a file's key groups, with every
// setting of every key (KMS context, role, profile…) that our Stanza does
// not carry. It is loaded only for files with non-age keys.
type fullMetadata struct {
	groups    [][]keys.MasterKey
	threshold int
}

func (m *fullMetadata) find(group int, k recipients.Key) keys.MasterKey {
	if m == nil || group >= len(m.groups) {
		return nil
	}
	for _, mk := range m.groups[group] {
		if mk.TypeToIdentifier() == string(k.Type) && mk.ToString() == k.ID {
			return mk
		}
	}
	return nil
}

// SplitDataKey splits a data key into one part per key group with Shamir's
// scheme, exactly as sops does (threshold 0 means every group); with one
// group the key itself is the only part.
func SplitDataKey(dataKey []byte, groups, threshold int) ([][]byte, error) {
	if groups <= 0 {
		return nil, errors.New("no key groups")
	}
	if groups == 1 {
		return [][]byte{dataKey}, nil
	}
	if threshold <= 0 {
		threshold = groups
	}
	if threshold > groups {
		return nil, fmt.Errorf("shamir_threshold %d is larger than the %d key groups", threshold, groups)
	}
	parts, err := shamir.Split(dataKey, groups, threshold)
	if err != nil {
		return nil, fmt.Errorf("splitting the data key: %v", err)
	}
	return parts, nil
}

// serviceReason is the key service's (gpg's, a cloud SDK's) reason for not
// opening a data key, on one line, redacted by the secret guard, and cut
// to a length a message can hold.
func serviceReason(err error) string {
	msg := secretguard.Redact(err.Error())
	msg = strings.Join(strings.Fields(msg), " ")
	// gRPC status prefixes from the local key service add nothing.
	msg = strings.TrimPrefix(msg, "rpc error: code = Unknown desc = ")
	// sops' PGP key tries go-crypto with a pubring.gpg first, then gpg:
	// gpg's last line is the reason ("gpg: decryption failed: No secret
	// key").
	if i := strings.Index(msg, "GnuPG binary error: "); i >= 0 {
		msg = msg[i+len("GnuPG binary error: "):]
		if first, last := strings.Index(msg, "gpg: "), strings.LastIndex(msg, "gpg: "); first >= 0 && last > first {
			msg = msg[:first] + msg[last:]
		}
	}
	const max = 300
	if len(msg) > max {
		msg = msg[:max] + "…"
	}
	if msg == "" {
		msg = "cannot decrypt"
	}
	return msg
}

// shortKeyID shortens a long key identifier (ARNs, URLs) for a message.
func shortKeyID(id string) string {
	if len(id) > 48 {
		return id[:44] + "…"
	}
	return id
}
