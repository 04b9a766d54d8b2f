package sopsfile

import (
	"strings"
	"testing"
)

const iniMeta = `[sops]
age__list_0__map_enc       = -----BEGIN AGE ENCRYPTED FILE-----\nx\n-----END AGE ENCRYPTED FILE-----\n
age__list_0__map_recipient = age1wvk0kkrdjlwtgxlzv39xw4zummyvgcc2yy0sl5gvve4k38a40s9s9s6n9t
lastmodified               = 2026-12-02T01:45:11Z
mac                        = ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
version                    = 3.13.3
`

// TestParseRefusesWhatSopsCannotRead covers, without sops, the parse side
// of the cases rekey's TestCheckFailsWhatSopsCannotRead proves against the
// real sops: each is an error or a problem naming its line, and no error
// quotes the line's text.
func TestParseRefusesWhatSopsCannotRead(t *testing.T) {
	const secret = "SECRETVAL42"
	val := "password = ENC[AES256_GCM,data:eA==,iv:aXY=,tag:dGFn,type:str]\n"
	errs := []struct{ name, data, want string }{
		{"noeq.ini", "[db]\n" + val + secret + "\n\n" + iniMeta, "line 3: INI line has no = or :"},
		{"unclosed.ini", "[db\n" + val + "\n" + iniMeta, "line 1: unclosed section header"},
		{"crlf.env", strings.ReplaceAll("A=ENC[AES256_GCM,data:eA==,iv:aXY=,tag:dGFn,type:str]\n"+
			"sops_age__list_0__map_recipient=age1wvk0kkrdjlwtgxlzv39xw4zummyvgcc2yy0sl5gvve4k38a40s9s9s6n9t\n"+
			"sops_lastmodified=2026-12-02T01:45:11Z\nsops_version=3.13.3", "\n", "\r\n"), "line 2: the file has Windows (CRLF) line endings"},
		{"cut.ini", "[db]\n" + val + "\n" + iniMeta[:strings.Index(iniMeta, "2026")+4], "it looks truncated"},
	}
	for _, c := range errs {
		_, err := Parse(c.name, []byte(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		} else if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "password") {
			t.Errorf("%s: the error quotes the file: %v", c.name, err)
		}
	}
	problems := []struct{ name, data, want string }{
		{"version.ini", "[db]\n" + val + "\n" + strings.Replace(iniMeta, "= 3.13.3", "= garbage", 1), `line 9: version "garbage" is not a sops version`},
		{"mac.ini", "[db]\n" + val + "\n" + strings.Replace(iniMeta, "= ENC[AES256_GCM,data:bWFj", "= "+secret+"[x", 1), "line 8: mac is not an ENC[AES256_GCM,…] value"},
	}
	for _, c := range problems {
		f, err := Parse(c.name, []byte(c.data))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, p := range f.Problems {
			got = append(got, p.String())
		}
		if len(got) != 1 || !strings.HasPrefix(got[0], c.want) || strings.Contains(got[0], secret) {
			t.Errorf("%s: problems %q, want one starting %q", c.name, got, c.want)
		}
	}
	// The intact file parses without problems; CRLF INI is fine (sops
	// reads it).
	for name, data := range map[string]string{
		"ok.ini": "[db]\n" + val + "\n" + iniMeta, "crlf.ini": strings.ReplaceAll("[db]\n"+val+"\n"+iniMeta, "\n", "\r\n"),
	} {
		f, err := Parse(name, []byte(data))
		if err != nil || len(f.Problems) != 0 {
			t.Errorf("%s: %v %+v", name, err, f)
		}
	}
}
