//go:build unix

// Command updatekeys is the updatekeys benchmark: it builds a realistic
// fleet in a temporary folder and measures, in the same run, `sopsfleet
// updatekeys` against a sequential loop of `sops updatekeys -y` over the same
// files. Run it through bench/updatekeys.sh, which builds both binaries.
//
// The fleet: 16 host keys and 2 admin keys, named by anchors in .sops.yaml;
// 500 encrypted files in all five formats — 100 under common/ (every host and
// both admins) and 25 under each hosts/hNN/ (that host and the admins).
//
// Cases, each from a fresh copy of the fleet, for each tool (sopsfleet runs
// -runs times and the best wall time is kept; the sops loop runs once):
//
//	(a) onboard one host into the common rule (100 files change)
//	(b) replace an admin key (all 500 files change)
//	(c) no change at all (nothing to do)
//	(d) sopsfleet check on the unchanged fleet (no sops counterpart)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/sopsfleet/sopsfleet/internal/sopsfile"
	"github.com/sopsfleet/sopsfleet/recipients"
)

func main() {
	sopsfleet := flag.String("sopsfleet", "", "sopsfleet binary")
	sops := flag.String("sops", "", "sops binary")
	files := flag.Int("files", 500, "number of encrypted files")
	hosts := flag.Int("hosts", 16, "number of hosts")
	keep := flag.Bool("keep", false, "keep the temporary folder")
	cases := flag.String("cases", "abc", "cases to run (d: check on the unchanged fleet)")
	runs := flag.Int("runs", 3, "runs of sopsfleet per case (the best is kept; the sops loop runs once)")
	noLoop := flag.Bool("no-sops-loop", false, "time sopsfleet only (the scale runs: the loop takes minutes per 10,000 files)")
	textOnly := flag.Bool("text-formats", false, "only the four text formats (yaml, json, env, ini), as the scale case asks")
	flag.Parse()
	skipLoop, onlyText = *noLoop, *textOnly
	if *sopsfleet == "" || *sops == "" {
		fmt.Fprintln(os.Stderr, "usage: updatekeys -sopsfleet BIN -sops BIN")
		os.Exit(2)
	}
	if err := run(*sopsfleet, *sops, *files, *hosts, *runs, *keep, *cases); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// skipLoop and onlyText are -no-sops-loop and -text-formats.
var skipLoop, onlyText bool

// measure is one sopsfleet run's figures besides the wall time.
type measure struct {
	fsyncs int   // as sopsfleet -v reports them
	syncfs int   // syncfs calls, likewise
	rssKB  int64 // peak resident set size
}

type key struct {
	name string
	id   *age.X25519Identity
}

func (k key) recipient() string { return k.id.Recipient().String() }

func newKey(name string) key {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		panic(err)
	}
	return key{name, id}
}

type fleet struct {
	dir       string
	admins    []key // alice, bob
	hosts     []key
	newHost   key // joins in (a)
	newAdmin  key // replaces bob in (b)
	files     []string
	nCommon   int
	hostFiles int
}

func run(sopsfleetBin, sopsBin string, nFiles, nHosts, runs int, keep bool, cases string) error {
	tmp, err := os.MkdirTemp("", "sopsfleet-bench-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(tmp)
	} else {
		fmt.Println("fleet kept in", tmp)
	}
	fl, err := buildFleet(filepath.Join(tmp, "fleet"), nFiles, nHosts)
	if err != nil {
		return err
	}
	keysFile := filepath.Join(tmp, "keys.txt")
	// The person running the tools is admin alice.
	if err := os.WriteFile(keysFile, []byte(fl.admins[0].id.String()+"\n"), 0o600); err != nil {
		return err
	}
	printMachine()
	formats := "yaml/json/env/ini/bin"
	if onlyText {
		formats = "yaml/json/env/ini"
	}
	fmt.Printf("fleet: %d hosts, %d admins, %d files (%d under common/, %d per host), formats %s\n\n",
		nHosts, len(fl.admins), len(fl.files), fl.nCommon, fl.hostFiles, formats)

	type benchCase struct {
		id, title string
		config    string
	}
	all := []benchCase{
		{"a", "(a) onboard one host into the common rule", fl.config(true, false)},
		{"b", "(b) replace an admin key", fl.config(false, true)},
		{"c", "(c) no-op run", fl.config(false, false)},
		{"d", "(d) check (no key, sopsfleet only)", fl.config(false, false)},
	}
	if keep {
		// Each case's config next to the fleet, to rerun or profile a case
		// by hand: cp -r fleet w && cp sops.yaml.b w/.sops.yaml.
		for _, c := range all {
			if err := os.WriteFile(filepath.Join(tmp, "sops.yaml."+c.id), []byte(c.config), 0o644); err != nil {
				return err
			}
		}
	}
	fmt.Printf("%-44s %8s %12s %8s %7s %9s %14s %8s\n", "case", "changed", "sopsfleet", "fsyncs", "syncfs", "peak RSS", "sops loop", "ratio")
	for _, c := range all {
		if !strings.Contains(cases, c.id) {
			continue
		}
		var walls [2]time.Duration
		var changed [2]int
		var best measure
		tools := 2
		if skipLoop || c.id == "d" {
			tools = 1
		}
		for tool := 0; tool < tools; tool++ {
			n := 1
			if tool == 0 {
				n = max(runs, 1)
			}
			for r := 0; r < n; r++ {
				wall, ch, m, err := runCase(fl, tmp, c.id, tool, r, c.config, keysFile, sopsfleetBin, sopsBin)
				if err != nil {
					return err
				}
				if r == 0 || wall < walls[tool] {
					walls[tool] = wall
					if tool == 0 {
						best = m
					}
				}
				changed[tool] = ch
			}
		}
		if tools == 2 && changed[0] != changed[1] {
			return fmt.Errorf("%s: sopsfleet changed %d files, sops %d", c.title, changed[0], changed[1])
		}
		loop, ratio := "-", "-"
		if tools == 2 {
			loop = fmt.Sprintf("%.3fs", walls[1].Seconds())
			ratio = fmt.Sprintf("%.0f×", walls[1].Seconds()/walls[0].Seconds())
		}
		fmt.Printf("%-44s %8d %11.3fs %8d %7d %7.1fMB %14s %8s\n", c.title, changed[0],
			walls[0].Seconds(), best.fsyncs, best.syncfs, float64(best.rssKB)/1024, loop, ratio)
	}
	return nil
}

// runCase runs one tool on a fresh copy of the fleet with config and
// returns the wall time and the number of files it changed.
//
// The copies are removed only at the end of the benchmark (with the
// temporary folder), never right before a run: on an ext4 file system
// without a journal (this machine's), the inode allocator skips the inodes
// freed in the last minute one by one, so a benchmark that deleted its
// previous copy (1,000 files) just before a run would time its own clean-up
// in every file the run creates. sops rewrites files in place, creating
// none, so only sopsfleet would pay it.
func runCase(fl *fleet, tmp, id string, tool, run int, config, keysFile, sopsfleetBin, sopsBin string) (time.Duration, int, measure, error) {
	var m measure
	work := filepath.Join(tmp, fmt.Sprintf("%s-%d-%d", id, tool, run))
	if err := copyTree(fl.dir, work); err != nil {
		return 0, 0, m, err
	}
	if err := os.WriteFile(filepath.Join(work, ".sops.yaml"), []byte(config), 0o644); err != nil {
		return 0, 0, m, err
	}
	env := append(os.Environ(), "SOPS_AGE_KEY_FILE="+keysFile, "NO_COLOR=1")
	// Flush the copy to disk first, so that neither tool pays for it (an
	// fsync would otherwise wait for the copy's pending writes).
	syscall.Sync()
	start := time.Now()
	if tool == 0 {
		// -v prints the number of fsyncs the writes took.
		cmd := exec.Command(sopsfleetBin, "updatekeys", "-v")
		if id == "d" {
			cmd = exec.Command(sopsfleetBin, "check")
		}
		cmd.Dir, cmd.Env = work, env
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			return 0, 0, m, fmt.Errorf("sopsfleet: %v\n%s", err, stderr.Bytes())
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.rssKB = ru.Maxrss
		}
		for _, line := range strings.Split(stderr.String(), "\n") {
			// "sopsfleet: 0 fsyncs and 2 syncfs for 500 files written"
			if i := strings.Index(line, " fsyncs and "); i > 0 {
				fmt.Sscanf(line[strings.LastIndex(line[:i], " ")+1:], "%d fsyncs and %d syncfs", &m.fsyncs, &m.syncfs)
			}
		}
	} else {
		for _, f := range fl.files {
			cmd := exec.Command(sopsBin, "updatekeys", "-y", f)
			cmd.Dir, cmd.Env = work, env
			if out, err := cmd.CombinedOutput(); err != nil {
				return 0, 0, m, fmt.Errorf("sops updatekeys %s: %v\n%s", f, err, out)
			}
		}
	}
	wall := time.Since(start)
	n, err := countChanged(fl.dir, work, fl.files)
	return wall, n, m, err
}

func buildFleet(dir string, nFiles, nHosts int) (*fleet, error) {
	fl := &fleet{dir: dir}
	fl.admins = []key{newKey("alice"), newKey("bob")}
	for i := 1; i <= nHosts; i++ {
		fl.hosts = append(fl.hosts, newKey(fmt.Sprintf("h%02d", i)))
	}
	fl.newHost = newKey(fmt.Sprintf("h%02d", nHosts+1))
	fl.newAdmin = newKey("carol")
	fl.nCommon = nFiles / 5
	fl.hostFiles = (nFiles - fl.nCommon) / nHosts
	exts := []string{"yaml", "json", "env", "ini", "bin"}
	if onlyText {
		exts = exts[:4]
	}
	op := sopsfile.NewOpener(nil)
	write := func(rel string, ks []key, i int) error {
		ext := exts[i%len(exts)]
		rel = rel + "." + ext
		var group []recipients.Key
		for _, k := range ks {
			group = append(group, recipients.Key{Type: recipients.TypeAge, ID: k.recipient()})
		}
		enc, err := op.EncryptNew(sopsfile.FormatFor(rel), plaintext(ext, i), [][]recipients.Key{group}, 0)
		if err != nil {
			return fmt.Errorf("%s: %v", rel, err)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		fl.files = append(fl.files, rel)
		return os.WriteFile(p, enc, 0o644)
	}
	common := append(append([]key{}, fl.admins...), fl.hosts...)
	for i := 0; i < fl.nCommon; i++ {
		if err := write(fmt.Sprintf("common/secret%03d", i), common, i); err != nil {
			return nil, err
		}
	}
	for h, host := range fl.hosts {
		ks := append(append([]key{}, fl.admins...), host)
		for i := 0; i < fl.hostFiles; i++ {
			if err := write(fmt.Sprintf("hosts/%s/secret%02d", host.name, i), ks, h*fl.hostFiles+i); err != nil {
				return nil, err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte(fl.config(false, false)), 0o644); err != nil {
		return nil, err
	}
	return fl, nil
}

// config writes .sops.yaml with anchors; onboard adds the new host to the
// common rule, replaceAdmin gives the second admin anchor the new admin key.
func (fl *fleet) config(onboard, replaceAdmin bool) string {
	var b strings.Builder
	b.WriteString("keys:\n")
	admins := fl.admins
	if replaceAdmin {
		admins = []key{fl.admins[0], fl.newAdmin}
	}
	for _, k := range admins {
		fmt.Fprintf(&b, "  - &%s %s\n", k.name, k.recipient())
	}
	hosts := fl.hosts
	if onboard {
		hosts = append(append([]key{}, fl.hosts...), fl.newHost)
	}
	for _, k := range hosts {
		fmt.Fprintf(&b, "  - &%s %s\n", k.name, k.recipient())
	}
	b.WriteString("creation_rules:\n")
	b.WriteString("  - path_regex: ^common/\n    key_groups:\n      - age:\n")
	for _, k := range admins {
		fmt.Fprintf(&b, "          - *%s\n", k.name)
	}
	for _, k := range hosts {
		fmt.Fprintf(&b, "          - *%s\n", k.name)
	}
	for _, h := range fl.hosts {
		fmt.Fprintf(&b, "  - path_regex: ^hosts/%s/\n    key_groups:\n      - age:\n", h.name)
		for _, k := range admins {
			fmt.Fprintf(&b, "          - *%s\n", k.name)
		}
		fmt.Fprintf(&b, "          - *%s\n", h.name)
	}
	return b.String()
}

func plaintext(ext string, i int) []byte {
	switch ext {
	case "yaml":
		return []byte(fmt.Sprintf("database:\n    host: db%d.internal\n    user: app\n    password: pw-%d\napi:\n    tokens:\n        - t1-%d\n        - t2-%d\n    url: https://api.example.com\nreplicas: %d\n", i, i, i, i, i%5))
	case "json":
		return []byte(fmt.Sprintf("{\n    \"database\": {\"user\": \"app\", \"password\": \"pw-%d\"},\n    \"smtp\": {\"host\": \"mail\", \"password\": \"mail-%d\"},\n    \"port\": %d\n}\n", i, i, 8000+i))
	case "env":
		return []byte(fmt.Sprintf("DATABASE_URL=postgres://app:pw-%d@db/app\nREDIS_PASSWORD=r-%d\nSECRET_KEY_BASE=%064d\nDEBUG=false\n", i, i, i))
	case "ini":
		return []byte(fmt.Sprintf("[database]\nuser = app\npassword = pw-%d\n\n[smtp]\npassword = mail-%d\n", i, i))
	}
	return bytes.Repeat([]byte(fmt.Sprintf("binary-%d\x00", i)), 40)
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

func countChanged(orig, work string, files []string) (int, error) {
	n := 0
	for _, f := range files {
		a, err := os.ReadFile(filepath.Join(orig, f))
		if err != nil {
			return 0, err
		}
		b, err := os.ReadFile(filepath.Join(work, f))
		if err != nil {
			return 0, err
		}
		if !bytes.Equal(a, b) {
			n++
		}
	}
	return n, nil
}

func printMachine() {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				if i := strings.Index(line, ":"); i > 0 {
					model = strings.TrimSpace(line[i+1:])
					break
				}
			}
		}
	}
	mem := "unknown memory"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				var kb int
				fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "MemTotal:")), "%d", &kb)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/1024/1024)
			}
		}
	}
	fmt.Printf("machine: %d CPUs (%s), %s, %s/%s, %s\n", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
