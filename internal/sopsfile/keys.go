package sopsfile

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/pgp"

	"github.com/sopsfleet/sopsfleet/internal/secretguard"
	"github.com/sopsfleet/sopsfleet/recipients"
)

// Recipient is a master key the data key (or a Shamir part of it) can be
// encrypted to, with every setting sops keeps for it (KMS context, role and
// AWS profile, …). Build it with [ResolveRecipients].
type Recipient struct {
	Key recipients.Key
	// new returns a fresh sops master key without an encrypted key.
	new func() (keys.MasterKey, error)
}

// EncryptedStanza is a data key (or part) encrypted for one recipient, ready
// to be written into a file's metadata.
type EncryptedStanza struct {
	Key recipients.Key
	// Enc is the encrypted data key as sops stores it (age: armored file).
	Enc string
	// Fields are the entry's fields as sops serialises them, enc included:
	// recipient/enc (age); fp/created_at/enc (pgp); arn/role/context/
	// created_at/enc/aws_profile (kms); resource_id/created_at/enc (gcp_kms);
	// vault_url/name/version/created_at/enc (azure_kv); vault_address/
	// engine_path/key_name/created_at/enc (hc_vault); key_id/created_at/enc
	// (hckms).
	Fields map[string]any
	mk     keys.MasterKey
}

// ErrPluginMissing reports an age plugin recipient whose plugin binary
// (age-plugin-NAME) is not on PATH.
var ErrPluginMissing = errors.New("age plugin not found")

// ErrKeySettings reports a non-age key whose settings could not be found
// (neither in .sops.yaml as sops reads it, nor in the file).
var ErrKeySettings = errors.New("cannot find the settings of this key")

// ResolveRecipients turns wanted key groups into recipients. Age keys need
// only their identifier. Other keys take their settings from sops' own
// reading of configPath's rule for filePath (when configPath is set), else
// from the file's current metadata (f and data, when given), else, for PGP,
// from the fingerprint alone.
func ResolveRecipients(groups [][]recipients.Key, configPath, filePath string, f *File, data []byte) ([][]Recipient, error) {
	var conf *config.Config
	var confErr error
	confLoaded := false
	var full *fullMetadata
	fullLoaded := false
	out := make([][]Recipient, len(groups))
	for gi, g := range groups {
		for _, k := range g {
			k := k
			if k.Type == recipients.TypeAge {
				id := k.ID
				out[gi] = append(out[gi], Recipient{Key: k, new: func() (keys.MasterKey, error) {
					return sopsage.MasterKeyFromRecipient(id)
				}})
				continue
			}
			if configPath != "" && !confLoaded {
				confLoaded = true
				abs, err := filepath.Abs(filePath)
				if err == nil {
					conf, confErr = config.LoadCreationRuleForFile(configPath, abs, map[string]*string{})
				} else {
					confErr = err
				}
			}
			if conf != nil && gi < len(conf.KeyGroups) {
				if mk := findIn(conf.KeyGroups[gi], k); mk != nil {
					out[gi] = append(out[gi], Recipient{Key: k, new: reload(mk)})
					continue
				}
			}
			if f != nil && !fullLoaded {
				fullLoaded = true
				full, _ = loadFullMetadata(f, data)
			}
			if full != nil {
				found := false
				for fg := range full.groups {
					if mk := full.find(fg, k); mk != nil {
						out[gi] = append(out[gi], Recipient{Key: k, new: reload(mk)})
						found = true
						break
					}
				}
				if found {
					continue
				}
			}
			if k.Type == recipients.TypePGP {
				fp := k.ID
				out[gi] = append(out[gi], Recipient{Key: k, new: func() (keys.MasterKey, error) {
					return pgp.NewMasterKeyFromFingerprint(fp), nil
				}})
				continue
			}
			if confErr != nil {
				return nil, fmt.Errorf("%s %q: %w (sops could not read the config: %v)", k.Type, k.ID, ErrKeySettings, confErr)
			}
			return nil, fmt.Errorf("%s %q: %w", k.Type, k.ID, ErrKeySettings)
		}
	}
	return out, nil
}

// reload returns a constructor of fresh copies of mk (without enc): the
// settings survive a round trip through sops' key service key.
func reload(mk keys.MasterKey) func() (keys.MasterKey, error) {
	return func() (keys.MasterKey, error) { return copyMasterKey(mk) }
}

func findIn(group sops.KeyGroup, k recipients.Key) keys.MasterKey {
	for _, mk := range group {
		if mk.TypeToIdentifier() == string(k.Type) && mk.ToString() == k.ID {
			return mk
		}
	}
	return nil
}

// Encrypt encrypts part for r: age directly (no identity is needed to
// encrypt), other key types through sops' key service.
func (o *Opener) Encrypt(r Recipient, part []byte) (EncryptedStanza, error) {
	mk, err := r.new()
	if err != nil {
		return EncryptedStanza{}, fmt.Errorf("%s %q: %v", r.Key.Type, r.Key.ID, err)
	}
	var x25519 *fastX25519Recipient
	if r.Key.Type == recipients.TypeAge {
		// SSH, post-quantum and plugin recipients are not X25519 ones:
		// sops' own age key encrypts for those.
		x25519, _ = newFastX25519Recipient(r.Key.ID)
	}
	if x25519 != nil {
		enc, err := ageEncryptX25519(x25519, part)
		if err != nil {
			return EncryptedStanza{}, fmt.Errorf("encrypting the data key for age %q: %v", r.Key.ID, err)
		}
		mk.SetEncryptedDataKey(enc)
	} else if r.Key.Type == recipients.TypeAge {
		if err := encryptCheck(r.Key); err != nil {
			return EncryptedStanza{}, err
		}
		if err := mk.Encrypt(part); err != nil {
			return EncryptedStanza{}, fmt.Errorf("encrypting the data key for age %q: %v", r.Key.ID, err)
		}
	} else if err := encryptCheck(r.Key); err != nil {
		return EncryptedStanza{}, err
	} else if err := o.serviceEncrypt(mk, part); err != nil {
		return EncryptedStanza{}, err
	}
	return EncryptedStanza{Key: r.Key, Enc: string(mk.EncryptedDataKey()), Fields: mk.ToMap(), mk: mk}, nil
}

// EncryptGroups encrypts one part per group (see [SplitDataKey]) for every
// recipient of that group.
func (o *Opener) EncryptGroups(groups [][]Recipient, parts [][]byte) ([][]EncryptedStanza, error) {
	if len(parts) != len(groups) {
		return nil, fmt.Errorf("%d parts for %d key groups", len(parts), len(groups))
	}
	out := make([][]EncryptedStanza, len(groups))
	for gi, g := range groups {
		if len(g) == 0 {
			return nil, fmt.Errorf("key group %d is empty", gi+1)
		}
		for _, r := range g {
			es, err := o.Encrypt(r, parts[gi])
			if err != nil {
				return nil, err
			}
			out[gi] = append(out[gi], es)
		}
	}
	return out, nil
}

// RekeyViaStore replaces all key groups of the file (data) with groups and
// threshold and re-emits it through sops' store, as `sops updatekeys` does:
// values, mac and lastmodified are unchanged, but the file is re-serialised
// (CRLF line endings kept, see keepLineEndings).
// Used for Shamir (several groups) files when no in-place replacement is
// possible.
func RekeyViaStore(f *File, data []byte, groups [][]EncryptedStanza, threshold int, storesConfigPath string) ([]byte, error) {
	store, tree, err := loadTree(f, data, storesConfigPath)
	if err != nil {
		return nil, err
	}
	tree.Metadata.KeyGroups = toKeyGroups(groups)
	tree.Metadata.ShamirThreshold = thresholdFor(threshold, len(groups))
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		return nil, fmt.Errorf("sops cannot write the file: %v", secretguard.ScrubStoreError(err, nil))
	}
	return keepLineEndings(f.Format, data, out), nil
}

// Rotate gives the file (data, whose current data key is oldKey) a new data
// key, as `sops rotate` does: every value is decrypted in memory (the MAC is
// checked), a fresh data key is generated and encrypted for groups,
// every value is re-encrypted, a new MAC and lastmodified are set, and the
// file is emitted through sops' store, with the file's CRLF line endings
// kept (see keepLineEndings). Plaintext never leaves memory.
func (o *Opener) Rotate(f *File, data, oldKey []byte, groups [][]Recipient, threshold int, storesConfigPath string) ([]byte, error) {
	return o.rotate(f, data, oldKey, groups, threshold, storesConfigPath, nil)
}

// rotate is Rotate; with sel, the values are re-encrypted under sel's
// selector instead of the file's (RotateSelect).
func (o *Opener) rotate(f *File, data, oldKey []byte, groups [][]Recipient, threshold int, storesConfigPath string, sel *Selection) ([]byte, error) {
	store, tree, err := loadTree(f, data, storesConfigPath)
	if err != nil {
		return nil, err
	}
	tree.Metadata.DataKey = oldKey
	cipher := aes.NewCipher()
	if _, err := common.DecryptTree(common.DecryptTreeOpts{Tree: &tree, KeyServices: o.services, Cipher: cipher}); err != nil {
		return nil, decryptError(f, err)
	}
	if sel != nil {
		sel.apply(&tree.Metadata)
	}
	newKey := make([]byte, dataKeySize)
	if _, err := rand.Read(newKey); err != nil {
		return nil, err
	}
	parts, err := SplitDataKey(newKey, len(groups), threshold)
	if err != nil {
		return nil, err
	}
	enc, err := o.EncryptGroups(groups, parts)
	if err != nil {
		return nil, err
	}
	tree.Metadata.KeyGroups = toKeyGroups(enc)
	tree.Metadata.ShamirThreshold = thresholdFor(threshold, len(groups))
	tree.Metadata.DataKey = newKey
	if err := common.EncryptTree(common.EncryptTreeOpts{Tree: &tree, Cipher: cipher, DataKey: newKey}); err != nil {
		return nil, fmt.Errorf("encrypting the values: %v", secretguard.ScrubStoreError(err, nil))
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		return nil, fmt.Errorf("sops cannot write the file: %v", secretguard.ScrubStoreError(err, nil))
	}
	return keepLineEndings(f.Format, data, out), nil
}

// keepLineEndings gives out, which sops' stores emit with LF line endings,
// the CRLF line endings of in when every line of in ends so (a checkout
// with git's autocrlf, say): a re-emitted file must not differ in every
// line. Mixed or LF files get sops' LF. Dotenv is left alone: sops reads a
// CRLF dotenv file with the CR in every value, so such a file cannot be
// rotated in the first place.
func keepLineEndings(format Format, in, out []byte) []byte {
	lf := bytes.Count(in, []byte("\n"))
	if format == FormatDotenv || lf == 0 || bytes.Count(in, []byte("\r\n")) != lf {
		return out
	}
	out = bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
}

func thresholdFor(threshold, groups int) int {
	if groups <= 1 {
		return 0
	}
	if threshold <= 0 {
		return groups
	}
	return threshold
}

func toKeyGroups(groups [][]EncryptedStanza) []sops.KeyGroup {
	out := make([]sops.KeyGroup, len(groups))
	for i, g := range groups {
		for _, s := range g {
			out[i] = append(out[i], s.mk)
		}
	}
	return out
}

// loadFullMetadata reads the file's key groups with sops' own store.
func loadFullMetadata(f *File, data []byte) (*fullMetadata, error) {
	store, err := storeFor(f.Format, "")
	if err != nil {
		return nil, err
	}
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, fmt.Errorf("sops cannot load the file's metadata: %v", secretguard.ScrubStoreError(err, data))
	}
	m := &fullMetadata{threshold: tree.Metadata.ShamirThreshold}
	for _, g := range tree.Metadata.KeyGroups {
		m.groups = append(m.groups, []keys.MasterKey(g))
	}
	return m, nil
}

// loadTree loads the encrypted file with sops' own store (with the stores
// settings of storesConfigPath, if any), and returns the store too, for
// emitting the file again.
func loadTree(f *File, data []byte, storesConfigPath string) (common.Store, sops.Tree, error) {
	store, err := storeFor(f.Format, storesConfigPath)
	if err != nil {
		return nil, sops.Tree{}, err
	}
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, sops.Tree{}, fmt.Errorf("sops cannot load the file: %v", secretguard.ScrubStoreError(err, data))
	}
	return store, tree, nil
}

var storesConfigs sync.Map // config path → *config.StoresConfig

// storeFor returns sops' store for a format, with the stores settings of the
// .sops.yaml at storesConfigPath (indentation…), if any.
func storeFor(format Format, storesConfigPath string) (common.Store, error) {
	sc := &config.StoresConfig{}
	if storesConfigPath != "" {
		if v, ok := storesConfigs.Load(storesConfigPath); ok {
			sc = v.(*config.StoresConfig)
		} else {
			loaded, err := config.LoadStoresConfig(storesConfigPath)
			if err != nil {
				return nil, fmt.Errorf("sops cannot read the stores settings of %q: %v", storesConfigPath, err)
			}
			storesConfigs.Store(storesConfigPath, loaded)
			sc = loaded
		}
	}
	var sf formats.Format
	switch format {
	case FormatYAML:
		sf = formats.Yaml
	case FormatJSON:
		sf = formats.Json
	case FormatDotenv:
		sf = formats.Dotenv
	case FormatINI:
		sf = formats.Ini
	case FormatBinary:
		sf = formats.Binary
	default:
		return nil, fmt.Errorf("unknown file format")
	}
	return common.StoreForFormat(sf, sc), nil
}
