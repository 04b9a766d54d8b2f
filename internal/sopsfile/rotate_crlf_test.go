package sopsfile

import (
	"bytes"
	"testing"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/recipients"
)

func toCRLF(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// consistentCRLF reports whether every line of b ends in CRLF.
func consistentCRLF(b []byte) bool {
	n := bytes.Count(b, []byte("\n"))
	return n > 0 && bytes.Count(b, []byte("\r\n")) == n
}

// A file checked out with CRLF line endings (git's autocrlf on Windows)
// keeps them through a rotation, in every format sops reads with CRLF, and
// the real sops still decrypts it, to the same values, for the new
// recipients only.
func TestRotateKeepsCRLF(t *testing.T) {
	admin := genAgeKey(t)
	gone := genAgeKey(t)
	adminKey := recipients.Key{Type: recipients.TypeAge, ID: admin.rcp}
	for _, format := range []Format{FormatYAML, FormatJSON, FormatINI, FormatBinary} {
		p := plainByFormat[format]
		t.Run(p.name, func(t *testing.T) {
			enc := toCRLF(sopsEncrypt(t, p.name, p.text, "", admin.rcp, gone.rcp))
			want, err := sopsDecrypt(t, p.name, enc, admin)
			if err != nil {
				t.Fatalf("the real sops cannot read the CRLF file: %v", err)
			}
			f, err := Parse(p.name, enc)
			if err != nil {
				t.Fatal(err)
			}
			op := NewOpener([]age.Identity{admin.id})
			old, err := op.OpenDataKey(f, enc)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := ResolveRecipients([][]recipients.Key{{adminKey}}, "", p.name, f, enc)
			if err != nil {
				t.Fatal(err)
			}
			out, err := op.Rotate(f, enc, old, rs, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if !consistentCRLF(out) {
				t.Fatalf("rotated file lost its CRLF line endings:\n%q", out)
			}
			got, err := sopsDecrypt(t, p.name, out, admin)
			if err != nil {
				t.Fatalf("sops -d of the rotated file: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("values changed: %q, want %q", got, want)
			}
			if _, err := sopsDecrypt(t, p.name, out, gone); err == nil {
				t.Fatal("the removed recipient still decrypts the rotated file")
			}
			// Re-emitting without rotation (the Shamir path) keeps them too.
			stanzas, err := op.EncryptGroups(rs, [][]byte{old})
			if err != nil {
				t.Fatal(err)
			}
			out, err = RekeyViaStore(f, enc, stanzas, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if !consistentCRLF(out) {
				t.Fatalf("re-emitted file lost its CRLF line endings:\n%q", out)
			}
			if got, err := sopsDecrypt(t, p.name, out, admin); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("sops -d of the re-emitted file: %q, %v", got, err)
			}
			// An LF file stays LF.
			lf := sopsEncrypt(t, p.name, p.text, "", admin.rcp)
			f, _ = Parse(p.name, lf)
			old, _ = op.OpenDataKey(f, lf)
			out, err = op.Rotate(f, lf, old, rs, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte("\r")) {
				t.Fatalf("an LF file came back with CR:\n%q", out)
			}
		})
	}
}

// Only a file whose every line ends in CRLF gets CRLF back; a mixed file
// gets sops' LF, and dotenv (which sops cannot read with CRLF) is left as
// emitted.
func TestKeepLineEndings(t *testing.T) {
	emitted := []byte("a: 1\nb: 2\n")
	for _, tc := range []struct {
		format Format
		in     string
		want   string
	}{
		{FormatYAML, "a: 0\r\nb: 0\r\n", "a: 1\r\nb: 2\r\n"},
		{FormatYAML, "a: 0\r\nb: 0\n", "a: 1\nb: 2\n"},
		{FormatYAML, "a: 0\nb: 0\n", "a: 1\nb: 2\n"},
		{FormatYAML, "a: 0", "a: 1\nb: 2\n"},
		{FormatJSON, "{}\r\n", "a: 1\r\nb: 2\r\n"},
		{FormatDotenv, "A=0\r\nB=0\r\n", "a: 1\nb: 2\n"},
	} {
		if got := keepLineEndings(tc.format, []byte(tc.in), emitted); string(got) != tc.want {
			t.Errorf("%v %q: %q, want %q", tc.format, tc.in, got, tc.want)
		}
	}
}
