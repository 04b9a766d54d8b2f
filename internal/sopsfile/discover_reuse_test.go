package sopsfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sopsfleet/sopsfleet/internal/testsops"
)

// reuseTree writes a folder of sops files of every format (the fuzz seeds,
// broken and truncated variants, files growing and shrinking in size so
// that read buffers are both reused and outgrown), plain files, and the
// real-world corpus when it is there.
func reuseTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range fuzzSeeds {
		ext := filepath.Ext(s.name)
		write(fmt.Sprintf("seed/%d%s", i, ext), []byte(s.data))
		write(fmt.Sprintf("cut/%d%s", i, ext), []byte(s.data[:len(s.data)*2/3]))
		write(fmt.Sprintf("crlf/%d%s", i, ext), []byte(strings.ReplaceAll(s.data, "\n", "\r\n")))
		for n, size := range []int{10, 3000, 5, 70000, 1} {
			var pad string
			switch ext {
			case ".json":
				pad = strings.Replace(s.data, "{\n", "{\n\t\"pad\": \""+strings.Repeat("p", size)+"\",\n", 1)
			case ".ini":
				pad = "[pad]\np = " + strings.Repeat("p", size) + "\n" + s.data
			default: // YAML and dotenv
				pad = "pad" + strings.Repeat("p", size) + "=x\n" + s.data
				if ext == ".yaml" {
					pad = "pad: " + strings.Repeat("p", size) + "\n" + s.data
				}
			}
			write(fmt.Sprintf("size/%d-%d%s", i, n, ext), []byte(pad))
		}
	}
	write("plain/a.yaml", []byte("a: 1\nb: sops\n"))
	write("plain/b.json", []byte(`{"kind": "Secret", "data": {"x": "eHl6"}}`+"\n"))
	write("plain/c.env", []byte("A=1\n"))
	write("plain/empty.yaml", nil)
	if corpus, ok := testsops.CorpusDir("encrypted"); ok {
		paths, err := Walk([]string{corpus})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(corpus, p)
			write(filepath.Join("corpus", rel), data)
		}
	}
	return dir
}

// TestWalkReuseData: with ReuseData, every file is given to fn with its
// whole content, and what is kept from it (the parsed metadata, errors)
// is what Parse gives on a fresh copy of the file, though the memory the
// file was read into is cleared and reused for later files.
func TestWalkReuseData(t *testing.T) {
	dir := reuseTree(t)
	for _, jobs := range []int{1, 2, 4} {
		t.Run(fmt.Sprint("jobs", jobs), func(t *testing.T) {
			var mu sync.Mutex
			kept := map[string]Found{}
			sopsOf := map[string]bool{}
			_, err := WalkParsedTree([]string{dir}, DiscoverOptions{Jobs: jobs, ReuseData: true}, nil, func(i int, f Found, sops bool) {
				want, err := os.ReadFile(f.Path)
				if err != nil {
					t.Error(err)
					return
				}
				if f.Data != nil && !bytes.Equal(f.Data, want) {
					t.Errorf("%s: Data is not the file's content", f.Path)
				}
				mu.Lock()
				defer mu.Unlock()
				f.Data = nil
				kept[f.Path], sopsOf[f.Path] = f, sops
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(kept) < 5*len(fuzzSeeds) {
				t.Fatalf("walked %d files", len(kept))
			}
			for path, got := range kept {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				want, wantSops, _ := examine(path, nil)
				if wantSops != sopsOf[path] {
					t.Errorf("%s: sops %v, want %v", path, sopsOf[path], wantSops)
				}
				if fmt.Sprint(got.Err) != fmt.Sprint(want.Err) {
					t.Errorf("%s: error %v, want %v", path, got.Err, want.Err)
				}
				if !reflect.DeepEqual(got.File, want.File) {
					t.Errorf("%s: parsed metadata differs from a fresh parse:\n%+v\nwant\n%+v", path, got.File, want.File)
				}
				if want.File != nil {
					f, err := Parse(path, bytes.Clone(data))
					if err != nil || !reflect.DeepEqual(f, got.File) {
						t.Errorf("%s: differs from Parse (%v)", path, err)
					}
				}
			}
		})
	}
}

// TestDiscoverTreeKeepsData: DiscoverTree keeps the content of sops files
// whatever the options say.
func TestDiscoverTreeKeepsData(t *testing.T) {
	dir := reuseTree(t)
	d, err := DiscoverTree([]string{dir}, DiscoverOptions{Jobs: 2, ReuseData: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Found) == 0 {
		t.Fatal("nothing found")
	}
	for _, f := range d.Found {
		if f.Err != nil {
			continue
		}
		want, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Data, want) {
			t.Errorf("%s: Data is not the file's content", f.Path)
		}
	}
}

// TestParseScratchReuse: Parse builds its trees in memory the next Parse
// reuses (parseScratch); what a File holds must not be in it. Every file
// of the reuse tree is parsed, its File rendered, then all the others are
// parsed (on several goroutines, so scratches move between them) and the
// File must render the same.
func TestParseScratchReuse(t *testing.T) {
	dir := reuseTree(t)
	paths, err := Walk([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	type kept struct {
		path, text string
		f          *File
	}
	var mu sync.Mutex
	var all []kept
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(paths); i += 4 {
				data, err := os.ReadFile(paths[i])
				if err != nil {
					t.Error(err)
					return
				}
				f, err := Parse(paths[i], data)
				if err != nil {
					continue
				}
				mu.Lock()
				all = append(all, kept{paths[i], fmt.Sprintf("%#v", *f), f})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(all) < len(fuzzSeeds) {
		t.Fatalf("only %d files parsed", len(all))
	}
	for _, k := range all {
		if got := fmt.Sprintf("%#v", *k.f); got != k.text {
			t.Errorf("%s: the File changed after later parses:\n%s\nwas\n%s", k.path, got, k.text)
		}
	}
}
