package sopsfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/getsops/sops/v3"
	sopsconfig "github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/stores/dotenv"
	"github.com/getsops/sops/v3/stores/ini"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// corpusFiles lists the real-world corpus, skipping the test when absent.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	return testsops.CorpusFiles(t, "encrypted")
}

// readParsed reads and parses a file the test expects to be a valid sops file.
func readParsed(t testing.TB, path string) ([]byte, *File) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(path, data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data, f
}

// sopsLoad loads a file's metadata with sops' own store for its format.
func sopsLoad(path string, data []byte) (sops.Metadata, error) {
	var tree sops.Tree
	var err error
	switch FormatFor(path) {
	case FormatYAML:
		tree, err = sopsyaml.NewStore(&sopsconfig.YAMLStoreConfig{}).LoadEncryptedFile(data)
	case FormatJSON:
		tree, err = sopsjson.NewStore(&sopsconfig.JSONStoreConfig{}).LoadEncryptedFile(data)
	case FormatDotenv:
		tree, err = dotenv.NewStore(&sopsconfig.DotenvStoreConfig{}).LoadEncryptedFile(data)
	case FormatINI:
		tree, err = ini.NewStore(&sopsconfig.INIStoreConfig{}).LoadEncryptedFile(data)
	default:
		tree, err = sopsjson.NewBinaryStore(&sopsconfig.JSONBinaryStoreConfig{}).LoadEncryptedFile(data)
	}
	return tree.Metadata, err
}

// sopsGroups renders sops' key groups as sorted "type:id" lists.
func sopsGroups(md sops.Metadata) [][]string {
	var out [][]string
	for _, g := range md.KeyGroups {
		var ks []string
		for _, k := range g {
			ks = append(ks, k.TypeToIdentifier()+":"+k.ToString())
		}
		sort.Strings(ks)
		out = append(out, ks)
	}
	return out
}

func ourGroups(f *File) [][]string {
	var out [][]string
	for _, g := range f.Groups {
		var ks []string
		for _, s := range g {
			ks = append(ks, s.Key.String())
		}
		sort.Strings(ks)
		out = append(out, ks)
	}
	return out
}

// crossCheck compares Parse with sops' store on one file.
func crossCheck(path string, data []byte) error {
	md, serr := sopsLoad(path, data)
	f, err := Parse(path, data)
	if serr != nil {
		if err == nil && len(f.Problems) == 0 && !hasStanzaProblem(f) {
			return fmt.Errorf("sops fails (%v) but Parse reports no problem", serr)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("sops loads it but Parse fails: %v", err)
	}
	want, got := fmt.Sprint(sopsGroups(md)), fmt.Sprint(ourGroups(f))
	if want != got {
		return fmt.Errorf("groups differ:\nsops: %s\nours: %s", want, got)
	}
	if f.ShamirThreshold != md.ShamirThreshold {
		return fmt.Errorf("threshold %d, sops %d", f.ShamirThreshold, md.ShamirThreshold)
	}
	if f.Version != md.Version || f.MAC != md.MessageAuthenticationCode {
		return fmt.Errorf("version/mac differ: %q %q", f.Version, md.Version)
	}
	if f.EncryptedRegex != md.EncryptedRegex || f.UnencryptedRegex != md.UnencryptedRegex ||
		f.EncryptedSuffix != md.EncryptedSuffix || f.EncryptedCommentRegex != md.EncryptedCommentRegex ||
		f.UnencryptedCommentRegex != md.UnencryptedCommentRegex || f.MACOnlyEncrypted != md.MACOnlyEncrypted {
		return fmt.Errorf("encryption settings differ")
	}
	if f.UnencryptedSuffix != md.UnencryptedSuffix && !(f.UnencryptedSuffix == "" && md.UnencryptedSuffix == sops.DefaultUnencryptedSuffix) {
		return fmt.Errorf("unencrypted_suffix %q, sops %q", f.UnencryptedSuffix, md.UnencryptedSuffix)
	}
	// Encrypted data keys agree too, by identity.
	var want2, got2 []string
	for _, g := range md.KeyGroups {
		for _, k := range g {
			want2 = append(want2, k.TypeToIdentifier()+":"+k.ToString()+" "+string(k.EncryptedDataKey()))
		}
	}
	for _, g := range f.Groups {
		for _, s := range g {
			got2 = append(got2, s.Key.String()+" "+s.Enc)
			if s.Line <= 0 || s.EndLine < s.Line {
				return fmt.Errorf("stanza %s: lines %d-%d", s.Key, s.Line, s.EndLine)
			}
		}
	}
	sort.Strings(want2)
	sort.Strings(got2)
	if strings.Join(want2, "\n") != strings.Join(got2, "\n") {
		return fmt.Errorf("encrypted data keys differ")
	}
	return nil
}

func hasStanzaProblem(f *File) bool {
	for _, g := range f.Groups {
		for _, s := range g {
			if s.Problem != "" {
				return true
			}
		}
	}
	return false
}

func TestParseCorpusAgreesWithSops(t *testing.T) {
	files := corpusFiles(t)
	failed, sopsFailed := 0, 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sopsLoad(path, data); err != nil {
			sopsFailed++
			t.Logf("%s: sops cannot load: %v", filepath.Base(path), err)
		}
		if err := crossCheck(path, data); err != nil {
			failed++
			t.Errorf("%s: %v", filepath.Base(path), strings.TrimSpace(err.Error()))
		}
		f, err := Parse(path, data)
		if err != nil {
			t.Errorf("%s: Parse: %v", filepath.Base(path), err)
			continue
		}
		if f.MetadataLine == 0 {
			t.Errorf("%s: no metadata line", filepath.Base(path))
		}
	}
	t.Logf("%d files, %d not loadable by sops, %d disagreements", len(files), sopsFailed, failed)
}
