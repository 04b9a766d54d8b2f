package sopsfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// benchFixtures are files of every format written by the real sops, for
// three age recipients, with a realistic data section.
var (
	benchOnce  sync.Once
	benchFiles map[string][]byte
)

func benchData(b *testing.B) map[string][]byte {
	benchOnce.Do(func() {
		k1, k2, k3 := genAgeKey(b), genAgeKey(b), genAgeKey(b)
		benchFiles = map[string][]byte{}
		var yml, env, ini strings.Builder
		ini.WriteString("[app]\n")
		for i := range 30 {
			fmt.Fprintf(&yml, "key_%d:\n  user: user%d\n  password: secret-value-%d\n", i, i, i)
			fmt.Fprintf(&env, "KEY_%d=secret-value-%d\n", i, i)
			fmt.Fprintf(&ini, "key_%d = secret-value-%d\n", i, i)
		}
		var js strings.Builder
		js.WriteString("{\n")
		for i := range 30 {
			fmt.Fprintf(&js, "  \"key_%d\": {\"user\": \"user%d\", \"password\": \"secret-value-%d\"},\n", i, i, i)
		}
		js.WriteString("  \"last\": true\n}\n")
		plain := map[string]string{
			"bench.yaml": yml.String(),
			"bench.json": js.String(),
			"bench.env":  env.String(),
			"bench.ini":  ini.String(),
			"bench.pem":  strings.Repeat("MC4CAQAwBQYDK2VwBCIEIHr2NWxBv0uPavUa+kp3dMFUBw0BOa5Lb0x2WTflkFXk\n", 20),
		}
		for name, p := range plain {
			benchFiles[name] = sopsEncrypt(b, name, p, "", k1.rcp, k2.rcp, k3.rcp)
		}
	})
	return benchFiles
}

func BenchmarkParse(b *testing.B) {
	files := benchData(b)
	for _, name := range []string{"bench.yaml", "bench.json", "bench.env", "bench.ini", "bench.pem"} {
		data := files[name]
		b.Run(FormatFor(name).String(), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(name, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDiscover walks a folder of 500 sops files (100 per format) plus
// 100 plain files, reading and parsing each: ns/op divided by 600 is the
// cost per file.
func BenchmarkDiscover(b *testing.B) {
	files := benchData(b)
	dir := b.TempDir()
	for i := range 100 {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%10))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%d-%s", i, name)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%d-plain.yaml", i)), []byte("a: 1\nb: sops\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		found, ignored, err := DiscoverParsed([]string{dir}, 0)
		if err != nil || len(found) != 500 || len(ignored) != 100 {
			b.Fatalf("found %d, ignored %d, %v", len(found), len(ignored), err)
		}
	}
}
