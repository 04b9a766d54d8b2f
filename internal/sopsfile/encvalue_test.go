package sopsfile

import "testing"

// TestIsEncryptedValueMatchesTheRegexp: the hand-written test gives the
// regexp's verdict (sops' own shape of an encrypted value) on every input.
func TestIsEncryptedValueMatchesTheRegexp(t *testing.T) {
	cases := []string{
		"", "ENC[", "ENC[AES256_GCM,data:,iv:,tag:,type:]",
		"ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]",
		"ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]trailing",
		"ENC[AES256_GCM,data:a,iv:b,tag:c,type:]", "ENC[AES256_GCM,data:a,iv:b,tag:,type:x]",
		"ENC[AES256_GCM,data:,iv:,iv:b,tag:c,type:x]", "ENC[AES256_GCM,data:a,iv:b,tag:c,type:x",
		"ENC[AES256_GCM,data:a\n,iv:b,tag:c,type:x]", "ENC[AES256_GCM,data:a,iv:b,tag:c,type:x]\nmore",
		"ENC[AES256_GCM,data:a,iv:b,tag:c,type:x\n]", "xENC[AES256_GCM,data:a,iv:b,tag:c,type:x]",
		"ENC[AES256_GCM,data:,iv:x,iv:y,tag:,tag:z,type:,type:w]", "ENC[AES256_GCM,data:a,iv:b,tag:c,type:]]",
		"ENC[AES256_GCM,data:]a,iv:b],tag:c],type:]]", "ENC[AES256_GCM,data:a,tag:c,iv:b,type:x]",
		"ENC[AES256_GCM,data:a,iv:b,tag:c,type:x,iv:b,tag:c,type:y]", "enc[AES256_GCM,data:a,iv:b,tag:c,type:x]",
	}
	// Every cut and doubling of a real value, too.
	real := "ENC[AES256_GCM,data:Zm9v,iv:YmFyYmF6cXV4,tag:dGFndGFndGFn,type:str]"
	for i := 0; i <= len(real); i++ {
		cases = append(cases, real[:i], real[i:], real[:i]+real, real[:i]+"\n"+real[i:])
	}
	for _, c := range cases {
		if got, want := isEncryptedValue(c), encryptedValue.MatchString(c); got != want {
			t.Errorf("isEncryptedValue(%q) = %v, the regexp says %v", c, got, want)
		}
	}
}

func FuzzIsEncryptedValue(f *testing.F) {
	f.Add("ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isEncryptedValue(s), encryptedValue.MatchString(s); got != want {
			t.Fatalf("isEncryptedValue(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}
