package audit

import (
	"os"
	"strings"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// yamlFastCases are YAML texts around the edges of the metadata blanking:
// several sops blocks, "sops:" with a value or a comment, CRLF, a block
// at the end without a newline, plaintext before, in and after the block.
var yamlFastCases = []string{
	"",
	"a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n    mac: m\n    age:\n        - recipient: r\n",
	"a: plain\nsops:\n    mac: m\n",
	"sops:\n    mac: m\nb: plain\n",
	"a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n\tmac: plain value\nc: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n",
	"x: 1\nsops: inline\n  not: metadata\n",
	"x: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops: # c\n  k: v\n",
	"a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\r\nsops:\r\n    mac: m\r\n\r\n",
	"a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n    mac: m",
	"a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n    mac: m\n---\nb: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n    mac: m\n  # c\nz: plain\n",
	"a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\nsops:\n  x: y\n",
	"\nsops:\n \n\n  k: v\n",
	"sops:\n  k: v\n",
}

// checkYAMLFast compares the plaintext fast path with what it replaced.
func checkYAMLFast(t *testing.T, data []byte) {
	t.Helper()
	if got, want := yamlAllEncrypted(data), allEncryptedYAML(blankMetadata(data)); got != want {
		t.Errorf("yamlAllEncrypted = %v, allEncryptedYAML(blankMetadata) = %v for\n%q", got, want, data)
	}
}

// TestYAMLAllEncryptedAsBlanked: the in-place fast path of the YAML
// plaintext scan answers as the blanked copy did, on hand-made edges and
// on every YAML file of the corpus, as is and with its values stripped.
func TestYAMLAllEncryptedAsBlanked(t *testing.T) {
	for _, c := range yamlFastCases {
		checkYAMLFast(t, []byte(c))
	}
	dir, ok := testsops.CorpusDir("encrypted")
	if !ok {
		return
	}
	paths, err := sopsfile.Walk([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if sopsfile.FormatFor(p) != sopsfile.FormatYAML {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checkYAMLFast(t, data)
		stripped, _ := stripEncryption(sopsfile.FormatYAML, string(data))
		checkYAMLFast(t, []byte(stripped))
		checkYAMLFast(t, []byte(strings.ReplaceAll(string(data), "\n", "\r\n")))
	}
}

func FuzzYAMLAllEncrypted(f *testing.F) {
	for _, c := range yamlFastCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkYAMLFast(t, data) })
}
