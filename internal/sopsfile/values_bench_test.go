package sopsfile

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkPlainDigests measures the digests of a 200-value YAML file (what
// exposure computes per blob when it has the data key).
func BenchmarkPlainDigests(b *testing.B) {
	k := genAgeKey(b)
	var plain strings.Builder
	for i := range 200 {
		fmt.Fprintf(&plain, "key%d: value number %d\n", i, i)
	}
	data := sopsEncrypt(b, "s.yaml", plain.String(), "", k.rcp)
	f, err := Parse("s.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	key := dataKeyOf(b, f, k)
	salt := []byte("salt")
	for b.Loop() {
		d, err := PlainDigests(f, data, key, salt)
		if err != nil || len(d) != 200 {
			b.Fatal(len(d), err)
		}
	}
}
